// The agency page: names, the 2025 lineage (merges, renames, splits), and the
// tasks it led or joined by plan year, with those its predecessors held.

import { api } from "./api.js";
import { canonical, clear, defs, h, href, isoDate } from "./dom.js";
import { AGENCY_KINDS, SUCCESSION, taskPlace } from "./labels.js";
import { docLabel, loadPage, message } from "./parts.js";

export async function showAgency(main, id) {
  const loaded = await loadPage(main, "Cơ quan", () => api.agency(id));
  if (!loaded) return;
  const [a, docs] = loaded;
  canonical(href.agency(a.id));
  document.title = a.name;
  clear(main).append(
    h("article", { class: "page agency" },
      h("header", { class: "page-head" },
        h("p", { class: "kicker" }, a.group ? "Nhóm cơ quan" : "Cơ quan"),
        h("h1", null, a.name)),
      defs([
        ["Tên gọi khác", a.aliases.length ? a.aliases.join("; ") : null],
        ["Loại", AGENCY_KINDS[a.kind] || a.kind],
        ["Cấp", a.level],
      ]),
      h("section", { "aria-labelledby": "h-lineage" },
        h("h2", { id: "h-lineage" }, "Sắp xếp, kế thừa"),
        lineage(a)),
      h("section", { "aria-labelledby": "h-tasks" },
        h("h2", { id: "h-tasks" }, "Nhiệm vụ theo năm"),
        byYear(a.tasks, a.totals, null, docs)),
      hasAny(a.inherited)
        ? h("section", { "aria-labelledby": "h-inherited" },
          h("h2", { id: "h-inherited" }, "Nhiệm vụ của cơ quan tiền thân"),
          byYear(a.inherited, a.inherited_totals, a, docs))
        : null));
}

function hasAny(roles) {
  return Object.values(roles.lead).some((l) => l.length) || Object.values(roles.cooperating).some((l) => l.length);
}

function linkItem(l, text) {
  return h("li", null, text, h("a", { href: href.agency(l.id) }, l.name || l.id),
    ` (${SUCCESSION[l.relation] || l.relation}, ${isoDate(l.date)})`,
    l.note ? h("span", { class: "muted" }, ` – ${l.note}`) : null);
}

function lineage(a) {
  if (!a.predecessors.length && !a.successors.length) {
    return message("muted", "Không có thay đổi tổ chức trong sổ đăng ký.");
  }
  return h("ul", { class: "plain" },
    a.predecessors.map((l) => linkItem(l, "Kế thừa từ: ")),
    a.successors.map((l) => linkItem(l, "Chuyển sang: ")));
}

function byYear(roles, totals, agency, docs) {
  const years = [...new Set([...Object.keys(roles.lead), ...Object.keys(roles.cooperating)])].sort((x, y) => y - x);
  if (!years.length) return message("muted", "Chưa có nhiệm vụ trong dữ liệu.");
  return years.map((year) => h("section", { class: "year", "aria-label": `Năm ${year}` },
    h("h3", null, `Năm ${year}`),
    role("Chủ trì", roles.lead[year], totals.lead[year], agency, docs),
    role("Phối hợp", roles.cooperating[year], totals.cooperating[year], agency, docs)));
}

function role(title, items, total, agency, docs) {
  if (!items || !items.length) return null;
  return h("div", { class: "role" },
    h("h4", null, `${title} (${total ?? items.length})`),
    h("ul", { class: "plain tasks" }, items.map((t) => h("li", null,
      h("a", { href: href.task(t.task) }, `${taskPlace(t.section, t.no, t.line)} · ${docLabel(docs, t.doc)}`),
      agency && t.agency ? h("span", { class: "muted" }, " – do ",
        h("a", { href: href.agency(t.agency) }, agency.predecessors.find((p) => p.id === t.agency)?.name || t.agency),
        t.relation ? ` (${SUCCESSION[t.relation] || t.relation})` : "") : null,
      h("p", { class: "excerpt" }, t.content),
      t.went_to && t.went_to.length ? h("p", { class: "meta went-to" }, "Chuyển sang: ",
        t.went_to.map((w, i) => [i ? "; " : "", h("a", { href: href.task(w.id) },
          `${taskPlace(w.section, w.no, w.line)} · ${docLabel(docs, w.doc)}`),
        w.lead && w.lead.length ? ` (chủ trì: ${w.lead.join("; ")})` : ""])) : null))),
    total > items.length ? message("muted", `Đang hiển thị ${items.length} trên ${total}.`) : null);
}

