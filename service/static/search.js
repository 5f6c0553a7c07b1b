// The search view: results as the user types (debounced), filters for year,
// agency, field and deadline (with or without a question), each hit with why
// it matched and its source lines; only the results the evidence says answer,
// weaker ones marked, paged by "Xem thêm".

import { api, documentsByFile, options } from "./api.js";
import { clear, h, href } from "./dom.js";
import { taskPlace, score } from "./labels.js";
import { chips, docLabel, errorMessage, message, sourceRef } from "./parts.js";

const DEBOUNCE_MS = 250;
const K = 20;
const EXAMPLES = [
  "nhiệm vụ theo Nghị định 118",
  "Sở Nội vụ chủ trì năm 2026",
  "số hóa hồ sơ thủ tục hành chính",
  "chỉ số PAPI",
];

let view = null; // the mounted form and its state, kept while the user stays on the search route

/** Show the search view for the hash's parameters ({q, year, agency, field, deadline}). */
export function showSearch(main, params) {
  if (!view || !main.contains(view.form)) view = mount(main);
  view.setValues(params);
  view.run(true);
  return view;
}

function field(id, labelText, control) {
  return h("div", { class: "field" }, h("label", { for: id }, labelText), control);
}

function mount(main) {
  clear(main);
  const q = h("input", {
    id: "q", type: "search", name: "q", autocomplete: "off", spellcheck: "false", maxlength: 500,
    placeholder: "Ví dụ: nhiệm vụ theo Nghị định 118", "aria-describedby": "search-status",
  });
  const year = h("select", { id: "f-year", name: "year" }, h("option", { value: "" }, "Tất cả các năm"));
  const agency = h("select", { id: "f-agency", name: "agency" }, h("option", { value: "" }, "Tất cả cơ quan"));
  const fieldSel = h("select", { id: "f-field", name: "field" }, h("option", { value: "" }, "Tất cả lĩnh vực"));
  const deadline = h("input", {
    id: "f-deadline", name: "deadline", type: "text", autocomplete: "off", maxlength: 40,
    placeholder: "vd: quý II/2026, tháng 3/2026, 2026",
  });
  const more = h("button", { type: "button", class: "more", hidden: true, onclick: () => state.more() }, "Xem thêm kết quả");
  const status = h("p", { id: "search-status", class: "status", role: "status", "aria-live": "polite" });
  const results = h("ol", { class: "results", "aria-label": "Kết quả tìm kiếm" });
  const intro = h("div", { class: "intro" });
  const form = h(
    "form",
    { class: "search", role: "search", onsubmit: (e) => { e.preventDefault(); state.run(); } },
    h("div", { class: "field query" },
      h("label", { for: "q" }, "Tìm nhiệm vụ, văn bản, cơ quan"),
      h("div", { class: "query-row" }, q, h("button", { type: "submit" }, "Tìm"))),
    h("fieldset", { class: "filters" },
      h("legend", null, "Lọc kết quả"),
      field("f-year", "Năm kế hoạch", year),
      field("f-agency", "Cơ quan chủ trì hoặc phối hợp", agency),
      field("f-field", "Lĩnh vực CCHC", fieldSel),
      field("f-deadline", "Thời hạn hoàn thành", deadline)),
  );
  main.append(h("h1", { class: "visually-hidden" }, "Tra cứu nhiệm vụ cải cách hành chính"), form, status,
    h("section", { "aria-label": "Kết quả" }, results, more), intro);

  let timer = null;
  let seq = 0;
  let controller = null;
  const wanted = {}; // filter values from the URL, applied once the options have arrived

  const values = () => ({
    q: q.value.trim(), year: year.value, agency: agency.value, field: fieldSel.value, deadline: deadline.value.trim(),
  });
  const filtered = (v) => Boolean(v.year || v.agency || v.field || v.deadline);
  let shown = 0;
  let total = 0;
  let docsCache = new Map();

  const state = {
    form,
    setValues(params) {
      q.value = params.q || "";
      Object.assign(wanted, { year: params.year || "", agency: params.agency || "", field: params.field || "" });
      deadline.value = params.deadline || "";
      year.value = wanted.year;
      agency.value = wanted.agency;
      fieldSel.value = wanted.field;
    },
    async run(fromUrl = false) {
      clearTimeout(timer);
      const v = values();
      if (!fromUrl) history.replaceState(null, "", href.search(v));
      const mine = ++seq;
      if (controller) controller.abort();
      controller = null;
      if (!v.q && !filtered(v)) {
        clear(results);
        status.textContent = "";
        more.hidden = true;
        intro.hidden = false;
        results.removeAttribute("aria-busy");
        return;
      }
      intro.hidden = true;
      controller = new AbortController();
      results.setAttribute("aria-busy", "true");
      status.textContent = "Đang tìm…";
      try {
        const [answer, docs] = await Promise.all([
          api.search({ ...v, k: K, offset: 0 }, controller.signal),
          documentsByFile().catch(() => new Map()),
        ]);
        if (mine !== seq) return; // a newer query was typed meanwhile
        docsCache = docs;
        clear(results);
        renderResults(results, answer.results, docs);
        shown = answer.results.length;
        total = answer.total;
        more.hidden = shown >= total;
        status.textContent = summary(v, answer);
      } catch (err) {
        if (err.name === "AbortError" || mine !== seq) return;
        clear(results);
        more.hidden = true;
        status.textContent = "";
        results.append(h("li", null, errorMessage(err)));
      } finally {
        if (mine === seq) results.removeAttribute("aria-busy");
      }
    },
    async more() {
      const v = values();
      const mine = seq;
      more.disabled = true;
      try {
        const answer = await api.search({ ...v, k: K, offset: shown });
        if (mine !== seq) return;
        renderResults(results, answer.results, docsCache);
        shown += answer.results.length;
        total = answer.total;
        more.hidden = shown >= total || answer.results.length === 0;
        status.textContent = summary(v, { ...answer, shown });
      } catch (err) {
        results.append(h("li", null, errorMessage(err)));
      } finally {
        more.disabled = false;
      }
    },
  };

  function summary(v, answer) {
    const count = answer.shown ?? answer.results.length;
    const readAs = answer.read_as ? ` (đọc là “${answer.read_as}”)` : "";
    const what = v.q ? `cho “${v.q}”${readAs}` : "theo bộ lọc";
    if (!answer.total) {
      return v.q
        ? `Không có kết quả nào trả lời “${v.q}”${readAs}. Thử bỏ bớt bộ lọc hoặc dùng từ khác.`
        : "Không có nhiệm vụ nào khớp bộ lọc.";
    }
    const weak = answer.results.some((r) => r.weak) ? " Kết quả ghi “khớp yếu” chỉ gần với câu hỏi." : "";
    return count < answer.total
      ? `${answer.total} kết quả ${what}, đang hiển thị ${count}.${weak}`
      : `${answer.total} kết quả ${what}.${weak}`;
  }

  q.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => state.run(), DEBOUNCE_MS);
  });
  for (const sel of [year, agency, fieldSel]) sel.addEventListener("change", () => state.run());
  deadline.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => state.run(), DEBOUNCE_MS);
  });

  fillOptions({ year, agency, field: fieldSel }, wanted);
  renderIntro(intro);
  return state;
}

