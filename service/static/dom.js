// DOM helpers.  Every piece of text from the API goes through text nodes or
// setAttribute, never innerHTML, so data can never become markup.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false || child === "") continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

/** A path id ("langson-2026-cchc-phuluc/III-9") as URL path segments, each escaped. */
export function encodePath(id) {
  return String(id).split("/").map(encodeURIComponent).join("/");
}

export const href = {
  search: (params = {}) => {
    const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== null && v !== undefined && v !== ""));
    const s = q.toString();
    return s ? `#/?${s}` : "#/";
  },
  task: (id) => `#/task/${encodePath(id)}`,
  instrument: (id) => `#/instrument/${encodePath(id)}`,
  agency: (id) => `#/agency/${encodeURIComponent(id)}`,
};

/** "dòng 841–873" or "dòng 847". */
export function lineRange(line, end) {
  return end && end !== line ? `dòng ${line}–${end}` : `dòng ${line}`;
}

/** A file name without ".txt": the document id. */
export function docId(file) {
  return String(file || "").replace(/\.txt$/, "");
}

/** A definition list from [term, value] pairs, skipping empty values. */
export function defs(pairs) {
  const dl = h("dl", { class: "defs" });
  for (const [term, value] of pairs) {
    if (value === null || value === undefined || value === "" || (Array.isArray(value) && value.length === 0)) continue;
    dl.append(h("dt", null, term), h("dd", null, value));
  }
  return dl;
}

/** Comma-separated nodes. */
export function joined(items, sep = ", ") {
  const out = [];
  items.forEach((item, i) => {
    if (i) out.push(sep);
    out.push(item);
  });
  return out;
}

export function isoDate(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
  return m ? `${m[3]}/${m[2]}/${m[1]}` : iso || "";
}

/** Put a page's canonical URL in the address bar when it was opened by an older or looser name
 * (#/task/file.txt:III.9, #/instrument/NĐ 118, #/agency/Sở Nội vụ): the API redirected, the URL follows. */
export function canonical(hash) {
  if (decodeURIComponent(window.location.hash) !== decodeURIComponent(hash)) history.replaceState(null, "", hash);
}
