"""Same carry-over before and after a change to the matcher's speed: snapshots to compare.

    # the embedded corpus with the real default model: contract JSON (GET /carryover) and the whole result
    .venv/bin/python bench/carryover_equality.py real --out /tmp/co-real-before
    # the synthetic corpus with the hashing encoder: plan pairs and links (from, to, score to 4 places)
    .venv/bin/python bench/carryover_equality.py synth --tasks 10000 --out /tmp/co-synth-before
    # after the change, the same commands into *-after, then
    .venv/bin/python bench/carryover_equality.py compare /tmp/co-real-before /tmp/co-real-after

A speed-up of the carry-over must not move a link: the snapshot files are
compared byte for byte.  `real` also writes `carryover` (the contract JSON
alone) so that `../shared/tools/score.py carryover --url` can read it from a
static HTTP server over the snapshot directory (`python -m http.server`).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import logging
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))


def _dump(obj, path: Path) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", "utf-8")


def real(out: Path, models: Path) -> None:
    from cchc.embeddings.encoder import default_encoder
    from cchc.graph.corpus import corpus_files, default_corpus_dir, load_manifest
    from cchc.graph.extract.documents import extract_file
    from cchc.search.carryover.compute import compute_carryover

    corpus = default_corpus_dir()
    manifest = load_manifest(corpus)
    exs = [extract_file(p, manifest.get(p.name)) for p in corpus_files(corpus)]
    result = compute_carryover(exs, default_encoder(models))
    _dump(result.contract_json(), out / "carryover")
    _dump(result.to_json(), out / "result.json")


def synth(out: Path, tasks: int) -> None:
    from bench_carryover import synthetic
    from cchc.embeddings.encoder import HashingEncoder
    from cchc.search.carryover.compute import compute_carryover

    exs, infos = synthetic(tasks)
    result = compute_carryover(exs, HashingEncoder(), infos=infos)
    _dump([p.pair.to_json() for p in result.plans], out / "plan_pairs.json")
    links = sorted({(p.earlier.key, p.later.key, round(p.score, 4)) for p in result.pairs})
    _dump(links, out / "links.json")
    _dump(result.contract_json(), out / "carryover")


def compare(a: Path, b: Path) -> int:
    names = sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()})
    bad = 0
    for name in names:
        same = (a / name).exists() and (b / name).exists() and filecmp.cmp(a / name, b / name, shallow=False)
        print(f"{name}: {'identical' if same else 'DIFFERENT'}")
        bad += not same
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("real")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--models", type=Path, default=Path("/tmp/wt42-models"), help="where the model is converted")
    s = sub.add_parser("synth")
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--tasks", type=int, default=10000)
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.cmd == "compare":
        return compare(args.a, args.b)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.cmd == "real":
        real(args.out, args.models)
    else:
        synth(args.out, args.tasks)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
