"""The HTTP service: the FastAPI factory over one `Application`.

`create_app(settings)` is the factory; the lifespan builds the data directory
when it is missing (graph store, search index, carry-over) and opens it once
(store, indexes, model, the graph views' index), so requests only read.
Routes live in `api.py` (JSON API), `sparql_api.py` (/sparql) and the page's
module; every error answers {"error", "detail"} (see `api.py`).
"""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager

from cchc.service.api import Views, install_api, install_error_handlers, install_openapi
from cchc.service.application import Application
from cchc.service.http_guard import HttpGuard, trusted_hosts
from cchc.service.http_server import GuardedH11
from cchc.service.settings import Settings
from cchc.service.sparql_api import install_sparql
from cchc.service.web import docs_router, web_router
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

log = logging.getLogger(__name__)


def limit_native_threads(n: int) -> None:
    """BLAS pools of the libraries loaded so far (numpy's OpenBLAS) and this thread's OpenMP down to `n` threads
    (`cchc serve` also sets OMP_NUM_THREADS before loading anything: OpenMP's setting is per thread).

    A query is a few small matrix-vector products; pools of spin-waiting
    threads on shared cores doubled its time (200k tasks: 63 -> 37 ms a query
    with one thread, bench/scale.md), and each server process is one request
    at a time anyway (more processes: `--workers`).
    """
    import faiss
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n)
    faiss.omp_set_num_threads(n)


def create_app(settings: Settings | None = None, application: Application | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    GuardedH11.header_timeout = settings.header_timeout  # a server process started by uvicorn's supervisor
    app_obj = application or Application(settings)
    views = Views(app_obj)

    def open_all() -> None:
        set_threads = getattr(app_obj.encoder, "set_threads", None)  # the hashing encoder has no threads
        if settings.serve_threads > 0 and set_threads is not None:
            set_threads(settings.serve_threads)
        app_obj.ensure_built()  # a fresh data directory is built from the corpus before the first request
        app_obj.clean()  # what a killed `cchc add` / `remove` / `build` left, unless one is at work now
        app_obj.searcher  # noqa: B018  (indexes and model)
        if settings.serve_threads > 0:
            limit_native_threads(settings.serve_threads)
        # the views' index of every task (task, agency and list pages) is seconds at national size: made in
        # the background, so the first search does not wait for it (search results read the read index); the
        # carry-over links (hundreds of MB of JSON nationally) load at the first request that needs them
        threading.Thread(target=lambda: views.get().index, name="views-index", daemon=True).start()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await run_in_threadpool(open_all)
        yield

    app = FastAPI(title="cchc-graph", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Knowledge graph and Vietnamese search over CCHC plans and the instruments they cite."
                              "\n\nErrors answer `{\"error\": code, \"detail\": message}` (400 bad parameter, "
                              "404 unknown id, 503 timeout); lists answer `{\"total\", \"limit\", \"offset\", "
                              f"\"items\"}}` (`limit` default {settings.page_size}, at most {settings.max_page_size}).")
    app.state.application = app_obj
    app.state.views = views
    install_error_handlers(app)
    install_openapi(app)
    install_api(app, app_obj, settings, views)
    install_sparql(app, app_obj, settings)  # /sparql
    app.include_router(web_router())  # / and /static: the web page
    app.include_router(docs_router(app.title))  # /docs, Swagger UI served from the package (offline)
    app.router.redirect_slashes = False  # a redirect would carry the client's Host header back to it
    app.add_middleware(HttpGuard, hosts=trusted_hosts(settings.trusted_hosts, settings.host))  # outermost
    return app
