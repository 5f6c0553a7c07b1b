"""Plots and the table of bench/scale.md from the runs bench_scale.py recorded (bench/scale_runs.jsonl).

    .venv/bin/python bench/scale_plot.py            # writes bench/scale_latency.png, scale_memory.png, scale_build.png

One point per (path, tasks): the last run recorded for it over HTTP.  `path` is "first" (units as objects,
every unit scored; the index without a unit store) or "candidates" (issue 16's query path).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def runs(path: Path, mode: str = "http") -> dict[str, list[dict]]:
    by: dict[tuple[str, int], dict] = {}
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            if r.get("mode", "http") == mode:
                by[(r.get("path", "candidates"), r["tasks"])] = r
    out: dict[str, list[dict]] = {}
    for (p, _), r in sorted(by.items(), key=lambda kv: kv[0][1]):
        out.setdefault(p, []).append(r)
    return out


def plot(series: dict[str, list[dict]], keys: list[tuple[str, str]], ylabel: str, out: Path,
         goals: dict[str, float] | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for path, rows in series.items():
        for key, label in keys:
            pts = [(r["tasks"], r[key]) for r in rows if r.get(key) is not None]
            if pts:
                ax.plot(*zip(*pts, strict=True), marker="o", linestyle="-" if path == "candidates" else "--",
                        label=f"{label} ({path})")
    for name, value in (goals or {}).items():
        ax.axhline(value, color="grey", linewidth=0.8, linestyle=":")
        ax.annotate(name, (ax.get_xlim()[0], value), fontsize=7, color="grey", va="bottom")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("tasks (synthetic corpus)")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", linewidth=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main() -> int:
    series = runs(BENCH / "scale_runs.jsonl")
    plot(series, [("search_p50_ms", "search p50"), ("search_p99_ms", "search p99"), ("trace_p50_ms", "trace p50")],
         "milliseconds", BENCH / "scale_latency.png",
         {"goal p50 at 200k: 60 ms": 60, "goal p99 at 200k: 250 ms": 250})
    plot(series, [("rss_mb", "server RSS")], "MB", BENCH / "scale_memory.png", {"goal at 200k: 3 GB": 3072})
    plot(series, [("build_s", "build"), ("index_s", "search index"), ("cold_start_s", "cold start")], "seconds",
         BENCH / "scale_build.png", {"goal cold start: 10 s": 10})
    cols = ["tasks", "units", "build_s", "index_s", "graph_tasks", "search_p50_ms", "search_p99_ms", "trace_p50_ms",
            "rss_mb", "cold_start_s", "ann_recall_at_10", "ef_search"]
    print("| path | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for path, rows in series.items():
        for r in rows:
            print(f"| {path} | " + " | ".join(str(r.get(c, "")) for c in cols) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
