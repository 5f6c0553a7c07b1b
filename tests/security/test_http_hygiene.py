"""HTTP hygiene replayed against the service as `cchc serve` runs it (h11 with the service's limits)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import replace

import httpx
import pytest


@pytest.fixture(scope="module")
def served(app):
    """The app under uvicorn with the options `cchc serve` uses, a 2 s header timeout; yields (host, port)."""
    import uvicorn
    from cchc.service.app import create_app
    from cchc.service.http_server import uvicorn_options

    settings = replace(app.settings, header_timeout=2.0)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings, app), host="127.0.0.1", port=port, log_level="warning",
                            **uvicorn_options(settings.header_timeout))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield "127.0.0.1", port
    server.should_exit = True
    thread.join(10)


def url(served, path: str) -> str:
    return f"http://{served[0]}:{served[1]}{path}"


def raw(served, data: bytes, timeout: float = 10) -> bytes:
    with socket.create_connection(served, timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out


def test_an_untrusted_host_is_refused_and_never_echoed(served):
    r = httpx.get(url(served, "/health"), headers={"Host": "evil.example"})
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    r = httpx.get(url(served, "/documents/"), headers={"Host": "localhost"})  # a trailing slash: no redirect
    assert r.status_code == 404 and "location" not in r.headers
    assert httpx.get(url(served, "/health"), headers={"Host": f"localhost:{served[1]}"}).status_code == 200


@pytest.mark.parametrize("path", ["/", "/health", "/documents", "/agencies", "/fields", "/carryover",
                                  "/openapi.json", "/static/app.js", "/sparql?query=ASK%20%7B%7D"])
def test_head_answers_every_get_route(served, path):
    get, head = httpx.get(url(served, path)), httpx.head(url(served, path))
    assert get.status_code == head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]


def test_sparql_405_lists_post(served):
    r = httpx.put(url(served, "/sparql"), content=b"ASK {}")
    assert r.status_code == 405 and "POST" in r.headers["allow"] and r.json()["error"] == "method_not_allowed"


def test_huge_headers_and_urls_get_a_json_400(served):
    big = raw(served, b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
    assert big.split(b" ")[1] in (b"400", b"431") and b'"error":"' in big.replace(b" ", b"")
    long = raw(served, b"GET /search?q=" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert long.split(b" ")[1] in (b"400", b"414") and b'"error":"too_large"' in long.replace(b" ", b"")


def test_half_sent_headers_are_dropped(served):
    with socket.create_connection(served, timeout=10) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
        t0 = time.monotonic()
        for _ in range(8):  # a slow client dripping header bytes is still cut off
            time.sleep(0.5)
            try:
                s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break
        assert s.recv(100) == b"" and time.monotonic() - t0 < 6


def test_security_headers(served):
    page = httpx.get(url(served, "/"))
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    for r in (page, httpx.get(url(served, "/health"))):
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("query", ["q=%E0%A4%A", "q=%FF", "q=abc%C3"])
def test_invalid_utf8_escapes_are_a_json_400(served, query):
    r = httpx.get(url(served, "/search?" + query))
    assert r.status_code == 400 and r.json()["error"] == "bad_request" and "UTF-8" in r.json()["detail"]


def test_openapi_lists_every_sparql_status(served):
    paths = httpx.get(url(served, "/openapi.json")).json()["paths"]
    for method in ("get", "post"):
        assert {"200", "400", "406", "413", "415", "503"} <= set(paths["/sparql"][method]["responses"])


def test_the_page_survives_a_bad_fragment():
    """The router decodes each part of the hash on its own and keeps a malformed one as it is."""
    from cchc.service.web import STATIC_DIR

    js = (STATIC_DIR / "app.js").read_text("utf-8")
    assert "catch" in js and "decodePart" in js
