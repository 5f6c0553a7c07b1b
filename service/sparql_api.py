"""`/sparql`: the SPARQL 1.1 Protocol (query operation only) over the application's store.

The route only reads the request the three ways the protocol allows (GET
`?query=`, POST form-encoded, POST `application/sparql-query`) and maps
errors to statuses (`sparql_http`); `cchc.graph.sparql` refuses, runs (worker
processes, time limit, row cap) and serialises.  The worker pool starts with
the app and stops with it.

Requests reach the route through `SparqlFront`, a middleware that answers
GET and POST /sparql before FastAPI's routing and dependency solving (about
0.3 ms a request, as much as a small query costs); the FastAPI routes carry
the same operation into OpenAPI and the worker pool's lifespan.  Errors the
endpoint does not turn into answers still reach the app's handlers.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs

from cchc.graph.sparql.model import SparqlError
from cchc.graph.sparql.safety import MAX_QUERY_CHARS, UPDATE_REFUSED
from cchc.service.api_models import ErrorBody
from cchc.service.application import Application
from cchc.service.settings import Settings
from cchc.service.sparql_http import STATUS, SparqlService, media_type
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)



def _error(kind: str, detail: str) -> JSONResponse:
    headers = {"Retry-After": "1"} if kind == "busy" else None
    return JSONResponse(status_code=STATUS.get(kind, 500), content={"error": kind, "detail": detail},
                        headers=headers)


def _one_query(fields: Mapping[str, Sequence[str]]) -> str:
    if fields.get("update"):
        raise SparqlError("bad_request", UPDATE_REFUSED)
    queries = fields.get("query") or []
    if len(queries) != 1:
        raise SparqlError("bad_request", "give the query in exactly one `query` parameter" if queries else
                          "missing the `query` parameter (GET /sparql?query=..., or POST it form-encoded or as "
                          "application/sparql-query)")
    return queries[0]


async def _read_request(request: Request) -> tuple[str, list[str], list[str]]:
    """(query, default graph IRIs, named graph IRIs) from any of the protocol's three request styles."""
    url: dict[str, list[str]] = {k: request.query_params.getlist(k) for k in request.query_params}
    if request.method == "GET":
        fields = url
    else:
        body = bytearray()
        async for chunk in request.stream():  # read no further than the limit
            body += chunk
            if len(body) > 4 * MAX_QUERY_CHARS:
                raise SparqlError("too_large", f"the request body is over {4 * MAX_QUERY_CHARS} bytes, the limit")
        try:
            text = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            raise SparqlError("bad_request", "the request body is not UTF-8") from None
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/x-www-form-urlencoded":
            fields = {**url, **parse_qs(text, keep_blank_values=True)}
        elif ctype == "application/sparql-query":
            fields = {**url, "query": [text]}
        elif ctype == "application/sparql-update":
            raise SparqlError("bad_request", UPDATE_REFUSED)
        else:
            raise SparqlError("unsupported_media_type",
                              f"POST /sparql takes application/x-www-form-urlencoded or application/sparql-query, "
                              f"not {ctype or 'a body without Content-Type'}")
    return _one_query(fields), fields.get("default-graph-uri", []), fields.get("named-graph-uri", [])


Answerer = Callable[[Request], Awaitable[Response]]


