"""The dense side at scale: the FAISS index's own vectors, and an ANN tuned for recall.

Why: at the default efSearch (16) HNSW returned a fifth of the true top 10
for some probes (issue 16).  The writer measures recall@10 against exact
search on probe vectors and keeps the cheapest setting that reaches
`TARGET_RECALL`; the reader uses it.  Tried in order: 8-bit scalar codes
reranked exactly (`IndexRefineFlat` over `IndexScalarQuantizer`: a quarter
of the bytes to scan, then the best `k_factor`*k by exact cosine), HNSW
(`efSearch` tuned), and exact search.  Measured on the synthetic corpus's
hashing vectors (25k distinct): scalar codes reached recall@10 1.00 at
k_factor 2-4 in 0.6 ms a query where the exact scan took 3.0 ms; 4-bit PQ
fast-scan codes needed k_factor 256 (8 ms), 8-bit PQ 16 (0.8 ms, 46 s to
train); HNSW never reached 0.98 on those vectors.  At 266k distinct vectors
(1M tasks) a query scans the codes in ~13 ms where the exact scan took ~36.
The vectors are read from the index's flat storage in place (no second copy
in memory): scoring a candidate set exactly is a gather and a matrix-vector
product.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

TARGET_RECALL = 0.98
EF_CHOICES = (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)


def stored_vectors(index) -> np.ndarray:
    """The raw float32 vectors an IndexFlat, IndexHNSWFlat or IndexRefine holds, as a numpy view (no copy)."""
    import faiss

    if hasattr(index, "refine_index"):
        flat = index.refine_index
    else:
        flat = index.storage if hasattr(index, "storage") else index
    flat = faiss.downcast_index(flat)
    n, d = flat.ntotal, flat.d
    if n == 0:
        return np.zeros((0, d), dtype=np.float32)
    return faiss.rev_swig_ptr(flat.get_xb(), n * d).reshape(n, d)


def probes(vectors: np.ndarray, count: int, seed: int = 16, cosine: float = 0.2) -> np.ndarray:
    """Query-like probe vectors: stored vectors moved by random noise to `cosine` from where they were.

    A query shares a few words with the passage it wants: its vector is near that passage's, not on it (a stored
    vector as its own probe makes recall trivial), and nearer it than to the rest (the normalised mean of two
    random vectors, tried first, has its top 10 within 0.01 of each other: noise that no index ranks).  At
    cosine 0.2 the recall these probes give tracked that of bench/bench_scale.py's queries (hashing encoder,
    22k distinct vectors: 0.97 and 0.98 at efSearch 512; probes at 0.5 said 1.0 where the queries had 0.90).
    """
    rng = np.random.default_rng(seed)
    base = vectors[rng.integers(0, len(vectors), count)]
    sigma = float(np.sqrt(1.0 / cosine**2 - 1.0))
    q = base + sigma * rng.normal(size=base.shape).astype(np.float32) / np.sqrt(base.shape[1])
    return np.ascontiguousarray(q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12), dtype=np.float32)


def recall_at(index, vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> float:
    """Share of the exact top k the index returns; a returned vector scoring as high as the exact k-th counts
    (duplicate rows make the exact top k one choice among equals)."""
    exact = queries @ vectors.T
    kth = -np.partition(-exact, k - 1, axis=1)[:, k - 1]
    sims, ids = index.search(queries, k)
    got = (ids >= 0) & (sims >= kth[:, None] - 1e-5)
    return float(got.sum() / (len(queries) * k))


def tune_ef(index, vectors: np.ndarray, *, count: int = 200, k: int = 10,
            target: float = TARGET_RECALL) -> tuple[int | None, float]:
    """The smallest efSearch with recall@k >= target on probes, and that recall (None, 1.0 for a flat index)."""
    if not hasattr(index, "hnsw") or len(vectors) == 0:
        return None, 1.0
    qs = probes(vectors, count)
    recall = 0.0
    for ef in EF_CHOICES:
        index.hnsw.efSearch = ef
        recall = recall_at(index, vectors, qs, k)
        if recall >= target:
            log.info("HNSW efSearch %d: recall@%d %.3f on %d probes", ef, k, recall, count)
            return ef, recall
    log.warning("HNSW recall@%d %.3f at efSearch %d, below %.2f", k, recall, EF_CHOICES[-1], target)
    return EF_CHOICES[-1], recall


def tune_factor(index, vectors: np.ndarray, *, count: int = 200, k: int = 10,
                target: float = TARGET_RECALL) -> tuple[int, float]:
    """The smallest `k_factor` of a quantised index with exact rerank reaching recall@k >= target on probes."""
    qs = probes(vectors, count)
    recall = 0.0
    for factor in K_FACTORS:
        index.k_factor = factor
        recall = recall_at(index, vectors, qs, k)
        if recall >= target:
            log.info("scalar codes, exact rerank of %d x k: recall@%d %.3f on %d probes", factor, k, recall, count)
            return factor, recall
    return K_FACTORS[-1], recall


def quantised(vectors: np.ndarray, seed: int = 16):
    """8-bit scalar codes of `vectors` (one byte per dimension, ranges trained on a sample), reranked by exact
    cosine over their copy."""
    import faiss

    n, d = vectors.shape
    codes = faiss.IndexScalarQuantizer(d, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    sample = vectors[np.sort(np.random.default_rng(seed).choice(n, SQ_TRAIN, replace=False))] if n > SQ_TRAIN \
        else vectors
    codes.train(np.ascontiguousarray(sample))
    index = faiss.IndexRefineFlat(codes)
    index.add(vectors)
    return index


ANN_FILE = "ann.faiss"
# HNSW build and search depth: at faiss's default construction depth (40) the hashing encoder's vectors lost up to
# a third of their true top 10 (synthetic corpus, 22k distinct vectors); 200 fixes most of it, and efSearch is
# then tuned on probes (see `probes`).  The floor is what a probe set too easy for the index would still get.
EF_CONSTRUCTION = 200
EF_FLOOR = 128
ANN_MIN_ROWS = 20_000  # distinct vectors below which no ANN is built: the flat index answers in a few ms
K_FACTORS = (2, 4, 8, 16, 32, 64)  # candidates reranked per result asked, tried in order
SQ_TRAIN = 65_536  # vectors the scalar codes' ranges are trained on
K_FACTOR_FLOOR = 8  # as EF_FLOOR: headroom over what the probes asked
BROAD_FILTER = 0.2  # share of the distinct rows a filter keeps above which the quantised index is asked unfiltered


def distinct_rows(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first unit of each distinct vector, each unit's distinct row): plans copy rows, so many vectors repeat."""
    if len(vectors) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int32)
    v = np.ascontiguousarray(vectors, dtype=np.float32)
    keys = v.view(np.dtype((np.void, v.dtype.itemsize * v.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first)  # distinct rows in the order of their first unit
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order].astype(np.int64), rank[inverse.reshape(-1)].astype(np.int32)


def build_ann(vectors: np.ndarray, out: Path, *, min_rows: int = ANN_MIN_ROWS) -> dict:
    """An ANN over the distinct vectors (`out/ann.faiss`), each unit's row (`ann_rows.npy`) and each row's units
    (`ann_units.indptr/indices.npy`), tuned for recall@10: 8-bit scalar codes with exact rerank, else HNSW, else exact.
    Why distinct vectors: HNSW over many exact duplicates links copies to copies and its graph falls apart
    (recall@10 0.64 at efSearch 512 on the synthetic corpus at 145k units); collapsed, one row stands for all
    its units."""
    import faiss

    first, rows = distinct_rows(vectors)
    info: dict = {"distinct_vectors": len(first)}
    if len(first) < min_rows:
        return info
    uniq = np.ascontiguousarray(vectors[first], dtype=np.float32)
    index = quantised(uniq)
    factor, recall = tune_factor(index, uniq)
    index.k_factor = max(factor, K_FACTOR_FLOOR)
    info.update({"vector_kind": "IndexRefineFlat(IndexScalarQuantizer 8-bit) (distinct vectors)",
                 "k_factor": int(index.k_factor), "ann_recall_at_10": round(recall, 4)})
    if recall < TARGET_RECALL:
        log.warning("scalar codes recall@10 %.3f < %.2f at k_factor %d: trying HNSW", recall, TARGET_RECALL,
                    K_FACTORS[-1])
        info["sq_recall_at_10"] = info.pop("ann_recall_at_10")
        index = faiss.IndexHNSWFlat(uniq.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = EF_CONSTRUCTION
        index.add(uniq)
        ef, recall = tune_ef(index, uniq)
        ef = max(ef or 0, EF_FLOOR)
        index.hnsw.efSearch = ef
        info.update({"vector_kind": "IndexHNSWFlat (distinct vectors)", "ef_search": ef,
                     "ann_recall_at_10": round(recall, 4)})
    if recall < TARGET_RECALL:
        # Neither reaches the target (HNSW on the hashing encoder's vectors at 68k distinct rows: 0.95 at
        # efSearch 1024): exact search over the distinct vectors, one scan of rows x dims per query.
        log.warning("HNSW recall@10 %.3f < %.2f: exact search over %d distinct vectors", recall, TARGET_RECALL,
                    len(uniq))
        index = faiss.IndexFlatIP(uniq.shape[1])
        index.add(uniq)
        info.update({"vector_kind": "IndexFlatIP (distinct vectors)", "hnsw_recall_at_10": info["ann_recall_at_10"],
                     "hnsw_ef_search": info["ef_search"], "ef_search": None, "ann_recall_at_10": 1.0})
    faiss.write_index(index, str(out / ANN_FILE))
    np.save(out / "ann_rows.npy", rows)
    order = np.argsort(rows, kind="stable").astype(np.int32)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(first)))]).astype(np.int64)
    np.save(out / "ann_units.indptr.npy", indptr)
    np.save(out / "ann_units.indices.npy", order)
    return info


