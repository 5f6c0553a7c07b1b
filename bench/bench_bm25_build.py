"""BM25 index build alone, on the synthetic corpus: peak memory and seconds, bm25s against the numpy build.

    nice .venv/bin/python bench/bench_bm25_build.py --tasks 200000 --impl numpy   # one build per process
    nice .venv/bin/python bench/bench_bm25_build.py --tasks 200000 --impl bm25s
    nice .venv/bin/python bench/bench_bm25_build.py --tasks 10000 --impl check    # both, arrays compared

bench_scale.py builds the whole search index (encoding, ANN, unit store) in ~15 min at 200k tasks; this
makes the same units (`Corpus.iter_units`) and builds only the BM25 arrays, so the build's share of the
peak is seen alone: `units_rss_mb` is the process once the units exist, `peak_rss_mb` (ru_maxrss) the
high-water mark after the build.  "bm25s" is the build as it was (bm25s.BM25.index on every unit's
tokens), kept here to measure against.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth_corpus import Corpus


def rss_mb() -> float:
    """The process's resident memory now (MB)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bm25s_arrays(texts: list[str]) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """The build before: bm25s over every unit's token list (a repeated text's list shared)."""
    import logging

    import bm25s
    from cchc.search.text import tokens

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    r = bm25s.BM25(k1=1.2, b=0.75)
    seen: dict[str, list[str]] = {}
    r.index([seen[t] if t in seen else seen.setdefault(t, tokens(t) or ["∅"]) for t in texts], show_progress=False)
    return {k: np.asarray(r.scores[k]) for k in ("data", "indices", "indptr")}, r.vocab_dict


def numpy_arrays(texts: list[str]) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    from cchc.search.bm25 import _bm25_arrays

    return _bm25_arrays(texts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=10000)
    ap.add_argument("--impl", choices=["numpy", "bm25s", "check"], default="numpy")
    args = ap.parse_args(argv)

    from cchc.search.text import tokens

    tokens("khởi động")  # load the word segmenter before measuring
    out: dict = {"tasks": args.tasks, "impl": args.impl}
    t0 = time.perf_counter()
    texts = [u.index_text for u in Corpus(args.tasks).iter_units()]  # the units themselves are not kept
    gc.collect()
    out.update(units=len(texts), distinct_texts=len(set(texts)), units_s=round(time.perf_counter() - t0, 1),
               units_rss_mb=round(rss_mb()), units_peak_mb=round(peak_mb()))
    impls = [bm25s_arrays, numpy_arrays] if args.impl == "check" else \
        [bm25s_arrays if args.impl == "bm25s" else numpy_arrays]
    built = []
    for build in impls:
        t1 = time.perf_counter()
        arrays, vocab = build(texts)
        out[f"{build.__name__}_s"] = round(time.perf_counter() - t1, 1)
        built.append((arrays, vocab))
    out.update(peak_rss_mb=round(peak_mb()), nnz=len(built[0][0]["data"]), vocab=len(built[0][1]),
               arrays_mb=round(sum(a.nbytes for a in built[0][0].values()) / 2**20))
    if args.impl == "check":
        (a, va), (b, vb) = built
        out["identical"] = list(va.items()) == list(vb.items()) and all(
            a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]) for k in a)
    print(json.dumps(out))
    return 0 if out.get("identical", True) else 1


if __name__ == "__main__":
    raise SystemExit(main())
