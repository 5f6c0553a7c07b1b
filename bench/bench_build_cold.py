"""Cold `cchc build` of the embedded corpus, two code trees side by side: wall and CPU seconds per phase.

    .venv/bin/python bench/bench_build_cold.py [--before main] [--after .] [--rounds 2] [--out bench/build.md]

`--before` is a git ref, checked out in a temporary worktree (removed at the
end); `--after` a tree (default: this one). Both run with this interpreter and
its packages, each tree's code put first on `sys.path` as the `cchc` package,
so the only difference is the code. Each round runs both trees, in turn, into
a fresh data directory holding nothing but the converted model (copied in: the
conversion is a one-off per data directory, timed once and reported apart).

Phases are measured by wrapping the build's own functions in the child
process (`--drive`), with wall time and process CPU time (every thread):
extraction, graph (staged store build), loading the encoder, search units,
encoding of the units, index writing (BM25, vectors, unit store), carry-over
(its encoding apart), commit (the checks of the new generation, then its
publication). The machine is shared: the load average is read
before and after every run; the report gives the median of the rounds and the
quietest round of each tree.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"graph": "graph", "embeddings": "embeddings", "search": "search", "ontology": "ontology",
            "service": "service"}
PHASES = ["imports", "extract", "graph", "encoder_load", "units", "encode", "index_write", "carryover",
          "carryover_encode", "commit", "total"]


# ---------------------------------------------------------------- child: one build, phases timed
class Clock:
    """Wall and process-CPU seconds per named phase (inclusive; re-entrant calls count once)."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.active: set[str] = set()

    def wrap(self, owner: object, attr: str, name: str) -> None:
        fn = getattr(owner, attr, None)
        if fn is None:  # a tree without this step: the phase stays empty
            return

        @functools.wraps(fn)
        def timed(*args, **kwargs):
            if name in self.active:
                return fn(*args, **kwargs)
            self.active.add(name)
            w, c = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - w
                self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - c
                self.active.discard(name)

        setattr(owner, attr, timed)


def drive(data: Path) -> None:
    """Build the embedded corpus into `data` in this process and print the phases as JSON on stdout."""
    w0, c0 = time.perf_counter(), time.process_time()
    import cchc.embeddings.encoder as encoder_module
    import cchc.search.index as index
    import cchc.service.application as application
    from cchc.embeddings.passage_cache import CachedPassages
    from cchc.graph.rdf import store
    from cchc.service.settings import Settings

    clock = Clock()
    clock.wall["imports"], clock.cpu["imports"] = time.perf_counter() - w0, time.process_time() - c0
    clock.wrap(application, "extract_corpus", "extract")
    clock.wrap(store.Staged, "build", "graph")
    clock.wrap(index, "build_units", "units")
    clock.wrap(index, "_encode", "encode")
    clock.wrap(index, "_write", "index_write")
    clock.wrap(application.Application, "_carryover_into", "carryover")
    clock.wrap(store.Staged, "commit", "commit")  # the checks of the new generation, then its publication
    clock.wrap(encoder_module, "make_encoder", "encoder_load")
    encode_passages = CachedPassages.encode_passages

    def passages(self, texts, **kwargs):  # inside the carry-over only: the units' encoding is "encode"
        if "carryover" not in clock.active:
            return encode_passages(self, texts, **kwargs)
        w, c = time.perf_counter(), time.process_time()
        try:
            return encode_passages(self, texts, **kwargs)
        finally:
            clock.wall["carryover_encode"] = clock.wall.get("carryover_encode", 0.0) + time.perf_counter() - w
            clock.cpu["carryover_encode"] = clock.cpu.get("carryover_encode", 0.0) + time.process_time() - c

    CachedPassages.encode_passages = passages
    settings = Settings(data_dir=data)
    app = application.Application(settings)
    w1, c1 = time.perf_counter(), time.process_time()
    counts = app.build()
    clock.wall["build"], clock.cpu["build"] = time.perf_counter() - w1, time.process_time() - c1
    clock.wall["total"], clock.cpu["total"] = time.perf_counter() - w0, time.process_time() - c0
    print(json.dumps({"wall": clock.wall, "cpu": clock.cpu, "units": counts.get("units"),
                      "links": counts.get("continues")}))


# ---------------------------------------------------------------- parent: trees, rounds, report
def shim(tree: Path, where: Path) -> Path:
    """A directory holding `cchc/` whose sub-packages are the tree's top-level folders (as pyproject maps them)."""
    pkg = where / "cchc"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").symlink_to(tree / "cchc" / "__init__.py")
    for name, folder in PACKAGES.items():
        (pkg / name).symlink_to(tree / folder)
    return where


def load() -> float:
    return os.getloadavg()[0]


def run(tree: Path, paths: Path, model: Path) -> dict:
    data = Path(tempfile.mkdtemp(prefix="cchc-cold-"))
    try:
        shutil.copytree(model, data / "models" / model.name)
        env = {**os.environ, "PYTHONPATH": str(paths), "CCHC_DATA_DIR": str(data)}
        before = load()
        t = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--drive", str(data)], env=env,
                                cwd=paths, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out, err = proc.communicate()
        wall = time.perf_counter() - t
        if proc.returncode:
            raise SystemExit(f"build in {tree} failed:\n{err[-3000:]}")
        result = json.loads(out.strip().splitlines()[-1])
        result.update(process_wall=wall, load_before=before, load_after=load())
        return result
    finally:
        shutil.rmtree(data, ignore_errors=True)


