"""Graph build speed: `cchc build` end to end, its phases, incremental changes and trace latency.

    .venv/bin/python bench/bench_build.py [--data /tmp/cchc-bench-graph] [--rounds 5]

Prints the wall time of `cchc build` as a user runs it (a fresh process: imports,
extraction, RDF build, Oxigraph load, shared graphs; no embeddings), best and
median of `--rounds`; then in-process: extraction vs store build, `remove` +
`add` of one document, the projection and p50/p99 of `trace()`.  The goal is a
build under 15 s and trace p50 under 30 ms.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

QUERIES = ["NĐ 118", "76/NQ-CP", "60-NQ/TU", "QĐ 282", "nghi dinh 42/2022", "Luật Thực hiện dân chủ ở cơ sở"]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/cchc-bench-graph")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    data = Path(args.data)
    cli = Path(sys.executable).with_name("cchc")
    walls, summary = [], ""
    for _ in range(args.rounds):
        shutil.rmtree(data, ignore_errors=True)
        t = time.perf_counter()
        done = subprocess.run([str(cli), "build", "--graph-only", "--data", str(data), "--quiet"], check=True,
                              capture_output=True,
                              text=True)
        walls.append(time.perf_counter() - t)
        summary = done.stdout.strip()
    print(summary)
    print(f"cchc build (fresh process): best {min(walls):.2f}s, median {statistics.median(walls):.2f}s "
          f"over {args.rounds} runs (goal < 15 s)")

    from cchc.graph.corpus import default_corpus_dir
    from cchc.graph.rdf.pipeline import add_file, build_corpus
    from cchc.graph.rdf.store import Store
    from cchc.graph.read.projection import projection
    from cchc.graph.read.trace import trace

    corpus = default_corpus_dir()
    store = Store(data / "store")
    counts = build_corpus(store, corpus)
    print(f"in-process: extract {counts['extract_s']:.2f}s, RDF build + Oxigraph load + shared graphs "
          f"{counts['load_s']:.2f}s, {int(counts['triples'])} quads")
    t = time.perf_counter()
    store.remove_document("tandoan-2025-cchc.txt")
    t1 = time.perf_counter()
    add_file(store, corpus / "tandoan-2025-cchc.txt")
    t2 = time.perf_counter()
    print(f"remove one document {t1 - t:.2f}s, add it back (with extraction) {t2 - t1:.2f}s")
    t = time.perf_counter()
    g = projection(store)
    print(f"projection {1000 * (time.perf_counter() - t):.0f} ms ({g.number_of_nodes()} nodes, "
          f"{g.number_of_edges()} edges)")
    lat = []
    for _ in range(50):
        for q in QUERIES:
            t = time.perf_counter()
            trace(store, q)
            lat.append(time.perf_counter() - t)
    print(f"trace: p50 {1000 * statistics.median(lat):.2f} ms, p99 {1000 * pct(lat, 99):.2f} ms "
          f"over {len(lat)} calls (goal p50 < 30 ms)")


if __name__ == "__main__":
    main()
