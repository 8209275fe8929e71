// OrthoCDS sidebar: a patient's decision-support cards, each risk with its
// explanation, and questions about the patient answered with citations.
// Launched by the EHR (SMART App Launch: the EHR's FHIR data is read here,
// in the browser, with the token the EHR grants) or opened standalone on a
// bundled SYNTHETIC patient.
"use strict";
const T = {
  en: { patient: "Patient", cards: "Decision support", askPatient: "Ask about this patient", askBtn: "Ask", sources: "Sources", hospital: "Hospital document",
        askNote: "The question is sent with the patient's structured data (age, sex, weight, T-score, fractures) and no identifiers.",
        other: "中文", working: "Working…", demo: "Standalone demo: SYNTHETIC patient, invented for testing; not a real person.",
        ehr: "Launched from the EHR", age: "Age", sex: "Sex", weight: "Weight", height: "Height", tscores: "T-scores",
        fractures: "Fractures", meds: "Drugs", conditions: "Conditions", none: "none recorded", accept: "Accept",
        override: "Override", reason: "Reason…", thanks: "Recorded. Thank you.", fragility: "fragility", source: "Source",
        years: "years", noCards: "No guidance for this patient.", keyLabel: "API key (clinician; when the server requires one)",
        uninterpreted: "Codes not interpreted", codesNote: "No value set knows these codes; the cards do not use them.",
        handout: "Patient handout", both: "both languages" },
  zh: { patient: "患者", cards: "决策支持", askPatient: "就该患者提问", askBtn: "提问", sources: "来源", hospital: "本院文件",
        askNote: "问题会连同患者的结构化数据（年龄、性别、体重、T值、骨折）发送，不含任何身份信息。",
        other: "English", working: "处理中…", demo: "独立演示：合成患者（为测试而虚构，并非真实人物）。",
        ehr: "由电子病历启动", age: "年龄", sex: "性别", weight: "体重", height: "身高", tscores: "T值",
        fractures: "骨折", meds: "药物", conditions: "疾病", none: "无记录", accept: "采纳", override: "不采纳",
        reason: "原因…", thanks: "已记录，谢谢。", fragility: "脆性", source: "来源", years: "岁", noCards: "该患者暂无建议。",
        keyLabel: "API 密钥（临床医生；服务器要求时填写）",
        uninterpreted: "未能识别的编码", codesNote: "值集中没有这些编码，决策卡片未使用它们。",
        handout: "患者资料", both: "双语" },
};
let lang = navigator.language && navigator.language.startsWith("zh") ? "zh" : "en";
let bundle = null, view = null, launched = false;
const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
const status = (s) => { $("status").textContent = s || ""; };

function applyLang() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((e) => { e.textContent = T[lang][e.dataset.i18n]; });
  $("lang").textContent = T[lang].other;
  $("mode").textContent = launched ? T[lang].ehr : T[lang].demo;
}
$("lang").onclick = () => { lang = lang === "en" ? "zh" : "en"; applyLang(); if (bundle) show().catch(fail); };
const fail = (e) => status(String(e.message || e));

// The server's own calls carry the API key when one is given (a keyed
// install admits clinicians and admins to patient data); the key is kept
// for this tab only, shared with the drill page.
$("api-key").value = sessionStorage.getItem("orthocds-key") || "";
$("api-key").onchange = () => { sessionStorage.setItem("orthocds-key", $("api-key").value.trim()); if (bundle) show().catch(fail); };
function withKey(headers) {
  const key = $("api-key").value.trim();
  if (key) headers["Authorization"] = "Bearer " + key;
  return headers;
}

async function problem(resp) {
  try { const p = await resp.json(); return p.detail + (p.field ? " (" + p.field + ")" : ""); } catch { return resp.statusText; }
}

