"""The JSON API routes: thin wrappers over `Application` and `cchc.graph.views.GraphViews`.

Conventions (the agreed shapes, also stated in the OpenAPI description):

* errors are always `{"error": code, "detail": message}`: 404 `not_found` for
  an unknown id or path, 400 `bad_request` for a bad parameter (FastAPI's 422
  validation errors are answered as 400 with the same body, so a client only
  handles one kind), 503 `timeout` when a request computes longer than
  `Settings.request_timeout`, 500 `internal` otherwise;
* lists are `{"total", "limit", "offset", "items"}`, `limit` defaulting to
  `Settings.page_size` (50) and capped at `Settings.max_page_size` (500).
  Two answers keep the measurement contract instead: `/search` returns its
  top `k`, and `/carryover` every pair (unless `limit` is given).

Kept as one module (~560 lines): the route table and its named handlers, the error mapping and
the OpenAPI adjustments are read together (one place says what each path answers); the models
are in api_models.py, SPARQL in sparql_api.py.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from cchc.graph.corpus import load_manifest
from cchc.graph.extract.agencies import load_registry
from cchc.graph.ids import task_ref
from cchc.graph.read.views import GraphViews, NotFound
from cchc.ontology import CCHC, SKOS, load_ontology
from cchc.search.carryover.compute import history
from cchc.search.carryover.model import task_key
from cchc.search.searcher import Filters, due_window, resolve_agency
from cchc.service import api_models as m
from cchc.service.application import Application
from cchc.service.settings import Settings
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)
R = TypeVar("R")

_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 406: "not_acceptable", 408: "timeout",
          413: "too_large", 414: "too_large", 415: "unsupported_media_type", 422: "bad_request",
          429: "too_many_requests",
          500: "internal", 503: "unavailable", 504: "timeout"}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": m.ErrorBody, "description": "A bad parameter (named in `detail`)"},
    503: {"model": m.ErrorBody, "description": "The request took longer than the service allows, or (/health) the "
                                                "data directory failed its check"},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": m.ErrorBody, "description": "Unknown id"}}


def _iso_date_only(value: Any) -> Any:
    """Refuse what pydantic's lax date parsing would take: "0" is not 1970-01-01, nor 1700000000 a date."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]

