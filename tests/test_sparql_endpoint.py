"""`/sparql` with real clients (SPARQLWrapper, rdflib's SPARQLStore, raw httpx) against the running service."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import threading
import time
from dataclasses import replace

import httpx
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, JSONLD, N3, POST, POSTDIRECTLY, TSV, TURTLE, XML, SPARQLWrapper

from .conftest import APPENDIX_2026, serving

# the tasks Sở Tư pháp leads in section III of the 2026 appendix: row 5 (as tests/test_graph_cli.py checks)
TU_PHAP = ('SELECT ?no WHERE { ?t cchc:leadAgency/skos:prefLabel "Sở Tư pháp"@vi ; cchc:sectionNumber "III" ; '
           'cchc:rowNumber ?no ; cchc:partOf/dcterms:identifier "langson-2026-cchc-phuluc" }')
PREFIXES = ("PREFIX cchc: <https://w3id.org/cchc/ontology#>\nPREFIX dcterms: <http://purl.org/dc/terms/>\n"
            "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n")
CONSTRUCT_60 = ('CONSTRUCT { ?i dcterms:identifier ?id } WHERE { ?i dcterms:identifier "60-NQ/TU" ; '
                'dcterms:identifier ?id }')
# a 4-way cross product: ~10^16 solutions to count; Oxigraph would run for days
EXPENSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
EXPENSIVE_SORT = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l } ORDER BY ?l ?a LIMIT 3"


@pytest.fixture(scope="module")
def endpoint(live_url) -> str:
    return live_url + "/sparql"


@pytest.fixture(scope="module")
def strict_url(app):
    """A second service over the same data with a 1.5 s SPARQL time limit and a 50-row cap."""
    from cchc.service.app import create_app

    settings = replace(app.settings, sparql_timeout=1.5, sparql_max_rows=50, sparql_workers=2)
    with serving(create_app(settings, app)) as url:
        yield url


def _wrapper(endpoint: str, query: str, fmt: str, method: str | None = None) -> SPARQLWrapper:
    sw = SPARQLWrapper(endpoint)
    sw.setQuery(query)
    sw.setReturnFormat(fmt)
    if method == POSTDIRECTLY:
        sw.setMethod(POST)
        sw.setRequestMethod(POSTDIRECTLY)
    elif method:
        sw.setMethod(method)
    return sw


# ------------------------------------------------------------------ SPARQLWrapper
@pytest.mark.parametrize("method", [None, POST, POSTDIRECTLY])
def test_sparqlwrapper_json_each_request_style(endpoint, method):
    body = _wrapper(endpoint, TU_PHAP, JSON, method).queryAndConvert()
    assert [b["no"]["value"] for b in body["results"]["bindings"]] == ["5"]
    assert body["head"]["vars"] == ["no"]


def test_sparqlwrapper_xml_csv_tsv(endpoint):
    doc = _wrapper(endpoint, TU_PHAP, XML).queryAndConvert()  # an xml.dom Document
    assert [n.firstChild.data for n in doc.getElementsByTagName("literal")] == ["5"]
    text = _wrapper(endpoint, TU_PHAP, CSV).queryAndConvert().decode()
    assert list(csv.reader(io.StringIO(text))) == [["no"], ["5"]]
    text = _wrapper(endpoint, TU_PHAP, TSV).queryAndConvert().decode()
    assert text.splitlines() == ["?no", '"5"']


def test_sparqlwrapper_ask_and_full_prologue(endpoint):
    assert _wrapper(endpoint, "ASK { ?x a cchc:Appendix }", JSON).queryAndConvert()["boolean"] is True
    assert _wrapper(endpoint, "ASK { ?x a cchc:NoSuchClass }", XML).queryAndConvert() \
        .getElementsByTagName("boolean")[0].firstChild.data == "false"
    body = _wrapper(endpoint, PREFIXES + TU_PHAP, JSON).queryAndConvert()  # prefixes declared again: fine
    assert body["results"]["bindings"][0]["no"]["value"] == "5"


@pytest.mark.parametrize("fmt", [TURTLE, N3, JSONLD, XML])
def test_sparqlwrapper_construct(endpoint, fmt):
    result = _wrapper(endpoint, CONSTRUCT_60, fmt).query()
    graph = result.convert()  # a Graph for JSON-LD and RDF/XML; the bytes for Turtle / N3
    if isinstance(graph, bytes):
        assert result.info()["content-type"].startswith("text/turtle")
        graph = Graph().parse(data=graph.decode(), format="turtle")
    assert len(graph) == 1
    (_, p, o), = graph
    assert p == URIRef("http://purl.org/dc/terms/identifier") and str(o) == "60-NQ/TU"


def test_sparqlwrapper_describe(endpoint, app):
    task = app.store.iris.base + "task/langson-2026-cchc-phuluc/III-9"
    graph = Graph().parse(data=_wrapper(endpoint, f"DESCRIBE <{task}>", TURTLE).queryAndConvert().decode(),
                          format="turtle")
    assert (URIRef(task), URIRef("https://w3id.org/cchc/ontology#rowNumber"), Literal("9")) in graph


# ------------------------------------------------------------------ rdflib's SPARQLStore
def test_rdflib_sparqlstore(endpoint):
    store = SPARQLStore(endpoint)
    rows = list(store.query(PREFIXES + TU_PHAP))
    assert [str(r[0]) for r in rows] == ["5"]
    assert store.query(PREFIXES + "ASK { ?x a cchc:Appendix }").askAnswer is True
    graph = store.query(PREFIXES + CONSTRUCT_60).graph
    assert [str(o) for o in graph.objects()] == ["60-NQ/TU"]
    # the store's own triple pattern access goes through SELECT queries too
    ident = URIRef("http://purl.org/dc/terms/identifier")
    subjects = {s for (s, _, _), _ in store.triples((None, ident, Literal("60-NQ/TU")))}
    assert len(subjects) == 1


def test_rdflib_sparqlstore_post(endpoint):
    store = SPARQLStore(endpoint, method="POST_FORM", returnFormat="json")
    assert [str(r[0]) for r in store.query(PREFIXES + TU_PHAP)] == ["5"]
    store = SPARQLStore(endpoint, method="POST", returnFormat="csv")
    assert [str(r[0]) for r in store.query(PREFIXES + TU_PHAP)] == ["5"]


# ------------------------------------------------------------------ raw HTTP
@pytest.mark.parametrize("accept, media_type, check", [
    ("application/sparql-results+json", "application/sparql-results+json",
     lambda t: json.loads(t)["results"]["bindings"] == [{"no": {"type": "literal", "value": "5"}}]),
    ("application/sparql-results+xml", "application/sparql-results+xml", lambda t: "<literal>5</literal>" in t),
    ("text/csv", "text/csv", lambda t: t == "no\r\n5\r\n"),
    ("text/tab-separated-values", "text/tab-separated-values", lambda t: t == '?no\n"5"\n'),
    (None, "application/sparql-results+json", lambda t: json.loads(t)["head"]["vars"] == ["no"]),
    ("*/*", "application/sparql-results+json", lambda t: "bindings" in t),
    ("text/html,application/xhtml+xml,*/*;q=0.8", "application/sparql-results+json", lambda t: "bindings" in t),
    ("text/csv;q=0.5, application/sparql-results+xml", "application/sparql-results+xml", lambda t: "<sparql" in t),
])
def test_raw_select_formats(endpoint, accept, media_type, check):
    headers = {"Accept": accept} if accept else {}
    r = httpx.get(endpoint, params={"query": TU_PHAP}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == media_type
    assert check(r.text)


@pytest.mark.parametrize("accept, media_type, fmt", [
    ("text/turtle", "text/turtle", "turtle"),
    ("application/n-triples", "application/n-triples", "nt"),
    ("application/ld+json", "application/ld+json", "json-ld"),
    ("application/rdf+xml", "application/rdf+xml", "xml"),
    (None, "text/turtle", "turtle"),
])
def test_raw_construct_formats(endpoint, accept, media_type, fmt):
    headers = {"Accept": accept} if accept else {}
    r = httpx.get(endpoint, params={"query": CONSTRUCT_60}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == media_type
    graph = Graph().parse(data=r.text, format=fmt)
    assert [str(o) for o in graph.objects()] == ["60-NQ/TU"]


def test_raw_request_styles(endpoint):
    accept = {"Accept": "text/csv"}
    r = httpx.post(endpoint, data={"query": TU_PHAP}, headers=accept)
    assert r.status_code == 200 and r.text == "no\r\n5\r\n"
    r = httpx.post(endpoint, content=TU_PHAP.encode(), headers={**accept, "Content-Type": "application/sparql-query"})
    assert r.status_code == 200 and r.text == "no\r\n5\r\n"
    r = httpx.post(endpoint, content=TU_PHAP.encode(),
                   headers={**accept, "Content-Type": "application/sparql-query; charset=utf-8"})
    assert r.status_code == 200 and r.text == "no\r\n5\r\n"


def test_dataset_parameters(endpoint, app):
    graph = next(d.graph for d in app.store.documents() if d.file == APPENDIX_2026)
    tasks = "SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE { ?t a cchc:Task }"
    expected = app.store.select(f"SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?t a cchc:Task }} }}")
    union = app.store.select(tasks)

    def count(**params) -> int:
        r = httpx.get(endpoint, params={"query": tasks, **params})
        assert r.status_code == 200, r.text
        return int(r.json()["results"]["bindings"][0]["n"]["value"])

    assert count() == union[0][0] > expected[0][0] > 0  # default graph: the union of the named graphs
    assert count(**{"default-graph-uri": graph}) == expected[0][0]
    r = httpx.post(endpoint, data={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?t a cchc:Task } }",
                                   "named-graph-uri": graph})
    assert [b["g"]["value"] for b in r.json()["results"]["bindings"]] == [graph]
    r = httpx.get(endpoint, params={"query": tasks, "default-graph-uri": "not an iri"})
    assert r.status_code == 400 and "not an absolute IRI" in r.json()["detail"]


# ------------------------------------------------------------------ refusals
def _assert_error(r: httpx.Response, status: int, code: str, words: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == code and words in body["detail"], body


@pytest.mark.parametrize("send", [
    lambda u: httpx.get(u, params={"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}),
    lambda u: httpx.get(u, params={"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}),
    lambda u: httpx.post(u, data={"update": "DELETE WHERE { ?s ?p ?o }"}),
    lambda u: httpx.post(u, content=b"CLEAR ALL", headers={"Content-Type": "application/sparql-update"}),
    lambda u: httpx.post(u, content=b"PREFIX x: <urn:x#>\n# a comment\nDROP GRAPH <urn:g>",
                         headers={"Content-Type": "application/sparql-query"}),
])
def test_update_is_refused(endpoint, app, send):
    before = app.store.counts()
    _assert_error(send(endpoint), 400, "bad_request", "SPARQL Update is not allowed")
    r = httpx.get(endpoint, params={"query": TU_PHAP})
    assert r.json()["results"]["bindings"][0]["no"]["value"] == "5" and app.store.counts() == before


def test_service_is_refused_by_parsing(endpoint):
    t0 = time.monotonic()
    for q in ["SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }",
              "SELECT * WHERE { ?s ?p ?o . service silent <http://example.org/sparql> { ?s ?q ?r } }",
              "SELECT * WHERE { ?x a cchc:Task OPTIONAL { SERVICE <http://example.org/> { ?x ?p ?o } } }"]:
        _assert_error(httpx.get(endpoint, params={"query": q}), 400, "bad_request", "SERVICE")
    assert time.monotonic() - t0 < 30
    # the word in a literal, an IRI, a variable or a comment is not a SERVICE clause
    q = ('SELECT ?service WHERE { BIND("SERVICE <http://example.org/>" AS ?service) '
         'FILTER(?service != <http://example.org/service>) } # SERVICE')
    r = httpx.get(endpoint, params={"query": q})
    assert r.status_code == 200, r.text
    assert r.json()["results"]["bindings"][0]["service"]["value"] == "SERVICE <http://example.org/>"


@pytest.mark.parametrize("request_kwargs, status, code, words", [
    ({"params": {"query": "SELECT ?x WHERE {"}}, 400, "bad_request", "SPARQL syntax error"),
    ({"params": {}}, 400, "bad_request", "missing the `query` parameter"),
    ({"params": {"query": "   "}}, 400, "bad_request", "the query is empty"),
    ({"params": [("query", "ASK {}"), ("query", "ASK {}")]}, 400, "bad_request", "exactly one `query`"),
    ({"params": {"query": TU_PHAP}, "headers": {"Accept": "image/png"}}, 406, "not_acceptable", "text/csv"),
    ({"params": {"query": TU_PHAP}, "headers": {"Accept": "text/turtle"}}, 406, "not_acceptable", "SELECT"),
    ({"params": {"query": CONSTRUCT_60}, "headers": {"Accept": "text/csv"}}, 406, "not_acceptable", "text/turtle"),
])
def test_bad_requests(endpoint, request_kwargs, status, code, words):
    _assert_error(httpx.get(endpoint, **request_kwargs), status, code, words)


def test_unsupported_post_body(endpoint):
    r = httpx.post(endpoint, content=b"{}", headers={"Content-Type": "application/json"})
    _assert_error(r, 415, "unsupported_media_type", "application/sparql-query")


# ------------------------------------------------------------------ limits
def test_row_cap(strict_url):
    r = httpx.get(strict_url + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    _assert_error(r, 413, "too_large", "more than 50 rows")
    r = httpx.get(strict_url + "/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"})
    _assert_error(r, 413, "too_large", "more than 50 triples")
    r = httpx.get(strict_url + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 50"})
    assert r.status_code == 200 and len(r.json()["results"]["bindings"]) == 50


def test_answer_size_cap(strict_url):
    """Under the row cap but over the size cap (2 KiB per allowed row: 100 KiB here): refused, not truncated."""
    every_text = "SELECT (GROUP_CONCAT(STR(?o)) AS ?all) WHERE { ?s ?p ?o FILTER(isLiteral(?o)) }"
    for accept in ("application/sparql-results+json", "text/csv"):
        r = httpx.get(strict_url + "/sparql", params={"query": every_text}, headers={"Accept": accept}, timeout=30)
        _assert_error(r, 413, "too_large", "larger than 100 KiB")


def test_oversized_request_body(endpoint):
    r = httpx.post(endpoint, content=b"#" * 500_000, headers={"Content-Type": "application/sparql-query"})
    _assert_error(r, 413, "too_large", "request body is over 400000 bytes")


@pytest.mark.parametrize("query", [EXPENSIVE, EXPENSIVE_SORT])
def test_expensive_query_times_out_and_service_keeps_answering(strict_url, query):
    url = strict_url + "/sparql"
    outcome: dict = {}

    def expensive() -> None:
        t0 = time.monotonic()
        outcome["response"] = httpx.get(url, params={"query": query}, timeout=60)
        outcome["seconds"] = time.monotonic() - t0

    thread = threading.Thread(target=expensive)
    thread.start()
    time.sleep(0.3)
    # during: the other worker answers, and so does the rest of the service
    during = httpx.get(url, params={"query": TU_PHAP}, headers={"Accept": "text/csv"}, timeout=10)
    assert during.status_code == 200 and during.text == "no\r\n5\r\n"
    assert httpx.get(strict_url + "/health", timeout=10).status_code == 200
    thread.join(30)
    response = outcome["response"]
    if query == EXPENSIVE_SORT and response.status_code == 413:
        # sorting a cross product fills memory as fast as it eats time: a faster machine meets the
        # worker's memory cap before the time limit, and either stop is the right answer
        _assert_error(response, 413, "too_large", "more memory than a SPARQL worker may use")
    else:
        _assert_error(response, 503, "timeout", "1.5s time limit")
    assert outcome["seconds"] < 1.5 + 2.0
    # after: every later query is answered (the killed worker's place was taken by the spare)
    for _ in range(4):
        after = httpx.get(url, params={"query": TU_PHAP}, headers={"Accept": "text/csv"}, timeout=10)
        assert after.status_code == 200 and after.text == "no\r\n5\r\n"


def test_a_cancelled_query_does_not_hold_its_worker(app):
    """`arun` cancelled mid-query (the server shutting down, a caller's own deadline): the worker still grinding
    through the cross product is killed and the spare answers the next query at once."""
    from cchc.service.sparql_http import SparqlService

    service = SparqlService(app.store, timeout=60, workers=1)

    async def scenario() -> bytes:
        task = asyncio.create_task(service.arun(EXPENSIVE))
        await asyncio.sleep(0.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        answer = await asyncio.wait_for(service.arun(PREFIXES + TU_PHAP, "text/csv"), 20)
        return answer.body

    try:
        assert asyncio.run(scenario()) == b"no\r\n5\r\n"
    finally:
        service.close()


def test_a_repeated_query_is_answered_in_the_server_process(endpoint):
    """Proven cheap by a worker on this data, the same query then skips the hand-off (Server-Timing says where)."""
    query = PREFIXES + TU_PHAP + "  # asked twice by this test"
    answers = [httpx.get(endpoint, params={"query": query}, headers={"Accept": "text/csv"}, timeout=30)
               for _ in range(2)]
    assert [r.text for r in answers] == ["no\r\n5\r\n"] * 2
    assert [r.headers["server-timing"].rsplit("desc=", 1)[1] for r in answers] == ['"worker"', '"server"']


def test_a_query_with_random_or_time_functions_always_goes_to_a_worker(endpoint):
    """RAND(), NOW(), UUID() may change an answer's size on unchanged data: such a query is never proven."""
    query = PREFIXES + "SELECT ?no WHERE { ?t cchc:rowNumber ?no FILTER(RAND() <= 1 && NOW() > 0) } LIMIT 2"
    answers = [httpx.get(endpoint, params={"query": query}, headers={"Accept": "text/csv"}, timeout=30)
               for _ in range(2)]
    assert [r.status_code for r in answers] == [200, 200]
    assert [r.headers["server-timing"].rsplit("desc=", 1)[1] for r in answers] == ['"worker"', '"worker"']
