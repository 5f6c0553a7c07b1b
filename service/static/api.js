// The JSON API client: one fetch wrapper that turns {"error", "detail"} answers
// into ApiError, plus the option lists the page needs on every view (cached).

import { encodePath } from "./dom.js";

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail);
    this.status = status;
    this.code = code;
  }
}

export async function getJSON(path, params = {}, { signal } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") url.searchParams.set(key, value);
  }
  let response;
  try {
    response = await fetch(url, { signal, headers: { Accept: "application/json" } });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network", "Không kết nối được với máy chủ.");
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, body?.error || "error", body?.detail || response.statusText);
  }
  return body;
}

export const api = {
  search: (params, signal) => getJSON("/search", params, { signal }),
  task: (id) => getJSON(`/tasks/${encodePath(id)}`),
  instrument: (id) => getJSON(`/instruments/${encodePath(id)}`, { limit: 500 }),
  agency: (id) => getJSON(`/agencies/${encodeURIComponent(id)}`, { limit: 500 }),
  carryover: (params) => getJSON("/carryover", params),
  instruments: () => getJSON("/instruments", { limit: 500 }),
};

const cache = new Map();

function once(key, load) {
  if (!cache.has(key)) {
    const p = load().catch((err) => {
      cache.delete(key); // a failed load is retried by the next view
      throw err;
    });
    cache.set(key, p);
  }
  return cache.get(key);
}

async function allItems(path) {
  const page = await getJSON(path, { limit: 500 });
  return page.items;
}

export const options = {
  documents: () => once("documents", () => allItems("/documents")),
  agencies: () => once("agencies", () => allItems("/agencies")),
  fields: () => once("fields", () => allItems("/fields")),
};

/** {file name: document row}, for titles and years of search hits. */
export async function documentsByFile() {
  const docs = await options.documents();
  return new Map(docs.map((d) => [d.file, d]));
}
