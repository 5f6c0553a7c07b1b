// The SPARQL editor: a textarea, the example queries of ontology/README.md, and
// the answer as a table (SELECT), a yes/no (ASK) or Turtle text (CONSTRUCT/DESCRIBE).
// Served locally with the page: nothing is loaded from another host.

import { clear, h } from "./dom.js";

const form = document.getElementById("sparql-form");
const query = document.getElementById("query");
const example = document.getElementById("example");
const status = document.getElementById("sparql-status");
const out = document.getElementById("sparql-results");
const examples = JSON.parse(document.getElementById("examples").textContent || "[]");

for (const [i, ex] of examples.entries()) example.append(h("option", { value: String(i) }, `${ex.id}: ${ex.question}`));
example.addEventListener("change", () => {
  const ex = examples[Number(example.value)];
  if (ex) query.value = ex.query;
});

function cell(term) {
  if (!term) return "";
  return term.type === "uri" ? h("a", { href: term.value }, term.value) : term.value;
}

function table(body) {
  const vars = body.head.vars || [];
  const rows = body.results.bindings;
  return [
    h("p", { class: "meta" }, `${rows.length} dòng`),
    h("table", { class: "results-table" },
      h("thead", null, h("tr", null, vars.map((v) => h("th", { scope: "col" }, v)))),
      h("tbody", null, rows.map((r) => h("tr", null, vars.map((v) => h("td", null, cell(r[v])))))))
  ];
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  clear(out);
  status.textContent = "Đang chạy…";
  const params = new URLSearchParams({ query: query.value });
  try {
    const response = await fetch(`/sparql?${params}`, {
      headers: { Accept: "application/sparql-results+json, text/turtle;q=0.9" },
    });
    const type = response.headers.get("content-type") || "";
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      status.textContent = "";
      out.append(h("p", { class: "message error", role: "alert" }, `Lỗi ${response.status}: ${body.detail || response.statusText}`));
      return;
    }
    status.textContent = "";
    if (type.includes("sparql-results+json")) {
      const body = await response.json();
      if ("boolean" in body) out.append(h("p", null, body.boolean ? "Đúng (true)" : "Sai (false)"));
      else out.append(...table(body));
    } else {
      out.append(h("pre", { class: "turtle" }, await response.text()));
    }
  } catch (err) {
    status.textContent = "";
    out.append(h("p", { class: "message error", role: "alert" }, `Không kết nối được: ${err.message}`));
  }
});
