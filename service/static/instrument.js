// The instrument page: metadata, where it is mentioned, and every task that
// traces back to it, with the path (task -> plan -> instrument) that shows why.

import { api } from "./api.js";
import { canonical, clear, defs, docId, h, href, isoDate, lineRange } from "./dom.js";
import { CONFLICT_FIELDS, LINK_KINDS, relation, taskPlace } from "./labels.js";
import { docLabel, loadPage, message, sourceRef } from "./parts.js";

export async function showInstrument(main, id) {
  const loaded = await loadPage(main, "Văn bản", () => api.instrument(id));
  if (!loaded) return;
  const [x, docs] = loaded;
  canonical(href.instrument(x.id));
  document.title = x.label;
  clear(main).append(
    h("article", { class: "page instrument" },
      h("header", { class: "page-head" },
        h("p", { class: "kicker" }, x.type || "Văn bản"),
        h("h1", null, x.label)),
      defs([
        ["Trích yếu", x.title],
        ["Số, ký hiệu", x.identifier],
        ["Loại văn bản", x.type],
        ["Cơ quan ban hành", x.issuer ? x.issuer.name || x.issuer.id : null],
        ["Ngày ban hành", x.date ? isoDate(x.date) : x.year],
      ]),
      x.conflicts.length ? h("section", { "aria-labelledby": "h-conflicts" },
        h("h2", { id: "h-conflicts" }, "Thông tin không thống nhất giữa các tài liệu"),
        h("ul", null, x.conflicts.map((c) => h("li", null, `${CONFLICT_FIELDS[c.field] || c.field}: ${c.values.join(" / ")}`)))) : null,
      x.relations.length ? h("section", { "aria-labelledby": "h-relations" },
        h("h2", { id: "h-relations" }, "Quan hệ với văn bản khác"),
        h("ul", { class: "plain" }, x.relations.map(relationItem))) : null,
      h("section", { "aria-labelledby": "h-tasks" },
        h("h2", { id: "h-tasks" }, `Nhiệm vụ truy về văn bản này (${x.tasks.total})`),
        x.tasks.total ? summary(x.tasks.items) : null,
        x.tasks.items.length
          ? h("ol", { class: "traced" }, x.tasks.items.map((t) => tracedTask(t, docs)))
          : message("muted", "Chưa có nhiệm vụ nào truy về văn bản này."),
        more(x.tasks)),
      h("section", { "aria-labelledby": "h-mentions" },
        h("h2", { id: "h-mentions" }, `Nơi nhắc đến (${x.mentions.total})`),
        h("ul", { class: "plain mentions" }, x.mentions.items.map((m) =>
          h("li", null, sourceRef(m.doc, m.line, m.end_line), ": ", h("q", null, m.text),
            m.task ? [" · ", h("a", { href: href.task(m.task) }, "xem nhiệm vụ")] : null))),
        more(x.mentions))));
}

function relationItem(r) {
  const other = r.kind === "instrument" ? h("a", { href: href.instrument(r.id) }, r.label || r.id) : h("span", null, r.label || r.id);
  const where = r.evidence ? h("span", { class: "muted" }, ` (${docId(r.evidence.doc)}, ${lineRange(r.evidence.line, r.evidence.end_line)})`) : null;
  return r.direction === "in"
    ? h("li", null, other, ` ${relation(r.relation)} văn bản này`, where)
    : h("li", null, `Văn bản này ${relation(r.relation)} `, other, where);
}

function summary(items) {
  const counts = new Map();
  for (const t of items) counts.set(t.link, (counts.get(t.link) || 0) + 1);
  return h("p", { class: "muted" }, [...counts].map(([k, n]) => `${n} ${LINK_KINDS[k] || k}`).join(" · "));
}

function more(page) {
  return page.total > page.items.length
    ? message("muted", `Đang hiển thị ${page.items.length} trên ${page.total}.`)
    : null;
}

function node(step) {
  const label = step.label || step.id;
  if (step.kind === "task") return h("a", { href: href.task(step.id) }, label);
  if (step.kind === "instrument") return h("a", { href: href.instrument(step.id) }, label);
  return h("span", null, label);
}

function path(steps) {
  const out = [];
  steps.forEach((s, i) => {
    out.push(h("li", { class: `node ${s.kind}` }, node(s)));
    if (s.relation && i < steps.length - 1) {
      out.push(h("li", { class: "rel" }, `${relation(s.relation)}`,
        s.evidence ? h("span", { class: "muted" }, ` (${lineRange(s.evidence.line, s.evidence.end_line)})`) : null));
    }
  });
  return h("ol", { class: "path", "aria-label": "Đường truy vết" }, out);
}

function tracedTask(t, docs) {
  return h("li", { class: "result" },
    h("h3", { class: "result-title" },
      h("a", { href: href.task(t.task) }, taskPlace(t.section, t.no, t.line)),
      h("span", { class: "doc-title" }, docLabel(docs, t.doc)),
      h("span", { class: `badge link-${t.link}` }, LINK_KINDS[t.link] || t.link)),
    h("p", { class: "meta" }, "Nguồn: ", sourceRef(t.doc, t.line, t.end_line)),
    h("blockquote", { class: "hit-text" }, t.content),
    path(t.path));
}
