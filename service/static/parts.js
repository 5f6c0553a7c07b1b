// Pieces shared by the views: reason chips, source lines, messages.

import { documentsByFile } from "./api.js";
import { clear, docId, h, href, lineRange } from "./dom.js";
import { reason } from "./labels.js";

/** The instrument id of the URL scheme ("118/2025/NĐ-CP" -> "118-2025-nd-cp"). */
export function instrumentSlug(identifier) {
  return String(identifier)
    .normalize("NFC")
    .toLowerCase()
    .replace(/đ/g, "d")
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** Why a hit matched, as chips; a cited instrument links to its page. */
export function chips(reasons, label) {
  if (!reasons || reasons.length === 0) return null;
  return h(
    "ul",
    { class: "chips", "aria-label": label },
    reasons.map((raw) => {
      const text = reason(raw);
      const cited = /^cites (\S+)$/.exec(raw);
      const inner = cited ? h("a", { href: href.instrument(instrumentSlug(cited[1])) }, text) : text;
      return h("li", { class: "chip", title: raw }, inner);
    }),
  );
}

/** "tệp.txt · dòng 841–873". */
export function sourceRef(doc, line, end, pages) {
  const where = pages && pages.length
    ? ` · trang ${pages.length > 1 ? `${pages[0]}–${pages[pages.length - 1]}` : pages[0]}` : "";
  return h("span", { class: "source-ref" }, h("span", { class: "file" }, doc), " · ", lineRange(line, end), where);
}

/** The source file's lines, numbered as `cat -n` counts; `marked` lines (a citation's) highlighted. */
export function sourceLines(provenance, marked = new Set()) {
  const rows = provenance.lines.map((l) =>
    h(
      "div",
      {
        class: ["src-line", l.text.trim() ? "" : "blank", marked.has(l.line) ? "cited" : ""].filter(Boolean).join(" "),
        "data-line": l.line,
        title: marked.has(l.line) ? "dòng có trích dẫn văn bản" : null,
      },
      h("span", { class: "ln", "aria-hidden": "true", title: l.page ? `trang ${l.page}` : null }, String(l.line)),
      h("span", { class: "tx" }, l.text),
    ),
  );
  return h("div", { class: "source", role: "group", "aria-label": `Dòng nguồn ${docId(provenance.doc)}` }, rows);
}

/** "Phụ lục: ... năm 2026 (2026)" for a file name, from the /documents rows; the file stem when unknown. */
export function docLabel(docs, file) {
  const d = docs && docs.get(file);
  if (!d) return docId(file);
  return d.year && !String(d.title || "").includes(String(d.year)) ? `${d.title} (${d.year})` : d.title || docId(file);
}

export function message(kind, text) {
  return h("p", { class: `message ${kind}`, role: kind === "error" ? "alert" : null }, text);
}

export function errorMessage(err) {
  if (err && err.status === 404) return message("error", `Không tìm thấy: ${err.message}`);
  if (err && err.code === "network") return message("error", err.message);
  return message("error", `Có lỗi khi tải dữ liệu${err && err.message ? `: ${err.message}` : "."}`);
}

export function loading(text = "Đang tải…") {
  return h("p", { class: "message loading", role: "status" }, text);
}

/**
 * Show "loading", then fetch a page's record together with the documents (for
 * their titles). On failure the page shows `heading` and the error, and this
 * resolves to null.
 */
export async function loadPage(main, heading, fetchRecord) {
  clear(main).append(loading());
  try {
    return await Promise.all([fetchRecord(), documentsByFile().catch(() => new Map())]);
  } catch (err) {
    clear(main).append(h("h1", null, heading), errorMessage(err));
    return null;
  }
}
