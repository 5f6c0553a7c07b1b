// The page's router: one static page, views chosen by the URL's hash
// (#/?q=..., #/task/<id>, #/instrument/<id>, #/agency/<id>, #/instruments,
// #/carryover?...), so every view has a link that can be shared or bookmarked.

import { showAgency } from "./agency.js";
import { options } from "./api.js";
import { showCarryover } from "./carryover.js";
import { showInstruments } from "./instruments.js";
import { setFieldLabels } from "./labels.js";
import { showInstrument } from "./instrument.js";
import { showSearch } from "./search.js";
import { showTask } from "./task.js";

const TITLE = "Tra cứu nhiệm vụ cải cách hành chính – Lạng Sơn";
const main = document.getElementById("main");
const backLink = document.getElementById("back-to-search");
let lastSearch = "#/";

// A malformed escape (#/task/%E0%A4%A, a truncated link) keeps its raw text: the page then says the id is
// unknown instead of throwing before anything is drawn.
function decodePart(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function decode(path) {
  return path.split("/").map(decodePart).join("/");
}

function parse(hash) {
  const raw = hash.replace(/^#/, "") || "/";
  const [path, query = ""] = raw.split("?");
  for (const [prefix, view] of [["/task/", "task"], ["/instrument/", "instrument"], ["/agency/", "agency"]]) {
    if (path.startsWith(prefix) && path.length > prefix.length) return { view, id: decode(path.slice(prefix.length)) };
  }
  let params = {};
  try {
    params = Object.fromEntries(new URLSearchParams(query));
  } catch {
    params = {};
  }
  if (path === "/carryover") return { view: "carryover", params };
  if (path === "/instruments") return { view: "instruments", params };
  return { view: "search", params };
}

async function route() {
  const hash = window.location.hash;
  if (hash && !hash.startsWith("#/")) return; // an in-page anchor (the skip link), not a route
  const r = parse(hash);
  main.setAttribute("aria-busy", "true");
  try {
    if (r.view === "search") {
      document.title = TITLE;
      backLink.hidden = true;
      showSearch(main, r.params);
      return;
    }
    backLink.hidden = false;
    backLink.setAttribute("href", lastSearch);
    if (r.view === "carryover") await showCarryover(main, r.params);
    else if (r.view === "instruments") await showInstruments(main);
    else if (r.view === "task") await showTask(main, r.id);
    else if (r.view === "instrument") await showInstrument(main, r.id);
    else await showAgency(main, r.id);
    main.focus({ preventScroll: true }); // screen readers start at the new page, not at the old link
    window.scrollTo(0, 0);
  } catch (err) {
    const p = document.createElement("p");
    p.className = "message error";
    p.textContent = "Không mở được trang này: " + (err && err.message ? err.message : String(err));
    main.replaceChildren(p);
  } finally {
    main.removeAttribute("aria-busy");
  }
}

window.addEventListener("hashchange", () => {
  const hash = window.location.hash;
  if (!hash || hash === "#/" || hash.startsWith("#/?")) lastSearch = hash || "#/";
  route();
});
// the search view rewrites the hash with history.replaceState as the user types; remember where they were
window.addEventListener("click", (e) => {
  const a = e.target.closest && e.target.closest("a[href^='#/']");
  if (a && parse(window.location.hash).view === "search") lastSearch = window.location.hash || "#/";
});
if (parse(window.location.hash).view === "search") lastSearch = window.location.hash || "#/";
// field ids in reasons ("lĩnh vực: the-che") are shown by their Vietnamese labels
options.fields().then(setFieldLabels).catch(() => {}).finally(route);
