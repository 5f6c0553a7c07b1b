"""Issue 16's query path on the real corpus: the unit store, candidates with filters, the tuned ANN.

The built index of the session (`app`: the real corpus, the real model) is
read back column by column; the candidate path is compared with the first
path (units as objects, every unit scored, filters after ranking), which
`first_path` rebuilds from the same files.
"""

from __future__ import annotations

import json
import sys
from datetime import date

import numpy as np
import pytest
from cchc.embeddings.index import VectorIndex
from cchc.search.ann import probes, recall_at, stored_vectors, tune_ef
from cchc.search.bm25 import BM25Index
from cchc.search.candidates import Ranker
from cchc.search.restore import Restorer
from cchc.search.searcher import Filters, Searcher
from cchc.search.structured import _time_score
from cchc.search.unitstore import UnitStore

from .conftest import ROOT, SHARED

FILTERS = [None, Filters(year=2023), Filters(agency="so-noi-vu"), Filters(field="thu-tuc-hanh-chinh"),
           Filters(year=2026, agency="so-tu-phap"), Filters(docs=["tandoan-2025-cchc.txt"])]


def _queries() -> list[str]:
    out = []
    for path in (SHARED / "dev-gold" / "queries.jsonl", ROOT / "bench" / "queries_extra.jsonl"):
        if path.exists():
            out += [json.loads(line)["query"] for line in path.read_text("utf-8").splitlines() if line.strip()]
    return [*out, "Sở Nội vụ chủ trì năm 2023", "quý I/2026", "trước ngày 30/11/2023", "UBND cấp xã phối hợp",
            "cai cach thu tuc hanh chinh", "Đề án 06", "chuyển đổi số: việc phải xong năm 2025"]


QUERIES = _queries()


@pytest.fixture(scope="module")
def store(search_dir) -> UnitStore:
    return UnitStore(search_dir)


@pytest.fixture(scope="module")
def first_path(app, search_dir, e5_encoder) -> Searcher:
    """The searcher as it was before the unit store: units as objects from units.jsonl (the same graph trace)."""
    titles = json.loads((search_dir / "docs.json").read_text("utf-8"))
    return Searcher(Searcher.load_units(search_dir), BM25Index.load(search_dir / "bm25"),
                    VectorIndex.load(search_dir / "vectors"), e5_encoder, app.tracer, doc_titles=titles,
                    restorer=Restorer.load(search_dir / "restore.json"),
                    instruments=json.loads((search_dir / "instruments.json").read_text("utf-8")),
                    title_index=BM25Index.load(search_dir / "titles"))


def _ranked(searcher: Searcher, **ranker) -> Searcher:
    """`searcher` with a candidate path of other settings (exact_below=0: candidates even on a small corpus)."""
    from cchc.search.index import open_searcher

    s = open_searcher(searcher.units.path.parent, searcher.encoder, searcher.tracer)
    s._ranker = Ranker(s.units, s.bm25, s.vectors, s.encoder, **ranker)
    return s


def test_unit_store_round_trip(search_dir, store):
    units = Searcher.load_units(search_dir)
    assert len(store) == len(units) > 500
    assert list(store) == units  # every field, read lazily from the line the old reader reads
    assert store[-1] == units[-1] and store[3:6] == units[3:6]
    keys = [u.key for u in units]
    assert store.index_of_keys([keys[7], "no-such-doc.txt:L1", keys[-1]]).tolist() == [7, -1, len(units) - 1]
    for name, attr in (("lead", "lead_ids"), ("coop", "coop_ids"), ("mention", "mention_ids"), ("cites", "cites")):
        for value in store.vocabulary(name):
            assert store.postings(name, value).tolist() == [i for i, u in enumerate(units) if value in getattr(u, attr)]
    for y in store.vocabulary("year"):
        assert store.postings("year", y).tolist() == [i for i, u in enumerate(units) if u.year == int(y)]
    assert np.asarray(store.heading).astype(bool).tolist() == [u.is_heading for u in units]


@pytest.mark.parametrize("period", [(date(2023, 1, 1), date(2023, 12, 31)), (date(2026, 1, 1), date(2026, 3, 31)),
                                    (None, date(2023, 11, 30)), (date(2025, 6, 1), None)])
