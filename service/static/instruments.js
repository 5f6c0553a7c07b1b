// The instruments page: every legal instrument the plans cite, with how many
// tasks trace back to it (directly or through a plan) and how often it is cited.

import { api } from "./api.js";
import { clear, h, href } from "./dom.js";
import { loadPage } from "./parts.js";

export async function showInstruments(main) {
  document.title = "Văn bản được trích dẫn";
  const loaded = await loadPage(main, "Văn bản", () => api.instruments());
  if (!loaded) return;
  const [list] = loaded;
  clear(main).append(
    h("article", { class: "page instruments" },
      h("header", { class: "page-head" },
        h("p", { class: "kicker" }, "Văn bản"),
        h("h1", null, `Văn bản được trích dẫn (${list.total})`)),
      h("p", { class: "muted" }, "Số nhiệm vụ dẫn về mỗi văn bản: trích dẫn trực tiếp, hoặc qua kế hoạch triển khai văn bản đó."),
      h("table", { class: "list-table" },
        h("thead", null, h("tr", null,
          h("th", { scope: "col" }, "Văn bản"),
          h("th", { scope: "col", class: "opt" }, "Trích yếu"),
          h("th", { scope: "col" }, "Nhiệm vụ"),
          h("th", { scope: "col", class: "opt" }, "Trích dẫn trực tiếp"),
          h("th", { scope: "col", class: "opt" }, "Lần nhắc đến"))),
        h("tbody", null, list.items.map((x) => h("tr", null,
          h("td", null, h("a", { href: href.instrument(x.id) }, x.label || x.identifier)),
          h("td", { class: "opt" }, x.title || ""),
          h("td", { class: "num" }, String(x.tasks)),
          h("td", { class: "num opt" }, String(x.direct)),
          h("td", { class: "num opt" }, String(x.mentions))))))));
}
