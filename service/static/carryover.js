// The carry-over page: for each plan pair, how many tasks continued, were dropped
// or are new, filtered by agency (with its 2025 lineage) and field; each link
// with its score and reasons, each dropped and new task with its text.

import { api, documentsByFile, options } from "./api.js";
import { clear, docId, h, href } from "./dom.js";
import { CARRY_LINKS, fieldLabel, score, taskPlace } from "./labels.js";
import { chips, docLabel, errorMessage, loading } from "./parts.js";

const LISTS = [
  ["continued", "Tiếp tục ở kế hoạch sau"],
  ["dropped", "Không còn ở kế hoạch sau"],
  ["new", "Nhiệm vụ mới"],
];

export async function showCarryover(main, params) {
  document.title = "Chuyển tiếp nhiệm vụ giữa các kế hoạch";
  const agency = h("select", { id: "c-agency", name: "agency" }, h("option", { value: "" }, "Tất cả cơ quan"));
  const field = h("select", { id: "c-field", name: "field" }, h("option", { value: "" }, "Tất cả lĩnh vực"));
  const body = h("div", { class: "carry-body" });
  const apply = () => {
    const p = new URLSearchParams(Object.entries({ agency: agency.value, field: field.value }).filter(([, v]) => v));
    const hash = p.toString() ? `#/carryover?${p}` : "#/carryover";
    if (window.location.hash !== hash) history.replaceState(null, "", hash);
    load(body, { agency: agency.value, field: field.value });
  };
  agency.addEventListener("change", apply);
  field.addEventListener("change", apply);
  clear(main).append(
    h("article", { class: "page carryover" },
      h("header", { class: "page-head" },
        h("p", { class: "kicker" }, "Dành cho người lập kế hoạch"),
        h("h1", null, "Chuyển tiếp nhiệm vụ giữa các kế hoạch")),
      h("p", { class: "muted" }, "Nhiệm vụ của kế hoạch trước được tiếp tục, bỏ lại, hay mới xuất hiện ở kế hoạch sau; "
        + "mỗi liên kết kèm điểm và lý do. Lọc theo cơ quan bao gồm cả cơ quan tiền thân và kế nhiệm (sắp xếp năm 2025)."),
      h("fieldset", { class: "filters" },
        h("legend", null, "Lọc"),
        h("div", { class: "field" }, h("label", { for: "c-agency" }, "Cơ quan chủ trì"), agency),
        h("div", { class: "field" }, h("label", { for: "c-field" }, "Lĩnh vực CCHC"), field)),
      body));
  await Promise.allSettled([
    options.agencies().then((rows) => {
      const active = rows.filter((a) => a.lead > 0).sort((a, b) => a.name.localeCompare(b.name, "vi"));
      agency.append(...active.map((a) => h("option", { value: a.id }, a.name)));
    }),
    options.fields().then((rows) => {
      field.append(...[...rows].sort((a, b) => (a.label || a.id).localeCompare(b.label || b.id, "vi"))
        .map((f) => h("option", { value: f.id }, f.label || f.id)));
    }),
  ]);
  agency.value = params.agency || "";
  field.value = params.field || "";
  await load(body, { agency: agency.value, field: field.value });
}

async function load(body, filters) {
  clear(body).append(loading());
  let data;
  let docs;
  try {
    [data, docs] = await Promise.all([api.carryover(filters), documentsByFile().catch(() => new Map())]);
  } catch (err) {
    clear(body).append(errorMessage(err));
    return;
  }
  clear(body);
  if (!data.plans.length) {
    body.append(h("p", { class: "muted" }, "Chưa có cặp kế hoạch nào được liên kết."));
    return;
  }
  for (const plan of data.plans) {
    const pairs = data.pairs.filter((p) => p.from.doc === plan.from && p.to.doc === plan.to);
    body.append(h("section", { class: "plan-pair", "aria-label": `${docId(plan.from)} → ${docId(plan.to)}` },
      h("h2", null, `${docLabel(docs, plan.from)} → ${docLabel(docs, plan.to)}`),
      h("ul", { class: "counts" },
        h("li", null, `Tiếp tục: ${plan.shown.continued}`),
        h("li", null, `Không còn: ${plan.shown.dropped}`),
        h("li", null, `Mới: ${plan.shown.new}`),
        h("li", null, `Liên kết: ${pairs.length}`)),
      h("div", { class: "carry-lists" },
        h("details", { open: true },
          h("summary", null, `Các liên kết (${pairs.length})`),
          pairs.map((p) => pairView(p, docs))),
        LISTS.slice(1).map(([name, title]) => h("details", { "data-list": name },
          h("summary", null, `${title} (${plan[name].length})`),
          h("ul", { class: "plain tasks" }, plan[name].map((t) => taskItem(t, docs))))))));
  }
}

function taskLink(t, docs) {
  return h("a", { href: href.task(t.id) }, `${taskPlace(t.section, t.no, t.line)} · ${docLabel(docs, t.doc)}`);
}

function taskItem(t, docs) {
  return h("li", null, taskLink(t, docs),
    h("span", { class: "muted" }, [t.lead && t.lead.length ? ` – chủ trì: ${t.lead.join("; ")}` : "",
      t.field ? ` – ${fieldLabel(t.field)}` : ""].join("")),
    h("p", { class: "excerpt" }, t.content));
}

function pairView(p, docs) {
  return h("div", { class: "pair" },
    h("p", null, taskLink(p.from, docs), h("span", { class: "arrow" }, " → "), taskLink(p.to, docs)),
    h("p", { class: "meta" }, `Điểm ${score(p.score)} · ${CARRY_LINKS[p.link] || p.link}`),
    h("p", { class: "excerpt" }, p.from.content),
    h("p", { class: "excerpt" }, "→ ", p.to.content),
    chips(p.reasons, "Lý do liên kết"));
}