def test_deadline_lists_hold_every_unit_a_period_scores(search_dir, store, period):
    units = Searcher.load_units(search_dir)
    cand = set(store.deadline_candidates(*period).tolist())
    for plan_start in (False, True):
        for undated in (False, True):
            scored = {i for i, u in enumerate(units) if _time_score(u, *period, plan_start, undated)[0] > 0}
            extra = set(store.undated_candidates(*period, stated_only=not undated).tolist()) if plan_start else set()
            assert scored <= cand | extra and scored


def test_periods_scored_per_distinct_deadline_equal_the_per_unit_scores(searcher, store):
    """The store's table of distinct deadlines (a few hundred rows for a national corpus): a period scored per row
    and read per unit gives every unit's own score, and the first path's."""
    units = Searcher.load_units(store.path.parent)
    assert store.times is not None and len(store.times) < len(units)
    every = np.arange(store.n)
    dated = [i for i, u in enumerate(units) if u.deadline and (u.deadline.start or u.deadline.end)]  # the rest: 0
    ranker = Ranker(store, searcher.bm25, None, None)
    for start, end in ((date(2023, 1, 1), date(2023, 12, 31)), (None, date(2023, 11, 30)),
                       (date(2026, 4, 1), date(2026, 6, 30)), (date(2025, 6, 1), None)):
        for plan_start in (False, True):
            by_row = ranker._time_scores(every, start, end, plan_start)
            want = [_time_score(units[i], start, end, plan_start)[0] for i in dated]
            assert np.allclose(by_row[dated], want) and not np.delete(by_row, dated).any(), (start, end, plan_start)
            store_time_row, store.time_row = store.time_row, None  # the per-unit columns, as stores before
            try:
                assert np.array_equal(ranker._time_scores(every, start, end, plan_start), by_row)
            finally:
                store.time_row = store_time_row


def test_served_searcher_takes_the_candidate_path(searcher):
    assert isinstance(searcher.units, UnitStore) and searcher._ranker is not None


@pytest.mark.parametrize("flt", FILTERS, ids=repr)
def test_same_results_as_the_first_path(searcher, first_path, flt):
    """Below `exact_below` every unit is a candidate: results, scores and reasons equal the first path's."""
    for q in QUERIES:
        got = [r.to_json() for r in searcher.search(q, 10, flt)]
        assert got == [r.to_json() for r in first_path.search(q, 10, flt)], q


@pytest.mark.parametrize("flt", FILTERS, ids=repr)
def test_candidates_and_filters_before_ranking_give_the_post_filter_results(searcher, first_path, flt):
    """The candidate path proper (inverted lists, BM25 top-n, ANN, pruning, filter masks): the same units in the
    same order as the first path's filters after ranking; scores to float rounding (dense scores by numpy)."""
    cand = _ranked(searcher, exact_below=0, top_bm25=10**6, top_dense=10**6)
    for q in QUERIES:
        want = first_path.search(q, 10, flt)
        got = cand.search(q, 10, flt)
        assert [r.key for r in got] == [r.key for r in want], q
        assert np.allclose([r.score for r in got], [r.score for r in want], atol=1e-3), q
        assert [r.why for r in got] == [r.why for r in want], q


@pytest.mark.parametrize("flt", FILTERS, ids=repr)
def test_skipping_the_cosines_below_the_page_and_spread_scores_change_no_page(searcher, flt):
    """Cosines computed only for the typed candidates that can reach the page, structured scores summed over an
    array of every unit: every page, score, reason and total as with every cosine computed (pages 1 and 3)."""
    full = _ranked(searcher, exact_below=0, prune_above=10**9, dense_above=10**9)
    pruned = _ranked(searcher, exact_below=0, prune_above=0, dense_above=0)
    skipped = 0
    scored = pruned._ranker._scored

    def counting(*args, **kwargs):
        nonlocal skipped
        out = scored(*args, **kwargs)
        skipped += int(np.isnan(out.d_raw).sum()) if out.d_raw is not None else 0
        return out

    pruned._ranker._scored = counting
    for q in QUERIES:
        for offset in (0, 20):
            want, got = full.answer(q, 10, flt, offset), pruned.answer(q, 10, flt, offset)
            assert got.total == want.total, q
            assert [r.to_json() for r in got.results] == [r.to_json() for r in want.results], (q, offset)
    assert skipped > 0


