"""The graph a build gives, saved and compared: the same content before and after a change of the builder.

    .venv/bin/python bench/graph_equality.py --save /tmp/graph-before            # the current code's graphs
    .venv/bin/python bench/graph_equality.py --check /tmp/graph-before           # same quads, same manifest?

Two graphs: the embedded corpus (an in-memory `Store.build`, as `cchc build` does it) and the first
`--tasks` tasks of the synthetic corpus (an on-disk store: fresh generation, build, commit).  Each is
saved as sorted N-Quads (the stored quads, every named graph; the ontology's blank nodes carry canonical
labels, so the text is comparable as is) and its manifest (documents and counts) as JSON.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from bench_graph_build import documents  # noqa: E402


def corpus_graph():
    from cchc.graph.corpus import corpus_files, load_manifest
    from cchc.graph.extract.documents import extract_file
    from cchc.graph.rdf.store import Store
    from synth_corpus import CORPUS

    manifest = load_manifest(CORPUS)
    docs = [(extract_file(p, manifest.get(p.name)), manifest.get(p.name), None) for p in corpus_files(CORPUS)]
    store = Store.open(None)
    store.build(docs)
    return store


def snapshot(store) -> tuple[list[str], dict]:
    lines = sorted(set(store.export("nquads").decode().splitlines()))
    return lines, {"documents": store._manifest["documents"], "counts": store.counts()}


def graphs(tasks: int) -> dict[str, tuple[list[str], dict]]:
    from cchc.graph.rdf.store import Store

    out = {"corpus": snapshot(corpus_graph())}
    with tempfile.TemporaryDirectory(prefix="graph-eq-") as tmp:
        store = Store.open(Path(tmp) / "store")
        store.build(documents(tasks)[0])
        out[f"synth{tasks}"] = snapshot(store)
        store.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=2000)
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path, help="write the graphs here")
    group.add_argument("--check", type=Path, help="compare with the graphs saved here")
    args = ap.parse_args()
    ok = True
    for name, (lines, manifest) in graphs(args.tasks).items():
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            (args.save / f"{name}.nq").write_text("\n".join(lines) + "\n", "utf-8")
            (args.save / f"{name}.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
            print(f"{name}: {len(lines)} quads saved")
            continue
        before = (args.check / f"{name}.nq").read_text("utf-8").splitlines()
        same_quads = before == lines
        same_manifest = json.loads((args.check / f"{name}.json").read_text("utf-8")) == manifest
        print(f"{name}: {len(lines)} quads (saved {len(before)}); quads {'same' if same_quads else 'DIFFER'}, "
              f"manifest {'same' if same_manifest else 'DIFFERS'}")
        if not same_quads:
            print("".join(list(difflib.unified_diff(before, lines, lineterm="\n", n=0))[:40]))
        ok &= same_quads and same_manifest
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