class SparqlFront:
    """ASGI middleware: GET and POST /sparql go straight to the endpoint, everything else on to the app."""

    def __init__(self, app: ASGIApp, answer: Answerer) -> None:
        self.app, self.answer = app, answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path, root = scope["path"], scope.get("root_path", "")
            if (path[len(root):] if root and path.startswith(root) else path) == "/sparql":
                if scope["method"] in ("GET", "POST"):
                    response = await self.answer(Request(scope, receive))
                else:
                    response = JSONResponse({"error": "method_not_allowed", "detail": "/sparql takes GET and POST"},
                                            status_code=405, headers={"Allow": "GET, HEAD, POST"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def wants_html(request: Request) -> bool:
    """A browser opening /sparql: it prefers text/html to every SPARQL result type."""
    accept = request.headers.get("accept") or ""
    html = [q for mt, q in _accept(accept) if mt in ("text/html", "application/xhtml+xml")]
    other = [q for mt, q in _accept(accept) if mt not in ("text/html", "application/xhtml+xml", "*/*")
             and not mt.startswith("image/")]
    return bool(html) and max(html) >= max(other, default=0.0)


def _accept(header: str) -> list[tuple[str, float]]:
    out = []
    for part in header.split(","):
        mt, *params = (x.strip() for x in part.split(";"))
        q = next((float(p[2:]) for p in params if p.startswith("q=") and p[2:].replace(".", "", 1).isdigit()), 1.0)
        if mt:
            out.append((mt.lower(), q))
    return out


@functools.cache
def editor_page() -> str:
    """The query editor (static/sparql.html) with the competency questions of ontology/README.md as examples."""
    from cchc.ontology.competency import competency_questions
    from cchc.service.web import STATIC_DIR

    examples = [{"id": q.id, "question": q.question, "query": q.query} for q in competency_questions()]
    data = json.dumps(examples, ensure_ascii=False).replace("</", "<\\/")  # never closes the script element
    return (STATIC_DIR / "sparql.html").read_text("utf-8").replace("__EXAMPLES__", data)


def install_sparql(app: FastAPI, application: Application, settings: Settings) -> None:
    """`/sparql` on `app`: the documented routes (and the worker pool's lifespan) and `SparqlFront`."""
    router, answer = _sparql_routes(application, settings)
    app.include_router(router)
    app.add_middleware(SparqlFront, answer=answer)


def _sparql_routes(application: Application, settings: Settings) -> tuple[APIRouter, Answerer]:
    """The `/sparql` routes over `application.store`, limited as `settings` say (sparql_timeout, sparql_max_rows,
    sparql_workers), and their endpoint function."""
    holder: dict[str, SparqlService] = {}
    lock = threading.Lock()

    def service() -> SparqlService:
        with lock:
            if "svc" not in holder:
                holder["svc"] = SparqlService(application.store, timeout=settings.sparql_timeout,
                                              max_rows=settings.sparql_max_rows, workers=settings.sparql_workers)
            return holder["svc"]

    def start() -> None:
        try:
            service().start()
        except (SparqlError, ValueError, OSError) as exc:  # the endpoint reports it per request; the rest serves
            log.error("SPARQL workers did not start: %s", exc)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(start)
        yield
        if "svc" in holder:
            holder["svc"].close()

    router = APIRouter(lifespan=lifespan, tags=["sparql"])

    async def answer(request: Request) -> Response:
        if request.method == "GET" and "query" not in request.query_params and wants_html(request):
            return HTMLResponse(editor_page(), headers={"Vary": "Accept", "Cache-Control": "no-cache"})
        try:
            query, default_graphs, named_graphs = await _read_request(request)
            result = await service().arun(query, request.headers.get("accept"), default_graphs=default_graphs,
                                          named_graphs=named_graphs)
        except SparqlError as exc:
            if exc.kind in ("timeout", "too_large", "failed"):
                log.warning("/sparql %s: %s", exc.kind, exc.detail)
            return _error(exc.kind, exc.detail)
        timing = f'query;dur={result.seconds * 1000:.2f};desc="{result.where}"'  # evaluation + serialisation, where
        return Response(content=result.body, media_type=media_type(result),
                        headers={"Vary": "Accept", "Server-Timing": timing})

    for method in ("GET", "POST"):  # one route per method: one OpenAPI operation id each
        router.add_api_route("/sparql", answer, methods=[method], response_class=Response, responses=_RESPONSES,
                             operation_id=f"sparql_{method.lower()}", openapi_extra=_PROTOCOL[method],
                             summary="SPARQL 1.1 Protocol query endpoint (read-only)", description=_DESCRIPTION)
    return router, answer


# The protocol's parameters, read by hand in `_read_request` (FastAPI never sees them): stated for developers.
_GRAPHS = [{"name": name, "in": "query", "required": False, "description": f"{what} (repeatable)",
            "schema": {"type": "array", "items": {"type": "string", "format": "iri"}}, "explode": True}
           for name, what in (("default-graph-uri", "a graph of the default graph"),
                              ("named-graph-uri", "a named graph of the dataset"))]
_PROTOCOL: dict[str, dict[str, Any]] = {
    "GET": {"parameters": [{"name": "query", "in": "query", "required": True, "description": "the SPARQL query",
                            "schema": {"type": "string"}}, *_GRAPHS]},
    "POST": {"parameters": _GRAPHS, "requestBody": {"required": True, "content": {
        "application/x-www-form-urlencoded": {"schema": {
            "type": "object", "required": ["query"], "properties": {
                "query": {"type": "string"},
                "default-graph-uri": {"type": "array", "items": {"type": "string"}},
                "named-graph-uri": {"type": "array", "items": {"type": "string"}}}}},
        "application/sparql-query": {"schema": {"type": "string"}}}}},
}

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The answer, in the negotiated type", "content": {
        **{mt: {} for mt in ("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                             "text/tab-separated-values", "text/turtle", "application/n-triples", "application/ld+json",
                             "application/rdf+xml")}}},
    **{status: {"model": ErrorBody, "description": why} for status, why in (
        (400, "A syntax error, an update, SERVICE, a query too long or too deeply nested, a bad graph IRI"),
        (403, "A cross-site browser request"),
        (406, "No accepted media type fits the query's form"),
        (413, "More rows, triples or bytes than the endpoint's caps"),
        (415, "A POST body other than form-encoded or application/sparql-query"),
        (500, "The query failed in the engine"),
        (503, "Past the time limit, or every worker busy"))},
}
_DESCRIPTION = ("Query by GET ?query=, POST form-encoded or POST application/sparql-query; "
                "default-graph-uri / named-graph-uri select the dataset (default: the union of "
                "all named graphs). Results as SPARQL JSON/XML, CSV, TSV; graphs as Turtle, "
                "N-Triples, JSON-LD or RDF/XML, by Accept. Project prefixes (cchc:, dcterms:, "
                "skos:, task:, ...) are predeclared. Update and SERVICE are refused.")
