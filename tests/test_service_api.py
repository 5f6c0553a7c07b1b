"""The JSON API over the real corpus: every endpoint, paging, errors, and `cchc serve` on a missing data dir."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import httpx
import psutil
import pytest
from fastapi.testclient import TestClient

from .conftest import APPENDIX_2023, APPENDIX_2026, CORPUS, TANDOAN_2025

ROW = "langson-2026-cchc-phuluc/III.9"


@pytest.fixture(scope="module")
def client(app):
    from cchc.service.app import create_app

    # `with`: the lifespan runs, as under uvicorn; localhost: a host the server trusts when bound to loopback
    with TestClient(create_app(app.settings, app), base_url="http://localhost") as c:
        yield c


def ok(client: TestClient, url: str, **params) -> dict:
    r = client.get(url, params=params)
    assert r.status_code == 200, (url, r.status_code, r.text[:500])
    return r.json()


def error(client: TestClient, url: str, status: int, **params) -> dict:
    r = client.get(url, params=params)
    assert r.status_code == status, (url, r.status_code, r.text[:500])
    body = r.json()
    assert set(body) == {"error", "detail"} and body["detail"], body
    return body


def all_pages(client: TestClient, url: str, key: str | None = None, limit: int = 7, **params) -> tuple[int, list]:
    """Walk a paged list to the end; the totals must agree on every page."""
    items, totals, offset = [], set(), 0
    while True:
        body = ok(client, url, limit=limit, offset=offset, **params)
        p = body[key] if key else body
        assert (p["limit"], p["offset"]) == (limit, offset) and len(p["items"]) <= limit
        totals.add(p["total"])
        items += p["items"]
        offset += limit
        if offset >= p["total"]:
            break
    assert len(totals) == 1 and len(items) == totals.pop()
    return len(items), items


# ---------------------------------------------------------------- health and search


def test_health(client, app):
    body = ok(client, "/health")
    assert body["status"] == "ok" and body["units"] == len(app.searcher.units) and body["documents"] == 5
    assert body["counts"]["tasks"] == app.store.counts()["tasks"]


def test_search_keeps_the_contract_and_links_tasks(client):
    body = ok(client, "/search", q="nhiệm vụ theo Nghị định 118", k=10)
    assert body["query"] == "nhiệm vụ theo Nghị định 118" and 0 < len(body["results"]) <= 10
    for r in body["results"]:
        assert {"doc", "line", "section", "no", "score", "text", "why", "task"} <= set(r)
    hit = next(r for r in body["results"] if (r["doc"], r["section"], r["no"]) == (APPENDIX_2026, "III", "9"))
    assert hit["task"] == ROW and "cites 118/2025/NĐ-CP" in hit["why"]
    assert ok(client, f"/tasks/{hit['task']}")["provenance"]["line"] == hit["line"]


def test_search_filters(client):
    docs = {d["file"]: d for d in ok(client, "/documents", limit=500)["items"]}
    r2023 = ok(client, "/search", q="cải cách thủ tục hành chính", k=20, year=2023)["results"]
    assert r2023 and all(docs[r["doc"]]["year"] == 2023 for r in r2023)
    led = ok(client, "/search", q="chuyển đổi số", k=10, agency="so-kh-cn")["results"]
    assert led
    for r in led:
        if r["task"]:
            t = ok(client, f"/tasks/{r['task']}")
            assert "so-kh-cn" in {a["id"] for a in t["lead"] + t["cooperating"]}
    tthc = ok(client, "/search", q="công khai", k=10, field="thu-tuc-hanh-chinh")["results"]
    assert tthc
    for r in tthc:
        if r["section"]:  # table rows: their section's field
            assert "thu-tuc-hanh-chinh" in {f["id"] for f in ok(client, f"/tasks/{r['task']}")["fields"]}


def test_search_bad_parameters_are_400_with_the_error_body(client):
    assert ok(client, "/search") == {"query": "", "read_as": None, "total": 0, "offset": 0, "results": []}
    assert "k" in error(client, "/search", 400, q="x", k=0)["detail"]
    assert "agency" in error(client, "/search", 400, q="x", agency="so-khong-co")["detail"]
    assert "field" in error(client, "/search", 400, q="x", field="khong-co")["detail"]
    assert "year" in error(client, "/search", 400, q="x", year="năm")["detail"]


# ---------------------------------------------------------------- tasks


def test_task_detail(client):
    t = ok(client, f"/tasks/{ROW}")
    assert (t["id"], t["doc"], t["section"], t["no"]) == (ROW, APPENDIX_2026, "III", "9")
    assert "118/2025/NĐ-CP" in {c["id"] for c in t["citations"]}
    text = " ".join(x["text"] for x in t["provenance"]["lines"])
    assert "Nghị định số 118/2025/NĐ-CP" in text and "Công bố TTHC" in text
    assert t["document"]["id"] == "langson-2026-cchc-phuluc" and t["lead"][0]["id"] == "vp-ubnd-tinh"
    assert t["history"] == ok(client, f"/tasks/{ROW}/history")["history"]


def test_task_history_follows_the_carryover_links(client):
    body = ok(client, "/carryover", **{"from": "langson-2023-cchc-phuluc", "to": APPENDIX_2026})
    assert body["pairs"] and {(p["from"], p["to"]) for p in body["plans"]} == {(APPENDIX_2023, APPENDIX_2026)}
    pair = body["pairs"][0]
    later = next(x for x in all_pages(client, "/documents/langson-2026-cchc-phuluc", "tasks", limit=100)[1]
                 if (x["section"], x["no"]) == (pair["to"]["section"], pair["to"]["no"]))
    h = ok(client, f"/tasks/{later['task']}/history")
    assert h["task"] == later["task"]
    steps = {(s["task"]["doc"], s["task"]["section"], s["task"]["no"]): s for s in h["history"]}
    assert (APPENDIX_2023, pair["from"]["section"], pair["from"]["no"]) in steps
    me = next(s for s in h["history"] if s["query"])
    assert me["id"] == later["task"] and me["score"] is not None and me["reasons"]
    earlier = steps[(APPENDIX_2023, pair["from"]["section"], pair["from"]["no"])]
    assert earlier["id"] and ok(client, f"/tasks/{earlier['id']}")["doc"] == APPENDIX_2023


def test_narrative_task_ids_work(client):
    items = ok(client, "/documents/langson-2023-papi-sipas-parindex", limit=3)["tasks"]["items"]
    assert items
    for x in items:
        t = ok(client, f"/tasks/{x['task']}")
        assert t["provenance"]["lines"] and t["content"] == x["content"]


# ---------------------------------------------------------------- instruments, agencies, documents


def test_instrument_tasks_via_plan_with_paths(client):
    inst = ok(client, "/instruments/76-nq-cp", limit=500)
    assert inst["identifier"] == "76/NQ-CP" and inst["issuer"]["name"] == "Chính phủ"
    via = [x for x in inst["tasks"]["items"] if x["link"] == "via-plan"]
    assert via and all(x["path"][-1]["id"] == "76-nq-cp" and x["why"] for x in via)
    assert any(s["relation"] == "implements" and s["evidence"] for x in via for s in x["path"])
    assert ok(client, "/instruments/76/NQ-CP", limit=500)["tasks"] == inst["tasks"]  # as printed, slash and all
    total, items = all_pages(client, "/instruments/76-nq-cp", "tasks", limit=20)
    assert total == inst["tasks"]["total"] and [x["task"] for x in items] == [x["task"] for x in inst["tasks"]["items"]]
    all_pages(client, "/instruments/118-2025-nd-cp", "mentions", limit=2)


def test_agency_shows_predecessor_and_its_2023_tasks(client):
    a = ok(client, "/agencies/so-kh-cn", limit=500)
    pred = {p["id"]: p for p in a["predecessors"]}
    assert pred["so-tt-tt"]["name"] == "Sở Thông tin và Truyền thông" and pred["so-tt-tt"]["relation"] == "merge"
    assert a["tasks"]["lead"]["2026"] and a["inherited"]["lead"]["2023"]
    assert all(x["agency"] == "so-tt-tt" for x in a["inherited"]["lead"]["2023"])
    assert all(x["doc"].startswith("langson-2023") for x in a["inherited"]["lead"]["2023"])
    assert {k: len(v) for k, v in a["tasks"]["lead"].items()} == a["totals"]["lead"]
    rows = {x["id"]: x for x in all_pages(client, "/agencies", limit=50)[1]}
    assert rows["so-kh-cn"]["lead"] == sum(a["totals"]["lead"].values())


def test_documents_paging_is_consistent(client):
    total, docs = all_pages(client, "/documents", limit=2)
    assert total == 5 and len({d["id"] for d in docs}) == 5
    for d in docs:
        n, tasks = all_pages(client, f"/documents/{d['id']}", "tasks", limit=17)
        assert n == d["tasks"] and len({t["task"] for t in tasks}) == n
    assert ok(client, "/documents", limit=2, offset=10)["items"] == []
    assert ok(client, f"/documents/{TANDOAN_2025}")["id"] == "tandoan-2025-cchc"


def test_fields(client):
    total, rows = all_pages(client, "/fields", limit=3)
    assert "thu-tuc-hanh-chinh" in {f["id"] for f in rows} and total == len(rows)


def test_carryover_keeps_the_contract(client, app):
    body = ok(client, "/carryover")
    assert len(body["pairs"]) == len(app.carryover.pairs)
    for p in body["pairs"]:
        assert {"doc", "section", "no"} <= set(p["from"]) and {"doc", "section", "no"} <= set(p["to"])
        assert 0 <= p["score"] <= 1
    page = ok(client, "/carryover", limit=5, offset=5)
    assert page["pairs"] == body["pairs"][5:10]


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("url", ["/tasks/langson-2026-cchc-phuluc/IX-99", "/tasks/khong-co/L1/history",
                                 "/instruments/999-nq-xx", "/agencies/so-khong-co", "/documents/khong-co",
                                 "/khong-co"])
def test_unknown_ids_are_404_with_the_error_body(client, url):
    assert error(client, url, 404)["error"] == "not_found"


def test_bad_paging_and_pairs(client):
    assert error(client, "/documents", 400, limit=0)["error"] == "bad_request"
    assert "limit" in error(client, "/documents", 400, limit=501)["detail"]
    assert "offset" in error(client, "/agencies/so-kh-cn", 400, offset=-1)["detail"]
    assert "plan pairs" in error(client, "/carryover", 404, **{"from": "khong-co"})["detail"]
    assert client.post("/search").json()["error"] == "method_not_allowed"


def test_openapi_names_the_error_body_not_422(client):
    spec = ok(client, "/openapi.json")
    for path, ops in spec["paths"].items():
        for op in ops.values():
            assert "422" not in op["responses"], path
    assert "400" in spec["paths"]["/search"]["get"]["responses"]
    assert "404" in spec["paths"]["/tasks/{task_id}"]["get"]["responses"]


# ---------------------------------------------------------------- over HTTP, and `cchc serve`


def test_live_server_answers_the_contract(live_url):
    r = httpx.get(f"{live_url}/search", params={"q": "Nghị định 118/2025/NĐ-CP", "k": 5}, timeout=60)
    assert r.status_code == 200 and r.json()["results"][0]["doc"].endswith(".txt")
    assert httpx.get(f"{live_url}/tasks/{ROW}", timeout=60).json()["id"] == ROW


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_app_lifespan_builds_a_missing_data_dir(tmp_path):
    """`uvicorn --factory` or any ASGI host: the app builds what is missing before answering."""
    from cchc.service.app import create_app
    from cchc.service.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / TANDOAN_2025, corpus)
    settings = Settings(corpus_dir=corpus, data_dir=tmp_path / "data", model="hashing")
    with TestClient(create_app(settings), base_url="http://localhost") as c:
        gen = tmp_path / "data" / (tmp_path / "data" / "CURRENT").read_text().strip()
        assert (gen / "oxigraph").is_dir() and (gen / "search").is_dir()
        assert c.get("/health").json()["documents"] == 1
        assert c.get("/documents").json()["items"][0]["file"] == TANDOAN_2025


def _cmdline(p: psutil.Process) -> list[str]:
    """A child's command line; a child that has just exited (a recycled worker) has none."""
    try:
        return p.cmdline()
    except (psutil.ZombieProcess, psutil.NoSuchProcess):
        return []


