"use strict";
// The review page of chanaudit (reports/review.py builds it from this file, review_page.html and
// review_page.css). Data come from the JSON block #review-data and are only ever put on the page as
// text (textContent: never parsed as HTML); links only for http(s) URLs. Decisions live in localStorage under the audit's id and export as an
// overrides CSV that `chanaudit ... --overrides FILE` applies (docs/review.md).
(function () {
  const started = performance.now();
  const raw = JSON.parse(document.getElementById("review-data").textContent);
  const T = raw.ui;
  const CH = raw.channels;
  const LABEL = raw.channel_labels;
  const W = raw.weights;
  const ROW = 26;
  const OVERSCAN = 12;
  const $ = (id) => document.getElementById(id);

  // --- data -----------------------------------------------------------------------------------
  const sites = raw.sites.map((r, i) => ({
    i, id: r[0], domain: r[1], name: r[2], url: r[3], status: r[4], statusLabel: r[5], detail: r[6],
    flags: r[7], extra: r[8], ev: [], rules: new Set(), hay: "", values: null,
  }));
  for (const e of raw.evidence) {
    const s = sites[e[0]];
    s.ev.push({ ch: e[1], value: e[2], url: e[3], role: e[4], rule: e[5], snippet: e[6], counted: e[7] === 1,
      countsFor: e[8], key: String(e[2]).trim().toLowerCase() });
    s.rules.add(e[5]);
  }
  for (const s of sites) {
    const parts = [s.id, s.domain, s.name, s.url, s.statusLabel, s.detail, ...s.extra];
    for (const e of s.ev) parts.push(e.value, e.rule, e.snippet);
    s.hay = parts.join("\n").toLowerCase();
  }

  // --- decisions ------------------------------------------------------------------------------
  const KEY = "chanaudit-review:" + raw.audit;
  let store = { reviewer: "", d: {} };
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || "null");
    if (saved && typeof saved === "object" && saved.d) store = saved;
  } catch (err) { /* a broken entry: start afresh */ }
  if (!Object.keys(store.d).length && raw.seed.length) {  // decisions handed over with the page
    for (const [id, ch, value, finding, note, who, time] of raw.seed) {
      store.d[id + "|" + ch + "|" + (finding || "")] = { value: String(value), note, reviewer: who, time };
    }
  }
  const perSite = new Map();  // site id -> number of decisions
  function recount() {
    perSite.clear();
    for (const k of Object.keys(store.d)) {
      const id = k.split("|")[0];
      perSite.set(id, (perSite.get(id) || 0) + 1);
    }
  }
  recount();
  function save() {
    try { localStorage.setItem(KEY, JSON.stringify(store)); }
    catch (err) { say(T.storage_failed); }
  }
  const dkey = (s, ch, finding) => s.id + "|" + ch + "|" + (finding || "");

  function state(s, ch) {
    // the channel after the decisions, mirroring chanaudit.core.overrides.apply_overrides
    const detected = s.flags ? s.flags[CH.indexOf(ch)] : null;
    if (detected === null) return { detected: null, value: null, state: "" };
    const whole = store.d[dkey(s, ch, "")];
    if (whole && (whole.value === "1" || whole.value === "0")) {
      return { detected, value: Number(whole.value), state: "set" };
    }
    if (whole && whole.value === "reject") return { detected, value: 0, state: "rejected" };
    const rejected = new Set();
    let confirmed = whole && whole.value === "confirm";
    for (const e of s.ev) {
      if (e.ch !== ch && e.countsFor !== ch) continue;
      const d = store.d[dkey(s, ch, e.key)];
      if (d && d.value === "reject") rejected.add(e.key);
      if (d && d.value === "confirm") confirmed = true;
    }
    if (rejected.size) {
      const left = s.ev.some((e) => e.countsFor === ch && !rejected.has(e.key));
      return { detected, value: left ? detected : 0, state: "rejected" };
    }
    return { detected, value: detected, state: confirmed ? "confirmed" : "" };
  }
  function siteValues(s) {  // cached: a site's values change only with its decisions
    if (!s.values) s.values = CH.map((ch) => state(s, ch));
    return s.values;
  }
  function forget(s) {
    if (s) s.values = null;
    else for (const t of sites) t.values = null;
  }
  function score(values) {
    if (values[0].value === null) return null;
    let total = 0;
    values.forEach((v, j) => { total += v.value ? W[CH[j]] : 0; });
    return Math.round(total * 1e4) / 1e4;
  }
  function changed(values) {
    return values.some((v) => v.value !== v.detected);
  }

  function decide(s, ch, finding, value) {
    const k = dkey(s, ch, finding);
    const note = finding ? "" : noteOf(s, ch);
    if (value === null) delete store.d[k];
    else store.d[k] = { value, note, reviewer: store.reviewer || "", time: new Date().toISOString() };
    if (!finding && value !== null) pendingNotes.delete(s.id + "|" + ch);
    forget(s);
    recount();
    save();
    refresh();
  }
  const pendingNotes = new Map();
  function noteOf(s, ch) {
    const pending = pendingNotes.get(s.id + "|" + ch);
    if (pending !== undefined) return pending;
    const whole = store.d[dkey(s, ch, "")];
    return whole ? whole.note || "" : "";
  }
  function setNote(s, ch, text) {
    const whole = store.d[dkey(s, ch, "")];
    if (whole) { whole.note = text; save(); } else pendingNotes.set(s.id + "|" + ch, text);
  }

  // --- messages and summary -----------------------------------------------------------------------
  function say(text) { $("message").textContent = text || ""; }
  function summary() {
    let reviewed = 0, altered = 0;
    for (const s of sites) {
      if (perSite.get(String(s.id))) reviewed += 1;
      if (s.flags && changed(siteValues(s))) altered += 1;
    }
    $("summary").textContent = T.summary.replace("{shown}", view.length).replace("{total}", sites.length)
      .replace("{reviewed}", reviewed).replace("{changed}", altered);
  }

  // --- filters ------------------------------------------------------------------------------------
  function option(select, value, text) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    select.appendChild(o);
  }
  function counts(values) {
    const m = new Map();
    for (const v of values) m.set(v, (m.get(v) || 0) + 1);
    return m;
  }
  const fStatus = $("f-status"), fChannel = $("f-channel"), fRule = $("f-rule"), fColumn = $("f-column");
  const fValue = $("f-value"), fScore = $("f-score"), fReview = $("f-review"), search = $("search");
  option(fStatus, "", T.all);
  for (const [code, n] of counts(sites.map((s) => s.status))) {
    const label = sites.find((s) => s.status === code).statusLabel;
    option(fStatus, code, label + " (" + n + ")");
  }
  option(fChannel, "", T.all);
  for (const ch of CH) {
    option(fChannel, ch + ":1", LABEL[ch] + ": " + T.present);
    option(fChannel, ch + ":0", LABEL[ch] + ": " + T.absent);
  }
  option(fRule, "", T.all);
  const ruleCounts = new Map();
  for (const s of sites) for (const r of s.rules) ruleCounts.set(r, (ruleCounts.get(r) || 0) + 1);
  for (const r of [...ruleCounts.keys()].sort()) option(fRule, r, r + " (" + ruleCounts.get(r) + ")");
  option(fColumn, "", T.column);
  raw.columns.forEach((c, j) => option(fColumn, String(j), c));
  function fillValues() {
    fValue.textContent = "";
    option(fValue, "", T.all);
    if (fColumn.value === "") { fValue.disabled = true; return; }
    fValue.disabled = false;
    const j = Number(fColumn.value);
    const m = counts(sites.map((s) => s.extra[j]));
    for (const v of [...m.keys()].sort()) option(fValue, v, (v === "" ? T.blank : v) + " (" + m.get(v) + ")");
  }
  const preferred = raw.columns.indexOf(raw.group_column);
  if (preferred >= 0) fColumn.value = String(preferred);
  fillValues();
  for (const [v, text] of [["", T.all], ["todo", T.not_reviewed], ["done", T.reviewed], ["changed", T.changed]]) {
    option(fReview, v, text);
  }

  let view = [];
  let sort = { key: "id", dir: 1 };
  function matches(s) {
    if (fStatus.value && s.status !== fStatus.value) return false;
    if (fRule.value && !s.rules.has(fRule.value)) return false;
    if (fColumn.value !== "" && fValue.value !== "" && s.extra[Number(fColumn.value)] !== fValue.value) return false;
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const w of words) if (!s.hay.includes(w)) return false;
    if (fChannel.value) {
      const [ch, want] = fChannel.value.split(":");
      const st = siteValues(s)[CH.indexOf(ch)];
      if (st.value === null || st.value !== Number(want)) return false;
    }
    const min = parseFloat(fScore.value);
    if (!Number.isNaN(min)) {
      const sc = score(siteValues(s));
      if (sc === null || sc < min - 1e-9) return false;
    }
    if (fReview.value) {
      const n = perSite.get(String(s.id)) || 0;
      if (fReview.value === "todo" && n) return false;
      if (fReview.value === "done" && !n) return false;
      if (fReview.value === "changed" && !(s.flags && changed(siteValues(s)))) return false;
    }
    return true;
  }
  function sortValue(s) {
    switch (sort.key) {
      case "id": return s.id;
      case "name": return (s.name || s.domain || "").toLowerCase();
      case "status": return s.statusLabel;
      case "column": return fColumn.value === "" ? "" : s.extra[Number(fColumn.value)].toLowerCase();
      case "score": { const sc = score(siteValues(s)); return sc === null ? -1 : sc; }
      case "review": return perSite.get(String(s.id)) || 0;
      default: { const st = siteValues(s)[CH.indexOf(sort.key)]; return st.value === null ? -1 : st.value; }
    }
  }
  function apply(keepSelection) {
    const t = performance.now();
    const current = view[sel];
    view = sites.filter(matches);
    const keyed = view.map((s) => [sortValue(s), s]);
    keyed.sort((a, b) => (a[0] < b[0] ? -sort.dir : a[0] > b[0] ? sort.dir : a[1].i - b[1].i));
    view = keyed.map((p) => p[1]);
    sel = keepSelection && current ? Math.max(0, view.indexOf(current)) : 0;
    if (sel >= view.length) sel = view.length - 1;
    $("rows").style.height = view.length * ROW + "px";
    if (!keepSelection) $("viewport").scrollTop = 0;
    render();
    showDetail();
    summary();
    window.__review.lastFilterMs = performance.now() - t;
    window.__review.filters += 1;
    document.body.dataset.filters = String(window.__review.filters);
  }
  for (const el of [fStatus, fChannel, fRule, fValue, fReview]) el.addEventListener("change", () => apply(false));
  fColumn.addEventListener("change", () => { fillValues(); buildHead(); apply(false); });
  search.addEventListener("input", () => apply(false));
  fScore.addEventListener("input", () => apply(false));

  // --- the table (virtualised: only the rows in view exist) ----------------------------------------
  const head = $("head");
  function buildHead() {
    head.textContent = "";
    const colName = fColumn.value === "" ? "" : raw.columns[Number(fColumn.value)];
    const cols = [["id", "#"], ["name", T.site], ["status", T.status], ["column", colName],
      ...CH.map((ch) => [ch, LABEL[ch]]), ["score", T.score], ["review", "✓"]];
    for (const [key, text] of cols) {
      const cell = document.createElement("span");
      cell.setAttribute("role", "columnheader");
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = CH.includes(key) ? text.slice(0, 3) : text;
      b.title = text;
      b.dataset.sort = key;
      if (sort.key === key) b.setAttribute("aria-sort", sort.dir > 0 ? "ascending" : "descending");
      b.addEventListener("click", () => {
        sort = { key, dir: sort.key === key ? -sort.dir : (key === "score" ? -1 : 1) };
        buildHead();
        apply(true);
      });
      cell.appendChild(b);
      head.appendChild(cell);
    }
  }
  const pool = [];
  const viewport = $("viewport"), rowsEl = $("rows");
  function rowEl() {
    const el = document.createElement("div");
    el.className = "row";
    el.setAttribute("role", "row");
    for (let j = 0; j < 11; j++) {
      const c = document.createElement("span");
      c.setAttribute("role", "gridcell");
      if (j >= 4 && j <= 8) c.className = "c";
      if (j === 9) c.className = "num";
      if (j === 10) c.className = "c";
      el.appendChild(c);
    }
    el.addEventListener("click", () => { sel = Number(el.dataset.pos); render(); showDetail(); });
    rowsEl.appendChild(el);
    return el;
  }
  function fillRow(el, s, pos) {
    const c = el.children;
    const values = siteValues(s);
    c[0].textContent = String(s.id);
    c[1].textContent = s.name ? s.name + " · " + s.domain : s.domain;
    c[1].title = s.url;
    c[2].textContent = s.statusLabel;
    c[2].className = s.status === "ok" ? "" : "status-bad";
    c[3].textContent = fColumn.value === "" ? "" : s.extra[Number(fColumn.value)];
    values.forEach((v, j) => {
      const cell = c[4 + j];
      cell.textContent = v.value === null ? "" : v.value ? "●" : "·";
      cell.className = "c " + (v.value ? "on" : "off") + (v.value !== v.detected ? " changed" : "");
      cell.title = LABEL[CH[j]] + (v.state ? " — " + T["state_" + v.state] : "");
    });
    const sc = score(values);
    c[9].textContent = sc === null ? "" : sc.toFixed(2);
    c[10].textContent = perSite.get(String(s.id)) ? "✓" : "";
    el.dataset.pos = String(pos);
    el.dataset.siteId = String(s.id);
    el.classList.toggle("sel", pos === sel);
    el.setAttribute("aria-selected", pos === sel ? "true" : "false");
  }
  let rendering = false;
  function render() {
    rendering = false;
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW) - OVERSCAN);
    const count = Math.ceil((viewport.clientHeight || 600) / ROW) + 2 * OVERSCAN;
    const last = Math.min(view.length, first + count);
    while (pool.length < last - first) pool.push(rowEl());
    for (let j = 0; j < pool.length; j++) {
      const el = pool[j], pos = first + j;
      if (pos < last) {
        el.hidden = false;
        el.style.top = pos * ROW + "px";
        fillRow(el, view[pos], pos);
      } else el.hidden = true;
    }
    if (!view.length) {
      rowsEl.dataset.empty = "1";
      rowsEl.style.height = "3em";
    } else delete rowsEl.dataset.empty;
    $("viewport").setAttribute("aria-rowcount", String(view.length));
  }
  viewport.addEventListener("scroll", () => {
    if (!rendering) { rendering = true; requestAnimationFrame(render); }
  });
  window.addEventListener("resize", () => render());

  // --- the detail of one site ---------------------------------------------------------------------
  let sel = 0;
  let selCh = 0;
  function link(url, text) {
    if (/^https?:\/\//i.test(url || "")) {
      const a = document.createElement("a");
      a.href = url;
      a.rel = "noopener noreferrer nofollow";
      a.target = "_blank";
      a.textContent = text || url;
      return a;
    }
    return document.createTextNode(text || url || "");
  }
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function button(text, title, onClick, name) {
    const b = el("button", text);
    b.type = "button";
    b.title = title;
    if (name) b.dataset.act = name;
    b.addEventListener("click", onClick);
    return b;
  }
  function badge(st) {
    return st ? el("span", T["state_" + st], "badge b-" + st) : null;
  }
  function showDetail() {
    const box = $("detail");
    box.textContent = "";
    const s = view[sel];
    if (!s) { box.appendChild(el("p", T.nothing, "empty")); return; }
    box.dataset.siteId = String(s.id);
    const h = el("h2");
    h.appendChild(document.createTextNode("#" + s.id + " " + (s.name || s.domain) + " — "));
    h.appendChild(link(s.url, s.url));
    box.appendChild(h);
    box.appendChild(el("p", T.status + ": " + s.statusLabel + (s.detail ? " — " + s.detail : ""), "meta"));
    const extras = raw.columns.map((c, j) => [c, s.extra[j]]).filter((p) => p[1] !== "");
    if (extras.length) box.appendChild(el("p", extras.map((p) => p[0] + ": " + p[1]).join(" · "), "meta"));
    if (!s.flags) { box.appendChild(el("p", T.not_audited, "empty")); return; }
    const values = siteValues(s);
    const t = el("table");
    t.id = "channels";
    const hr = el("tr");
    for (const text of [T.channel, T.detected, T.value, T.note]) hr.appendChild(el("th", text));
    t.appendChild(hr);
    CH.forEach((ch, j) => {
      const v = values[j];
      const tr = el("tr");
      tr.dataset.channel = ch;
      if (j === selCh) tr.className = "cur";
      const name = el("td", (j + 1) + ". " + LABEL[ch]);
      tr.appendChild(name);
      tr.appendChild(el("td", v.detected ? T.present : T.absent));
      const now = el("td", v.value ? T.present : T.absent, v.value ? "on" : "off");
      const b = badge(v.state);
      if (b) now.appendChild(b);
      tr.appendChild(now);
      const noteCell = el("td");
      const note = document.createElement("input");
      note.className = "note";
      note.type = "text";
      note.value = noteOf(s, ch);
      note.setAttribute("aria-label", T.note + " — " + LABEL[ch]);
      note.addEventListener("input", () => setNote(s, ch, note.value));
      const acts = el("div", null, "acts");
      acts.appendChild(button(T.confirm, T.confirm_hint, () => { selCh = j; decide(s, ch, "", "confirm"); }, "confirm"));
      acts.appendChild(button(T.reject, T.reject_hint, () => { selCh = j; decide(s, ch, "", "reject"); }, "reject"));
      acts.appendChild(button("=1", T.set1_hint, () => { selCh = j; decide(s, ch, "", "1"); }, "set1"));
      acts.appendChild(button("=0", T.set0_hint, () => { selCh = j; decide(s, ch, "", "0"); }, "set0"));
      acts.appendChild(button("↺", T.undo_hint, () => { selCh = j; undo(s, ch); }, "undo"));
      noteCell.appendChild(acts);
      noteCell.appendChild(note);
      tr.appendChild(noteCell);
      t.appendChild(tr);
    });
    box.appendChild(t);
    const scored = el("p", T.score + ": " + (score(values) === null ? "" : score(values).toFixed(2)), "meta");
    box.appendChild(scored);
    box.appendChild(el("h3", T.findings));
    const ft = el("table");
    ft.id = "findings";
    const fh = el("tr");
    for (const text of [T.channel, T.finding_value, T.page, T.rule, T.snippet, ""]) fh.appendChild(el("th", text));
    ft.appendChild(fh);
    const order = (e) => { const k = CH.indexOf(e.countsFor || e.ch); return k < 0 ? 99 : k; };
    const shown = s.ev.filter((e) => CH.includes(e.ch) || e.countsFor).sort((a, b) => order(a) - order(b));
    for (const e of shown) {
      const ch = e.countsFor || e.ch;
      const d = store.d[dkey(s, ch, e.key)];
      const whole = store.d[dkey(s, ch, "")];
      const rejected = (d && d.value === "reject") || (whole && whole.value === "reject");
      const tr = el("tr", null, rejected ? "rejected" : "");
      tr.dataset.channel = ch;
      tr.dataset.finding = e.key;
      tr.appendChild(el("td", LABEL[ch] || e.ch));
      const val = el("td", e.value, "val");
      if (!e.counted) val.appendChild(el("span", T.hidden, "badge b-hidden"));
      if (d) val.appendChild(badge(d.value === "reject" ? "rejected" : "confirmed"));
      tr.appendChild(val);
      const page = el("td", null, "link");
      page.appendChild(link(e.url, e.role || e.url));
      tr.appendChild(page);
      tr.appendChild(el("td", e.rule));
      const snip = el("td", null, "snip");
      snip.appendChild(el("code", e.snippet));
      tr.appendChild(snip);
      const acts = el("td", null, "acts");
      acts.appendChild(button("✓", T.confirm_finding, () => decide(s, ch, e.key, d && d.value === "confirm" ? null : "confirm"), "confirm-finding"));
      acts.appendChild(button("✗", T.reject_finding, () => decide(s, ch, e.key, d && d.value === "reject" ? null : "reject"), "reject-finding"));
      tr.appendChild(acts);
      ft.appendChild(tr);
    }
    box.appendChild(shown.length ? ft : el("p", T.no_findings, "empty"));
    const other = s.ev.filter((e) => !CH.includes(e.ch) && !e.countsFor);
    if (other.length) {
      box.appendChild(el("h3", T.records));
      const ot = el("table");
      ot.id = "records";
      for (const e of other) {
        const tr = el("tr");
        tr.appendChild(el("td", raw.record_labels[e.ch] || e.ch));
        tr.appendChild(el("td", e.value, "val"));
        const page = el("td", null, "link");
        page.appendChild(link(e.url, e.role || e.url));
        tr.appendChild(page);
        tr.appendChild(el("td", e.rule));
        ot.appendChild(tr);
      }
      box.appendChild(ot);
    }
  }
  function undo(s, ch) {
    for (const k of Object.keys(store.d)) if (k.startsWith(s.id + "|" + ch + "|")) delete store.d[k];
    pendingNotes.delete(s.id + "|" + ch);
    forget(s);
    recount();
    save();
    refresh();
  }
  function refresh() {
    render();
    showDetail();
    summary();
  }
  function move(step) {
    if (!view.length) return;
    sel = Math.max(0, Math.min(view.length - 1, sel + step));
    const top = sel * ROW;
    if (top < viewport.scrollTop) viewport.scrollTop = top;
    else if (top + ROW > viewport.scrollTop + viewport.clientHeight) viewport.scrollTop = top + ROW - viewport.clientHeight;
    render();
    showDetail();
  }

  // --- export and import ----------------------------------------------------------------------------
  const COLUMNS = ["site_id", "domain", "channel", "value", "finding", "note", "reviewer", "time", "audit"];
  const TRIGGERS = ["=", "+", "-", "@", "\t", "\r", "\n"];
  function cell(v) {
    let text = v === null || v === undefined ? "" : String(v);
    if (text && TRIGGERS.includes(text[0])) text = "'" + text;  // as chanaudit.core.tables.neutralise
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }
  const byId = new Map(sites.map((s) => [String(s.id), s]));
  function exportRows() {
    const rows = [];
    for (const [k, d] of Object.entries(store.d)) {
      const [id, ch, finding] = [k.split("|")[0], k.split("|")[1], k.split("|").slice(2).join("|")];
      const s = byId.get(id);
      if (!s) continue;
      rows.push([s.id, s.domain, ch, d.value, finding, d.note, d.reviewer, d.time, raw.audit]);
    }
    rows.sort((a, b) => a[0] - b[0] || CH.indexOf(a[2]) - CH.indexOf(b[2]) || (a[4] < b[4] ? -1 : 1));
    return rows;
  }
  function exportCsv() {
    const rows = exportRows();
    const text = "\ufeff" + [COLUMNS, ...rows].map((r) => r.map(cell).join(",")).join("\r\n") + "\r\n";
    const blob = new Blob([text], { type: "text/csv;charset=utf-8" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = raw.export_name;
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    say(T.exported.replace("{n}", rows.length));
  }
  function parseCsv(text) {
    // the delimiter of the header line: "," as exported, ";" as Excel writes in Russian locales
    const first = text.split(/\r?\n/, 1)[0];
    const sep = (first.match(/;/g) || []).length > (first.match(/,/g) || []).length ? ";" : ",";
    const rows = [];
    let row = [], field = "", quoted = false;
    for (let j = 0; j < text.length; j++) {
      const c = text[j];
      if (quoted) {
        if (c === '"' && text[j + 1] === '"') { field += '"'; j++; }
        else if (c === '"') quoted = false;
        else field += c;
      } else if (c === '"') quoted = true;
      else if (c === sep) { row.push(field); field = ""; }
      else if (c === "\n" || c === "\r") {
        if (c === "\r" && text[j + 1] === "\n") j++;
        row.push(field); rows.push(row); row = []; field = "";
      } else field += c;
    }
    if (field || row.length) { row.push(field); rows.push(row); }
    return rows;
  }
  const unneutral = (v) => (v.length > 1 && v[0] === "'" && TRIGGERS.includes(v[1]) ? v.slice(1) : v);
  function importCsv(text) {
    const rows = parseCsv(text.replace(/^\ufeff/, "")).filter((r) => r.some((c) => c.trim()));
    if (!rows.length) { say(T.import_bad); return; }
    const head = rows[0].map((c) => c.trim().toLowerCase());
    const at = (name) => head.indexOf(name);
    if (at("channel") < 0 || at("value") < 0 || (at("site_id") < 0 && at("domain") < 0)) { say(T.import_bad); return; }
    const byDomain = new Map(sites.map((s) => [s.domain, s]));
    let n = 0, skipped = 0;
    for (const r of rows.slice(1)) {
      const get = (name) => (at(name) >= 0 ? unneutral((r[at(name)] || "").trim()) : "");
      const s = byId.get(get("site_id").replace(/\.0$/, "")) || byDomain.get(get("domain").toLowerCase());
      const ch = get("channel").toLowerCase();
      const value = get("value").toLowerCase();
      if (!s || !s.flags || !CH.includes(ch) || !["1", "0", "confirm", "reject"].includes(value)) { skipped++; continue; }
      store.d[dkey(s, ch, get("finding").toLowerCase())] = { value, note: get("note"), reviewer: get("reviewer"), time: get("time") };
      n++;
    }
    forget(null);
    recount();
    save();
    apply(true);
    say(T.imported.replace("{n}", n).replace("{skipped}", skipped));
  }
  $("export").addEventListener("click", exportCsv);
  $("import").addEventListener("change", (ev) => {
    const file = ev.target.files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => importCsv(String(reader.result));
    reader.readAsText(file, "utf-8");
  });
  $("clear").addEventListener("click", () => {
    if (!window.confirm(T.clear_confirm)) return;
    store.d = {};
    pendingNotes.clear();
    forget(null);
    recount();
    save();
    apply(true);
  });
  const reviewer = $("reviewer");
  reviewer.value = store.reviewer || "";
  reviewer.addEventListener("input", () => { store.reviewer = reviewer.value; save(); });

  // --- keyboard ------------------------------------------------------------------------------------
  document.addEventListener("keydown", (ev) => {
    const tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea") {
      if (ev.key === "Escape") ev.target.blur();
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const s = view[sel];
    const ch = CH[selCh];
    const keys = {
      j: () => move(1), ArrowDown: () => move(1), k: () => move(-1), ArrowUp: () => move(-1),
      PageDown: () => move(20), PageUp: () => move(-20),
      c: () => s && s.flags && decide(s, ch, "", "confirm"), r: () => s && s.flags && decide(s, ch, "", "reject"),
      y: () => s && s.flags && decide(s, ch, "", "1"), n: () => s && s.flags && decide(s, ch, "", "0"),
      u: () => s && s.flags && undo(s, ch), "/": () => search.focus(), e: () => exportCsv(),
      ArrowRight: () => { selCh = (selCh + 1) % CH.length; showDetail(); },
      ArrowLeft: () => { selCh = (selCh + CH.length - 1) % CH.length; showDetail(); },
    };
    CH.forEach((_, j) => { keys[String(j + 1)] = () => { selCh = j; showDetail(); }; });
    const act = keys[ev.key];
    if (act) { ev.preventDefault(); act(); }
  });

  // --- go -----------------------------------------------------------------------------------------
  window.__review = { filters: 0, lastFilterMs: 0, firstRenderMs: 0, sites: sites.length };
  buildHead();
  apply(false);
  window.__review.firstRenderMs = performance.now() - started;
  document.body.dataset.ready = "1";
})();
