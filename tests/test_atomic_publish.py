"""Builds, adds and removes publish one data generation atomically (issues 14 and 19).

The real CLI runs in a subprocess on a copy of a built data directory and is
SIGKILLed at chosen steps (seen on disk: the new generation's search index,
sources, carry-over file, graph manifest) and at random moments (fixed seed);
the directory must then serve the last complete state exactly, pass the
check /health runs, and the next write must succeed and clean the leftovers.
The hashing encoder keeps each run a few seconds; the code path is the same
as with the real model.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cchc.graph.rdf import generations as gens
from cchc.service.application import Application
from cchc.service.settings import Settings

from .conftest import CORPUS, TANDOAN_2025

QUERY = "Tân Đoàn cải cách hành chính năm 2025"
LINKS = "SELECT (COUNT(*) AS ?n) WHERE { ?later cchc:continues ?earlier }"
RNG = random.Random(1914)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCHC_")}
    env["CCHC_MODEL"] = "hashing"
    return env


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cchc.service.cli", *args]


def _corpus_without_tandoan(root: Path) -> Path:
    corpus = root / "corpus4"
    corpus.mkdir()
    for p in CORPUS.iterdir():
        if p.name != TANDOAN_2025:
            shutil.copy2(p, corpus / p.name)
    return corpus


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """Two data directories built by `cchc build` (hashing model): the whole corpus, and it without Tân Đoàn."""
    root = tmp_path_factory.mktemp("atomic")
    four = _corpus_without_tandoan(root)
    out = {"corpus4": four}
    for name, corpus in (("five", CORPUS), ("four", four)):
        subprocess.run(_cli("build", "--data", str(root / name), "--corpus", str(corpus), "-q"), env=_env(),
                       check=True, stdout=subprocess.DEVNULL, timeout=600)
        out[name] = root / name
    return out


def served(data: Path) -> dict:
    """What a reader of `data` is answered: documents, a search, SPARQL carry-over links, /carryover, /health."""
    app = Application(Settings(corpus_dir=CORPUS, data_dir=data, model="hashing"))
    assert app.is_built(), f"{data}: no complete generation is live"
    summary = app.check()  # what /health checks; raises GenerationError when the products disagree
    return {"documents": sorted(r.file for r in app.store.documents()),
            "search": [(r.doc, r.line) for r in app.searcher.search(QUERY, k=10)],
            "links": int(app.store.select(LINKS)[0][0]), "carryover": len(app.carryover.pairs),
            "units": summary.units, "counts": app.store.counts()}


def leftovers(data: Path) -> list[str]:
    """What a data directory holds besides its pointer, lock, caches, live and previous generations."""
    live = gens.current(data)
    older = [g for g in gens.generations(data) if live and g < live][-1:]
    return sorted(p.name for p in data.iterdir() if p.name not in {"CURRENT", "LOCK", "cache", "models", live,
                                                                  *older})


def _next_generation(data: Path) -> Path:
    return data / f"g{int(gens.generations(data)[-1][1:]) + 1:06d}"


def _kill_when(argv: list[str], ready: Callable[[], bool], timeout: float = 300) -> bool:
    """Run `argv`, SIGKILL it as soon as `ready()` holds; False when it finished first."""
    proc = subprocess.Popen(argv, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if ready():
                proc.send_signal(signal.SIGKILL)
                proc.wait(30)
                return True
            time.sleep(0.005)
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)


def _steps(data: Path) -> dict[str, Callable[[], bool]]:
    """Moments of a write seen on disk, in the new generation: up to "checking" (the graph's manifest is written
    just before the check and the publication) nothing can have been published."""
    new = _next_generation(data)
    return {"generation": new.exists, "search": (new / "search" / "units.jsonl").exists,
            "carryover": (new / "carryover.json").exists, "checking": (new / "manifest.json").exists}


def _crash_and_recover(op: list[str], base: Path, tmp: Path, before: dict, after: dict, recover: list[str],
                       duration: float) -> list[str]:
    """Kill `op` at each step and at two random moments on fresh copies of `base`; check what is served."""
    outcomes = []
    moments: list[tuple[str, Callable[[], bool] | float]] = [*_steps(base).items()]
    moments += [(f"t={t:.2f}s", t) for t in (RNG.uniform(0.3, 0.7 * duration), RNG.uniform(0.7, 1.1) * duration)]
    for i, (name, when) in enumerate(moments):
        data = tmp / f"run{i}"
        shutil.copytree(base, data)
        argv = [a.replace(str(base), str(data)) for a in op]
        if isinstance(when, float):
            t0 = time.monotonic()
            killed = _kill_when(argv, lambda t0=t0, when=when: time.monotonic() - t0 >= when)
        else:
            step = _steps(data)[name]
            killed = _kill_when(argv, step)
        state = served(data)
        if state == before:
            outcome = "before"
        else:
            assert state == after, f"killed at {name}: the served state is neither the last complete one nor the new"
            outcome = "after"
        if not isinstance(when, float):  # killed before the new generation was complete: never published
            assert killed and (outcome == "before" or name == "checking"), name
        outcomes.append(f"{name}:{outcome if killed else 'finished'}")
        fix = op if outcome == "before" else recover
        subprocess.run([a.replace(str(base), str(data)) for a in fix], env=_env(), check=True,
                       stdout=subprocess.DEVNULL, timeout=600)
        assert served(data) == (after if outcome == "before" else before), name
        assert leftovers(data) == [], name  # the dead run's generation and temporary files are gone
        shutil.rmtree(data)
    return outcomes


def _reference(op: list[str], base: Path, tmp: Path) -> tuple[dict, float]:
    """The state a complete run leaves, and how long it took."""
    data = tmp / "reference"
    shutil.copytree(base, data)
    t0 = time.monotonic()
    subprocess.run([a.replace(str(base), str(data)) for a in op], env=_env(), check=True,
                   stdout=subprocess.DEVNULL, timeout=600)
    duration = time.monotonic() - t0
    state = served(data)
    shutil.rmtree(data)
    return state, duration


def test_killed_add_leaves_the_previous_state_serving(built, tmp_path):
    base = built["four"]
    op = _cli("add", str(CORPUS / TANDOAN_2025), "--data", str(base), "-q")
    before = served(base)
    after, duration = _reference(op, base, tmp_path)
    assert TANDOAN_2025 not in before["documents"] and TANDOAN_2025 in after["documents"]
    outcomes = _crash_and_recover(op, base, tmp_path, before, after,
                                  _cli("remove", TANDOAN_2025, "--data", str(base)), duration)
    print("add", f"{duration:.1f}s", outcomes)


def test_killed_remove_leaves_the_previous_state_serving(built, tmp_path):
    base = built["five"]
    op = _cli("remove", TANDOAN_2025, "--data", str(base))
    before = served(base)
    after, duration = _reference(op, base, tmp_path)
    assert after["documents"] == [d for d in before["documents"] if d != TANDOAN_2025]
    outcomes = _crash_and_recover(op, base, tmp_path, before, after,
                                  _cli("add", str(CORPUS / TANDOAN_2025), "--data", str(base), "-q"), duration)
    print("remove", f"{duration:.1f}s", outcomes)


def test_killed_build_leaves_the_previous_state_serving(built, tmp_path):
    base = built["five"]
    op = _cli("build", "--data", str(base), "--corpus", str(built["corpus4"]), "-q")
    before = served(base)
    after, duration = _reference(op, base, tmp_path)
    assert len(after["documents"]) == 4 and before["links"] > 0 and after["links"] > 0
    outcomes = _crash_and_recover(op, base, tmp_path, before, after,
                                  _cli("build", "--data", str(base), "--corpus", str(CORPUS), "-q"), duration)
    print("build", f"{duration:.1f}s", outcomes)


def test_a_running_service_answers_from_another_process_add(built, tmp_path):
    """`cchc serve`'s app (TestClient, SPARQL workers included) follows `cchc add` run beside it, no restart."""
    from cchc.service.app import create_app
    from fastapi.testclient import TestClient

    data = tmp_path / "data"
    shutil.copytree(built["four"], data)
    settings = Settings(corpus_dir=CORPUS, data_dir=data, model="hashing")
    sparql = {"query": LINKS}
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        health = client.get("/health").json()
        assert health["status"] == "ok" and health["documents"] == 4
        links = client.get("/sparql", params=sparql, headers={"Accept": "application/sparql-results+json"}).json()
        hits = client.get("/search", params={"q": QUERY}).json()["results"]
        ask = {"query": "ASK { GRAPH <https://w3id.org/cchc/graph/doc/tandoan-2025-cchc> { ?s ?p ?o } }"}
        assert client.get("/sparql", params=ask, headers={"Accept": "application/sparql-results+json"}).json()[
            "boolean"] is False
        assert all(h["doc"] != TANDOAN_2025 for h in hits)
        subprocess.run(_cli("add", str(CORPUS / TANDOAN_2025), "--data", str(data), "-q"), env=_env(), check=True,
                       stdout=subprocess.DEVNULL, timeout=600)
        now = client.get("/health").json()
        assert now["documents"] == 5 and now["generation"] != health["generation"]
        assert now["carryover_links"] == health["carryover_links"] > 0
        assert client.get("/search", params={"q": QUERY}).json()["results"][0]["doc"] == TANDOAN_2025
        assert client.get("/documents/tandoan-2025-cchc").status_code == 200
        again = client.get("/sparql", params=sparql, headers={"Accept": "application/sparql-results+json"}).json()
        assert again == links  # Tân Đoàn is no plan pair: the workers answer from the new generation, same links
        assert client.get("/sparql", params=ask, headers={"Accept": "application/sparql-results+json"}).json()[
            "boolean"] is True


