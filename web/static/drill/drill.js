// OrthoCDS case drills: pick a SYNTHETIC case, ask the patient, order
// tests, submit a diagnosis and plan, and read the graded feedback with its
// guideline sources. Attempts are kept by the server, so a drill can be
// paused and resumed later. Instructors also see their class's report.
"use strict";
const T = {
  en: { navHome: "Questions", title: "Case drills", tagline: "Virtual patients for students, graded against the guidelines", other: "中文",
        keyLabel: "API key (when the server requires one)", cases: "Cases", mine: "My attempts",
        synthetic: "Every case is SYNTHETIC, written by the OrthoCDS project for teaching; none is a real patient.",
        start: "Start", resume: "Open", pause: "Pause", resumeBtn: "Resume", back: "Back to the cases",
        conversation: "Conversation", askBtn: "Ask", askHint: "Ask the patient (history, symptoms, medicines, examination)…",
        tests: "Investigations", orderBtn: "Order", orderHint: "Order a test (e.g. DXA, blood tests, X-ray)…",
        answer: "Your diagnosis and plan", diagnosis: "Diagnosis", plan: "Plan", submitBtn: "Submit for grading",
        feedback: "Feedback", criterion: "Rubric item", points: "Points", why: "Why", sources: "Sources",
        expectedDx: "Expected diagnosis", expectedPlan: "Expected plan", expert: "What an expert would point out",
        classTitle: "Class (instructors)", csv: "Export CSV", working: "Working…", you: "You", patient: "Patient",
        active: "in progress", paused: "paused", submitted: "submitted", minutes: "min on the case",
        score: "Score", judge: "LLM judge (beside the rubric, not instead of it)", unscorable: "no grade",
        handout: "What the patient would take home", both: "both languages", mustNot: "must not", attempts: "attempts", submittedN: "submitted", mean: "mean score", mistakes: "Common mistakes", missed: "missed", mustNotDone: "did a must-not item",
        none: "None yet." },
  zh: { navHome: "临床问答", title: "病例演练", tagline: "面向学生的虚拟患者，依据指南评分", other: "English",
        keyLabel: "API 密钥（服务器要求时填写）", cases: "病例", mine: "我的演练",
        synthetic: "所有病例均为 OrthoCDS 项目编写的教学用合成病例，并非真实患者。",
        start: "开始", resume: "打开", pause: "暂停", resumeBtn: "继续", back: "返回病例列表",
        conversation: "问诊", askBtn: "提问", askHint: "向患者提问（病史、症状、用药、查体）…",
        tests: "检查", orderBtn: "开具", orderHint: "开具检查（如 DXA、血液检查、X线）…",
        answer: "你的诊断与方案", diagnosis: "诊断", plan: "方案", submitBtn: "提交评分",
        feedback: "反馈", criterion: "评分项", points: "分值", why: "理由", sources: "来源",
        expectedDx: "参考诊断", expectedPlan: "参考方案", expert: "专家点评",
        classTitle: "班级（教师）", csv: "导出 CSV", working: "处理中…", you: "你", patient: "患者",
        active: "进行中", paused: "已暂停", submitted: "已提交", minutes: "分钟",
        score: "得分", judge: "LLM 评审（与评分表并列，不取代评分表）", unscorable: "无法评分",
        handout: "给患者带回家的资料", both: "双语", mustNot: "禁忌", attempts: "次演练", submittedN: "已提交", mean: "平均分", mistakes: "常见错误", missed: "遗漏", mustNotDone: "做了禁忌项",
        none: "暂无。" },
};
let lang = navigator.language && navigator.language.startsWith("zh") ? "zh" : "en";
let current = null; // the attempt on screen
const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
const t = (k) => T[lang][k];
const status = (s) => { $("status").textContent = s || ""; };
const fail = (e) => status(String(e.message || e));

$("api-key").value = sessionStorage.getItem("orthocds-key") || "";
$("api-key").onchange = () => { sessionStorage.setItem("orthocds-key", $("api-key").value.trim()); refresh().catch(fail); };

async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  const key = $("api-key").value.trim();
  if (key) headers["Authorization"] = "Bearer " + key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!resp.ok) {
    let msg = resp.statusText;
    try { const p = await resp.json(); msg = p.detail + (p.field ? " (" + p.field + ")" : ""); } catch {}
    const err = new Error(msg);
    err.status = resp.status;
    throw err;
  }
  return resp;
}
const json = async (method, path, body) => (await api(method, path, body)).json();

