"""Extraction and encoding throughput: in one process, and on a Dask LocalCluster of 1 and 2 workers.

    .venv/bin/python bench/bench_distributed.py                    # defaults: 6000-task synthetic corpus, e5-small
    .venv/bin/python bench/bench_distributed.py --synth-tasks 2000 --texts 256 --workers 0 1 2 --json

Extraction: first the real table documents of data/corpus (the appendices, `kind == "appendix"`) in this
process, cold (the width and opening-cost caches cleared before each run; best of 3), as KB per CPU-second:
the per-core figure.
Then the table documents of a synthetic corpus (bench/synth_corpus.py: the real appendices re-issued by other
provinces and years, so every document's text differs and no cache is warm) in this process and on 1 and 2
workers: KB/s per core = source kilobytes / wall seconds / workers.  No extraction cache.  Encoding: `--texts`
unit texts of the corpus through the configured model (`--model`), texts/s once each worker loaded it (a
warm-up batch); cluster start-up is reported apart.  Results feed bench/distributed.md; the machine is shared,
so the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "corpus"


def table_documents() -> list[Path]:
    """The corpus documents extracted as tables (appendices), by their extraction kind, not their names."""
    from cchc.graph.corpus import corpus_files, load_manifest
    from cchc.graph.extract.documents import extract_file

    manifest = load_manifest(CORPUS)
    return [p for p in corpus_files(CORPUS) if extract_file(p, manifest.get(p.name)).kind == "appendix"]


def real_tables_cold(docs: list[Path], runs: int = 3) -> dict:
    """KB per CPU-second on the real table documents, each run from cold caches (best of `runs`)."""
    from cchc.graph.corpus import load_manifest
    from cchc.graph.extract import cells
    from cchc.graph.extract.documents import extract_file

    manifest = load_manifest(CORPUS)
    cpu = 0.0
    for p in docs:
        times = []
        for _ in range(runs):
            cells.visual_len.cache_clear()
            cells.head_costs.cache_clear()
            t = time.process_time()
            extract_file(p, manifest.get(p.name))
            times.append(time.process_time() - t)
        cpu += min(times)
    kb = sum(p.stat().st_size for p in docs) / 1024
    return {"step": "extract-real-tables", "workers": 0, "docs": len(docs), "kb": round(kb, 1),
            "cpu_s": round(cpu, 3), "kb_s_per_core": round(kb / cpu, 1)}


def synthetic_tables(tasks: int, folder: Path) -> list[Path]:
    """The table documents (re-issued appendices) of a synthetic corpus of `tasks` tasks."""
    import subprocess
    import sys

    subprocess.run([sys.executable, str(ROOT / "bench" / "synth_corpus.py"), "--tasks", str(tasks),
                    "--write", str(folder)], check=True, capture_output=True)
    return sorted(folder.glob("*-cchc-phuluc-*.txt"))


def bench_extract(files: list[Path], workers: int) -> dict:
    """Wall-clock KB/s of extracting `files` (no cache) in this process (0) or on `workers` local workers."""
    from cchc.graph.extract.documents import extract_file

    kb = sum(p.stat().st_size for p in files) / 1024
    if workers == 0:
        t = time.perf_counter()
        for p in files:
            extract_file(p)
        wall, cores, start = time.perf_counter() - t, 1, 0.0
    else:
        from cchc.service.cluster import BuildCluster

        t = time.perf_counter()
        with BuildCluster(workers=workers) as cluster:
            start = time.perf_counter() - t
            cluster.extract(files[:workers], [None] * workers, None)  # workers import the extractor first
            t = time.perf_counter()
            cluster.extract(files, [None] * len(files), None)
            wall, cores = time.perf_counter() - t, workers
    return {"step": "extract-synthetic-tables", "workers": workers, "docs": len(files), "kb": round(kb, 1),
            "wall_s": round(wall, 2),
            "kb_s": round(kb / wall, 1), "kb_s_per_core": round(kb / wall / cores, 1),
            "cluster_start_s": round(start, 1)}


def bench_encode(texts: list[str], workers: int, model: str, data: Path) -> dict:
    from cchc.embeddings.encoder import make_encoder

    if workers == 0:
        t = time.perf_counter()
        enc = make_encoder(model, data)
        enc.encode_passages(texts[:8])
        start = time.perf_counter() - t
        t = time.perf_counter()
        enc.encode_passages(texts)
        wall = time.perf_counter() - t
    else:
        from cchc.service.cluster import BuildCluster

        t = time.perf_counter()
        with BuildCluster(workers=workers) as cluster:
            enc = cluster.encoder(model, data)
            enc.encode_passages(texts[: 32 * workers])  # every worker loads the model (one batch each)
            start = time.perf_counter() - t
            t = time.perf_counter()
            enc.encode_passages(texts)
            wall = time.perf_counter() - t
    return {"step": "encode", "workers": workers, "model": model, "texts": len(texts), "wall_s": round(wall, 2),
            "texts_s": round(len(texts) / wall, 1), "start_s": round(start, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--synth-tasks", type=int, default=6000, help="tasks of the synthetic corpus (default 6000)")
    ap.add_argument("--texts", type=int, default=256, help="unit texts encoded (default 256)")
    ap.add_argument("--model", default="e5-small", help="encoder spec (default e5-small; hashing is instant)")
    ap.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2],
                    help="configurations: 0 = in process, N = LocalCluster of N workers (default 0 1 2)")
    ap.add_argument("--skip", choices=("extract", "encode"), help="leave one step out")
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"# load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} on {os.cpu_count()} cores")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.skip != "extract":
            rows.append(real_tables_cold(table_documents()))
            files = synthetic_tables(args.synth_tasks, Path(tmp) / "synth")
            rows += [bench_extract(files, w) for w in args.workers]
        if args.skip != "encode":
            from cchc.graph.corpus import load_manifest
            from cchc.graph.extract.documents import extract_file
            from cchc.search.units import build_units

            manifest = load_manifest(CORPUS)
            exs = [extract_file(p, manifest.get(p.name)) for p in sorted(CORPUS.glob("*.txt"))]
            texts = [u.index_text for u in build_units(exs, manifest)]
            texts = [texts[i % len(texts)] for i in range(args.texts)]
            data = ROOT / "var"  # the converted model is kept there by `cchc build`
            rows += [bench_encode(texts, w, args.model, data) for w in args.workers]
    for r in rows:
        print(json.dumps(r) if args.json else "  ".join(f"{k}={v}" for k, v in r.items()))
    print(f"# load average {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
