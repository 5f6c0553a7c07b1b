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
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from cchc.graph.extract.agencies import load_registry
from cchc.graph.read.views import GraphViews, NotFound
from cchc.ontology import CCHC, SKOS, load_ontology
from cchc.service import api_models as m
from cchc.service.application import Application
from cchc.service.settings import Settings
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
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
    503: {"model": m.ErrorBody, "description": "The request took longer than the service allows"},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": m.ErrorBody, "description": "Unknown id"}}


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
        if self._views is None:
            with self._lock:
                if self._views is None:
                    from cchc.graph.corpus import load_manifest

                    settings = self.application.settings
                    self._views = GraphViews(self.application.store, settings.corpus_dir,
                                             load_manifest(settings.corpus_dir))
        return self._views


def api_router(application: Application, settings: Settings, views: Views) -> APIRouter:
    """/health, /search, /tasks, /instruments, /agencies, /fields, /documents, /carryover."""
    router = APIRouter(responses=_ERRORS)
    agency_ids = sorted(a.id for a in load_registry())
    field_ids = field_concepts()
    limit_q = Query(settings.page_size, ge=1, le=settings.max_page_size, description="items per page")
    offset_q = Query(0, ge=0, le=1_000_000, description="items to skip")

    async def run(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Compute in a worker thread; past the request timeout, answer 503 (the thread finishes on its own)."""
        try:
            return await asyncio.wait_for(run_in_threadpool(fn, *args, **kwargs), settings.request_timeout)
        except TimeoutError:
            raise ApiError(503, "timeout", f"the request took longer than {settings.request_timeout:g} s") from None

    @router.get("/health", response_model=m.Health, tags=["service"])
    async def health() -> Any:
        """Liveness plus what is loaded: search units, documents and the graph's counts."""
        def answer() -> dict[str, Any]:
            store = application.store
            return {"status": "ok", "units": len(application.searcher.units), "documents": len(store.documents()),
                    "counts": {k: int(v) for k, v in store.counts().items()}}
        return await run(answer)

    @router.get("/search", response_model=m.SearchResponse, tags=["search"])
    async def search(q: str = Query(..., min_length=1, max_length=500, description="the question, in Vietnamese"),
                     k: int = Query(10, ge=1, le=settings.max_k, description="results to return"),
                     year: int | None = Query(None, ge=1900, le=2100, description="only the plans of this year"),
                     agency: str | None = Query(None, max_length=100, json_schema_extra={"enum": agency_ids},
                                                description="only tasks this agency (registry id) leads or joins"),
                     field: str | None = Query(None, max_length=100, json_schema_extra={"enum": field_ids},
                                               description="only this CCHC field (id)"),
                     ) -> Any:
        """Hybrid search (contract §2): results with doc, line, section, no, score, text, why, plus `task`."""
        from cchc.search.searcher import Filters

        def answer() -> dict[str, Any]:
            v = views.get()
            if agency is not None and agency not in agency_ids:
                raise ApiError(400, "bad_request", f"agency: unknown agency id {agency!r} (see /agencies)")
            if field is not None and field not in field_ids:
                raise ApiError(400, "bad_request", f"field: unknown field {field!r}; one of {', '.join(field_ids)}")
            filters = Filters(year=year, agency=agency, field=field) if (year or agency or field) else None
            results = application.searcher.search(q, k=k, filters=filters)
            return {"query": q, "results": [{**r.to_json(), "task": v.task_at(r.doc, r.line)} for r in results]}
        return await run(answer)

    def history_of(v: GraphViews, task_id: str) -> list[dict[str, Any]]:
        from cchc.search.carryover.compute import history
        from cchc.search.carryover.model import task_key

        t = v.task_summary(task_id)
        result = application.carryover
        key = task_key(t["doc"], t["section"], t["no"], t["line"])
        if key not in result.tasks:
            return []  # not in a plan pair the carry-over links
        return [{**step, "id": v.task_at(step["task"]["doc"], step["task"]["line"])} for step in history(result, key)]

    @router.get("/tasks/{task_id:path}/history", response_model=m.TaskHistory, responses=_NOT_FOUND, tags=["tasks"])
    async def task_history(task_id: str) -> Any:
        """The task across plans, earliest first: each step with the score and reasons of its link."""
        def answer() -> dict[str, Any]:
            v = views.get()
            return {"task": v.task_summary(task_id)["task"], "history": history_of(v, task_id)}
        return await run(answer)

    @router.get("/tasks/{task_id:path}", response_model=m.TaskDetail, responses=_NOT_FOUND, tags=["tasks"])
    async def task(task_id: str) -> Any:
        """A task: fields, deadline, agencies, citations, the source lines it came from, and its history."""
        def answer() -> dict[str, Any]:
            v = views.get()
            return {**v.task(task_id), "history": history_of(v, task_id)}
        return await run(answer)

    @router.get("/instruments/{instrument_id:path}", response_model=m.InstrumentDetail, responses=_NOT_FOUND,
                tags=["instruments"])
    async def instrument(instrument_id: str, limit: int = limit_q, offset: int = offset_q) -> Any:
        """An instrument by its id (`118-2025-nd-cp`, or as printed: `118/2025/NĐ-CP`): metadata, conflicting
        statements, mentions, and the tasks that trace back to it (`cites`, `via-plan`, `via-instrument`)
        with the path that shows why.  `limit`/`offset` page both lists."""
        return await run(lambda: views.get().instrument(instrument_id, limit, offset))

    @router.get("/agencies", response_model=m.Page[m.AgencyRow], tags=["agencies"])
    async def agencies(limit: int = limit_q, offset: int = offset_q) -> Any:
        """Registry agencies with their task counts."""
        return await run(lambda: views.get().agencies(limit, offset))

    @router.get("/agencies/{agency_id}", response_model=m.AgencyDetail, responses=_NOT_FOUND, tags=["agencies"])
    async def agency(agency_id: str, limit: int = limit_q, offset: int = offset_q) -> Any:
        """An agency: aliases, 2025 lineage, the tasks it led or joined by year, and its predecessors' tasks
        (`inherited`).  `limit`/`offset` page each year's list; `totals` gives the full counts."""
        return await run(lambda: views.get().agency(agency_id, limit, offset))

    @router.get("/fields", response_model=m.Page[m.FieldRow], tags=["search"])
    async def fields(limit: int = limit_q, offset: int = offset_q) -> Any:
        """The CCHC fields (values of /search's `field`) with their task counts."""
        return await run(lambda: views.get().fields(limit, offset))

    @router.get("/documents", response_model=m.Page[m.DocumentRow], tags=["documents"])
    async def documents(limit: int = limit_q, offset: int = offset_q) -> Any:
        """The documents in the graph, with type, issuer, level, year and task count."""
        return await run(lambda: views.get().documents(limit, offset))

    @router.get("/documents/{document_id}", response_model=m.DocumentDetail, responses=_NOT_FOUND,
                tags=["documents"])
    async def document(document_id: str, limit: int = limit_q, offset: int = offset_q) -> Any:
        """A document (file name without .txt): counts, relations to instruments and its tasks (paged)."""
        return await run(lambda: views.get().document(document_id, limit, offset))

    @router.get("/carryover", response_model=m.CarryOverResponse, responses=_NOT_FOUND, tags=["carry-over"])
    async def carryover(from_: str | None = Query(None, alias="from", max_length=200,
                                                  description="earlier plan (file name, .txt optional)"),
                        to: str | None = Query(None, max_length=200, description="later plan"),
                        limit: int | None = Query(None, ge=1, le=settings.max_page_size,
                                                  description="pairs per page (default: all, as the contract says)"),
                        offset: int = offset_q) -> Any:
        """Tasks of an earlier plan carried over into a later one (contract §3), optionally one plan pair."""
        def answer() -> dict[str, Any]:
            data = application.carryover.contract_json()
            want = {k: v if v.endswith(".txt") else f"{v}.txt" for k, v in (("from", from_), ("to", to)) if v}
            if want:
                plans = [p for p in data["plans"] if all(p[k] == v for k, v in want.items())]
                if not plans:
                    known = ", ".join(f"{p['from']} -> {p['to']}" for p in data["plans"])
                    raise ApiError(404, "not_found", f"no carry-over computed for "
                                                     f"{' -> '.join(want.get(k, '*') for k in ('from', 'to'))}; "
                                                     f"plan pairs: {known}")
                keys = {(p["from"], p["to"]) for p in plans}
                data = {"plans": plans,
                        "pairs": [x for x in data["pairs"] if (x["from"]["doc"], x["to"]["doc"]) in keys]}
            if limit is not None or offset:
                data["pairs"] = data["pairs"][offset:offset + (limit or len(data["pairs"]))]
            return jsonable_encoder(data)
        return await run(answer)

    return router