@pytest.mark.parametrize("workers", [1, 2])
def test_cchc_serve_builds_a_missing_data_dir(tmp_path, workers):
    """Built once by the command, then served by one process or by `--workers` processes on one socket."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / TANDOAN_2025, corpus)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCHC_")}
    proc = subprocess.Popen([sys.executable, "-m", "cchc.service.cli", "serve", "--port", str(port), "--data",
                             str(tmp_path / "data"), "--corpus", str(corpus), "--model", "hashing",
                             "--workers", str(workers)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, body = time.monotonic() + 300, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json()
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert body is not None, proc.stderr.read().decode() if proc.poll() is not None else "server did not start"
        assert body["status"] == "ok" and body["documents"] == 1
        assert (tmp_path / "data" / "CURRENT").is_file()
        with httpx.Client(timeout=30) as client:  # keep-alive, as browsers and load generators do
            answers = [client.get(f"http://127.0.0.1:{port}/search", params={"q": "Đề án 06"}) for _ in range(6)]
        assert all(r.status_code == 200 and r.json()["results"] for r in answers)
        children = [" ".join(_cmdline(p)) for p in psutil.Process(proc.pid).children(recursive=True)]
        servers = [c for c in children if "spawn_main" in c]  # uvicorn's processes (not SPARQL workers, trackers)
        assert len(servers) == (workers if workers > 1 else 0), children
    finally:
        proc.terminate()
        proc.wait(20)


def test_docs_load_nothing_from_other_hosts(client):
    """/docs is Swagger UI served from the package: every script, style and icon it names is on this server."""
    import re

    page = client.get("/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    urls = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", page.text)
    assert urls and all(u.startswith("/") for u in urls), urls
    for u in urls:
        assert client.get(u).status_code == 200, u
    assert client.get("/redoc").status_code == 404  # ReDoc would load from a CDN: not served


def test_a_server_process_runs_one_blas_and_openmp_thread(app):
    """Settings.serve_threads (1 by default) caps the BLAS pools loaded at start (numpy's, scipy's); OpenMP's
    (FAISS) is capped by `cchc serve` through OMP_NUM_THREADS before it loads (it holds per-thread settings)."""
    from cchc.service.app import create_app
    from threadpoolctl import threadpool_info

    # a start now, in this test process: every library other tests loaded is there, as in a server's process
    with TestClient(create_app(app.settings, app), base_url="http://localhost") as c:
        assert c.get("/health").status_code == 200
    # OpenMP-layered pools (FAISS's OpenBLAS) keep one setting per thread: `cchc serve` sets OMP_NUM_THREADS
    pools = [p for p in threadpool_info() if p["user_api"] == "blas" and p.get("threading_layer") != "openmp"]
    assert pools and all(p["num_threads"] == 1 for p in pools)