function applyLang() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((e) => { e.textContent = t(e.dataset.i18n); });
  document.querySelectorAll("[data-i18n-placeholder]").forEach((e) => { e.placeholder = t(e.dataset.i18nPlaceholder); });
  $("lang").textContent = t("other");
}
$("lang").onclick = () => { lang = lang === "en" ? "zh" : "en"; applyLang(); refresh().catch(fail); if (current) show(current); };

async function refresh() {
  const { cases } = await json("GET", "/v1/cases?lang=" + lang);
  const list = $("case-list");
  list.replaceChildren();
  for (const c of cases) {
    const li = el("li");
    const b = el("button", t("start"));
    b.type = "button";
    b.dataset.case = c.id;
    b.onclick = () => start(c.id).catch(fail);
    li.append(b, " ", el("strong", c.title), el("span", c.topic, "topic"));
    list.append(li);
  }
  const { attempts } = await json("GET", "/v1/drills?student=me");
  const mine = $("attempt-list");
  mine.replaceChildren();
  if (!attempts.length) mine.append(el("li", t("none")));
  for (const a of attempts.slice().reverse()) {
    const li = el("li");
    const b = el("button", t("resume"));
    b.type = "button";
    b.dataset.attempt = a.id;
    b.onclick = () => open(a.id).catch(fail);
    const score = a.grade ? ` · ${Math.round(a.grade.score * 100)}%` : "";
    li.append(b, " ", `${a.title} (${t(a.status)}${score})`);
    mine.append(li);
  }
  loadClass().catch(() => { $("class").hidden = true; });
}

async function start(caseID) {
  status(t("working"));
  show(await json("POST", "/v1/drills", { case_id: caseID, lang }));
  status("");
}

async function open(id) {
  show(await json("GET", "/v1/drills/" + id));
}

function show(a) {
  current = a;
  $("library").hidden = true;
  $("drill").hidden = false;
  $("drill-title").textContent = a.title;
  $("drill-presenting").textContent = a.presenting;
  const mins = Math.round((a.active_seconds || 0) / 60);
  $("drill-state").textContent = `${t(a.status)} · ${a.note}` + (a.status === "submitted" ? ` · ${mins} ${t("minutes")}` : "");
  const turns = $("turns");
  turns.replaceChildren();
  for (const x of a.turns || []) {
    const li = el("li");
    li.append(el("div", `${t("you")}: ${x.student}`, "student"), el("div", `${t("patient")}: ${x.patient}`, "patient"));
    turns.append(li);
  }
  const results = $("results");
  results.replaceChildren();
  for (const r of a.results || []) {
    const li = el("li");
    li.append(el("strong", r.name + ": "), r.result);
    li.dataset.test = r.id;
    results.append(li);
  }
  const working = a.status === "active";
  for (const id of ["question", "ask-btn", "order", "order-btn"]) $(id).disabled = !working;
  for (const id of ["diagnosis", "plan", "submit-btn"]) $(id).disabled = a.status === "submitted";
  $("pause").hidden = a.status === "submitted";
  $("pause").textContent = a.status === "paused" ? t("resumeBtn") : t("pause");
  $("submit-form").hidden = a.status === "submitted";
  if (a.grade) feedback(a); else $("feedback").hidden = true;
}

function feedback(a) {
  const g = a.grade;
  $("feedback").hidden = false;
  $("score").textContent = `${t("score")}: ${g.earned} / ${g.possible} (${Math.round(g.score * 100)}%)`;
  const body = $("items").tBodies[0];
  body.replaceChildren();
  for (const it of g.items) {
    const tr = el("tr");
    tr.className = it.must_not ? (it.met ? "mustnot-done" : "met") : (it.met ? "met" : "missed");
    tr.dataset.item = it.id;
    const mark = it.must_not ? (it.met ? "✗" : "✓") : (it.met ? "✓" : "✗");
    const src = el("td");
    for (const id of it.entries) {
      const link = el("a", id);
      link.href = "/v1/guidelines/" + encodeURIComponent(id);
      src.append(link, " ");
    }
    tr.append(el("td", mark), el("td", (it.must_not ? `[${t("mustNot")}] ` : "") + it.criterion),
      el("td", it.must_not && !it.met ? `(${it.points})` : String(it.points)), el("td", it.why), src);
    body.append(tr);
  }
  caseHandout(g).catch(() => { $("case-handout").hidden = true; });
  const j = a.judge;
  $("judge").textContent = j ? `${t("judge")} ${j.model}: ` + (j.grade ? `${Math.round(j.grade.score * 100)}%` : `${t("unscorable")} (${j.unscorable})`) : "";
  const pick = (x) => (a.lang === "zh" ? x.zh : x.en);
  $("expected-dx").textContent = pick(g.expected_diagnosis);
  $("expected-plan").textContent = pick(g.expected_plan);
  $("expert").textContent = pick(g.expert);
  const cites = $("citations");
  cites.replaceChildren();
  for (const c of a.citations || []) {
    const li = el("li");
    li.dataset.entry = c.id;
    li.append(el("strong", c.entry), ` — ${c.guideline} (${c.body}, ${c.year}${c.section ? ", " + c.section : ""}; ${c.grade})`);
    cites.append(li);
  }
}

