"""Search at national scale: build a synthetic corpus of N tasks, serve it, measure it over HTTP.

    .venv/bin/python bench/bench_scale.py --tasks 10000 --json
    .venv/bin/python bench/bench_scale.py --tasks 200000 --json --keep /tmp/scale-200k   # keep the data dir
    .venv/bin/python bench/bench_scale.py --tasks 50000 --inprocess                      # the Searcher alone

Steps (each timed; the last line printed is one JSON object):

1. the corpus: bench/synth_corpus.py's documents of N tasks (real rows recombined, deterministic seed);
2. the search index: the product's writer (`cchc.search.index`) over the synthetic units, with the
   hashing encoder (the real model's throughput is measured apart: bench/bench_encoder.py);
3. the graph store: the product's `Store.build` over the synthetic extractions, for at most
   --graph-tasks tasks (documents in corpus order; 0: all), with its carry-over and read index (the
   projection saved with the generation); `graph_tasks` in the JSON says how much was built;
4. `cchc serve` on a free loopback port over the data directory (`cold_start_s`: from the process start
   to the first answered search), then /search over varied queries (instruments popular and rare,
   agencies with roles, deadlines, topics, queries typed without diacritics, year/agency/field filters)
   one request at a time after one warm-up pass, and /instruments/{id} (the graph's trace) for instruments
   in the graph; `open_search_s`: opening the search index alone in a fresh process, plus one query;
5. `rss_mb`: resident memory of the server and its child processes (SPARQL workers), after the run.

JSON keys: tasks, units, build_s (corpus + index + graph), search_p50_ms, search_p99_ms,
trace_p50_ms, rss_mb, cold_start_s, plus the parts (index_s, graph_s, graph_tasks, docs, ...).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import numpy as np

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from synth_corpus import CODE_TYPES, Corpus  # noqa: E402

# ---------------------------------------------------------------- build

# what `build_s` adds up: units, encoding, search index, graph, then sources, carry-over, read index and check
BUILD_PARTS = ("units_s", "encode_s", "index_s", "graph_s", "sources_s")


def encode_unique(encoder, texts: list[str], batch: int = 512) -> np.ndarray:
    """Vectors of `texts`, each distinct text encoded once (recombined rows repeat; a build cache does the same)."""
    index: dict[str, int] = {}
    rows = np.empty(len(texts), dtype=np.int64)
    for i, t in enumerate(texts):
        rows[i] = index.setdefault(t, len(index))
    uniq = list(index)
    parts = [encoder.encode_passages(uniq[s:s + batch]) for s in range(0, len(uniq), batch)]
    vecs = np.vstack(parts) if parts else np.zeros((0, encoder.dimension), np.float32)
    return np.ascontiguousarray(vecs[rows], dtype=np.float32)


def build(corpus: Corpus, data: Path, graph_tasks: int | None) -> dict:
    """The data directory `cchc serve` reads: one published generation (graph store, search index, sources and
    carry-over in `<data>/gNNNNNN/`, named by `<data>/CURRENT`), as `cchc build` lays it out.

    With every document in the graph the generation passes the writer's own check before it is published; with
    `--graph-tasks` below the corpus the graph holds only the first documents, so the check (graph, index and
    sources must name the same documents) is skipped and `/health` would say so.
    """
    from cchc.graph.rdf.store import Store
    from cchc.graph.read.readindex import save_with_generation
    from cchc.service.application import Application
    from cchc.service.generation import SEARCH, SOURCES, clean
    from cchc.service.settings import Settings

    app = Application(Settings(data_dir=data, model="hashing", corpus_dir=data / "none"))
    store = Store.open(data, create=True, derive=save_with_generation)
    with store.stage(fresh=True) as staged:
        assert staged.path is not None
        out = build_graph(corpus, staged, graph_tasks)
        out.update(build_index(corpus, staged.path / SEARCH))
        t = time.perf_counter()
        docs = None if out["graph_tasks"] == corpus.task_count else out["graph_docs"]
        corpus.write(staged.path / SOURCES, limit=docs)
        app._carryover_into(staged, list(corpus.iter_extractions(docs)), progress=False)
        staged.commit(app._check if docs is None else None)
        out["sources_s"] = time.perf_counter() - t
    store.close()
    clean(data)
    return out


def build_index(corpus: Corpus, search_dir: Path) -> dict:
    """The search index of the corpus, written by the product's writer (hashing encoder)."""
    import json as _json

    from cchc.embeddings.encoder import HashingEncoder
    from cchc.search.index import IndexParts, write_index

    out: dict = {}
    t0 = time.perf_counter()
    units = list(corpus.iter_units())
    out["units_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    encoder = HashingEncoder()
    vectors = encode_unique(encoder, [u.index_text for u in units])
    out["encode_s"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    parts = IndexParts(units, vectors, encoder.model_id, corpus.titles(), corpus.instruments())
    write_index(parts, search_dir)
    out["index_s"] = time.perf_counter() - t2
    out["units"] = len(units)
    del units, vectors, parts
    gc.collect()
    manifest = _json.loads((search_dir / "units" / "manifest.json").read_text("utf-8")) \
        if (search_dir / "units" / "manifest.json").exists() else {}
    out.update({k: manifest[k] for k in ("vector_kind", "ef_search", "k_factor", "ann_recall_at_10",
                                         "distinct_vectors", "sq_recall_at_10", "hnsw_recall_at_10",
                                         "hnsw_ef_search") if k in manifest})
    from cchc.search.ann import Ann, recall_at

    units_dir = search_dir / "units"
    if Ann.exists(units_dir):  # recall@10 of the ANN on this bench's own queries, against exact search
        ann = Ann(units_dir)
        distinct = ann.vectors
        qv = np.ascontiguousarray(encoder.encode_queries([q["q"] for q in queries(corpus)]), dtype=np.float32)
        out["ann_recall_queries"] = round(recall_at(ann.index, distinct, qv), 4)
    return out


def build_graph(corpus: Corpus, staged, graph_tasks: int | None) -> dict:
    """The graph of the first documents holding at most `graph_tasks` tasks (all when None), into `staged`."""
    out: dict = {}
    t3 = time.perf_counter()
    docs, tasks = [], 0
    for d in corpus.plan:
        n = corpus.templates[d.template].tasks
        if graph_tasks is not None and tasks + n > graph_tasks:
            break
        docs.append(d)
        tasks += n
    staged.build((corpus.extraction(d), corpus.info(d), None) for d in docs)
    out["graph_s"] = time.perf_counter() - t3
    out["graph_tasks"] = tasks
    out["graph_docs"] = len(docs)
    out["graph_instruments"] = sorted({c for d in docs for c in d.cites.values()})
    return out


# ---------------------------------------------------------------- queries

def queries(corpus: Corpus, n_topic: int = 12) -> list[dict]:
    """Varied queries: instruments (popular, rare), agencies and roles, deadlines, topics, folded, filters."""
    rng = np.random.default_rng(7)
    pool = corpus.pool
    popular = [ids[0] for ids in pool.by_code.values()][:6]
    rare = [ids[int(rng.integers(len(ids) // 2, len(ids)))] for ids in pool.by_code.values()][:6]
    qs: list[dict] = []
    for cid in popular + rare:
        code = next(c for c in CODE_TYPES if cid.endswith(c))
        qs.append({"q": f"nhiệm vụ theo {CODE_TYPES[code]} {cid}"})
    qs += [{"q": q} for q in (
        "Sở Nội vụ chủ trì năm 2023", "Sở Tư pháp chủ trì", "UBND cấp xã phối hợp", "Văn phòng UBND tỉnh chủ trì 2026",
        "Sở Tài chính phối hợp năm 2021", "Công an tỉnh chủ trì", "các phòng chuyên môn xã thực hiện",
        "quý I/2024", "hạn chót hoàn thành trong tháng 6/2022", "nhiệm vụ phải xong năm 2019",
        "trước ngày 30/11/2025", "6 tháng đầu năm 2020",
        "số hóa hồ sơ thủ tục hành chính", "dịch vụ công trực tuyến toàn trình", "chỉ số hài lòng SIPAS",
        "kiểm soát thủ tục hành chính", "cải cách tài chính công", "chuyển đổi số chính quyền điện tử",
        "tinh giản biên chế", "thanh tra công vụ", "bộ phận một cửa", "đánh giá chỉ số PAR INDEX",
        "cai cach thu tuc hanh chinh", "so hoa ket qua giai quyet", "Đề án 06",
        "hạn chót hoàn thành số hóa hồ sơ năm 2023", "chuyển đổi số: việc phải xong năm 2025",
    )][: 27 + n_topic]
    filt = [
        {"q": "cải cách thủ tục hành chính", "year": 2022},
        {"q": "dịch vụ công trực tuyến", "agency": "so-noi-vu"},
        {"q": "kiểm tra công vụ", "year": 2018, "agency": "so-noi-vu"},
        {"q": "số hóa", "field": "thu-tuc-hanh-chinh"},
        {"q": "nhiệm vụ năm 2024", "agency": "ubnd-xa"},
        {"q": f"theo {popular[0]}", "year": 2020},
    ]
    return qs + filt


# ---------------------------------------------------------------- serving

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_tree_mb(pid: int) -> float:
    import psutil

    try:
        p = psutil.Process(pid)
        procs = [p, *p.children(recursive=True)]
    except psutil.NoSuchProcess:
        return float("nan")
    total = 0
    for q in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += q.memory_info().rss
    return total / 2**20


class Client:
    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            self.conn.request("GET", path)
            r = self.conn.getresponse()
            return r.status, r.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            raise


def search_path(q: dict, k: int = 10) -> str:
    return "/search?" + urlencode({**q, "k": k})


def serve_and_measure(data: Path, qs: list[dict], instruments: list[str], reps: int) -> dict:
    port = free_port()
    # One BLAS/OpenMP thread per server process, as the encoder runs (Settings.serve_threads): a query is a few
    # small matrix-vector products, and OpenBLAS/OpenMP threads spin-waiting on 2 shared cores doubled its time
    # (200k tasks in-process: 63 -> 37 ms a query).
    env = {**os.environ, "CCHC_LOG_LEVEL": "WARNING", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "cchc.service.cli", "serve", "--data", str(data), "--model", "hashing",
           "--port", str(port)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    out: dict = {}
    try:
        client = None
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"cchc serve exited: {proc.stderr.read().decode()[-2000:]}")
            try:
                client = Client(port)
                status, _ = client.get(search_path(qs[0]))
                if status == 200:
                    break
            except OSError:
                time.sleep(0.05)
            if time.perf_counter() - t0 > 900:
                raise RuntimeError("cchc serve did not answer in 900 s")
        out["cold_start_s"] = time.perf_counter() - t0
        for q in qs:  # one pass first: page-ins of the memory maps and the graph trace's per-instrument cache
            client.get(search_path(q))
        lat: list[float] = []
        per_query: dict[str, list[float]] = {}
        bad = 0
        for _ in range(reps):
            for q in qs:
                t = time.perf_counter()
                status, _ = client.get(search_path(q))
                dt = (time.perf_counter() - t) * 1000
                bad += status != 200
                lat.append(dt)
                per_query.setdefault(json.dumps(q, ensure_ascii=False), []).append(dt)
        out["search_p50_ms"] = statistics.median(lat)
        out["search_p99_ms"] = float(np.percentile(lat, 99))
        out["search_errors"] = bad
        out["slowest"] = sorted(((round(statistics.median(v), 1), k) for k, v in per_query.items()), reverse=True)[:5]
        tl = []
        for _ in range(max(1, reps)):
            for iid in instruments:
                t = time.perf_counter()
                status, _ = client.get(f"/instruments/{quote(iid, safe='')}")
                tl.append((time.perf_counter() - t) * 1000)
                bad += status not in (200, 404)
        out["trace_p50_ms"] = statistics.median(tl) if tl else None
        out["rss_mb"] = rss_tree_mb(proc.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    return out


def live_search(data: Path) -> Path:
    """The search index of the data directory's live generation."""
    return data / (data / "CURRENT").read_text().strip() / "search"


def open_search_s(data: Path, q: dict) -> float:
    """Seconds to open the search index and answer one query in a fresh process (the search side of a cold
    start; the server's also opens the graph store and builds its in-memory projection)."""
    code = ("import sys,time; t=time.perf_counter(); from pathlib import Path; "
            "from cchc.embeddings.encoder import HashingEncoder; from cchc.search.index import open_searcher; "
            "s=open_searcher(Path(sys.argv[1]), HashingEncoder()); s.search(sys.argv[2], 10); "
            "print(time.perf_counter()-t)")
    out = subprocess.run([sys.executable, "-c", code, str(live_search(data)), q["q"]], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def measure_inprocess(data: Path, qs: list[dict], reps: int) -> dict:
    """The searcher alone (no HTTP, no graph): open time, memory and per-query latency."""
    from cchc.embeddings.encoder import HashingEncoder
    from cchc.search.index import open_searcher
    from cchc.search.searcher import Filters

    t0 = time.perf_counter()
    s = open_searcher(live_search(data), HashingEncoder())
    out = {"open_s": time.perf_counter() - t0}
    lat = []
    for _ in range(reps):
        for q in qs:
            f = {k: v for k, v in q.items() if k != "q"}
            t = time.perf_counter()
            s.search(q["q"], 10, Filters(**f) if f else None)
            lat.append((time.perf_counter() - t) * 1000)
    out["search_p50_ms"] = statistics.median(lat)
    out["search_p99_ms"] = float(np.percentile(lat, 99))
    out["rss_mb"] = rss_tree_mb(os.getpid())
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, required=True)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--json", action="store_true", help="print only progress lines and the JSON object")
    ap.add_argument("--reps", type=int, default=3, help="times each query is asked")
    ap.add_argument("--graph-tasks", type=int, default=5_000,
                    help="build the graph store over at most this many tasks (default 5000; 0: all of them: at 50k "
                         "tasks the whole graph, carry-over and read index took 188 s, see bench/scale.md)")
    ap.add_argument("--keep", type=Path, help="build into this directory and keep it (reused when already built)")
    ap.add_argument("--inprocess", action="store_true", help="measure the Searcher in this process, not over HTTP")
    ap.add_argument("--reindex", action="store_true", help="with --keep: rebuild the search index (keep the graph)")
    ap.add_argument("--record", type=Path, help="append the JSON object to this file (one line per run)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    corpus = Corpus(args.tasks, args.seed)
    plan_s = time.perf_counter() - t0
    tmp = None
    data = args.keep
    if data is None:
        tmp = tempfile.mkdtemp(prefix=f"cchc-scale-{args.tasks}-")
        data = Path(tmp)
    result: dict = {"tasks": corpus.task_count, "docs": len(corpus.plan)}
    try:
        marker = data / "bench-build.json"
        if marker.exists():
            built = json.loads(marker.read_text())
            if args.reindex:
                shutil.rmtree(live_search(data))  # a bench directory: rewritten in place, not a new generation
                built.update(build_index(corpus, live_search(data)))
                built["build_s"] = plan_s + sum(built.get(k, 0.0) for k in BUILD_PARTS)
                marker.write_text(json.dumps(built))
        else:
            data.mkdir(parents=True, exist_ok=True)
            built = build(corpus, data, args.graph_tasks or None)
            built["build_s"] = plan_s + sum(built.get(k, 0.0) for k in BUILD_PARTS)
            marker.write_text(json.dumps(built))
        instruments = built.pop("graph_instruments")
        print(f"# built {built['units']} units in {built['build_s']:.1f}s "
              f"(graph: {built['graph_tasks']} tasks)", file=sys.stderr, flush=True)
        result.update({k: (round(v, 2) if isinstance(v, float) else v) for k, v in built.items()})
        qs = queries(corpus)
        rng = np.random.default_rng(3)
        popular = [i for i in (ids[0] for ids in corpus.pool.by_code.values()) if i in instruments]
        others = [instruments[int(i)] for i in rng.choice(len(instruments), size=min(10, len(instruments)),
                                                          replace=False)] if instruments else []
        trace_ids = list(dict.fromkeys(popular[:5] + others))
        del corpus
        gc.collect()
        result["mode"] = "inprocess" if args.inprocess else "http"
        result["path"] = "candidates" if (live_search(data) / "units" / "manifest.json").exists() else "first"
        if args.inprocess:
            result.update(measure_inprocess(data, qs, args.reps))
        else:
            result["open_search_s"] = open_search_s(data, qs[0])
            result.update(serve_and_measure(data, qs, trace_ids, args.reps))
        if result["graph_tasks"] < result["tasks"]:
            result["graph_note"] = (f"graph store built over the first {result['graph_tasks']} tasks only "
                                    "(--graph-tasks; 0 builds all of it)")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    result = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in result.items()}
    if not args.json:
        for k, v in result.items():
            print(f"{k:>18s}: {v}")
    line = json.dumps(result, ensure_ascii=False)
    if args.record:
        with args.record.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
