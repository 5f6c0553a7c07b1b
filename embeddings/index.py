"""Dense vectors of search units in FAISS, persisted with a manifest.

Vectors are L2-normalised, so inner product is cosine.  Small collections use
an exact IndexFlatIP; above `hnsw_threshold` an HNSW graph keeps queries fast
at millions of units.  The manifest records the model id and dimension: an
index is never queried with, or extended by, vectors of another model.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from cchc.embeddings.encoder import Encoder

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
INDEX = "vectors.faiss"


def encode_passages(encoder: Encoder, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
    """All of `texts` in one call to an encoder that reports progress, with a bar counting texts."""
    if not progress:
        return np.asarray(encoder.encode_passages(list(texts)), dtype=np.float32)
    from tqdm import tqdm

    with tqdm(total=len(texts), desc="encoding units", unit="text", file=None) as bar:
        return np.asarray(encoder.encode_passages(list(texts), progress=bar.update),  # type: ignore[call-arg]
                          dtype=np.float32)


class ModelMismatch(ValueError):
    """The index was built with another model; it must be rebuilt, not mixed."""


class VectorIndex:
    def __init__(self, index, keys: list[str], model_id: str, dimension: int) -> None:
        self.index = index
        self.keys = keys
        self.model_id = model_id
        self.dimension = dimension

    @classmethod
    def build(
        cls, encoder: Encoder, keys: Sequence[str], texts: Sequence[str], *, hnsw_threshold: int = 50_000,
        batch_size: int = 64, progress: bool = False,
    ) -> VectorIndex:
        vectors = cls.encode(encoder, texts, batch_size=batch_size, progress=progress)
        return cls.from_vectors(vectors, keys, encoder.model_id, hnsw_threshold=hnsw_threshold)

    @staticmethod
    def encode(encoder: Encoder, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False
               ) -> np.ndarray:
        """The passages' vectors (float32, one row per text), with an optional progress bar.

        An encoder that plans its own batches (``reports_progress``: the ONNX
        one sorts a whole call by length and runs batches side by side) gets
        every text in one call; any other gets slices of `batch_size` cut from
        the texts sorted by length (a slice of mixed lengths is padded to its
        longest), and the rows are put back in input order."""
        if getattr(encoder, "reports_progress", False):
            return encode_passages(encoder, texts, progress=progress)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        batches = range(0, len(texts), batch_size)
        if progress:
            from tqdm import tqdm

            batches = tqdm(batches, desc="encoding units", unit="batch", file=None)
        out = np.zeros((len(texts), encoder.dimension), dtype=np.float32)
        for s in batches:
            rows = order[s:s + batch_size]
            out[rows] = np.asarray(encoder.encode_passages([texts[i] for i in rows]), dtype=np.float32)
        return out

    @classmethod
    def from_vectors(cls, vectors: np.ndarray, keys: Sequence[str], model_id: str, *,
                     hnsw_threshold: int = 50_000) -> VectorIndex:
        """An index over vectors already computed (a build, or an update that encoded only new units)."""
        import faiss

        dim = int(vectors.shape[1])
        index = faiss.IndexFlatIP(dim) if len(keys) < hnsw_threshold else faiss.IndexHNSWFlat(
            dim, 32, faiss.METRIC_INNER_PRODUCT)
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index, list(keys), model_id, dim)

    def vectors(self) -> np.ndarray:
        """Every stored vector in key order (both index kinds keep the raw vectors)."""
        return self.index.reconstruct_n(0, self.index.ntotal) if self.index.ntotal else \
            np.zeros((0, self.dimension), dtype=np.float32)

    def check_encoder(self, encoder: Encoder) -> None:
        if encoder.model_id != self.model_id or encoder.dimension != self.dimension:
            raise ModelMismatch(
                f"the vector index was built with {self.model_id} ({self.dimension} dims), not "
                f"{encoder.model_id} ({encoder.dimension} dims); rebuild it with `cchc build --reindex`")

    def scores(self, encoder: Encoder, query: str) -> np.ndarray:
        """Cosine of every unit with `query` (index order)."""
        self.check_encoder(encoder)
        q = np.ascontiguousarray(encoder.encode_queries([query]), dtype=np.float32)
        k = len(self.keys)
        sims, ids = self.index.search(q, k)
        out = np.full(k, -1.0, dtype=np.float32)
        valid = ids[0] >= 0
        out[ids[0][valid]] = sims[0][valid]
        return out

    def save(self, path: Path) -> None:
        """Write index and manifest atomically (temporary files, then rename)."""
        import faiss

        path.mkdir(parents=True, exist_ok=True)
        tmp = path / (INDEX + ".tmp")
        faiss.write_index(self.index, str(tmp))
        os.replace(tmp, path / INDEX)
        manifest = {"model_id": self.model_id, "dimension": self.dimension, "count": len(self.keys),
                    "keys": self.keys, "kind": type(self.index).__name__}
        tmpm = path / (MANIFEST + ".tmp")
        tmpm.write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
        os.replace(tmpm, path / MANIFEST)

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        import faiss

        manifest = json.loads((path / MANIFEST).read_text("utf-8"))
        try:  # flat vectors by memory map: server processes share the pages, and only what is read is resident
            index = faiss.read_index(str(path / INDEX), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
        except RuntimeError:  # an index kind faiss cannot map (HNSW): read it into memory
            index = faiss.read_index(str(path / INDEX))
        if index.ntotal != len(manifest["keys"]):
            raise ValueError(f"{path}: index holds {index.ntotal} vectors but the manifest {len(manifest['keys'])}")
        return cls(index, manifest["keys"], manifest["model_id"], manifest["dimension"])

    @staticmethod
    def manifest(path: Path) -> dict | None:
        p = path / MANIFEST
        return json.loads(p.read_text("utf-8")) if p.exists() else None