// show asks the server to run every service on the bundle and draws the result.
async function show() {
  status(T[lang].working);
  const resp = await fetch("/v1/patient-cards", { method: "POST", headers: withKey({ "Content-Type": "application/json" }),
    body: JSON.stringify({ bundle, lang }) });
  if (!resp.ok) { status(await problem(resp)); return; }
  view = await resp.json();
  drawPatient(view.patient);
  drawCards(view.cards);
  $("ask-section").hidden = false;
  $("disclaimer").textContent = view.disclaimer;
  status("");
}

function drawPatient(p) {
  const dl = $("facts");
  dl.replaceChildren();
  const row = (k, v) => { dl.append(el("dt", T[lang][k]), el("dd", v)); };
  row("age", p.age_years != null ? p.age_years + " " + T[lang].years : T[lang].none);
  row("sex", p.sex || T[lang].none);
  if (p.weight_kg != null) row("weight", p.weight_kg + " kg");
  if (p.height_cm != null) row("height", p.height_cm + " cm");
  row("tscores", (p.t_scores || []).map((t) => t.value + " (" + t.site + ")").join("; ") || T[lang].none);
  row("fractures", (p.fractures || []).map((f) => f.text + (f.fragility ? " · " + T[lang].fragility : "")).join("; ") || T[lang].none);
  row("meds", (p.medications || []).map((m) => m.name + " (" + m.status + ")").join("; ") || T[lang].none);
  row("conditions", (p.conditions || []).filter((c) => c.active && c.text).map((c) => c.text).join("; ") || T[lang].none);
  // Codes no value set knows are shown, never silently dropped.
  const un = p.uninterpreted || [];
  if (un.length) {
    const d = el("details");
    d.id = "uninterpreted";
    d.append(el("summary", String(un.length)), el("p", T[lang].codesNote, "grade"));
    const ul = el("ul");
    for (const c of un) ul.append(el("li", c.resource + ": " + c.system + " | " + c.code + (c.display ? " (" + c.display + ")" : "")));
    d.append(ul);
    const dd = el("dd");
    dd.append(d);
    dl.append(el("dt", T[lang].uninterpreted), dd);
  }
  $("patient").hidden = false;
}

function drawCards(cards) {
  const box = $("cards");
  box.replaceChildren();
  if (!cards.length) box.append(el("p", T[lang].noCards));
  for (const c of cards) {
    const div = el("article", undefined, "card " + c.indicator);
    div.dataset.service = c.service;
    div.append(el("h3", c.summary));
    const detail = el("div", undefined, "detail");
    detail.innerHTML = c.detail_html; // rendered by our server from Markdown; raw HTML is dropped there
    div.append(detail);
    const src = el("p", undefined, "source");
    const a = el("a", c.source.label);
    a.href = c.source.url;
    a.target = "_blank";
    src.append(T[lang].source + ": ", a);
    for (const l of c.links || []) {
      if (l.type !== "absolute") continue;
      const la = el("a", l.label);
      la.href = l.url;
      la.target = "_blank";
      src.append(" · ", la);
    }
    div.append(src);
    const ho = handoutLinks(c);
    if (ho) div.append(ho);
    div.append(actions(c));
    box.append(div);
  }
  $("cards-section").hidden = false;
}

// handoutLinks offers the card's patient handout in English, Chinese or
// both: a printable page from /v1/handouts with the card's sources (and
// its risk), never a patient identifier. It is fetched with the key, then
// opened in a new window.
function handoutLinks(c) {
  const h = c.handout; // set by the server when a handout covers what the card cites
  if (!h) return null;
  const p = el("p", T[lang].handout + ": ", "handout");
  for (const [code, label] of [["en", "English"], ["zh", "中文"], ["both", T[lang].both]]) {
    const q = new URLSearchParams({ lang: code, entries: (h.entries || []).join(","), format: "html" });
    if (h.predictor) { q.set("predictor", h.predictor); q.set("probability", String(h.probability)); }
    const b = el("button", label);
    b.type = "button";
    b.dataset.href = "/v1/handouts/" + encodeURIComponent(h.topic) + "?" + q;
    b.dataset.lang = code;
    b.onclick = async () => {
      const r = await fetch(b.dataset.href, { headers: withKey({ Accept: "text/html" }) });
      if (!r.ok) { status(await problem(r)); return; }
      window.open(URL.createObjectURL(new Blob([await r.text()], { type: "text/html" })), "_blank");
    };
    p.append(b, " ");
  }
  return p;
}