class Ann:
    """The index over distinct vectors (quantised with exact rerank, HNSW, or flat where neither met the recall
    target), answering in units: a row's units follow it, in unit order."""

    def __init__(self, path: Path) -> None:
        import faiss

        self.index = faiss.read_index(str(path / ANN_FILE))
        self.rows = np.load(path / "ann_rows.npy", mmap_mode="r")
        self._indptr = np.load(path / "ann_units.indptr.npy", mmap_mode="r")
        self._indices = np.load(path / "ann_units.indices.npy", mmap_mode="r")
        self.vectors = stored_vectors(self.index)
        self._last: tuple[np.ndarray, np.ndarray] | None = None  # (query vector, its scores): one per query

    @classmethod
    def exists(cls, path: Path) -> bool:
        return (path / ANN_FILE).exists()

    @property
    def exact(self) -> bool:
        """A flat index: every search scores every distinct vector (the caller may reuse those scores)."""
        return not hasattr(self.index, "hnsw") and not hasattr(self.index, "refine_index")

    def scores(self, qv: np.ndarray) -> np.ndarray:
        """Cosine of `qv` with every distinct vector, computed once per query vector (one matrix-vector product)."""
        last = self._last  # one read: another thread's query may replace it meanwhile
        if last is not None and last[0] is qv:
            return last[1]
        scores = self.vectors @ qv
        self._last = (qv, scores)
        return scores

    def search(self, qv: np.ndarray, k: int, allowed: np.ndarray | None = None, cap: int | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Units of the k best distinct vectors (among `allowed` units), with their scores, best first;
        at most `cap` units."""
        import faiss

        k = min(k, self.index.ntotal)
        if k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        q = np.ascontiguousarray(qv[None, :], dtype=np.float32)
        unit_ok = None
        if allowed is not None:
            unit_ok = np.zeros(len(self.rows), dtype=bool)
            unit_ok[allowed] = True
        if self.exact:  # every distinct vector's score (the caller reuses them), then the top k
            sims, ids = self._top(self.scores(qv), k, None if allowed is None else self._rows_of(allowed))
        elif allowed is None:
            sims, ids = self.index.search(q, k)
        elif hasattr(self.index, "hnsw"):
            sel = faiss.IDSelectorBatch(self._rows_of(allowed))
            params = faiss.SearchParametersHNSW(sel=sel, efSearch=max(self.index.hnsw.efSearch, k))
            sims, ids = self.index.search(q, k, params=params)
        else:
            sims, ids = self._filtered(q, qv, k, allowed)
        units, scores = [], []
        total = 0
        for r, sim in zip(ids[0].tolist(), sims[0].tolist(), strict=True):
            if r < 0:
                continue
            us = np.asarray(self._indices[int(self._indptr[r]):int(self._indptr[r + 1])], dtype=np.int64)
            if unit_ok is not None:
                us = us[unit_ok[us]]
            units.append(us)
            scores.append(np.full(len(us), sim, np.float32))
            total += len(us)
            if cap is not None and total >= cap:
                break
        if not units:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        return np.concatenate(units)[:cap], np.concatenate(scores)[:cap]

    def _rows_of(self, allowed: np.ndarray) -> np.ndarray:
        """The distinct rows of the `allowed` units, ascending."""
        mask = np.zeros(self.index.ntotal, dtype=bool)
        mask[np.asarray(self.rows)[allowed]] = True
        return np.flatnonzero(mask)

    @staticmethod
    def _top(scores: np.ndarray, k: int, keep: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """The k best of `scores` (among rows `keep`), best first, as faiss returns them."""
        if keep is not None:
            masked = np.full_like(scores, -np.inf)
            masked[keep] = scores[keep]
            scores = masked
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[np.isfinite(scores[top])]
        return scores[top][None, :], top[None, :]

    def _filtered(self, q: np.ndarray, qv: np.ndarray, k: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The k best rows among `keep` on the quantised index, which scans ten times slower with an ID
        selector (113 ms against 13 ms at 266k rows): a broad filter asks the unfiltered index for enough rows
        to hold k of its own, a narrow one is scored exactly on its rows (a gather and a product)."""
        row_ok = np.zeros(self.index.ntotal, dtype=bool)
        row_ok[np.asarray(self.rows)[allowed]] = True
        keep = np.flatnonzero(row_ok)
        share = len(keep) / max(self.index.ntotal, 1)
        if share >= BROAD_FILTER:
            wide = min(self.index.ntotal, int(np.ceil(2 * k / share)))
            sims, ids = self.index.search(q, wide)
            ok = (ids[0] >= 0) & row_ok[np.maximum(ids[0], 0)]
            if ok.sum() >= k or wide == self.index.ntotal:
                return sims[:, ok][:, :k], ids[:, ok][:, :k]
        scores = self.vectors[keep] @ qv
        sims, top = self._top(scores, k, None)
        return sims, keep[top[0]][None, :]
