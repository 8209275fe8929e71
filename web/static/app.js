// OrthoCDS page: asks /v1/ask with server-sent events and shows the cited
// answer, or searches /v1/search. No data leaves this server.
"use strict";
const T = {
  en: { navSidebar: "Sidebar demo", navDrill: "Case drills", tagline: "Guideline-cited decision support for osteoporosis and orthopaedics", ask: "Ask a clinical question",
        askBtn: "Ask", searchBtn: "Search only", sources: "Sources", working: "Working…", other: "中文",
        diagnoses: "Possible diagnoses", tests: "Tests to add", treatments: "Treatment options", quotes: "Recommendations",
        calculations: "Calculations", evidence: "evidence", strength: "strength", superseded: "superseded", hospital: "Hospital document", page: "page",
        disclaimer: "OrthoCDS supports, and does not replace, clinical judgement.", handout: "Patient handout", both: "both languages" },
  zh: { navSidebar: "侧边栏演示", navDrill: "病例演练", tagline: "基于指南、标注出处的骨质疏松与骨科临床决策支持", ask: "输入临床问题", askBtn: "提问", searchBtn: "仅检索",
        sources: "来源", working: "处理中…", other: "English", diagnoses: "可能的诊断", tests: "建议补充的检查",
        treatments: "治疗选择", quotes: "推荐条目", calculations: "计算结果", evidence: "证据", strength: "强度",
        superseded: "已被取代", hospital: "本院文件", page: "第{n}页", disclaimer: "本系统用于辅助而非取代临床判断。",
        handout: "患者资料", both: "双语" },
};
let lang = navigator.language && navigator.language.startsWith("zh") ? "zh" : "en";
const $ = (id) => document.getElementById(id);

function applyLang() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = T[lang][el.dataset.i18n]; });
  $("lang").textContent = T[lang].other;
  $("disclaimer").textContent = T[lang].disclaimer;
}
$("lang").onclick = () => { lang = lang === "en" ? "zh" : "en"; applyLang(); };

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function citeSpan(ids) {
  return el("span", ids && ids.length ? "[" + ids.join("; ") + "]" : "", "cite");
}

// hospitalLabel names a hospital document's passage: its file and page.
function hospitalLabel(s, c) {
  const page = s.page ? (lang === "zh" ? "，" + T[lang].page.replace("{n}", s.page) : ", " + T[lang].page + " " + s.page) : "";
  return "[" + T[lang].hospital + ": " + (c.path || s.title) + page + (c.ocr ? ", OCR" : "") + "]";
}

function showSources(sources) {
  const list = $("source-list");
  list.replaceChildren();
  for (const s of sources) {
    const li = el("li");
    li.id = "src-" + s.id;
    li.append(el("strong", s.title), el("br"), el("span", s.quote), el("br"));
    const c = s.citation || {};
    const ref = [c.body, c.guideline, c.year, c.section].filter(Boolean).join(", ");
    li.append(el("span", "[" + s.id + "] " + ref, "grade"));
    if (s.hospital) li.prepend(el("span", hospitalLabel(s, c) + " ", "hospital"));
    const grade = lang === "zh" ? c.grade_zh : c.grade;
    if (grade) {
      li.append(el("span", " · " + grade, "grade"));
    } else if (c.evidence || c.strength) {
      li.append(el("span", ` · ${T[lang].evidence} ${c.evidence || "-"}, ${T[lang].strength} ${c.strength || "-"}`, "grade"));
    }
    if (s.superseded) li.append(el("span", " " + T[lang].superseded, "superseded"));
    list.append(li);
  }
  $("sources").hidden = sources.length === 0;
}

