"""Search quality on gold query sets, per kind, for the full system and its parts.

    .venv/bin/python bench/eval_search.py                      # dev gold + bench/queries_extra.jsonl, all modes
    .venv/bin/python bench/eval_search.py --mode full --fold   # + the same queries without diacritics
    .venv/bin/python bench/eval_search.py --gold bench/queries_extra.jsonl --mode full --fails 3
    .venv/bin/python bench/eval_search.py --w bm25_topic=0.6 --w dense_topic=0.4
    .venv/bin/python bench/eval_search.py --grid bm25_topic=0.3,0.45,0.6 --grid dense_topic=0.4,0.55,0.7

The index of data/corpus is built in-process with the library (extract_file per
document, build_search_index with the default e5 encoder) and cached under
--cache, keyed by a hash of the corpus and of the graph/, search/ and
embeddings/ sources, so a code change rebuilds it.  Metrics are the scorer's
(../shared/tools/score.py search): R@5 and R@k (recall out of min(#relevant,
cut-off)), MRR, a result hitting a narrative key within --line-tol lines.

Modes
  full     Searcher.search as served (structured match + BM25 + dense + title prior)
  nodense  the same Searcher without vectors (structured + BM25 + title prior)
  bm25     BM25 alone: units ranked by BM25Index.scores of the query as the product reads
           it (diacritics restored when typed without, abbreviations expanded) -- no
           structured scores, no title prior, no heading penalty
  dense    dense alone: units ranked by VectorIndex.scores of that same text only

--fold strips diacritics from every query (cchc.graph.reading.fold) and prints
those rows next to the originals, with the per-kind MRR/R@k difference (flagged
when it exceeds 0.05).  The index build reuses passage vectors cached per text
under --cache (passages-<model>.npz), so a code change re-encodes only changed units.
--w NAME=VALUE overrides a FusionWeights field for the
full/nodense modes; --grid NAME=v1,v2,... (repeatable) tries every combination
on the full mode and ranks the settings by the mean over the gold sets of
(MRR + R@k)/2 (with --fold, the folded queries count as further sets).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import hashlib
import importlib.util
import itertools
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "corpus"
SHARED = ROOT.parent / "shared"
DEFAULT_GOLD = [SHARED / "dev-gold" / "queries.jsonl", ROOT / "bench" / "queries_extra.jsonl"]
KINDS = ("citation", "agency", "deadline", "topic")


def load_scorer():
    """../shared/tools/score.py, for its result_keys() and hits(): the same conventions as the real scorer."""
    spec = importlib.util.spec_from_file_location("cchc_score", SHARED / "tools" / "score.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


SCORER = load_scorer()


# ---------------------------------------------------------------- index

def source_hash() -> str:
    h = hashlib.sha256()
    code = (p for d in ("graph", "search", "embeddings", "ontology") for p in (ROOT / d).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts)
    paths = sorted(CORPUS.glob("*")) + sorted(code)
    for p in paths:
        if p.is_file():
            h.update(str(p.relative_to(ROOT)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:12]


class PassageCache:
    """The encoder with its passage vectors kept on disk per text: a code change that leaves a unit's
    text alone does not re-encode it (encoding the corpus is most of a rebuild)."""

    def __init__(self, encoder, path: Path) -> None:
        import numpy as np

        self._enc, self._path = encoder, path
        self._vecs: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path, allow_pickle=False) as z:
                self._vecs = dict(zip(z["texts"].tolist(), z["vecs"], strict=True))

    def __getattr__(self, name):
        return getattr(self._enc, name)

    def encode_passages(self, texts: list[str]):
        import numpy as np

        todo = [t for t in dict.fromkeys(texts) if t not in self._vecs]
        if todo:
            self._vecs.update(zip(todo, self._enc.encode_passages(todo), strict=True))
            tmp = self._path.with_name(self._path.stem + ".tmp.npz")
            np.savez(tmp, texts=np.array(list(self._vecs)), vecs=np.stack(list(self._vecs.values())))
            tmp.replace(self._path)
        return np.stack([self._vecs[t] for t in texts])


def open_system(cache: Path, rebuild: bool):
    from cchc.embeddings.encoder import default_encoder
    from cchc.graph.corpus import corpus_files, load_manifest
    from cchc.graph.extract.documents import extract_file
    from cchc.search.index import build_search_index, open_searcher

    encoder = default_encoder(cache / "models")
    search_dir = cache / f"index-{source_hash()}" / "search"
    if rebuild or not (search_dir / "units.jsonl").exists():
        t0 = time.perf_counter()
        manifest = load_manifest(CORPUS)
        exs = [extract_file(p, manifest.get(p.name)) for p in corpus_files(CORPUS)]
        passages = PassageCache(encoder, cache / f"passages-{encoder.model_id.replace('/', '_')}.npz")
        build_search_index(exs, manifest, search_dir, passages)
        print(f"# built index in {time.perf_counter() - t0:.1f}s: {search_dir}", file=sys.stderr)
    return open_searcher(search_dir, encoder), encoder


def memoize(searcher) -> None:
    """Cache the weight-independent parts of a search per query text (speeds up --grid; results unchanged)."""
    import cchc.search.searcher as sm

    def cached(fn, key=lambda *a, **k: a[0]):
        memo: dict = {}

        def wrapper(*a, **k):
            kk = key(*a, **k)
            if kk not in memo:
                memo[kk] = fn(*a, **k)
            return memo[kk]
        wrapper.__wrapped__ = fn
        return wrapper

    if not hasattr(sm.parse_query, "__wrapped__"):
        sm.parse_query = cached(sm.parse_query)
        sm.structured_scores = cached(sm.structured_scores, key=lambda q, units, links, **k: (q.text, *k.values()))
    if "read" not in searcher.__dict__:
        searcher.read = cached(searcher.read)
    for obj in (searcher.bm25, searcher._title_index):
        if obj is not None and "scores" not in obj.__dict__:
            obj.scores = cached(obj.scores)
            obj.scores_by_text = cached(obj.scores_by_text)
    if searcher.vectors is not None and "scores" not in searcher.vectors.__dict__:
        searcher.vectors.scores = cached(searcher.vectors.scores, key=lambda enc, text: text)


# ---------------------------------------------------------------- ranking per mode

def unit_result(u) -> dict:
    return {"doc": u.doc, "line": u.line, "section": u.section, "no": u.no, "text": u.text, "why": []}


def rank(searcher, encoder, mode: str, query: str, k: int, weights) -> list[dict]:
    import numpy as np

    if mode in ("full", "nodense"):
        s = searcher
        if mode == "nodense":
            s = getattr(searcher, "_nodense", None)
            if s is None:  # the same searcher (restorer, instrument names, title index) without vectors
                s = copy.copy(searcher)
                s.vectors = s.encoder = None
                searcher._nodense = s
        s.weights = weights
        return [r.to_json() for r in s.search(query, k)]
    from cchc.search.lexicon import expand

    text = expand(searcher.read(query))  # the query as the product's BM25 and dense legs read it
    if mode == "bm25":
        scores = searcher.bm25.scores(text)
    elif mode == "dense":
        scores = searcher.vectors.scores(encoder, text)
    else:
        raise ValueError(mode)
    order = np.argsort(-np.asarray(scores), kind="stable")[:k]
    return [unit_result(searcher.units[i]) | {"score": float(scores[i])} for i in order]


def first_ranks(results: list[dict], relevant: list[str], line_tol: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for r_, res in enumerate(results, 1):
        keys = SCORER.result_keys(res)
        for rel in relevant:
            if rel not in found and SCORER.hits(keys, rel, line_tol):
                found[rel] = r_
    return found


def metrics(found: dict[str, int], relevant: list[str], k: int) -> tuple[float, float, float]:
    r5 = sum(1 for r in relevant if found.get(r, 99) <= 5) / min(len(relevant), 5)
    rk = sum(1 for r in relevant if found.get(r, 99) <= k) / min(len(relevant), k)
    first = min(found.values()) if found else None
    return r5, rk, (1.0 / first if first else 0.0)


def evaluate(searcher, encoder, queries, mode, k, weights, line_tol, fold_q=False):
    from cchc.graph.extract.reading import fold

    per_query = []
    for q in queries:
        text = fold(q["query"]) if fold_q else q["query"]
        res = rank(searcher, encoder, mode, text, k, weights)
        found = first_ranks(res, q["relevant"], line_tol)
        per_query.append((q, text, res, found, metrics(found, q["relevant"], k)))
    return per_query


def summary(per_query) -> dict[str, tuple[float, float, float, int]]:
    by: dict[str, list] = defaultdict(list)
    for q, _, _, _, m in per_query:
        by[q["kind"]].append(m)
        by["all"].append(m)
    return {kd: (*(sum(v[i] for v in vs) / len(vs) for i in range(3)), len(vs)) for kd, vs in by.items()}


# ---------------------------------------------------------------- printing

def header(kinds) -> str:
    cells = "".join(f" | {kd[:8] + f'({n})':>17s}" for kd, n in kinds)
    sub = "".join(f" | {'R@5':>5s} {'R@k':>5s} {'MRR':>5s}" for _ in kinds)
    return f"{'':18s}{cells}\n{'mode':18s}{sub}"


def row(label: str, s: dict, kinds) -> str:
    return f"{label:18s}" + "".join(
        f" | {s[kd][0]:5.2f} {s[kd][1]:5.2f} {s[kd][2]:5.2f}" if kd in s else " |" + " " * 17 for kd, _ in kinds)


def show_failures(per_query, threshold: int, n_above: int = 3) -> None:
    for q, text, res, found, (_, rk, _rr) in per_query:
        first = min(found.values()) if found else None
        if first is not None and first <= threshold:
            continue
        print(f"  {q['qid']} [{q['kind']}] {text!r}: first hit {first or '-'}, R@k {rk:.2f}")
        for i, r in enumerate(res[: (first - 1 if first else n_above)][:n_above], 1):
            key = f"{r['section']}.{r['no']}" if r.get("section") and r.get("no") else f"L{r['line']}"
            print(f"      {i}. {r['doc'][:22]}:{key} why={r.get('why')} :: {str(r.get('text', ''))[:70]!r}")
        missed = [x for x in q["relevant"] if x not in found]
        if missed:
            print(f"      missed@k: {', '.join(m.split(':', 1)[0][:14] + ':' + m.split(':', 1)[1] for m in missed)}")


def parse_w(items: list[str]) -> dict[str, float]:
    from cchc.search.fusion import FusionWeights

    names = {f.name for f in dataclasses.fields(FusionWeights)}
    out = {}
    for it in items:
        k, _, v = it.partition("=")
        if k not in names:
            sys.exit(f"unknown FusionWeights field {k!r}; one of {sorted(names)}")
        out[k] = float(v)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gold", action="append", type=Path, help="queries.jsonl (repeatable); default dev + extra")
    ap.add_argument("--mode", action="append", choices=["full", "nodense", "bm25", "dense"],
                    help="repeatable; default bm25, dense, nodense, full")
    ap.add_argument("--fold", action="store_true", help="also run the queries without diacritics")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--line-tol", type=int, default=4)
    ap.add_argument("--w", action="append", default=[], metavar="FIELD=VALUE", help="FusionWeights override")
    ap.add_argument("--grid", action="append", default=[], metavar="FIELD=v1,v2,...")
    ap.add_argument("--top", type=int, default=12, help="grid: how many settings to print")
    ap.add_argument("--fails", type=int, default=0, metavar="R",
                    help="list queries whose first relevant hit is below rank R (full mode)")
    ap.add_argument("--json", type=Path, help="write per-query ranks here")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/cchc-eval-cache"))
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args(argv)

    from cchc.search.fusion import FusionWeights

    golds = args.gold or DEFAULT_GOLD
    sets = {g.parent.name + "/" + g.name if g.name == "queries.jsonl" else g.name: SCORER.read_jsonl(g)
            for g in golds}
    modes = args.mode or ["bm25", "dense", "nodense", "full"]
    weights = dataclasses.replace(FusionWeights(), **parse_w(args.w))

    searcher, encoder = open_system(args.cache, args.rebuild)
    memoize(searcher)
    print(f"# {len(searcher.units)} units; weights {weights}")

    if args.grid:
        return run_grid(args, searcher, encoder, sets, weights)

    dump = {}
    for name, queries in sets.items():
        kinds = [(kd, sum(1 for q in queries if q["kind"] == kd)) for kd in KINDS
                 if any(q["kind"] == kd for q in queries)] + [("all", len(queries))]
        print(f"\n== {name}: {len(queries)} queries, k={args.k}")
        print(header(kinds))
        for mode in modes:
            base = evaluate(searcher, encoder, queries, mode, args.k, weights, args.line_tol)
            s0 = summary(base)
            print(row(mode, s0, kinds))
            dump[f"{name}|{mode}"] = [(q["qid"], found) for q, _, _, found, _ in base]
            if args.fold:
                folded = evaluate(searcher, encoder, queries, mode, args.k, weights, args.line_tol, fold_q=True)
                s1 = summary(folded)
                print(row(mode + " (fold)", s1, kinds))
                bad = [f"{kd} {m} {s1[kd][i] - s0[kd][i]:+.2f}" for kd, _ in kinds for i, m in ((1, "R@k"), (2, "MRR"))
                       if abs(s1[kd][i] - s0[kd][i]) > 0.05]
                print(f"{'':18s}   fold delta > 0.05: {'; '.join(bad) if bad else 'none'}")
                dump[f"{name}|{mode}|fold"] = [(q["qid"], found) for q, _, _, found, _ in folded]
                if args.fails and mode == "full":
                    changed = [(a, b) for a, b in zip(base, folded, strict=True) if a[4][2] - b[4][2] > 0.05]
                    for a, b in changed:
                        print(f"  fold hurts {a[0]['qid']}: MRR {a[4][2]:.2f} -> {b[4][2]:.2f} ({b[1]!r})")
            if args.fails and mode == "full":
                show_failures(base, args.fails)
    if args.json:
        args.json.write_text(json.dumps(dump, ensure_ascii=False, indent=1), "utf-8")
    return 0


def run_grid(args, searcher, encoder, sets, base_weights) -> int:
    axes = []
    for g in args.grid:
        k, _, vs = g.partition("=")
        parse_w([f"{k}=0"])
        axes.append((k, [float(v) for v in vs.split(",")]))
    combos = [dict(zip([a for a, _ in axes], vals, strict=True)) for vals in itertools.product(*(v for _, v in axes))]
    default = {a: getattr(base_weights, a) for a, _ in axes}
    if default not in combos:
        combos.insert(0, default)
    rows = []
    t0 = time.perf_counter()
    for c in combos:
        w = dataclasses.replace(base_weights, **c)
        per_set = {}
        for name, queries in sets.items():
            per_set[name] = summary(evaluate(searcher, encoder, queries, "full", args.k, w, args.line_tol))
            if args.fold:
                per_set[name + " (fold)"] = summary(evaluate(searcher, encoder, queries, "full", args.k, w,
                                                             args.line_tol, fold_q=True))
        obj = sum((s["all"][1] + s["all"][2]) / 2 for s in per_set.values()) / len(per_set)
        worst = min((s["all"][1] + s["all"][2]) / 2 for s in per_set.values())
        rows.append((obj, worst, c, per_set))
    print(f"# {len(combos)} settings in {time.perf_counter() - t0:.0f}s; objective = mean over sets of (MRR+R@k)/2")
    names = list(rows[0][3])
    head = "  ".join(f"{n[:24]:>24s}" for n in names)
    print(f"{'obj':>6s} {'worst':>6s}  {head}  setting")
    ordered = sorted(rows, key=lambda r: (-r[0], -r[1]))
    dflt = next(r for r in rows if r[2] == default)
    for r in ordered[: args.top] + ([dflt] if dflt not in ordered[: args.top] else []):
        cells = "  ".join(f"R@k {r[3][n]['all'][1]:.3f} MRR {r[3][n]['all'][2]:.3f}".rjust(24) for n in names)
        tag = "  <- default" if r is dflt else ""
        print(f"{r[0]:6.3f} {r[1]:6.3f}  {cells}  {r[2]}{tag}")
    best = ordered[0]
    print(f"\nbest {best[2]}: per kind (R@k / MRR)")
    for n in names:
        s, d = best[3][n], dflt[3][n]
        print(f"  {n}: " + "; ".join(f"{kd} {s[kd][1]:.2f}/{s[kd][2]:.2f} (default {d[kd][1]:.2f}/{d[kd][2]:.2f})"
                                     for kd in [*KINDS, "all"] if kd in s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