// actions offers the card's suggestions and its override reasons; either
// is sent as CDS Hooks feedback.
function actions(c) {
  const bar = el("div", undefined, "actions");
  const send = async (fb) => {
    const r = await fetch("/cds-services/" + c.service + "/feedback", { method: "POST", headers: withKey({ "Content-Type": "application/json" }),
      body: JSON.stringify({ feedback: [Object.assign({ card: c.uuid, outcomeTimestamp: new Date().toISOString() }, fb)] }) });
    bar.replaceChildren(el("span", r.ok ? T[lang].thanks : await problem(r), "done"));
  };
  for (const s of c.suggestions || []) {
    const b = el("button", T[lang].accept + ": " + s.label);
    b.type = "button";
    b.onclick = () => send({ outcome: "accepted", acceptedSuggestions: [{ id: s.uuid }] }).catch(fail);
    bar.append(b);
  }
  if ((c.overrideReasons || []).length) {
    const sel = el("select");
    sel.append(el("option", T[lang].reason));
    for (const r of c.overrideReasons) { const o = el("option", r.display); o.value = r.code; sel.append(o); }
    const b = el("button", T[lang].override);
    b.type = "button";
    b.onclick = () => {
      const r = c.overrideReasons.find((x) => x.code === sel.value);
      send(Object.assign({ outcome: "overridden" }, r ? { overrideReason: { reason: { code: r.code, system: r.system } } } : {})).catch(fail);
    };
    bar.append(sel, b);
  }
  return bar;
}

// ask streams a cited answer about this patient from /v1/ask.
async function ask(question) {
  $("answer").hidden = false;
  $("stream").textContent = "";
  $("stream").hidden = false;
  $("answer-sources").replaceChildren();
  status(T[lang].working);
  const resp = await fetch("/v1/ask", { method: "POST", headers: withKey({ "Content-Type": "application/json", Accept: "text/event-stream" }),
    // A card quoting the hospital's own document puts those documents first.
    body: JSON.stringify({ question, patient: view.ask, local_first: view.cards.some((c) => c.extension && c.extension["org.orthocds.hospital-passage"]) }) });
  if (!resp.ok) { status(await problem(resp)); return; }
  await readEvents(resp, (type, data) => {
    if (type === "token") $("stream").textContent += data;
    else if (type === "answer") drawAnswer(data);
    else if (type === "error") status(data.message);
  });
  if ($("status").textContent === T[lang].working) status("");
}

function drawAnswer(a) {
  $("stream").hidden = true;
  $("answer-label").textContent = a.label + (a.llm_error ? " (" + a.llm_error + ")" : "");
  $("answer-hospital").textContent = a.hospital_note || "";
  $("answer-hospital").hidden = !a.hospital_note;
  const cite = (ids) => el("span", ids && ids.length ? " [" + ids.join("; ") + "]" : "", "cite");
  const sum = $("answer-summary");
  sum.replaceChildren(el("span", a.mode === "retrieval-only" ? "" : a.summary.text), cite(a.mode === "retrieval-only" ? [] : a.summary.citations));
  const parts = $("answer-parts");
  parts.replaceChildren();
  for (const key of ["diagnoses", "tests", "treatments", "quotes"]) {
    const ul = el("ul");
    for (const it of a[key] || []) {
      const li = el("li", it.text);
      if (it.hospital) li.prepend(el("span", "[" + T[lang].hospital + "] ", "hospital"));
      li.append(cite(it.citations));
      ul.append(li);
    }
    if (ul.children.length) parts.append(ul);
  }
  for (const c of a.calculations || []) parts.append(el("p", c.summary[lang], "grade"));
  const list = $("answer-sources");
  list.replaceChildren();
  for (const s of a.sources || []) {
    const li = el("li");
    li.className = "answer-source";
    const c = s.citation || {};
    if (s.hospital) {
      const page = s.page ? (lang === "zh" ? "，第" + s.page + "页" : ", page " + s.page) : "";
      li.append(el("span", "[" + T[lang].hospital + ": " + (c.path || s.title) + page + (c.ocr ? ", OCR" : "") + "] ", "hospital"));
    }
    li.append(el("strong", s.title), el("br"), el("span", s.quote), el("br"),
      el("span", "[" + s.id + "] " + [c.body, c.guideline, c.year, c.section].filter(Boolean).join(", "), "grade"));
    list.append(li);
  }
  $("disclaimer").textContent = a.disclaimer;
}