function showAnswer(a) {
  $("stream").hidden = true;
  if (a.llm_error) $("status").textContent = ""; // the label carries it

  $("label").textContent = a.label + (a.llm_error ? " (" + a.llm_error + ")" : "");
  $("hospital-note").textContent = a.hospital_note || "";
  $("hospital-note").hidden = !a.hospital_note;
  const sum = $("summary");
  sum.replaceChildren(el("span", a.mode === "retrieval-only" ? "" : a.summary.text), citeSpan(a.mode === "retrieval-only" ? [] : a.summary.citations));
  const parts = $("parts");
  parts.replaceChildren();
  for (const key of ["diagnoses", "tests", "treatments", "quotes"]) {
    const items = a[key] || [];
    if (!items.length) continue;
    parts.append(el("h3", T[lang][key]));
    const ul = el("ul");
    for (const it of items) {
      const li = el("li", it.text);
      if (it.hospital) li.prepend(el("span", "[" + T[lang].hospital + "] ", "hospital"));
      if (it.reasoning) li.append(el("div", it.reasoning, "grade"));
      li.append(citeSpan(it.citations));
      ul.append(li);
    }
    parts.append(ul);
  }
  if (a.calculations && a.calculations.length) {
    parts.append(el("h3", T[lang].calculations));
    const ul = el("ul");
    for (const c of a.calculations) ul.append(el("li", c.summary[lang === "zh" ? "zh" : "en"]));
    parts.append(ul);
  }
  $("disclaimer").textContent = a.disclaimer;
  showSources(a.sources || []);
  offerHandout(a).catch(() => {});
}

// offerHandout offers a patient handout on what the answer cites, when the
// server has one that covers its entries: English, Chinese or both,
// printable, opened in a new window.
async function offerHandout(a) {
  const box = $("handout");
  box.hidden = true;
  const ids = new Set();
  for (const it of [a.summary || {}, ...["diagnoses", "tests", "treatments", "quotes"].flatMap((k) => a[k] || [])]) {
    for (const c of it.citations || []) ids.add(c);
  }
  if (!ids.size) return;
  const entries = [...ids].join(",");
  const probe = await fetch("/v1/handouts/auto?" + new URLSearchParams({ entries }));
  if (!probe.ok) return;
  box.replaceChildren(T[lang].handout + ": ");
  for (const [code, label] of [["en", "English"], ["zh", "中文"], ["both", T[lang].both]]) {
    const b = el("button", label);
    b.type = "button";
    b.dataset.href = "/v1/handouts/auto?" + new URLSearchParams({ entries, lang: code, format: "html" });
    b.dataset.lang = code;
    b.onclick = () => window.open(b.dataset.href, "_blank");
    box.append(b, " ");
  }
  box.hidden = false;
}

async function problem(resp) {
  try { const p = await resp.json(); return p.detail + (p.field ? " (" + p.field + ")" : ""); }
  catch { return resp.statusText; }
}

async function ask(question) {
  $("status").textContent = T[lang].working;
  $("answer").hidden = false;
  $("stream").textContent = "";
  $("stream").hidden = false;
  const resp = await fetch("/v1/ask", { method: "POST", headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
    body: JSON.stringify({ question }) });
  if (!resp.ok) { $("status").textContent = await problem(resp); return; }
  await readEvents(resp, (type, data) => {
    if (type === "sources") showSources(data);
    else if (type === "token") $("stream").textContent += data;
    else if (type === "answer") showAnswer(data);
    else if (type === "error") $("status").textContent = data.message;
  });
  if ($("status").textContent === T[lang].working) $("status").textContent = "";
}

async function search(question) {
  $("status").textContent = T[lang].working;
  const resp = await fetch("/v1/search", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ queries: [{ text: question, k: 8 }] }) });
  if (!resp.ok) { $("status").textContent = await problem(resp); return; }
  const body = await resp.json();
  $("answer").hidden = true;
  showSources(body.results[0].hits.map((h) => ({ id: h.doc_id, title: h.title, quote: h.text, citation: h.citation, superseded: h.superseded,
    page: h.page, hospital: h.kind === "document" })));
  $("status").textContent = "";
}

$("ask-form").onsubmit = (e) => { e.preventDefault(); ask($("question").value).catch((err) => { $("status").textContent = String(err); }); };
$("search-btn").onclick = () => search($("question").value).catch((err) => { $("status").textContent = String(err); });
applyLang();

// A link such as /?q=... opens the page with the question asked.
const initial = new URLSearchParams(location.search).get("q");
if (initial) {
  $("question").value = initial;
  ask(initial).catch((err) => { $("status").textContent = String(err); });
}