def test_small_candidate_lists_keep_most_of_the_top_10(searcher, first_path):
    cand = _ranked(searcher, exact_below=0, top_bm25=50, top_dense=30)
    overlap = []
    for q in QUERIES:
        want = {r.key for r in first_path.search(q, 10)}
        got = {r.key for r in cand.search(q, 10)}
        overlap.append(len(want & got) / max(len(want), 1))
    assert np.mean(overlap) >= 0.9


def test_ann_recall_on_the_real_vectors(search_dir, e5_encoder):
    """HNSW over the corpus's e5 vectors at the efSearch the writer would pick: recall@10 against exact search
    >= 0.98 on probes and on the gold queries' encodings."""
    import faiss

    flat = VectorIndex.load(search_dir / "vectors")
    vecs = np.ascontiguousarray(stored_vectors(flat.index))
    hnsw = faiss.IndexHNSWFlat(vecs.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.add(vecs)
    ef, recall = tune_ef(hnsw, vecs)
    assert ef is not None and recall >= 0.98
    qs = np.ascontiguousarray(e5_encoder.encode_queries(QUERIES[:60]), dtype=np.float32)
    assert recall_at(hnsw, vecs, qs) >= 0.98
    assert recall_at(hnsw, vecs, probes(vecs, 50, seed=1)) >= 0.98


def test_quantised_ann_on_the_real_vectors(tmp_path, search_dir, e5_encoder):
    """The writer's first choice, PQ fast-scan codes reranked exactly, on the corpus's e5 vectors: recall@10
    >= 0.98 on the gold queries' encodings; units come back by row, and a filter keeps to its units."""
    from cchc.search.ann import Ann, build_ann

    flat = VectorIndex.load(search_dir / "vectors")
    vecs = np.ascontiguousarray(stored_vectors(flat.index))
    info = build_ann(vecs, tmp_path, min_rows=0)
    assert info["vector_kind"].startswith("IndexRefineFlat") and info["ann_recall_at_10"] >= 0.98
    ann = Ann(tmp_path)
    assert not ann.exact and ann.index.k_factor == info["k_factor"]
    distinct = np.unique(vecs, axis=0)
    assert ann.vectors.shape == distinct.shape
    qs = np.ascontiguousarray(e5_encoder.encode_queries(QUERIES[:60]), dtype=np.float32)
    assert recall_at(ann.index, ann.vectors, qs) >= 0.98
    units, sims = ann.search(qs[0], 10)
    exact = vecs @ qs[0]
    assert np.allclose(sims, exact[units], atol=1e-5) and sims[0] == pytest.approx(exact.max(), abs=1e-5)
    allowed = np.arange(0, len(vecs), 7, dtype=np.int64)
    units, sims = ann.search(qs[0], 10, allowed)
    assert set(units.tolist()) <= set(allowed.tolist()) and sims[0] == pytest.approx(exact[allowed].max(), abs=1e-5)


def test_synthetic_corpus_is_deterministic_and_skewed():
    sys.path.insert(0, str(ROOT / "bench"))
    from synth_corpus import Corpus

    a, b = Corpus(1500, seed=5), Corpus(1500, seed=5)
    assert [d.name for d in a.plan] == [d.name for d in b.plan] and a.task_count >= 1500
    ua = [u.key for d in a.plan[:3] for u in a.units(d)]
    assert ua == [u.key for d in b.plan[:3] for u in b.units(d)] and len(set(ua)) == len(ua)
    from collections import Counter

    cites = Counter(c for u in a.iter_units() for c in u.cites)
    top = sum(n for _, n in cites.most_common(10))
    assert top / sum(cites.values()) > 0.25 and sum(1 for n in cites.values() if n <= 2) > 10
    ex = a.extraction(a.plan[0])
    assert ex.doc == a.plan[0].name and all(t.span.doc == ex.doc for t in ex.tasks)