class ApiError(Exception):
    """An answer other than 200, with the status, the code and the message the client gets."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


def error_response(status: int, error: str, detail: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": error, "detail": detail})


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors():
        loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "path", "body"))
        parts.append(f"{loc or 'request'}: {e.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    """Every error, raised by a route or by FastAPI itself, as {"error", "detail"}."""

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.error, exc.detail)

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return error_response(404, "not_found", str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, "bad_request", _validation_detail(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        response = error_response(exc.status_code, _CODES.get(exc.status_code, "error"), detail)
        for k, v in (exc.headers or {}).items():
            response.headers[k] = v
        return response

    @app.exception_handler(ValueError)
    async def value_error(_: Request, exc: ValueError) -> JSONResponse:
        return error_response(400, "bad_request", str(exc))

    @app.exception_handler(Exception)
    async def internal(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error: %s", exc)
        return error_response(500, "internal", f"internal error ({type(exc).__name__}); see the server log")


def install_openapi(app: FastAPI) -> None:
    """The OpenAPI document as the service answers: 400 with the error body instead of FastAPI's 422."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        _state_bounds(schema, app.state.api)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("ErrorBody", m.ErrorBody.model_json_schema())
        for ops in schema.get("paths", {}).values():
            for op in ops.values():
                responses = op.get("responses", {})
                if responses.pop("422", None) is not None and "400" not in responses:
                    responses["400"] = {"description": "A bad parameter (named in `detail`)",
                                        "content": {"application/json": {
                                            "schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _state_bounds(schema: dict[str, Any], ctx: ApiContext) -> None:
    """Parameters whose valid values come from the settings, the registry or the ontology, stated in OpenAPI."""
    bounds = {"k": {"maximum": ctx.settings.max_k}, "limit": {"maximum": ctx.settings.max_page_size},
              "agency": {"enum": ctx.agency_ids}, "field": {"enum": ctx.field_ids}}
    for ops in schema.get("paths", {}).values():
        for op in ops.values():
            for param in op.get("parameters", []):
                extra = bounds.get(param.get("name"))
                if extra and param.get("in") == "query":
                    target = param["schema"]
                    for alt in target.get("anyOf", [target]):
                        if alt.get("type") != "null":
                            alt.update(extra)


def field_concepts() -> list[str]:
    """Ids of the CCHC field concepts (the `field` filter's values), from the ontology."""
    return sorted(str(c).rsplit("/", 1)[-1] for c in load_ontology().subjects(SKOS.inScheme, CCHC.fields))


class Views:
    """The application's GraphViews, made on first use (routes may run before or without the lifespan)."""

    def __init__(self, application: Application) -> None:
        self.application = application
        self._views: GraphViews | None = None
        self._lock = threading.Lock()

    def get(self) -> GraphViews:
        """The views, made again when the live generation (whose sources hold the source lines) changed."""
        views = self._views
        if views is None or views.corpus_dir != self.application.live_corpus:
            with self._lock:
                corpus = self.application.live_corpus
                if self._views is None or self._views.corpus_dir != corpus:
                    self._views = GraphViews(self.application.store, corpus, load_manifest(corpus))
                views = self._views
        return views


@dataclass
class ApiContext:
    """What every handler reads: the application, its settings and views, and the filters' valid values."""

    application: Application
    settings: Settings
    views: Views
    agency_ids: list[str]
    field_ids: list[str]

    async def run(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Compute in a worker thread; past the request timeout, answer 503 (the thread finishes on its own)."""
        timeout = self.settings.request_timeout
        self.application.refresh()  # a `cchc add` or `remove` another process published is answered at once
        try:
            return await asyncio.wait_for(run_in_threadpool(fn, *args, **kwargs), timeout)
        except TimeoutError:
            raise ApiError(503, "timeout", f"the request took longer than {timeout:g} s") from None

    def check_page(self, limit: int | None) -> int:
        if limit is None:
            return self.settings.page_size
        if limit > self.settings.max_page_size:
            raise ApiError(400, "bad_request", f"limit: at most {self.settings.max_page_size}")
        return limit


def api_context(request: Request) -> ApiContext:
    return request.app.state.api


Ctx = Annotated[ApiContext, Depends(api_context)]
# The periods `deadline` takes, enforced (a request outside them is a 400 the schema predicts): a year, a
# quarter or a month of a year, with or without diacritics, "/" or "năm" before the year.
DEADLINE_PATTERN = (r"^(?:(?:19|20)[0-9]{2}"
                    r"|(?:[Qq][Uu][ÝYýy]) (?:I{1,3}|IV|[1-4])(?:/| năm | nam )(?:19|20)[0-9]{2}"
                    r"|(?:[Tt][Hh][ÁAáa][Nn][Gg]) (?:0?[1-9]|1[0-2])(?:/| năm | nam )(?:19|20)[0-9]{2})$")
Limit = Annotated[int | None, Query(ge=1, description="items per page (default and maximum: see the API description)")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="items to skip")]


# ---------------------------------------------------------------- handlers


async def health(ctx: Ctx) -> Any:
    """Liveness plus what is loaded, checked: the live generation's graph, search index, sources and carry-over
    agree (documents, units, links) with each other and with what this process has open; else 503 and why."""
    from cchc.service.generation import GenerationError

    def answer() -> dict[str, Any]:
        app = ctx.application
        try:
            summary = app.check()
        except GenerationError as exc:
            raise ApiError(503, "unhealthy", str(exc)) from None
        store = app.store
        return {"status": "ok", "units": summary.units, "documents": summary.documents,
                "counts": {k: int(v) for k, v in store.counts().items()}, "generation": summary.generation,
                "carryover_links": summary.carryover_links}
    return await ctx.run(answer)


async def search(ctx: Ctx,
                 q: Annotated[str, Query(max_length=500, description="the question, in Vietnamese; may be empty "
                                         "when a filter is given (then every task the filters accept)")] = "",
                 k: Annotated[int, Query(ge=1, description="results per page (at most Settings.max_k)")] = 10,
                 offset: Offset = 0,
                 year: Annotated[int | None, Query(ge=1900, le=2100, description="only the plans of this year")] = None,
                 agency: Annotated[str | None, Query(max_length=200, description="only tasks this agency "
                                                     "leads or joins (registry id or name, see /agencies)")] = None,
                 field: Annotated[str | None, Query(max_length=100, description="only this CCHC field "
                                                    "(id, see /fields)")] = None,
                 deadline: Annotated[str | None, Query(max_length=40, pattern=DEADLINE_PATTERN,
                                                       description="only tasks due in this period, as people "
                                                       "write it: 'quý II/2026', 'quý 2 năm 2026', 'tháng 3/2026', "
                                                       "'2026'")] = None,
                 deadline_year: Annotated[int | None, Query(ge=1900, le=2100,
                                                            description="only tasks due in this year")] = None,
                 deadline_before: Annotated[IsoDate | None, Query(description="only tasks due on or before this "
                                                                  "date (YYYY-MM-DD)")] = None) -> Any:
    """Hybrid search (contract §2), results with doc, line, section, no, score, text, why, plus `id`, `task`
    and `weak`.  Only results the evidence says answer are returned (a typed match: citation, agency,
    deadline, field; or text evidence above a calibrated floor); `weak` marks those shown on weaker text
    evidence.  `total` counts them all; `offset` pages.  Filters apply with or without `q`; with neither
    there is nothing to answer (no results, total 0)."""
    def answer() -> dict[str, Any]:
        v = ctx.views.get()
        if k > ctx.settings.max_k:
            raise ApiError(400, "bad_request", f"k: at most {ctx.settings.max_k}")
        filters = make_filters(ctx, year=year, agency=agency, field=field, deadline=deadline,
                               deadline_year=deadline_year, deadline_before=deadline_before)
        found = ctx.application.searcher.answer(q, k=k, filters=filters, offset=offset)
        out = found.to_json()
        out["results"] = [{**r, "task": v.task_at(r["doc"], r["line"])} for r in out["results"]]
        return out
    return await ctx.run(answer)


def _checked_agency_and_field(ctx: ApiContext, agency: str | None, field: str | None) -> str | None:
    """The registry id of `agency` (an id or a loose name); a 400 naming the parameter for an unknown one."""
    agency_id = None
    if agency is not None:  # "" is no agency the schema lists: refused, not read as "any"
        agency_id = agency if agency in ctx.agency_ids else resolve_agency(agency)
        if agency_id is None:
            raise ApiError(400, "bad_request", f"agency: unknown agency {agency!r} (see /agencies)")
    if field is not None and field not in ctx.field_ids:
        raise ApiError(400, "bad_request", f"field: unknown field {field!r}; one of {', '.join(ctx.field_ids)}")
    return agency_id


def make_filters(ctx: ApiContext, *, year: int | None = None, agency: str | None = None, field: str | None = None,
                 deadline: str | None = None, deadline_year: int | None = None,
                 deadline_before: date | None = None) -> Filters | None:
    """The search filters from request parameters; a bad value is a 400 naming it."""
    agency_id = _checked_agency_and_field(ctx, agency, field)
    try:
        window = due_window(deadline, deadline_year, deadline_before)
    except ValueError as exc:
        raise ApiError(400, "bad_request", str(exc)) from None
    filters = Filters(year=year, agency=agency_id, field=field, due_from=window[0], due_to=window[1])
    return filters if filters.active else None


def _history_of(ctx: ApiContext, v: GraphViews, task_id: str) -> list[dict[str, Any]]:
    t = v.task_summary(task_id)
    result = ctx.application.carryover
    key = task_key(t["doc"], t["section"], t["no"], t["line"])
    if key not in result.tasks:
        return []  # not in a plan pair the carry-over links
    return [{**step, "id": v.task_at(step["task"]["doc"], step["task"]["line"])} for step in history(result, key)]


def _redirect(request: Request, path: str) -> RedirectResponse:
    """308 to the canonical URL of what the request named loosely (a path on this server, query kept)."""
    query = request.url.query
    return RedirectResponse(quote(path, safe="/:") + (f"?{query}" if query else ""), status_code=308)


async def task_history(ctx: Ctx, request: Request, task_id: str) -> Any:
    """The task across plans, earliest first: each step with the score and reasons of its link.  An older
    form of the id (`file.txt:III.9`, `stem/III-9`, `stem/L113`, the IRI) redirects (308) to the readable one."""
    def answer() -> Any:
        v = ctx.views.get()
        canonical = v.canonical_task_id(task_id)
        if canonical != task_id:
            return _redirect(request, f"/tasks/{canonical}/history")
        return {"task": v.task_summary(task_id)["task"], "history": _history_of(ctx, v, task_id)}
    return await ctx.run(answer)


async def task(ctx: Ctx, request: Request, task_id: str) -> Any:
    """A task: fields, deadline, agencies, citations, the source lines it came from, and its history.
    The id is the readable one search results carry (`langson-2026-cchc-phuluc/III.9`); an older form
    (`file.txt:III.9`, `stem/III-9`, `stem/L113`, the IRI) redirects (308) to it."""
    def answer() -> Any:
        v = ctx.views.get()
        canonical = v.canonical_task_id(task_id)
        if canonical != task_id:
            return _redirect(request, f"/tasks/{canonical}")
        return {**v.task(task_id), "history": _history_of(ctx, v, task_id)}
    return await ctx.run(answer)


async def instrument(ctx: Ctx, request: Request, instrument_id: str, limit: Limit = None, offset: Offset = 0) -> Any:
    """An instrument by its id (`118-2025-nd-cp`): metadata, conflicting statements, mentions, and the tasks
    that trace back to it (`cites`, `via-plan`, `via-instrument`) with the path that shows why.  Named as
    printed (`118/2025/NĐ-CP`) or loosely (`NĐ 118`, `nghi dinh 118/2025`) it redirects (308) to that id.
    `limit`/`offset` page both lists."""
    n = ctx.check_page(limit)

    def answer() -> Any:
        v = ctx.views.get()
        canonical = v.canonical_instrument_id(instrument_id)
        if canonical != instrument_id:
            return _redirect(request, f"/instruments/{canonical}")
        return v.instrument(instrument_id, n, offset)
    return await ctx.run(answer)


async def tasks(ctx: Ctx, limit: Limit = None, offset: Offset = 0,
                document: Annotated[str | None, Query(max_length=200, description="only this document's tasks "
                                                      "(id or file name)")] = None,
                agency: Annotated[str | None, Query(max_length=200, description="only tasks this agency leads "
                                                    "or joins (id or name)")] = None) -> Any:
    """Every task with its readable id, document, section, number and content, in document order (paged)."""
    n = ctx.check_page(limit)

    def answer() -> Any:
        v = ctx.views.get()
        agency_id = _checked_agency_and_field(ctx, agency, None)
        return v.task_list(n, offset, document, agency_id)  # an unknown document: 404, as /documents/{id}
    return await ctx.run(answer)


async def instruments(ctx: Ctx, limit: Limit = None, offset: Offset = 0) -> Any:
    """Every instrument in the graph with the number of tasks tracing back to it (`tasks`, of which `direct`
    cite it) and of its mentions, most traced first (paged)."""
    n = ctx.check_page(limit)
    return await ctx.run(lambda: ctx.views.get().instrument_list(n, offset))


async def agencies(ctx: Ctx, limit: Limit = None, offset: Offset = 0) -> Any:
    """Registry agencies with their task counts."""
    n = ctx.check_page(limit)
    return await ctx.run(lambda: ctx.views.get().agencies(n, offset))


async def agency(ctx: Ctx, request: Request, agency_id: str, limit: Limit = None, offset: Offset = 0) -> Any:
    """An agency: aliases, 2025 lineage, the tasks it led or joined by year, and its predecessors' tasks
    (`inherited`).  `limit`/`offset` page each year's list; `totals` gives the full counts.  Named by
    name or abbreviation ("Sở Nội vụ", "Sở TT&TT") it redirects (308) to its registry id."""
    n = ctx.check_page(limit)

    def answer() -> Any:
        v = ctx.views.get()
        canonical = agency_id if agency_id in ctx.agency_ids else v.canonical_agency_id(agency_id)
        if canonical != agency_id:
            return _redirect(request, f"/agencies/{canonical}")
        return _with_destinations(ctx, v.agency(agency_id, n, offset))
    return await ctx.run(answer)


def _with_destinations(ctx: ApiContext, body: dict[str, Any]) -> dict[str, Any]:
    """Each task of an agency page with `went_to`: the later tasks it carries over into (an abolished
    agency's 2023 tasks and the successor's 2026 rows that continue them)."""
    result = ctx.application.carryover
    out_of: dict[str, list[dict[str, Any]]] = {}
    for p in result.pairs:
        later = p.later
        out_of.setdefault(p.earlier.key, []).append({
            "id": task_ref(later.doc, later.section, later.no, later.line), "doc": later.doc,
            "section": later.section, "no": later.no, "line": later.line, "lead": list(later.lead),
            "score": round(p.score, 4)})
    for part in ("tasks", "inherited"):
        for years in (body.get(part) or {}).values():
            for items in years.values():
                for t in items:
                    t["went_to"] = out_of.get(task_key(t["doc"], t["section"], t["no"], t["line"]), [])
    return body


async def fields(ctx: Ctx, limit: Limit = None, offset: Offset = 0) -> Any:
    """The CCHC fields (values of /search's `field`) with their task counts."""
    n = ctx.check_page(limit)
    return await ctx.run(lambda: ctx.views.get().fields(n, offset))


async def documents(ctx: Ctx, limit: Limit = None, offset: Offset = 0) -> Any:
    """The documents in the graph, with type, issuer, level, year and task count."""
    n = ctx.check_page(limit)
    return await ctx.run(lambda: ctx.views.get().documents(n, offset))


async def document(ctx: Ctx, document_id: str, limit: Limit = None, offset: Offset = 0) -> Any:
    """A document (file name without .txt): counts, relations to instruments and its tasks (paged)."""
    n = ctx.check_page(limit)
    return await ctx.run(lambda: ctx.views.get().document(document_id, n, offset))


def _carryover_answer(ctx: ApiContext, from_: str | None, to: str | None, limit: int | None,
                      offset: int, agency: str | None = None, field: str | None = None) -> dict[str, Any]:
    result = ctx.application.carryover
    data = result.contract_json()
    want = {k: v if v.endswith(".txt") else f"{v}.txt" for k, v in (("from", from_), ("to", to)) if v}
    if want:
        plans = [p for p in data["plans"] if all(p[k] == v for k, v in want.items())]
        if not plans:
            known = ", ".join(f"{p['from']} -> {p['to']}" for p in data["plans"])
            raise ApiError(404, "not_found", f"no carry-over computed for "
                                             f"{' -> '.join(want.get(k, '*') for k in ('from', 'to'))}; "
                                             f"plan pairs: {known}")
        keys = {(p["from"], p["to"]) for p in plans}
        data = {"plans": plans, "pairs": [x for x in data["pairs"] if (x["from"]["doc"], x["to"]["doc"]) in keys]}
    agency_id = _checked_agency_and_field(ctx, agency, field)
    by_line = {(u.doc, u.line): (u.field or "").rsplit("/", 1)[-1] or None for u in ctx.application.searcher.units}
    fields = {k: by_line.get((t.doc, t.line)) for k, t in result.tasks.items()}
    family = _agency_family(agency_id) if agency_id else set()

    def task(key: str) -> dict[str, Any]:
        t = result.tasks[key]
        return {**t.ref_json(), "id": task_ref(t.doc, t.section, t.no, t.line), "content": t.content,
                "lead": list(t.lead), "lead_ids": [i for i in t.lead_ids if i], "field": fields.get(key)}

    def keep(key: str) -> bool:
        t = result.tasks.get(key)
        if t is None:
            return False
        if family and not family.intersection(i for i in t.lead_ids if i):
            return False
        return not field or fields.get(key) == field

    def rich(ref: dict[str, Any]) -> dict[str, Any]:
        key = task_key(ref["doc"], ref.get("section"), ref.get("no"), ref.get("line"))
        return task(key) if key in result.tasks else ref

    by_plan = {(p.pair.earlier, p.pair.later): p for p in result.plans}
    pairs = [{**x, "from": rich(x["from"]), "to": rich(x["to"])} for x in data["pairs"]]
    if family or field:
        pairs = [x for x in pairs if any(keep(task_key(x[s]["doc"], x[s].get("section"), x[s].get("no"),
                                                         x[s].get("line"))) for s in ("from", "to"))]
    plans = []
    for p in data["plans"]:
        plan = by_plan[(p["from"], p["to"])]
        lists = {name: [task(k) for k in getattr(plan, name) if keep(k)] for name in ("continued", "dropped", "new")}
        plans.append({**p, **lists, "shown": {name: len(v) for name, v in lists.items()}})
    data = {"pairs": pairs, "plans": plans, "total": len(pairs), "offset": offset}
    if limit is not None or offset:
        data["pairs"] = data["pairs"][offset:offset + (limit or len(data["pairs"]))]
    return jsonable_encoder(data)


def _agency_family(agency_id: str) -> set[str]:
    """The agency and its lineage (predecessors and successors): a planner following Sở KH&CN wants Sở TT&TT's
    earlier tasks too."""
    reg = load_registry()
    return {agency_id, *reg.predecessors(agency_id), *reg.successors(agency_id)}


async def carryover(ctx: Ctx,
                    from_: Annotated[str | None, Query(alias="from", max_length=200,
                                                       description="earlier plan (file name, .txt optional)")] = None,
                    to: Annotated[str | None, Query(max_length=200, description="later plan")] = None,
                    agency: Annotated[str | None, Query(max_length=200, description="only tasks this agency or "
                                                        "its lineage leads (id or name)")] = None,
                    field: Annotated[str | None, Query(max_length=100, description="only tasks of this CCHC "
                                                       "field (id, see /fields)")] = None,
                    limit: Annotated[int | None, Query(ge=1, description="pairs per page (default: all, as the "
                                                       "contract says)")] = None,
                    offset: Offset = 0) -> Any:
    """Tasks of an earlier plan carried over into a later one (contract §3), optionally one plan pair.
    Each pair's tasks carry their text, lead and field; each plan lists its `continued`, `dropped` and
    `new` tasks with their text.  `agency` and `field` narrow every list."""
    if limit is not None:
        ctx.check_page(limit)
    return await ctx.run(_carryover_answer, ctx, from_, to, limit, offset, agency, field)


@dataclass(frozen=True)
class Route:
    path: str
    handler: Callable[..., Any]
    model: Any
    tag: str
    not_found: bool = False


ROUTES: tuple[Route, ...] = (
    Route("/health", health, m.Health, "service"),
    Route("/search", search, m.SearchResponse, "search"),
    Route("/tasks", tasks, m.Page[m.TaskListRow], "tasks", not_found=True),
    Route("/tasks/{task_id:path}/history", task_history, m.TaskHistory, "tasks", not_found=True),
    Route("/tasks/{task_id:path}", task, m.TaskDetail, "tasks", not_found=True),
    Route("/instruments", instruments, m.Page[m.InstrumentRow], "instruments"),
    Route("/instruments/{instrument_id:path}", instrument, m.InstrumentDetail, "instruments", not_found=True),
    Route("/agencies", agencies, m.Page[m.AgencyRow], "agencies"),
    Route("/agencies/{agency_id}", agency, m.AgencyDetail, "agencies", not_found=True),
    Route("/fields", fields, m.Page[m.FieldRow], "search"),
    Route("/documents", documents, m.Page[m.DocumentRow], "documents"),
    Route("/documents/{document_id}", document, m.DocumentDetail, "documents", not_found=True),
    Route("/carryover", carryover, m.CarryOverResponse, "carry-over", not_found=True),
)


def install_api(app: FastAPI, application: Application, settings: Settings, views: Views) -> None:
    """Every JSON route of `ROUTES` on `app`, reading one `ApiContext` from the app's state."""
    app.state.api = ApiContext(application, settings, views, sorted(a.id for a in load_registry()),
                               field_concepts())
    router = APIRouter(responses=_ERRORS)
    for r in ROUTES:
        router.add_api_route(r.path, r.handler, methods=["GET"], response_model=r.model, tags=[r.tag],
                             responses=_NOT_FOUND if r.not_found else None, name=r.handler.__name__)
    app.include_router(router)