def child_cpu() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True).stdout.strip()


def table(results: dict[str, list[dict]], pick) -> list[str]:
    names = list(results)
    head = "| phase | " + " | ".join(f"{n} wall s | {n} CPU s" for n in names) + " |"
    rows = [head, "|---|" + "---:|---:|" * len(names)]
    for phase in PHASES:
        cells = []
        for n in names:
            w, c = pick(results[n], "wall", phase), pick(results[n], "cpu", phase)
            cells += [f"{w:.1f}" if w is not None else "", f"{c:.1f}" if c is not None else ""]
        rows.append(f"| {phase} | " + " | ".join(cells) + " |")
    return rows


def median(runs: list[dict], kind: str, phase: str) -> float | None:
    values = [r[kind][phase] for r in runs if phase in r[kind]]
    return statistics.median(values) if values else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--drive", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--before", default="main", help="git ref of today's code (default: main)")
    ap.add_argument("--after", type=Path, default=ROOT, help="tree of the new code (default: this one)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--model", type=Path, default=None, help="a converted model folder (default: converted once)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "build.md")
    args = ap.parse_args()
    if args.drive:
        drive(args.drive)
        return
    work = Path(tempfile.mkdtemp(prefix="cchc-bench-cold-"))
    before_tree = work / "before"
    git("worktree", "add", "--detach", str(before_tree), args.before)
    try:
        model = args.model
        convert_s = None
        if model is None:  # the one-off conversion, with the after tree's code
            from cchc.embeddings.encoder import ensure_default_model

            t = time.perf_counter()
            model = ensure_default_model(work / "convert")
            convert_s = time.perf_counter() - t
        trees = {"before": before_tree, "after": args.after.resolve()}
        paths = {n: shim(t, work / f"paths-{n}") for n, t in trees.items()}
        commits = {"before": git("rev-parse", "--short", args.before),
                   "after": subprocess.run(["git", "-C", str(trees["after"]), "rev-parse", "--short", "HEAD"],
                                           capture_output=True, text=True).stdout.strip()}
        results: dict[str, list[dict]] = {n: [] for n in trees}
        for r in range(args.rounds):
            for name, tree in trees.items():
                cpu0 = child_cpu()
                res = run(tree, paths[name], model)
                res["process_cpu"] = child_cpu() - cpu0
                results[name].append(res)
                print(f"round {r + 1} {name}: wall {res['process_wall']:.1f}s, CPU {res['process_cpu']:.1f}s, "
                      f"load {res['load_before']:.1f}->{res['load_after']:.1f}", flush=True)
        report(args.out, results, commits, convert_s)
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            git("worktree", "remove", "--force", str(before_tree))
        shutil.rmtree(work, ignore_errors=True)


def report(out: Path, results: dict[str, list[dict]], commits: dict[str, str], convert_s: float | None) -> None:
    def quietest(runs: list[dict]) -> dict:
        return min(runs, key=lambda r: r["load_before"] + r["load_after"])

    lines = [f"# Cold `cchc build` of the embedded corpus: before ({commits['before']}) and after "
             f"({commits['after']})", "",
             "    .venv/bin/python bench/bench_build_cold.py --before <ref> --rounds N", "",
             f"Run {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores; {len(results['before'])} rounds, "
             "the trees in turn; a fresh data directory per build with only the converted model copied in."
             + (f" The conversion itself (once per data directory, not in the figures): {convert_s:.1f} s."
                if convert_s is not None else ""), "",
             "Whole process (fresh interpreter, imports included), every round:", "",
             "| round | tree | wall s | CPU s (user+sys) | load avg before -> after |", "|---|---|---:|---:|---|"]
    for name, runs in results.items():
        for i, r in enumerate(runs):
            lines.append(f"| {i + 1} | {name} | {r['process_wall']:.1f} | {r['process_cpu']:.1f} | "
                         f"{r['load_before']:.1f} -> {r['load_after']:.1f} |")
    lines += ["", "Phases, median of the rounds (inclusive; `carryover_encode` is inside `carryover`, `encode` "
              "the units' vectors):", "", *table(results, median), "",
              "Phases, the quietest round of each tree (lowest load average around it):", ""]
    q = {n: [quietest(runs)] for n, runs in results.items()}
    lines += [*table(q, median), ""]
    lines += ["Quietest rounds: " + ", ".join(f"{n} at load {r[0]['load_before']:.1f} -> {r[0]['load_after']:.1f}"
                                               for n, r in q.items()), ""]
    notes = out.read_text("utf-8").split("\n## Notes", 1) if out.exists() else []
    if len(notes) == 2:  # the hand-written reading of a run is kept below the new figures
        lines += ["## Notes" + notes[1]]
    out.write_text("\n".join(lines), "utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
