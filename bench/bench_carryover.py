"""Carry-over at national scale: plan pairing and `compute_carryover` on a synthetic corpus of N tasks.

    .venv/bin/python bench/bench_carryover.py --tasks 10000
    .venv/bin/python bench/bench_carryover.py --tasks 10000 --profile /tmp/co.prof   # cProfile of the compute step

The corpus is bench/synth_corpus.py's (real rows recombined, deterministic
seed), described by the manifest entries its writer would print
(`Corpus.info`, what `load_manifest` reads back), encoded with the hashing
encoder as bench/bench_scale.py's build does, so what is timed is the
matcher, not a model.  Steps, each timed:

1. `corpus_s`: the synthetic extractions (not the product; reported to tell it apart);
2. `describe_s`, `pairing_s`: `describe_plans`, then `plan_pairs` alone;
3. `compute_s`: `compute_carryover` as a build runs it (pairing included).

The last line printed is one JSON object: tasks, docs, plan_pairs, links, the times.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import pstats
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from synth_corpus import Corpus  # noqa: E402


def synthetic(tasks: int, seed: int = 16) -> tuple[list, dict]:
    """(extractions, manifest entries by file name) of the synthetic corpus of about `tasks` tasks."""
    corpus = Corpus(tasks, seed=seed)
    return list(corpus.iter_extractions()), {d.name: corpus.info(d) for d in corpus.plan}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--profile", type=Path, help="write a cProfile of compute_carryover here (and print its top)")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--pairing-only", action="store_true", help="stop after plan pairing")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    from cchc.embeddings.encoder import HashingEncoder
    from cchc.graph.extract.agencies import load_registry
    from cchc.search.carryover.compute import compute_carryover
    from cchc.search.carryover.plans import describe_plans, plan_pairs

    out: dict = {"tasks": args.tasks}
    t0 = time.perf_counter()
    exs, infos = synthetic(args.tasks, args.seed)
    out["corpus_s"] = round(time.perf_counter() - t0, 2)
    out["docs"] = len(exs)
    out["task_rows"] = sum(len(ex.tasks) for ex in exs)
    registry = load_registry()

    t1 = time.perf_counter()
    plans = describe_plans(exs, infos)
    out["describe_s"] = round(time.perf_counter() - t1, 3)
    t1 = time.perf_counter()
    pairs = plan_pairs(plans)
    out["pairing_s"] = round(time.perf_counter() - t1, 3)
    out["plan_pairs"] = len(pairs)
    out["relations"] = {r: sum(p.relation == r for p in pairs) for r in sorted({p.relation for p in pairs})}

    if args.pairing_only:
        print(json.dumps(out))
        return 0
    encoder = HashingEncoder()
    profiler = cProfile.Profile() if args.profile else None
    t2, c2 = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    result = compute_carryover(exs, encoder, infos=infos, registry=registry)
    if profiler:
        profiler.disable()
    out["compute_s"] = round(time.perf_counter() - t2, 2)
    out["compute_cpu_s"] = round(time.process_time() - c2, 2)  # the machine may be shared: CPU time too
    out["links"] = len(result.pairs)
    if profiler:
        profiler.dump_stats(args.profile)
        pstats.Stats(str(args.profile)).sort_stats("cumulative").print_stats(args.top)
        pstats.Stats(str(args.profile)).sort_stats("tottime").print_stats(args.top)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