async function step(path, body) {
  status(t("working"));
  try {
    show(await json("POST", `/v1/drills/${current.id}/${path}`, body));
    status("");
    if (path === "submit") loadClass().catch(() => {}); // instructors see the new grade at once
  } catch (e) { fail(e); }
}
$("ask-form").onsubmit = (e) => { e.preventDefault(); const q = $("question").value; $("question").value = ""; step("ask", { question: q }); };
$("order-form").onsubmit = (e) => { e.preventDefault(); const r = $("order").value; $("order").value = ""; step("order", { request: r }); };
$("pause").onclick = () => step(current.status === "paused" ? "resume" : "pause");
$("submit-form").onsubmit = (e) => { e.preventDefault(); step("submit", { diagnosis: $("diagnosis").value, plan: $("plan").value }); };
$("back").onclick = () => { current = null; $("drill").hidden = true; $("feedback").hidden = true; $("library").hidden = false; refresh().catch(fail); };

async function loadClass() {
  const r = await json("GET", "/v1/class?lang=" + lang);
  $("class").hidden = false;
  $("class-summary").textContent = `${r.attempts} ${t("attempts")}, ${r.submitted} ${t("submittedN")}`;
  const box = $("class-cases");
  box.replaceChildren();
  for (const c of r.cases) {
    const div = el("div");
    div.append(el("h3", `${c.title}: ${c.submitted}/${c.attempts} ${t("submittedN")}, ${t("mean")} ${Math.round(c.mean_score * 100)}%`));
    const ul = el("ul");
    for (const m of (c.common_mistakes || []).slice(0, 5)) ul.append(el("li", `${m.criterion} — ${t(m.kind === "missed" ? "missed" : "mustNotDone")}: ${m.count}`));
    div.append(el("p", t("mistakes")), ul);
    box.append(div);
  }
}
$("csv").onclick = async () => {
  try {
    const blob = await (await api("GET", "/v1/class.csv")).blob();
    const a = el("a");
    a.href = URL.createObjectURL(blob);
    a.download = "orthocds-attempts.csv";
    a.click();
  } catch (e) { fail(e); }
};

applyLang();
const wanted = new URLSearchParams(location.search).get("attempt");
refresh().then(() => (wanted ? open(wanted) : null)).catch(fail);

// caseHandout offers the patient handout on what the case's expected plan
// rests on (its items' entries, must-not items aside), when one covers it:
// what this patient would take home.
async function caseHandout(g) {
  const box = $("case-handout");
  box.hidden = true;
  const ids = [...new Set(g.items.filter((it) => !it.must_not).flatMap((it) => it.entries))];
  if (!ids.length) return;
  const entries = ids.join(",");
  await api("GET", "/v1/handouts/auto?" + new URLSearchParams({ entries }));
  box.replaceChildren(t("handout") + ": ");
  for (const [code, label] of [["en", "English"], ["zh", "中文"], ["both", t("both")]]) {
    const b = el("button", label);
    b.type = "button";
    b.dataset.href = "/v1/handouts/auto?" + new URLSearchParams({ entries, lang: code, format: "html" });
    b.dataset.lang = code;
    b.onclick = async () => {
      const r = await api("GET", b.dataset.href);
      window.open(URL.createObjectURL(new Blob([await r.text()], { type: "text/html" })), "_blank");
    };
    box.append(b, " ");
  }
  box.hidden = false;
}
