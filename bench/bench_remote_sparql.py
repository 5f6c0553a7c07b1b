"""`/sparql` latency with the graph in Virtuoso, beside Virtuoso's own endpoint and the local Oxigraph store.

Starts `virtuoso-t` in a temporary directory, builds the embedded corpus into a
data directory with the graph published to it (hashing encoder: the search
index does not matter here), then serves `cchc serve` twice as subprocesses:
once pointed at Virtuoso (`--store-url`), once on the local generation.  Each
query is sent over HTTP `REPEAT` times after a warm-up to: our /sparql on the
remote store, Virtuoso's /sparql directly (the project prefixes prepended, no
dataset named: what a developer would send), and our /sparql on Oxigraph.
Prints a Markdown table (p50 / p95 in ms) and, last, one JSON line.

    .venv/bin/python bench/bench_remote_sparql.py [--repeat 40]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from cchc.graph.rdf.terms import prefixes
from cchc.ontology import DEFAULT_BASE, IRIs
from cchc.ontology.competency import competency_queries

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.virtuoso import Virtuoso, free_port  # noqa: E402  (the tests' throw-away server)

CQS = ("CQ1", "CQ2", "CQ4", "CQ7", "CQ9")
EXTRA = {"count": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
         "tasks-page": "SELECT ?t ?c WHERE { ?t a cchc:Task ; cchc:content ?c } ORDER BY ?t LIMIT 50"}


def serve(data: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([str(ROOT / ".venv/bin/cchc"), "serve", "--data", str(data), "--port", str(port)],
                            env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if "listening on" in line:
            return proc, f"http://127.0.0.1:{port}"
    raise RuntimeError(f"cchc serve did not start (exit {proc.wait()})")


def timed(client: httpx.Client, url: str, query: str, repeat: int) -> list[float]:
    out = []
    for i in range(repeat + 3):
        t0 = time.perf_counter()
        r = client.post(url, data={"query": query}, headers={"Accept": "application/sparql-results+json"})
        ms = (time.perf_counter() - t0) * 1000
        if r.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {r.status_code}: {r.text[:300]}")
        if i >= 3:
            out.append(ms)
    return out


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=40)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    queries = {cq: competency_queries()[cq] for cq in CQS} | EXTRA
    prologue = "".join(f"PREFIX {k}: <{v}>\n" for k, v in prefixes(IRIs(DEFAULT_BASE)).items())
    with tempfile.TemporaryDirectory() as tmp, Virtuoso(Path(tmp) / "virtuoso") as v:
        env = {"CCHC_MODEL": "hashing", "CCHC_STORE_URL": v.query_url, "CCHC_STORE_UPDATE_URL": v.update_url,
               "CCHC_STORE_GRAPH_URL": v.graph_store_url, "CCHC_STORE_USER": v.user, "CCHC_STORE_PASSWORD": v.password}
        data = Path(tmp) / "data"
        t0 = time.perf_counter()
        subprocess.run([str(ROOT / ".venv/bin/cchc"), "build", "--data", str(data), "-q"], env={**os.environ, **env},
                       check=True, stdout=subprocess.DEVNULL)
        build_s = time.perf_counter() - t0
        remote, remote_url = serve(data, env)
        local, local_url = serve(data, {"CCHC_MODEL": "hashing"})
        rows, out = [], {}
        try:
            with httpx.Client(timeout=60) as client:
                for name, q in queries.items():
                    ours = timed(client, f"{remote_url}/sparql", q, args.repeat)
                    theirs = timed(client, v.query_url, prologue + q, args.repeat)
                    oxi = timed(client, f"{local_url}/sparql", q, args.repeat)
                    out[name] = {k: [round(pct(x, 0.5), 2), round(pct(x, 0.95), 2)]
                                 for k, x in (("cchc_remote", ours), ("virtuoso", theirs), ("cchc_local", oxi))}
                    rows.append(f"| {name} | {pct(ours, .5):.1f} / {pct(ours, .95):.1f} | "
                                f"{pct(theirs, .5):.1f} / {pct(theirs, .95):.1f} | "
                                f"{pct(oxi, .5):.1f} / {pct(oxi, .95):.1f} | "
                                f"{statistics.median(ours) - statistics.median(theirs):+.1f} |")
        finally:
            for proc in (remote, local):
                proc.terminate()
                proc.wait(20)
    print(f"build with the graph published to Virtuoso: {build_s:.1f} s; {args.repeat} requests per query\n")
    print("| query | our /sparql on Virtuoso p50 / p95 ms | Virtuoso /sparql p50 / p95 ms | "
          "our /sparql on Oxigraph p50 / p95 ms | ours - Virtuoso p50 ms |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    print(json.dumps({"build_s": round(build_s, 1), "repeat": args.repeat, "queries": out}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
