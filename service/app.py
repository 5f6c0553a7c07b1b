"""The HTTP service: thin FastAPI routes over one `Application`.

`create_app(settings)` is the factory; the application (indexes, model) is
opened once at start-up, so requests only search.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse

from .application import Application
from .settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, application: Application | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    app_obj = application or Application(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app_obj.searcher  # noqa: B018  (open the indexes and load the model before the first request)
        yield

    app = FastAPI(title="cchc-graph", version="0.1.0", lifespan=lifespan,
                  description="Knowledge graph and Vietnamese search over CCHC plans and the instruments they cite.")
    app.state.application = app_obj

    @app.exception_handler(ValueError)
    async def value_error(_: Request, exc: ValueError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"error": "bad_request", "detail": str(exc)})

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "units": len(app_obj.searcher.units)}

    @app.get("/search")
    def search(q: str = Query(..., min_length=1, max_length=500), k: int = Query(10, ge=1, le=100)) -> dict:
        """Hybrid search; each result has doc, line, section, no, score, text and why."""
        results = app_obj.searcher.search(q, k=min(k, settings.max_k))
        return {"query": q, "results": [r.to_json() for r in results]}

    return app