$("ask-form").onsubmit = (e) => { e.preventDefault(); ask($("question").value).catch(fail); };

// smartReturn finishes the SMART launch: the code is exchanged, with the
// PKCE verifier, for a token, and the patient's resources are read.
async function smartReturn(q) {
  const saved = JSON.parse(sessionStorage.getItem("smart:" + q.get("state")) || "null");
  if (!saved) throw new Error("Unknown or replayed launch state.");
  sessionStorage.removeItem("smart:" + q.get("state"));
  const tr = await fetch(saved.token, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code: q.get("code"), redirect_uri: saved.redirect,
      client_id: saved.client, code_verifier: saved.verifier }) });
  if (!tr.ok) throw new Error("The EHR refused the token request (" + tr.status + ").");
  const tok = await tr.json();
  if (!tok.patient) throw new Error("The EHR granted no patient context.");
  history.replaceState(null, "", location.pathname);
  const base = saved.iss.replace(/\/$/, "");
  const get = async (path) => {
    const r = await fetch(base + "/" + path, { headers: { Authorization: "Bearer " + tok.access_token, Accept: "application/fhir+json" } });
    if (!r.ok) throw new Error("The EHR's FHIR server answered " + r.status + " for " + path.split("?")[0]);
    return r.json();
  };
  const pid = encodeURIComponent(tok.patient);
  const entries = [{ resource: await get("Patient/" + pid) }];
  for (const path of ["Observation?patient=" + pid, "Condition?patient=" + pid, "MedicationRequest?patient=" + pid,
                      "ServiceRequest?patient=" + pid + "&status=draft,active"]) {
    const b = await get(path);
    for (const e of b.entry || []) if (e.resource) entries.push({ resource: e.resource });
  }
  bundle = { resourceType: "Bundle", type: "collection", entry: entries };
  launched = true;
}

async function standalone(id) {
  const list = await (await fetch("/v1/synthetic-patients", { headers: withKey({}) })).json();
  const pick = $("picker");
  pick.replaceChildren();
  for (const p of list.patients) { const o = el("option", p.id + ": " + p.title); o.value = p.id; pick.append(o); }
  pick.hidden = false;
  pick.value = id && list.patients.some((p) => p.id === id) ? id : list.patients[0].id;
  pick.onchange = () => { history.replaceState(null, "", "?patient=" + pick.value); load(pick.value).then(show).catch(fail); };
  await load(pick.value);
}

async function load(id) {
  const r = await fetch("/v1/synthetic-patients/" + encodeURIComponent(id), { headers: withKey({}) });
  if (!r.ok) throw new Error(await problem(r));
  bundle = await r.json();
  $("answer").hidden = true;
}

(async () => {
  applyLang();
  const q = new URLSearchParams(location.search);
  if (q.get("code") && q.get("state")) await smartReturn(q);
  else await standalone(q.get("patient"));
  applyLang();
  await show();
})().catch(fail);
