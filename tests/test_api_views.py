"""Planner and developer views of the API (issue 17): /carryover with dropped and new tasks, paged lists of
tasks and instruments, the SPARQL editor a browser gets, and JSON-LD with an @context."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from .conftest import APPENDIX_2023, APPENDIX_2026


@pytest.fixture(scope="module")
def client(app):
    from cchc.service.app import create_app

    with TestClient(create_app(app.settings, app), base_url="http://localhost") as c:
        yield c


def _all(client: TestClient, url: str, limit: int = 40, **params) -> list[dict]:
    items, offset, totals = [], 0, set()
    while True:
        body = client.get(url, params={"limit": limit, "offset": offset, **params}).json()
        assert set(body) == {"total", "limit", "offset", "items"}, body
        totals.add(body["total"])
        items += body["items"]
        offset += limit
        if offset >= body["total"]:
            break
    assert len(totals) == 1 and len(items) == totals.pop()
    return items


def test_carryover_lists_dropped_and_new_with_their_text(client, app):
    body = client.get("/carryover").json()
    plan = next(p for p in body["plans"] if (p["from"], p["to"]) == (APPENDIX_2023, APPENDIX_2026))
    assert len(plan["dropped"]) == plan["counts"]["dropped"] > 0
    assert len(plan["new"]) == plan["counts"]["new"] > 0
    assert len(plan["continued"]) == plan["counts"]["continued"]
    for t in plan["dropped"] + plan["new"]:
        assert t["content"] and t["id"] and client.get(f"/tasks/{t['id']}").status_code == 200
    pair = body["pairs"][0]
    assert pair["from"]["content"] and pair["to"]["content"] and {"doc", "section", "no"} <= set(pair["from"])
    assert len(body["pairs"]) == len(app.carryover.pairs)  # the contract's list is whole without filters


def test_carryover_filters_by_agency_lineage_and_field(client):
    kh_cn = client.get("/carryover", params={"agency": "Sở KH&CN"}).json()
    assert kh_cn["pairs"]
    for p in kh_cn["pairs"]:  # the successor's pairs include the abolished Sở TT&TT's earlier tasks
        assert {"so-kh-cn", "so-tt-tt"} & set(p["from"]["lead_ids"] + p["to"]["lead_ids"])
    assert any("so-tt-tt" in p["from"]["lead_ids"] for p in kh_cn["pairs"])
    field = client.get("/carryover", params={"field": "chinh-quyen-so"}).json()
    for plan in field["plans"]:
        assert all(t["field"] == "chinh-quyen-so" for t in plan["dropped"] + plan["new"])
    assert client.get("/carryover", params={"field": "khong-co"}).status_code == 400


def test_task_list_is_paged_with_readable_ids(client, app):
    items = _all(client, "/tasks")
    assert len(items) == app.store.counts()["tasks"]
    assert "langson-2026-cchc-phuluc/III.9" in {t["id"] for t in items}
    narrative = [t for t in items if t["doc"] == "langson-2026-2030-cchc.txt"]
    assert narrative and all("/L" not in t["id"] for t in narrative)  # by heading number
    mine = client.get("/tasks", params={"agency": "Sở Nội vụ", "limit": 500}).json()
    assert 0 < mine["total"] < len(items)
    doc = client.get("/tasks", params={"document": APPENDIX_2026, "limit": 500}).json()
    assert doc["total"] and all(t["doc"] == APPENDIX_2026 for t in doc["items"])


def test_instrument_list_counts_traced_tasks(client):
    items = _all(client, "/instruments")
    by_id = {x["id"]: x for x in items}
    nd118 = by_id["118-2025-nd-cp"]
    assert nd118["tasks"] >= nd118["direct"] >= 1 and nd118["mentions"] >= 1
    assert [x["tasks"] for x in items] == sorted((x["tasks"] for x in items), reverse=True)
    detail = client.get("/instruments/118-2025-nd-cp", params={"limit": 500}).json()
    assert detail["tasks"]["total"] == nd118["tasks"]


def test_sparql_in_a_browser_is_a_query_editor(client):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    page = client.get("/sparql", headers={"Accept": browser})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<textarea" in page.text and "CQ1" in page.text and "Truy vấn SPARQL" in page.text
    assert "http://" not in page.text.split("<script type=\"application/json\"")[0].replace(
        'href="http', "")  # nothing loaded from another host
    assert client.get("/static/sparql.js").status_code == 200
    # a client asking for results still gets the protocol's error, and a query still answers
    assert client.get("/sparql", headers={"Accept": "application/sparql-results+json"}).status_code == 400
    answer = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?t a cchc:Task }"},
                        headers={"Accept": browser})
    assert answer.status_code == 200 and not answer.headers["content-type"].startswith("text/html")


def test_jsonld_export_has_a_context(app, tmp_path):
    import rdflib
    from cchc.graph.read.export import export

    out = tmp_path / "kg.jsonld"
    export(app.store, "jsonld", out)
    doc = json.loads(out.read_text("utf-8"))
    assert doc["@context"]["cchc"] == "https://w3id.org/cchc/ontology#"
    first = doc["@graph"][0]["@graph"][0]
    assert any(k.startswith(("cchc:", "skos:", "dcterms:", "prov:")) for k in first)
    parsed = rdflib.Dataset()
    parsed.parse(out, format="json-ld")
    trig = rdflib.Dataset()
    trig.parse(data=export(app.store, "trig").decode("utf-8"), format="trig")
    assert len(parsed) == len(trig)  # the same quads, compacted