def test_health_reports_a_generation_whose_products_disagree(built, tmp_path):
    from cchc.service.app import create_app
    from fastapi.testclient import TestClient

    data = tmp_path / "data"
    shutil.copytree(built["five"], data)
    live = data / gens.current(data)
    with TestClient(create_app(Settings(corpus_dir=CORPUS, data_dir=data, model="hashing")),
                    base_url="http://localhost") as client:
        assert client.get("/health").status_code == 200
    (live / "sources" / TANDOAN_2025).unlink()  # what a hand edit or a half copy would do
    with TestClient(create_app(Settings(corpus_dir=CORPUS, data_dir=data, model="hashing")),
                    base_url="http://localhost") as client:
        r = client.get("/health")
        assert r.status_code == 503 and r.json()["error"] == "unhealthy"
        assert "5 documents in the graph" in r.json()["detail"] and "4 in sources" in r.json()["detail"]


def test_a_data_directory_from_before_generations_is_migrated(built, tmp_path):
    """store/, search/, sources/ side by side (the old layout): the next add rebuilds from its sources first."""
    data = tmp_path / "data"
    (data / "store").mkdir(parents=True)
    (data / "store" / "CURRENT").write_text("g000001\n")
    shutil.copytree(built["corpus4"], data / "sources")
    (data / "search.building").mkdir()  # what a killed build of the old layout left
    subprocess.run(_cli("add", str(CORPUS / TANDOAN_2025), "--data", str(data), "-q"), env=_env(), check=True,
                   stdout=subprocess.DEVNULL, timeout=600)
    state = served(data)
    assert state["documents"] == sorted(p.name for p in CORPUS.glob("*.txt"))
    assert leftovers(data) == []  # store/, sources/, search.building/ went once the new generation was live


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get_json(url: str) -> dict:
    import json
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def test_replicas_on_one_data_directory_switch_generations_together(built, tmp_path):
    """Two `cchc serve` processes (replicas: on shared storage they would be on two machines) read one data
    directory; a `cchc add` beside them publishes a generation and both answer from it at their next request."""
    import urllib.parse

    data = tmp_path / "data"
    shutil.copytree(built["four"], data)
    ports = [_free_port(), _free_port()]
    procs = [subprocess.Popen(_cli("serve", "--data", str(data), "--corpus", str(CORPUS), "--port", str(p)),
                              env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for p in ports]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        deadline = time.monotonic() + 180
        health: list[dict] = []
        while len(health) < 2:
            assert time.monotonic() < deadline and all(p.poll() is None for p in procs), "replicas did not start"
            try:
                health = [_get_json(u + "/health") for u in urls]
            except OSError:
                time.sleep(0.5)
        assert {h["generation"] for h in health} == {health[0]["generation"]} and health[0]["documents"] == 4
        subprocess.run(_cli("add", str(CORPUS / TANDOAN_2025), "--data", str(data), "-q"), env=_env(), check=True,
                       stdout=subprocess.DEVNULL, timeout=600)
        now = [_get_json(u + "/health") for u in urls]
        assert {h["generation"] for h in now} == {gens.current(data)} != {health[0]["generation"]}
        assert all(h["documents"] == 5 and h["status"] == "ok" for h in now)
        q = urllib.parse.urlencode({"q": QUERY})
        assert [_get_json(f"{u}/search?{q}")["results"][0]["doc"] for u in urls] == [TANDOAN_2025] * 2
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)
