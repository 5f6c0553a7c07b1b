"""The web page: one static HTML page plus its scripts and styles, served by the API's own app.

The page is a client of the JSON API (no server-side rendering), so this module
only serves files: `/` answers index.html and `/static/*` the assets.  All
assets ship in the package (`cchc.service/static`), nothing is fetched from a
CDN: the service runs offline.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC_DIR", "web_router"]

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
