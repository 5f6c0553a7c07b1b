"""The graph store's build alone: N synthetic tasks into a fresh on-disk store, timed by phase.

    .venv/bin/python bench/bench_graph_build.py --tasks 2000
    .venv/bin/python bench/bench_graph_build.py --tasks 10000 --json
    .venv/bin/python bench/bench_graph_build.py --tasks 2000 --profile /tmp/build.prof   # cProfile of the build

Phases (seconds): `corpus` (the synthetic extractions, made before the clock of the build starts),
`build_document` (extraction -> triples), `load` (into Oxigraph), `refresh_shared` (the shared graphs, at
commit) and `commit` (the rest of the commit: flush, close, manifest, publish); `cpu_s` is the process's CPU
time (all threads) over the build, the figure that holds when other jobs share the machine.  `--stream`
(for large N) makes each document as the build reads it and takes that time off.  The phases are measured by
wrapping the store module's own functions, so the product path is what runs.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from synth_corpus import Corpus  # noqa: E402


def _timed(module, name: str, totals: dict[str, float], key: str) -> None:
    """Replace `module.name` by a wrapper adding its wall time to `totals[key]`."""
    fn = getattr(module, name)

    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[key] = totals.get(key, 0.0) + time.perf_counter() - t

    setattr(module, name, wrapper)


def _cpu() -> float:
    """CPU seconds of this process, all threads (Oxigraph's loader has its own): the figure that holds on a
    machine other jobs share."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _plan(corpus: Corpus, tasks: int) -> list:
    """The synthetic corpus's first documents holding at most `tasks` tasks."""
    docs, n = [], 0
    for d in corpus.plan:
        n += corpus.templates[d.template].tasks
        if n > tasks:
            break
        docs.append(d)
    return docs


def documents(tasks: int) -> tuple[list, int]:
    """The synthetic corpus's first documents holding at most `tasks` tasks, as (extraction, info, sha)."""
    corpus = Corpus(tasks)
    plan = _plan(corpus, tasks)
    return [(corpus.extraction(d), corpus.info(d), None) for d in plan], sum(corpus.templates[d.template].tasks
                                                                            for d in plan)


def stream(corpus: Corpus, plan: list, spent: dict[str, float]) -> Iterator[tuple]:
    """The documents made as the build asks for them (a national corpus does not fit in memory as records);
    the wall and CPU time spent making them goes to `spent`, to be taken off the build's."""
    for d in plan:
        t, c = time.perf_counter(), time.thread_time()
        doc = (corpus.extraction(d), corpus.info(d), None)
        spent["wall"] += time.perf_counter() - t
        spent["cpu"] += time.thread_time() - c
        yield doc


def run(tasks: int, profile: str | None = None, streamed: bool = False) -> dict:
    from cchc.graph.rdf import store as store_mod
    from cchc.graph.rdf.store import Store

    t0 = time.perf_counter()
    spent = {"wall": 0.0, "cpu": 0.0}
    if streamed:
        corpus = Corpus(tasks)
        plan = _plan(corpus, tasks)
        docs, n = stream(corpus, plan, spent), sum(corpus.templates[d.template].tasks for d in plan)
        n_docs = len(plan)
    else:
        docs, n = documents(tasks)
        n_docs = len(docs)
    corpus_s = time.perf_counter() - t0
    totals: dict[str, float] = {}
    _timed(store_mod, "build_document", totals, "build_document")
    _timed(store_mod, "refresh_shared", totals, "refresh_shared")
    prof = cProfile.Profile() if profile else None
    with tempfile.TemporaryDirectory(prefix="graph-build-") as tmp:
        store = Store.open(Path(tmp) / "store")
        if prof:
            prof.enable()
        t1, c1 = time.perf_counter(), _cpu()
        with store.stage(fresh=True) as staged:
            staged.build(docs)
            t2 = time.perf_counter()
            staged.commit()
        t3, c3 = time.perf_counter(), _cpu()
        t2 -= spent["wall"]
        t3 -= spent["wall"]
        c3 -= spent["cpu"]
        if prof:
            prof.disable()
            prof.dump_stats(profile)
        triples = store.counts()["triples"]
        store.close()
    total = t3 - t1
    out = {
        "tasks": n, "docs": n_docs, "triples": triples, "corpus_s": round(corpus_s + spent["wall"], 2),
        "build_document_s": round(totals["build_document"], 2),
        "load_s": round(t2 - t1 - totals["build_document"], 2),
        "refresh_shared_s": round(totals["refresh_shared"], 2),
        "commit_s": round(t3 - t2 - totals["refresh_shared"], 2),
        "total_s": round(total, 2), "cpu_s": round(c3 - c1, 2), "ms_per_task": round(1000 * total / max(n, 1), 3),
        "triples_per_s": round(triples / total),
    }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=2000)
    ap.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    ap.add_argument("--profile", help="write a cProfile of the build (not the corpus) to this file")
    ap.add_argument("--stream", action="store_true",
                    help="make each document as the build reads it (large N), its making timed and taken off")
    args = ap.parse_args()
    out = run(args.tasks, args.profile, args.stream)
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:>18} {v}")


if __name__ == "__main__":
    main()
