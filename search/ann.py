"""The dense side at scale: the FAISS index's own vectors, and an HNSW efSearch tuned for recall.

Why: at the default efSearch (16) HNSW returned a fifth of the true top 10
for some probes (issue 16).  The writer measures recall@10 against exact
search on probe vectors and keeps the smallest efSearch that reaches
`TARGET_RECALL`; the reader sets it.  The vectors are read from the index's
flat storage in place (no second copy in memory): scoring a candidate set
exactly is a gather and a matrix-vector product.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

TARGET_RECALL = 0.98
EF_CHOICES = (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)


def stored_vectors(index) -> np.ndarray:
    """The raw float32 vectors an IndexFlat or IndexHNSWFlat holds, as a numpy view (no copy)."""
    import faiss

    flat = faiss.downcast_index(index.storage) if hasattr(index, "storage") else index
    flat = faiss.downcast_index(flat)
    n, d = flat.ntotal, flat.d
    if n == 0:
        return np.zeros((0, d), dtype=np.float32)
    return faiss.rev_swig_ptr(flat.get_xb(), n * d).reshape(n, d)


def probes(vectors: np.ndarray, count: int, seed: int = 16) -> np.ndarray:
    """Query-like probe vectors: the normalised mean of two random stored vectors (not themselves stored)."""
    rng = np.random.default_rng(seed)
    n = len(vectors)
    a, b = rng.integers(0, n, count), rng.integers(0, n, count)
    q = vectors[a] + vectors[b]
    norms = np.linalg.norm(q, axis=1, keepdims=True)
    return np.ascontiguousarray(q / np.maximum(norms, 1e-12), dtype=np.float32)


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
