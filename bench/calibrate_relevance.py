"""Calibrate the relevance floors (`cchc.search.relevance.RelevanceFloors`) on gold queries and off-topic ones.

    .venv/bin/python bench/calibrate_relevance.py --data /tmp/data           # the floors as shipped
    .venv/bin/python bench/calibrate_relevance.py --data /tmp/data --grid    # try other floors

For each gold query (dev gold + bench/queries_extra.jsonl) it ranks with no
cut-off (every unit graded, floors at zero) and counts the relevant units in
the top 10 that a floor would hide; for each off-topic query (below) it counts
the units the floor would still show.  A good floor hides no relevant unit and
shows nothing for the off-topic queries.  Needs a built data directory
(`cchc build --data DIR`).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import itertools
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
GOLD = [SHARED / "dev-gold" / "queries.jsonl", ROOT / "bench" / "queries_extra.jsonl"]
OFF_TOPIC = ["xyzzy qwerty", "asdf ghjk", "hello world", "pizza margherita recipe", "the quick brown fox",
             "lorem ipsum dolor sit amet", "công thức nấu phở bò", "bóng đá ngoại hạng anh", "giá vàng hôm nay",
             "thời tiết Hà Nội ngày mai", "kết quả xổ số miền bắc", "mua bán xe máy cũ",
             "tuyển dụng lập trình viên python", "cách chữa bệnh cảm cúm", "du lịch Sa Pa"]


def _scorer():
    spec = importlib.util.spec_from_file_location("cchc_score", SHARED / "tools" / "score.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def measure(searcher, floors, queries, scorer) -> dict:
    from cchc.search.relevance import RelevanceFloors

    lost_strong = lost_weak = 0
    misses = []
    open_floors = RelevanceFloors(0.0, -1.0, 0.0, -1.0)
    for q in queries:
        searcher.floors = open_floors
        ranked = searcher.search(q["query"], k=10)
        searcher.floors = floors
        kept = {r.key: r.weak for r in searcher.search(q["query"], k=len(searcher.units))}
        for r in ranked:
            if any(scorer.hits(scorer.result_keys(r.to_json()), g, 4) for g in q["relevant"]):
                if r.key not in kept:
                    lost_weak += 1
                    misses.append(f"{q['qid']} {r.key}")
                elif kept[r.key]:
                    lost_strong += 1
    shown = {}
    for text in OFF_TOPIC:
        answer = searcher.answer(text, k=len(searcher.units))
        shown[text] = (sum(not r.weak for r in answer.results), answer.total)
    return {"relevant_weak_only": lost_strong, "relevant_hidden": lost_weak, "hidden": misses,
            "off_topic_strong": sum(s for s, _ in shown.values()), "off_topic_shown": sum(t for _, t in shown.values()),
            "off_topic_queries_answered": sum(1 for _, t in shown.values() if t), "per_off_topic": shown}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="a built data directory")
    ap.add_argument("--grid", action="store_true")
    args = ap.parse_args()
    from cchc.search.relevance import RelevanceFloors
    from cchc.service.application import Application
    from cchc.service.settings import Settings

    app = Application(Settings.from_env(data_dir=args.data))
    searcher = app.searcher
    scorer = _scorer()
    queries = [json.loads(line) for f in GOLD for line in f.read_text("utf-8").splitlines() if line.strip()]
    if not args.grid:
        print(json.dumps(measure(searcher, RelevanceFloors(), queries, scorer), ensure_ascii=False, indent=1))
        return 0
    rows = []
    for c, d, wc, wd in itertools.product((0.1, 0.15, 0.2), (0.015, 0.02, 0.025), (0.05, 0.1), (0.01, 0.015)):
        if wc > c or wd > d:
            continue
        m = measure(searcher, RelevanceFloors(c, d, wc, wd), queries, scorer)
        rows.append((m["relevant_hidden"], m["off_topic_shown"], m["relevant_weak_only"], m["off_topic_strong"],
                     dataclasses.astuple(RelevanceFloors(c, d, wc, wd))))
    for r in sorted(rows):
        print(f"hidden {r[0]} off-topic shown {r[1]} weak-only relevant {r[2]} off-topic strong {r[3]} floors {r[4]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
