"""Lean start and serve: `cchc search` wall, `cchc serve` cold start and RSS, `cchc build` wall; two trees side by side.

    .venv/bin/python bench/bench_lean.py --tree before=/tmp/before --tree after=. [--rounds 5] [--build]

Each tree is a checkout with its own `.venv` (its `cchc` is what runs) and a
built data directory (`--data NAME=DIR`, default `<tree>/var`).  The trees take
turns round by round, so on a shared machine both see the same load; the
figures are medians over the rounds (and the spread).  Measured:

  search   wall of `cchc search QUERY --json` in a fresh process (imports, model, indexes, one query)
  start    `cchc serve` started to the first answered GET /search (polled every 50 ms)
  rss      after 50 varied queries (/search, /sparql, /carryover): RSS of the server plus its child
           processes (the SPARQL workers), and the server's PSS for reference
  torch    whether the server process has torch loaded (/proc/PID/maps names libtorch)
  build    (--build) wall of `cchc build --quiet` into an empty data directory (one run per tree: ~1 min+)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEARCH_QUERY = "hạn chót hoàn thành số hóa hồ sơ năm 2023"
SPARQL = "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 20"


def queries() -> list[str]:
    """50 varied questions: the dev gold's and bench/queries_extra.jsonl's, then folded and shortened forms."""
    rows = []
    for path in (SHARED / "dev-gold" / "queries.jsonl", ROOT / "bench" / "queries_extra.jsonl"):
        if path.exists():
            rows += [json.loads(line)["query"] for line in path.read_text("utf-8").splitlines() if line.strip()]
    out = list(dict.fromkeys(rows))
    out += [" ".join(q.split()[:3]) for q in rows]
    return list(dict.fromkeys(out))[:50]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 60) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read()


def env_for(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCHC_")}
    env["CCHC_DATA_DIR"] = str(data)
    return env


def run_search(tree: Path, data: Path) -> float:
    t = time.perf_counter()
    subprocess.run([str(tree / ".venv/bin/cchc"), "search", SEARCH_QUERY, "--json"], check=True, env=env_for(data),
                   capture_output=True)
    return time.perf_counter() - t


def run_serve(tree: Path, data: Path, qs: list[str]) -> dict[str, float]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    t = time.perf_counter()
    proc = subprocess.Popen([str(tree / ".venv/bin/cchc"), "serve", "--port", str(port)], env=env_for(data),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        first = f"{base}/search?{urllib.parse.urlencode({'q': SEARCH_QUERY, 'k': 10})}"
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{tree}: cchc serve exited with {proc.returncode}")
            try:
                get(first, timeout=5)
                break
            except OSError:
                time.sleep(0.05)
        start = time.perf_counter() - t
        for i, q in enumerate(qs):
            get(f"{base}/search?{urllib.parse.urlencode({'q': q, 'k': 10})}")
            if i % 10 == 0:
                get(f"{base}/sparql?{urllib.parse.urlencode({'query': SPARQL})}")
                get(f"{base}/carryover")
        server = psutil.Process(proc.pid)
        family = [server, *server.children(recursive=True)]
        rss = sum(p.memory_info().rss for p in family) / 2**20
        pss = server.memory_full_info().pss / 2**20
        maps = Path(f"/proc/{proc.pid}/maps").read_text()
        return {"start": start, "rss": rss, "pss": pss, "procs": len(family), "torch": float("libtorch" in maps)}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def run_build(tree: Path) -> float:
    data = Path(tempfile.mkdtemp(prefix="cchc-lean-build-"))
    try:
        models = tree / "var" / "models"  # the converted model is a one-off per machine, not part of a build
        if models.exists():
            shutil.copytree(models, data / "models")
        t = time.perf_counter()
        subprocess.run([str(tree / ".venv/bin/cchc"), "build", "--quiet"], check=True, env=env_for(data),
                       capture_output=True)
        return time.perf_counter() - t
    finally:
        shutil.rmtree(data, ignore_errors=True)


def fmt(values: list[float], unit: str, digits: int = 2) -> str:
    return f"median {statistics.median(values):.{digits}f} {unit} (min {min(values):.{digits}f}, max " \
           f"{max(values):.{digits}f}, n={len(values)})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", action="append", required=True, metavar="NAME=DIR")
    ap.add_argument("--data", action="append", default=[], metavar="NAME=DIR")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--build", action="store_true", help="also time a cold `cchc build` (once per tree)")
    args = ap.parse_args()
    trees = {name: Path(d).resolve() for name, d in (t.split("=", 1) for t in args.tree)}
    datas = {name: Path(d).resolve() for name, d in (t.split("=", 1) for t in args.data)}
    qs = queries()
    results: dict[str, dict[str, list[float]]] = {name: {} for name in trees}
    for r in range(args.rounds):
        for name, tree in trees.items():
            data = datas.get(name, tree / "var")
            res = results[name]
            res.setdefault("search", []).append(run_search(tree, data))
            for key, value in run_serve(tree, data, qs).items():
                res.setdefault(key, []).append(value)
            print(f"round {r + 1} {name}: search {res['search'][-1]:.2f}s start {res['start'][-1]:.2f}s "
                  f"rss {res['rss'][-1]:.0f}MB", flush=True)
    if args.build:
        for name, tree in trees.items():
            results[name]["build"] = [run_build(tree)]
            print(f"build {name}: {results[name]['build'][0]:.1f}s", flush=True)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for name, res in results.items():
        print(f"\n[{name}] {trees[name]}")
        print(f"  cchc search wall      : {fmt(res['search'], 's')}")
        print(f"  serve to first answer : {fmt(res['start'], 's')}")
        print(f"  RSS after {len(qs)} queries : {fmt(res['rss'], 'MB', 0)} over {int(res['procs'][0])} processes; "
              f"server PSS {statistics.median(res['pss']):.0f} MB; torch loaded: {bool(res['torch'][0])}")
        if "build" in res:
            print(f"  cchc build (cold)     : {res['build'][0]:.1f} s")


if __name__ == "__main__":
    main()
