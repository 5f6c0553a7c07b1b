"""Search speed: index build time, warm latency in-process and over HTTP.

    .venv/bin/python bench/bench_search.py [--data /tmp/cchc-bench] [--rounds 20] [--reuse] [--no-http]

Prints index build time (extraction, BM25, encoding; skipped with --reuse when
the data directory is already built), then p50/p99 of warm `Searcher.search`
calls in-process (all queries, and the ones typed without diacritics, which
pay for restoration) and of `GET /search` over loopback against `cchc serve`,
over the dev-style queries below (repeated `--rounds` times).  Query vectors
are cached by the encoder, so each figure is given for a query encoded on the
spot and for a repeated one.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

QUERIES = [
    "nhiệm vụ theo Nghị định 118", "QĐ 282", "nghi dinh 42/2022 dich vu cong", "Luật Thực hiện dân chủ ở cơ sở",
    "Sở Nội vụ chủ trì nhiệm vụ năm 2023", "Sở Thông tin và Truyền thông chủ trì năm 2026",
    "nhiệm vụ trong quý I/2026", "tháng 3/2023", "nộp hồ sơ qua mạng", "cổ phần hóa đơn vị sự nghiệp",
    "chấm thi bằng máy tính", "công khai thủ tục hành chính",
    "chuyen doi so", "cai cach thu tuc hanh chinh", "so noi vu chu tri nhiem vu nam 2023", "Đề án 06",
]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/cchc-bench")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--port", type=int, default=8799)
    ap.add_argument("--reuse", action="store_true", help="use the data directory as built, if it is")
    ap.add_argument("--no-http", action="store_true", help="in-process latency only")
    args = ap.parse_args()
    from cchc.service.application import Application, extract_corpus
    from cchc.service.settings import Settings

    settings = Settings.from_env(data_dir=Path(args.data), port=args.port)
    app = Application(settings)
    if not (args.reuse and app.is_built()):
        t0 = time.perf_counter()
        exs = extract_corpus(settings.corpus_dir)
        t1 = time.perf_counter()
        app.encoder  # noqa: B018
        t2 = time.perf_counter()
        app.build_search(exs)
        t3 = time.perf_counter()
        print(f"extract {t1 - t0:.2f}s, model load {t2 - t1:.2f}s, index build (BM25 + encode) {t3 - t2:.2f}s")
    t = time.perf_counter()
    s = app.searcher
    print(f"open searcher (indexes, restorer, encoder): {time.perf_counter() - t:.2f}s")
    s.search("khởi động", 10)  # first call pays torch's one-off set-up
    cache = getattr(app.encoder, "_query_cache", {})  # query vectors are cached: measure with and without
    uncached, cached, folded = [], [], []
    for _ in range(args.rounds):
        for q in QUERIES:
            cache.clear()
            t = time.perf_counter()
            s.search(q, 10)
            ms = (time.perf_counter() - t) * 1000
            uncached.append(ms)
            if s.read(q) != q:
                folded.append(ms)
            t = time.perf_counter()
            s.search(q, 10)
            cached.append((time.perf_counter() - t) * 1000)
    print(f"in-process, query encoded: n={len(uncached)} p50={statistics.median(uncached):.1f} ms "
          f"p99={pct(uncached, 99):.1f} ms")
    print(f"in-process, typed without diacritics, encoded: n={len(folded)} p50={statistics.median(folded):.1f} ms "
          f"p99={pct(folded, 99):.1f} ms")
    print(f"in-process, repeated query (cached vector): n={len(cached)} p50={statistics.median(cached):.1f} ms "
          f"p99={pct(cached, 99):.1f} ms")
    if args.no_http:
        return

    proc = subprocess.Popen([sys.executable, "-m", "cchc.service.cli", "serve", "--data", args.data, "--port",
                             str(args.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{args.port}"
        for _ in range(120):
            try:
                urllib.request.urlopen(base + "/health", timeout=2)
                break
            except OSError:
                time.sleep(1)
        http, first = [], []
        urllib.request.urlopen(f"{base}/search?q=kh%E1%BB%9Fi", timeout=30).read()
        for q in QUERIES:  # first time each query reaches the server: encoded
            t = time.perf_counter()
            urllib.request.urlopen(f"{base}/search?" + urllib.parse.urlencode({"q": q, "k": 10}), timeout=30).read()
            first.append((time.perf_counter() - t) * 1000)
        print(f"HTTP, first time (query encoded): n={len(first)} p50={statistics.median(first):.1f} ms "
              f"p99={pct(first, 99):.1f} ms")
        for _ in range(args.rounds):
            for q in QUERIES:
                t = time.perf_counter()
                body = urllib.request.urlopen(f"{base}/search?" + urllib.parse.urlencode({"q": q, "k": 10}),
                                              timeout=30).read()
                http.append((time.perf_counter() - t) * 1000)
                json.loads(body)
        print(f"HTTP, repeated (cached vector): n={len(http)} p50={statistics.median(http):.1f} ms "
              f"p99={pct(http, 99):.1f} ms")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
