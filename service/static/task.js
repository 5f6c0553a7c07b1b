// The task page: its fields, the source lines it came from, and how it carried
// over between plans (each step with the link's score and reasons).

import { api } from "./api.js";
import { canonical, clear, defs, docId, h, href, isoDate, joined, lineRange } from "./dom.js";
import { CARRY_LINKS, score, taskPlace } from "./labels.js";
import { chips, docLabel, loadPage, sourceLines, sourceRef } from "./parts.js";

export async function showTask(main, id) {
  const loaded = await loadPage(main, "Nhiệm vụ", () => api.task(id));
  if (!loaded) return;
  const [t, docs] = loaded;
  canonical(href.task(t.id));
  document.title = `${taskPlace(t.section, t.no, t.provenance.line)} – ${t.document.title || docId(t.doc)}`;
  clear(main).append(
    h("article", { class: "page task" },
      h("header", { class: "page-head" },
        h("p", { class: "kicker" }, "Nhiệm vụ"),
        h("h1", null, `${taskPlace(t.section, t.no, t.provenance.line)} · ${t.document.title || docId(t.doc)}`),
        t.section_title ? h("p", { class: "muted" }, `${t.section}. ${t.section_title}`) : null,
        t.heading_path ? h("p", { class: "muted" }, t.heading_path) : null),
      h("p", { class: "task-content" }, t.content),
      facts(t),
      h("section", { "aria-labelledby": "h-source" },
        h("h2", { id: "h-source" }, "Dòng nguồn"),
        h("p", { class: "meta" }, sourceRef(t.provenance.doc, t.provenance.line, t.provenance.end_line, t.provenance.pages)),
        sourceLines(t.provenance, citedLines(t))),
      h("section", { "aria-labelledby": "h-history" },
        h("h2", { id: "h-history" }, "Lịch sử chuyển tiếp giữa các kế hoạch"),
        history(t.history, docs))));
}

/** The source lines a citation of the task stands on: highlighted among the task's lines. */
function citedLines(t) {
  const lines = new Set();
  for (const c of t.citations || []) for (let n = c.line; n <= (c.end_line || c.line); n++) lines.add(n);
  return lines;
}

function agencies(refs, text) {
  if (refs.length === 0) return text || null;
  return joined(refs.map((a) => h("a", { href: href.agency(a.id) }, a.name || a.id)));
}

function deadline(d) {
  if (!d) return null;
  const span = d.start || d.end ? ` (${isoDate(d.start)} – ${isoDate(d.end)})` : "";
  return `${d.text}${span}`;
}

function facts(t) {
  return h("section", { "aria-labelledby": "h-facts" },
    h("h2", { id: "h-facts", class: "visually-hidden" }, "Thông tin nhiệm vụ"),
    defs([
      ["Sản phẩm", t.product],
      ["Cơ quan chủ trì", agencies(t.lead, t.lead_text)],
      ["Cơ quan phối hợp", agencies(t.cooperating, t.cooperating_text)],
      ["Thời hạn", deadline(t.deadline) || t.timeline],
      ["Lĩnh vực", t.fields.length ? joined(t.fields.map((f) => f.label || f.id)) : null],
      ["Văn bản trích dẫn", t.citations.length ? h("ul", { class: "plain" }, t.citations.map((c) =>
        h("li", null, c.locator ? `${c.locator} ` : "",
          h("a", { href: href.instrument(c.instrument) }, c.label || c.id || c.instrument),
          h("span", { class: "muted" }, ` · ${lineRange(c.line, c.end_line)}`),
          ...(c.articles || []).map((a) => h("div", { class: "muted" },
            `${a.text} (${docId(a.doc)}, ${lineRange(a.line, a.end_line)})`))))) : null],
      ["Tài liệu", t.document.title && t.document.year && !t.document.title.includes(String(t.document.year))
        ? `${t.document.title} (${t.document.year})` : t.document.title || docId(t.doc)],
    ]));
}

function history(steps, docs) {
  if (!steps || steps.length === 0) {
    return h("p", { class: "muted" }, "Chưa thấy nhiệm vụ này ở kế hoạch trước hoặc sau.");
  }
  return h("ol", { class: "history" }, steps.map((s) => {
    const place = `${taskPlace(s.task.section, s.task.no, s.task.line)} · ${docLabel(docs, s.task.doc)}`;
    const title = s.query || !s.id ? h("span", null, place) : h("a", { href: href.task(s.id) }, place);
    const link = s.links && s.links[0];
    return h("li", { class: s.query ? "step current" : "step", "aria-current": s.query ? "true" : null },
      h("p", { class: "step-title" }, title, s.query ? h("span", { class: "badge" }, "đang xem") : null),
      h("p", null, s.task.content),
      s.score !== null && s.score !== undefined
        ? h("p", { class: "meta" }, `Điểm liên kết ${score(s.score)}`,
          link && link.link ? ` · ${CARRY_LINKS[link.link] || link.link}` : "")
        : h("p", { class: "meta" }, "Điểm khởi đầu của chuỗi"),
      chips(s.reasons, "Lý do liên kết"));
  }));
}
