"""The web page: one static HTML page plus its scripts and styles, served by the API's own app.

The page is a client of the JSON API (no server-side rendering), so this module
only serves files: `/` answers index.html and `/static/*` the assets.  All
assets ship in the package (`cchc.service/static`), nothing is fetched from a
CDN: the service runs offline.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

__all__ = ["STATIC_DIR", "docs_router", "web_router"]

STATIC_DIR = Path(__file__).with_name("static")


def web_router(static_dir: Path = STATIC_DIR) -> APIRouter:
    """GET / (the page; client-side routes live in the URL's hash) and the assets under /static."""
    index = static_dir / "index.html"
    if not index.is_file():
        raise FileNotFoundError(f"{index}: the web page is missing from the package (package-data static/*)")
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    def page() -> FileResponse:
        # no-cache: the page is tiny and must follow the assets after an upgrade
        return FileResponse(index, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})

    router.mount("/static", StaticFiles(directory=static_dir), name="static")
    return router


def docs_router(title: str, openapi_url: str = "/openapi.json") -> APIRouter:
    """GET /docs: Swagger UI from the `swagger-ui-bundle` package, so the API's documentation works offline.

    FastAPI's own /docs loads Swagger UI from a CDN, which leaves the page blank without network.
    """
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=openapi_url, title=f"{title} - API",
                                   swagger_js_url="/docs-static/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-static/swagger-ui.css",
                                   swagger_favicon_url="/docs-static/favicon-32x32.png")

    router.mount("/docs-static", StaticFiles(directory=str(swagger_ui_path)), name="docs-static")
    return router
