"""Attacks on /sparql replayed against the served corpus: smuggled SERVICE, deep and long queries, cross-site."""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
from collections.abc import Iterator

import httpx
import pytest


@contextlib.contextmanager
def remote() -> Iterator[tuple[str, list[str]]]:
    """A SPARQL endpoint on loopback that records every request it gets (what SERVICE would fetch)."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = b'{"head":{"vars":["z"]},"results":{"bindings":[{"z":{"type":"literal","value":"pwned"}}]}}'
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sparql", hits
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def endpoint(live_url) -> str:
    return live_url + "/sparql"


SMUGGLED = [
    ('SELECT * WHERE {{ VALUES ?x {{ "\\u0022\\u0022" }} SERVICE <{u}> {{ ?a ?b ?z }} '
     'VALUES ?y {{ "\\u0022\\u0022\\u0022" }} }}'),
    "SELECT * WHERE {{ SERVICE <{u}> {{ ?a ?b ?z }} }}",
    "select * where {{ service silent <{u}> {{ ?a ?b ?z }} }}",
    "ASK {{ SeRvIcE <{u}> {{ ?a ?b ?z }} }}",
    "SELECT * WHERE {{ BIND(<{u}> AS ?e) SERVICE ?e {{ ?a ?b ?z }} }}",
    "SELECT * WHERE {{ ?t ?p ?o OPTIONAL {{ SERVICE <{u}> {{ ?a ?b ?z }} }} }} LIMIT 1",
    'SELECT * WHERE {{ VALUES ?x {{ """\\u0022""" }} SERVICE <{u}> {{ ?a ?b ?z }} # "\n }}',
    "CONSTRUCT {{ ?a ?b ?z }} WHERE {{ {{ SELECT * WHERE {{ SERVICE <{u}> {{ ?a ?b ?z }} }} }} }}",
]


@pytest.mark.parametrize("template", SMUGGLED)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_service_is_refused_whatever_the_spelling(endpoint, template, method):
    with remote() as (url, hits):
        query = template.format(u=url)
        if method == "GET":
            r = httpx.get(endpoint, params={"query": query}, timeout=30)
        else:
            r = httpx.post(endpoint, content=query.encode(), timeout=30,
                           headers={"Content-Type": "application/sparql-query"})
        assert r.status_code == 400 and r.json()["error"] == "bad_request" and "SERVICE" in r.json()["detail"], r.text
        assert "pwned" not in r.text and hits == []


def test_the_word_service_elsewhere_still_runs(endpoint):
    q = ('SELECT ?s WHERE { BIND("a \\u0022 SERVICE <http://127.0.0.1:1/>" AS ?s) '
         'FILTER(?s != <http://example.org/service>) } # service')
    r = httpx.get(endpoint, params={"query": q}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["results"]["bindings"][0]["s"]["value"] == 'a " SERVICE <http://127.0.0.1:1/>'


@pytest.mark.parametrize("query", [
    "SELECT * WHERE " + "{" * 3000 + " ?s ?p ?o " + "}" * 3000,
    "SELECT * WHERE { ?s ?p ?o FILTER(" + "(" * 5000 + "true" + ")" * 5000 + ") }",
    "SELECT * WHERE { ?s <urn:p> " + "( " * 3000 + "?o" + " )" * 3000 + " }",
    "SELECT * WHERE { ?s <urn:p> " + "[ <urn:p> " * 3000 + "?o" + " ]" * 3000 + " }",
])
def test_deep_nesting_is_answered_400_before_a_worker_crashes(endpoint, query):
    r = httpx.post(endpoint, content=query.encode(), headers={"Content-Type": "application/sparql-query"},
                   timeout=30)
    assert r.status_code == 400 and r.json()["error"] == "bad_request" and "nests" in r.json()["detail"], r.text


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { " + " . ".join(f"?s <urn:p{i}> ?o{i}" for i in range(4000)) + " }",
    "SELECT * WHERE { ?s ?p ?o " + " ".join(f"BIND({i} AS ?b{i})" for i in range(6000)) + " }",
    "SELECT * WHERE { ?s " + "/".join(["<urn:p>"] * 9000) + " ?o }",
])
def test_long_queries_do_not_kill_a_worker(app, query):
    """Thousands of patterns in a row (past what an 8 MiB stack parses): an answer, never a dead worker."""
    from cchc.service.sparql_http import SparqlService

    service = SparqlService(app.store, workers=1, timeout=20)
    try:
        try:
            answer = service.run(query, "text/csv")
            assert answer.where == "worker"
        except Exception as exc:  # a timeout is an answer too; a crash is not
            assert getattr(exc, "kind", None) in ("timeout", "bad_request", "too_large"), exc
        assert service.run("ASK { ?s ?p ?o }", "text/csv").body == b"true\n"
    finally:
        service.close()


def test_a_stalling_remote_cannot_freeze_the_loop(endpoint, live_url):
    """The old attack: a query answered fast once then run in the server; now refused, /health stays fast."""
    with remote() as (url, hits):
        q = SMUGGLED[0].format(u=url)
        for _ in range(3):
            assert httpx.get(endpoint, params={"query": q}, timeout=30).status_code == 400
        t0 = time.monotonic()
        assert httpx.get(live_url + "/health", timeout=30).status_code == 200
        assert time.monotonic() - t0 < 5 and hits == []


def test_a_proven_query_runs_in_the_server_only_when_short(app):
    from cchc.service.sparql_http import SparqlService

    service = SparqlService(app.store, workers=1)
    short = "SELECT (COUNT(*) AS ?n) WHERE { ?t a cchc:Task }"
    long = short + " #" + "x" * 2000
    try:
        assert [service.run(short, "text/csv").where for _ in range(2)] == ["worker", "server"]
        assert [service.run(long, "text/csv").where for _ in range(2)] == ["worker", "worker"]
    finally:
        service.close()


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"},
    {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "cors", "Origin": "http://other.localhost"},
])
def test_cross_site_browser_requests_are_refused(endpoint, headers):
    r = httpx.post(endpoint, data={"query": "ASK {}"}, headers=headers, timeout=30)
    assert r.status_code == 403 and r.json()["error"] == "forbidden", r.text
    r = httpx.get(endpoint, params={"query": "ASK {}"}, headers=headers, timeout=30)
    assert r.status_code == 403


def test_protocol_clients_and_same_origin_pages_keep_working(endpoint, live_url):
    assert httpx.post(endpoint, data={"query": "ASK {}"}, timeout=30).status_code == 200
    same = {"Origin": live_url, "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}
    assert httpx.post(endpoint, data={"query": "ASK {}"}, headers=same, timeout=30).status_code == 200
    nav = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
    assert httpx.get(live_url + "/", headers=nav, timeout=30).status_code == 200  # a link from elsewhere


def test_update_in_any_spelling_never_runs(endpoint, app):
    before = app.store.counts()
    for q in ["LOAD <http://127.0.0.1:1/x>", "load silent <http://127.0.0.1:1/x>", "L\\u004fAD <http://x/>",
              "PREFIX a: <urn:a> INSERT DATA { <urn:a> <urn:b> <urn:c> }", "DROP ALL"]:
        r = httpx.post(endpoint, content=q.encode(), headers={"Content-Type": "application/sparql-query"},
                       timeout=30)
        assert r.status_code == 400, r.text
    assert app.store.counts() == before