async function fillOptions(selects, wanted) {
  const tasks = [
    options.documents().then((docs) => {
      const years = [...new Set(docs.map((d) => d.year).filter(Boolean))].sort((a, b) => b - a);
      selects.year.append(...years.map((y) => h("option", { value: y }, `Năm ${y}`)));
      selects.year.value = wanted.year;
    }),
    options.agencies().then((rows) => {
      const byName = (a, b) => a.name.localeCompare(b.name, "vi");
      const active = rows.filter((a) => a.lead + a.cooperating > 0).sort(byName);
      const rest = rows.filter((a) => a.lead + a.cooperating === 0).sort(byName);
      const opt = (a) => h("option", { value: a.id }, a.lead + a.cooperating ? `${a.name} (${a.lead + a.cooperating})` : a.name);
      selects.agency.append(
        h("optgroup", { label: "Có nhiệm vụ" }, active.map(opt)),
        rest.length ? h("optgroup", { label: "Chưa có nhiệm vụ trong dữ liệu" }, rest.map(opt)) : null,
      );
      selects.agency.value = wanted.agency;
    }),
    options.fields().then((rows) => {
      const sorted = [...rows].sort((a, b) => (a.label || a.id).localeCompare(b.label || b.id, "vi"));
      selects.field.append(...sorted.map((f) => h("option", { value: f.id }, `${f.label || f.id} (${f.tasks})`)));
      selects.field.value = wanted.field;
    }),
  ];
  const failed = (await Promise.allSettled(tasks)).filter((r) => r.status === "rejected");
  if (failed.length) {
    for (const sel of Object.values(selects)) if (sel.options.length === 1) sel.disabled = true;
    console.warn("filter options unavailable", failed.map((r) => r.reason));
  }
}

/** A narrative plan's task by its heading number ("Mục III, STT 1.2.7.(4).1"), from its readable id. */
function narrativePlace(r) {
  const tail = String(r.id || "").split("/").pop();
  if (!r.task || /^L\d+$/.test(tail) || !tail.includes(".")) return "Đoạn văn";
  const [section, ...no] = tail.split(".");
  return taskPlace(section, no.join("."), r.line);
}

function renderResults(list, results, docs) {
  for (const r of results) {
    const place = r.kind === "task" || r.section ? taskPlace(r.section, r.no, r.line) : narrativePlace(r);
    const target = r.task; // a passage that is no task (a "Căn cứ" paragraph) has no task page
    const title = target ? h("a", { href: href.task(target) }, place) : h("span", null, place);
    list.append(
      h("li", { class: r.weak ? "result weak" : "result", "data-id": r.id },
        h("h2", { class: "result-title" }, title,
          r.weak ? h("span", { class: "badge weak", title: "bằng chứng yếu: chỉ gần với câu hỏi" }, "khớp yếu") : null,
          h("span", { class: "doc-title" }, docLabel(docs, r.doc))),
        h("p", { class: "meta" }, "Nguồn: ", sourceRef(r.doc, r.line, r.end_line),
          h("span", { class: "rid", title: "mã định danh" }, ` · ${r.id}`),
          r.score ? h("span", { class: "score", title: "điểm xếp hạng" }, ` · điểm ${score(r.score)}`) : null),
        h("blockquote", { class: "hit-text" }, r.text),
        chips(r.why, "Vì sao khớp")));
  }
}

async function renderIntro(intro) {
  clear(intro);
  intro.append(
    h("h2", null, "Gợi ý tìm kiếm"),
    h("ul", { class: "examples" }, EXAMPLES.map((e) => h("li", null, h("a", { href: href.search({ q: e }) }, e)))),
  );
  try {
    const docs = await options.documents();
    intro.append(
      h("h2", null, "Tài liệu trong dữ liệu"),
      h("ul", { class: "docs" }, docs.map((d) =>
        h("li", null, h("strong", null, d.title || d.id),
          h("span", { class: "muted" }, ` · ${[d.type, d.issuer, d.year].filter(Boolean).join(", ")} · ${d.tasks} nhiệm vụ`)))),
    );
  } catch (err) {
    intro.append(message("error", `Không tải được danh sách tài liệu: ${err.message}`));
  }
}
