"""HTTP load: `/search` and `/sparql` under wrk, and the SPARQL endpoint beside Oxigraph in-process.

    .venv/bin/cchc build --data /tmp/bench-data          # once, ~1-2 min on an idle machine
    .venv/bin/python bench/bench_http.py --data /tmp/bench-data [--duration 10] [--out bench/http.md]

For each server set-up (`--variants`: `cchc serve` as shipped, and
`cchc serve --workers 2`) it starts the server
on loopback over the data directory and runs wrk (bench/rotate.lua rotating
the request paths) against `/search` and `/sparql` at 1 and 16 connections,
`--duration` seconds each: req/s, p50/p90/p99, and the server's CPU time per
request (its whole process tree), which says what the CPUs could serve with
no other load on the machine.

On the first set-up it also times each SPARQL query through `/sparql`, one
request at a time, beside the same query run in this process on the store
opened read-only with pyoxigraph (every solution iterated), in alternating
blocks so both see the same machine: the ratio is the endpoint's overhead
(HTTP, request handling, serialisation); the Server-Timing header splits off
the server's own evaluation and serialisation.

Last, where a search's time goes: the searcher in-process (p50 per query) and
a cProfile of it, top functions by own time.  Prints a Markdown report (and
writes it to `--out`).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from cchc.ontology.competency import competency_queries

HERE = Path(__file__).resolve().parent
MARKER = "<!-- measured: everything below is rewritten by bench/bench_http.py -->"
SEARCH_QUERIES = [
    "nhiệm vụ theo Nghị định 118", "QĐ 282", "nghi dinh 42/2022 dich vu cong", "Sở Nội vụ chủ trì nhiệm vụ năm 2023",
    "nhiệm vụ trong quý I/2026", "công khai thủ tục hành chính", "chấm thi bằng máy tính", "Luật Thực hiện dân chủ",
]
# the ontology's competency queries (own prefixes) plus two short ones relying on the predeclared project prefixes
SPARQL_QUERIES = {
    "tu-phap-III": 'SELECT ?no WHERE { ?t cchc:leadAgency/skos:prefLabel "Sở Tư pháp"@vi ; cchc:sectionNumber "III" ; '
                   'cchc:rowNumber ?no ; cchc:partOf/dcterms:identifier "langson-2026-cchc-phuluc" }',
    "construct-60": 'CONSTRUCT { ?i ?p ?o } WHERE { ?i dcterms:identifier "60-NQ/TU" ; ?p ?o }',
    **competency_queries(),
}
WRK_SPARQL = ["tu-phap-III", "construct-60", "CQ1", "CQ2", "CQ4", "CQ8"]  # the light, typical ones


def get(url: str, timeout: float = 60) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def sparql_path(query: str) -> str:
    return "/sparql?" + urllib.parse.urlencode({"query": query})


def search_path(q: str) -> str:
    return "/search?" + urllib.parse.urlencode({"q": q, "k": 10})


# ------------------------------------------------------------------ the server
VARIANTS = {
    # name: (description, extra environment, server processes)
    "serve": ("`cchc serve` as shipped (1 process, one torch/onnxruntime thread per query)", {}, 1),
    "serve-2": ("`cchc serve --workers 2` (one server process per CPU, each with its own SPARQL workers)", {}, 2),
}

def start_server(data: Path, port: int, variant: str = "serve") -> subprocess.Popen:
    _, extra, workers = VARIANTS[variant]
    env = {**os.environ, "CCHC_LOG_LEVEL": "WARNING", "CCHC_DATA_DIR": str(data), **extra}
    cmd = [sys.executable, "-m", "cchc.service.cli", "serve", "--data", str(data), "--port", str(port),
           "--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"cchc serve exited: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            if get(f"http://127.0.0.1:{port}/health", timeout=2)[0] == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError("cchc serve did not answer /health within 600 s")


# ------------------------------------------------------------------ measurements
def paired_latency(base: str, data: Path, server_pid: int, blocks: int = 5,
                   seconds: int = 1) -> tuple[dict[str, list[float]], ...]:
    """Each SPARQL query in this process (pyoxigraph on the store opened read-only, every solution iterated)
    beside the same query through /sparql under wrk at one connection (a C client: what the endpoint costs, not
    what Python's http.client costs), in alternating blocks of `seconds`: this VM's speed drifts up to 2x within
    seconds, and only measurements taken side by side make a ratio.

    Returns, per query: in-process seconds (every run), /sparql p50 and p99 seconds (one per wrk block), the
    server's own seconds per request (Server-Timing, 10 requests), and rows."""
    import http.client

    import pyoxigraph as ox
    from cchc.graph.rdf import generations as gens
    from cchc.graph.rdf.terms import prefixes
    from cchc.ontology import IRIs

    root = data  # the data directory's generations (see cchc.service.generation)
    manifest = json.loads((root / gens.current(root) / "manifest.json").read_text("utf-8"))  # type: ignore[operator]
    store = ox.Store.read_only(str(root / gens.current(root) / "oxigraph"))  # type: ignore[operator]
    pf = prefixes(IRIs(manifest["base"]))
    host, port = urllib.parse.urlsplit(base).netloc.split(":")

    def here(q: str) -> float:
        t = time.perf_counter()
        result = store.query(q, use_default_graph_as_union=True, prefixes=pf)
        if not isinstance(result, ox.QueryBoolean):
            list(result)
        return time.perf_counter() - t

    def there(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes, float]:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        timing = resp.getheader("Server-Timing", "")
        return resp.status, body, float(timing.split("dur=")[1].split(";")[0]) / 1000 if "dur=" in timing else 0.0

    direct: dict[str, list[float]] = {}
    p50: dict[str, list[float]] = {}
    p99: dict[str, list[float]] = {}
    inner: dict[str, list[float]] = {}
    rows: dict[str, int] = {}
    for name, q in SPARQL_QUERIES.items():
        path = sparql_path(q)
        rows[name] = len(list(store.query(q, use_default_graph_as_union=True, prefixes=pf)))  # warms the cache
        conn = http.client.HTTPConnection(host, int(port), timeout=60)  # one per phase: idle ones are closed
        for _ in range(3):  # the first goes to a worker, which proves it cheap; then it runs in the server
            status, body, _ = there(conn, path)
            if status != 200:
                raise RuntimeError(f"{name}: /sparql answered {status}: {body[:300]!r}")
        direct[name], p50[name], p99[name] = [], [], []
        for _ in range(blocks):
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                direct[name].append(here(q))
            r = run_wrk(base, [path], 1, seconds, server_pid)
            if sum(r["errors"].values()):
                raise RuntimeError(f"{name}: wrk saw errors {r['errors']}")
            p50[name].append(r["p50_us"] / 1e6)
            p99[name].append(r["p99_us"] / 1e6)
        conn.close()
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        inner[name] = [there(conn, path)[2] for _ in range(10)]
        conn.close()
    return direct, p50, p99, inner, rows


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and all its descendants still running."""
    import psutil

    total = 0.0
    try:
        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            try:
                t = proc.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
    except psutil.NoSuchProcess:
        pass
    return total


def run_wrk(base: str, paths: list[str], connections: int, duration: int, server_pid: int,
            fresh: bool = False) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".paths", delete=False) as fh:
        fh.write("\n".join(paths) + "\n")
    env = {**os.environ, "WRK_PATHS": fh.name, **({"WRK_FRESH": "1"} if fresh else {})}
    cpu0 = tree_cpu(server_pid)
    threads = min(connections, 2)
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", "-s",
           str(HERE / "rotate.lua"), base + paths[0]]
    try:
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=duration + 120).stdout
    finally:
        os.unlink(fh.name)
    line = next(x for x in out.splitlines() if x.startswith("WRK_JSON "))
    r = json.loads(line[len("WRK_JSON "):])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["cpu_ms"] = (tree_cpu(server_pid) - cpu0) * 1000 / max(1, r["requests"])  # server CPU per request
    return r


def profile_search(data: Path, rounds: int) -> tuple[dict[str, float], str]:
    """The searcher in this process: p50 per query, and a cProfile of `rounds` passes over the queries."""
    from cchc.service.application import Application
    from cchc.service.settings import Settings

    app = Application(Settings.from_env(data_dir=data))
    searcher = app.searcher
    for q in SEARCH_QUERIES:
        searcher.search(q, 10)
    p50 = {}
    for q in SEARCH_QUERIES:
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            searcher.search(q, 10)
            times.append(time.perf_counter() - t)
        p50[q] = statistics.median(times)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(rounds):
        for q in SEARCH_QUERIES:
            searcher.search(q, 10)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(18)
    text = buf.getvalue()
    return p50, text[text.find("   ncalls"):].rstrip()


# ------------------------------------------------------------------ report
def capacity(variant: str, cpu_ms: float) -> float:
    """Requests/s the measured CPU cost allows on this machine's CPUs with no other load: one process holding
    the GIL uses at most about one CPU for its Python part, so the bound is per server process (SPARQL's work
    runs in its worker processes and may use every CPU)."""
    processes = VARIANTS[variant][2]
    return min(os.cpu_count() or 1, processes) * 1000 / cpu_ms if cpu_ms > 0 else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _report(args: argparse.Namespace, variants: list[str], wrk: dict, loads: dict, direct: dict, endpoint: dict,
            endpoint_p99: dict, worker: dict, rows: dict, search_p50: dict, profile: str) -> str:
    """The markdown report of one run (wrk tables, /sparql beside in-process Oxigraph, the search profile)."""
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split(" Copyright")[0]
    lines = ["## Measured", "",
             f"`python bench/bench_http.py --data {args.data} --duration {args.duration} --rounds {args.rounds} "
             f"--blocks {args.blocks}`; "
             f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {wrk_version.strip()}. SPARQL runs in 2 "
             "query worker processes (+1 spare) per server process.", "",
             "### wrk", "",
             "| set-up | endpoint | connections | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | "
             "server CPU ms/req | req/s if the CPUs were ours |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for (variant, what, c), r in wrk.items():
        errs = sum(r["errors"].values())
        lines.append(f"| {variant} | /{what} | {c} | {r['rps']:.1f} | {r['p50_us'] / 1000:.1f} | "
                     f"{r['p90_us'] / 1000:.1f} | {r['p99_us'] / 1000:.1f} | {r['max_us'] / 1000:.1f} | {errs} | "
                     f"{r['cpu_ms']:.1f} | {capacity(variant, r['cpu_ms']):.0f} |")
    lines += ["", f"/search rotates {len(SEARCH_QUERIES)} queries (k=10): after each one's first request its vector "
              "comes from the encoder's cache; \"/search (fresh)\" appends a word never sent before to each request, "
              "so every one encodes its query. /sparql rotates "
              f"{', '.join(WRK_SPARQL)} (JSON results; Turtle for the CONSTRUCT).", ""]
    lines += [f"- {v}: {VARIANTS[v][0]}; load average {a:.1f} before, {b:.1f} after" for v, (a, b) in loads.items()]
    lines += ["", f"### /sparql beside Oxigraph in-process ({variants[0]}; {args.blocks} alternating 1 s blocks per "
              "query: a loop in this process, then wrk at one connection)", "",
              "| query | rows | in-process p50 ms | /sparql p50 ms | of which in the server's query call | "
              "/sparql p99 ms | "
              "ratio (p50) |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name in SPARQL_QUERIES:
        d, e = statistics.median(direct[name]), statistics.median(endpoint[name])
        lines.append(f"| {name} | {rows[name]} | {ms(d)} | {ms(e)} | {ms(statistics.median(worker[name]))} | "
                     f"{ms(max(endpoint_p99[name]))} | {e / d:.2f}x |")
    total_d = sum(statistics.median(v) for v in direct.values())
    total_e = sum(statistics.median(v) for v in endpoint.values())
    total_w = sum(statistics.median(v) for v in worker.values())
    lines += ["", f"Sum of p50s: in-process {ms(total_d)} ms, /sparql {ms(total_e)} ms: **{total_e / total_d:.2f}x**; "
              f"fixed cost per request ≈ {ms((total_e - total_d) / len(SPARQL_QUERIES))} ms. The server's query "
              f"calls (evaluation and serialisation, from Server-Timing) sum to {ms(total_w)} ms "
              f"({total_w / total_d:.2f}x the in-process loop).", "",
              "### Where a search's time goes (in-process, warm, torch's default threads)", "",
              "| query | searcher p50 ms |", "|---|---:|"]
    lines += [f"| {q} | {ms(t)} |" for q, t in search_p50.items()]
    lines += ["", "cProfile of the searcher, top functions by own time:", "", "```", profile, "```", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("/tmp/bench-data"))
    ap.add_argument("--port", type=int, default=8797)
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--rounds", type=int, default=30, help="passes over the queries for the search profile (/10)")
    ap.add_argument("--blocks", type=int, default=5, help="alternating 1 s blocks per query for the SPARQL table")
    ap.add_argument("--variants", default=",".join(VARIANTS), help=f"server set-ups to load: {', '.join(VARIANTS)}")
    ap.add_argument("--out", type=Path, help="also write the report here")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install -y wrk)")
    if not (args.data / "CURRENT").exists():
        sys.exit(f"{args.data}: no built data directory; run `cchc build --data {args.data}` first")
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if unknown := [v for v in variants if v not in VARIANTS]:
        sys.exit(f"unknown variant(s) {unknown}: use {', '.join(VARIANTS)}")

    base = f"http://127.0.0.1:{args.port}"
    search_paths = [search_path(q) for q in SEARCH_QUERIES]
    sparql_paths = [sparql_path(SPARQL_QUERIES[n]) for n in WRK_SPARQL]
    wrk: dict[tuple[str, str, int], dict] = {}
    loads: dict[str, tuple[float, float]] = {}
    endpoint = endpoint_p99 = worker = direct = rows = None
    for variant in variants:
        load0 = os.getloadavg()[0]
        proc = start_server(args.data, args.port, variant)
        try:
            for q in SEARCH_QUERIES:
                get(base + search_path(q))
            if endpoint is None:  # the per-query table: on the first set-up only
                direct, endpoint, endpoint_p99, worker, rows = paired_latency(base, args.data, proc.pid,
                                                                              args.blocks)
            for c in (1, 16):
                wrk[(variant, "search", c)] = run_wrk(base, search_paths, c, args.duration, proc.pid)
                wrk[(variant, "search (fresh)", c)] = run_wrk(base, search_paths, c, args.duration, proc.pid,
                                                              fresh=True)
                wrk[(variant, "sparql", c)] = run_wrk(base, sparql_paths, c, args.duration, proc.pid)
        finally:
            proc.terminate()
            proc.wait(60)
        loads[variant] = (load0, os.getloadavg()[0])
    search_p50, profile = profile_search(args.data, max(3, args.rounds // 10))
    assert endpoint is not None and endpoint_p99 is not None and worker is not None and direct is not None
    assert rows is not None

    report = _report(args, variants, wrk, loads, direct, endpoint, endpoint_p99, worker, rows, search_p50,
                     profile)
    print(report)
    if args.out:  # findings written by hand above the marker survive a re-run
        old = args.out.read_text("utf-8") if args.out.exists() else ""
        if MARKER in old:
            report = old[:old.index(MARKER)] + MARKER + "\n\n" + report
        tmp = args.out.with_name(f".{args.out.name}.tmp")
        tmp.write_text(report, "utf-8")
        tmp.replace(args.out)


if __name__ == "__main__":
    main()
