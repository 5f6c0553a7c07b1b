"""Passage vectors kept on disk, keyed by model and text: a rebuild encodes only what changed.

Encoding the passages is most of a `cchc build` (bench/lean.md); a corpus edit
changes a handful of units, and the carry-over links re-encode task texts the
build has already seen. Vectors are stored per model id (one file each) under
the hash of the text, so another model, or a changed text, never reads a
stale vector. The file is written to a temporary name and renamed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
from cchc.embeddings.encoder import Encoder

log = logging.getLogger(__name__)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


class CachedPassages:
    """``encoder`` with ``encode_passages`` answered from ``<cache_dir>/passages-<model>.npz`` when it can."""

    def __init__(self, encoder: Encoder, cache_dir: Path) -> None:
        self._enc = encoder
        self.model_id = encoder.model_id
        self.dimension = encoder.dimension
        self.path = Path(cache_dir) / f"passages-{re.sub(r'[^A-Za-z0-9_.@-]+', '_', encoder.model_id)}.npz"
        self._vecs: dict[str, np.ndarray] = {}
        try:
            with np.load(self.path, allow_pickle=False) as z:
                if z["vecs"].shape[1:] == (self.dimension,):
                    self._vecs = dict(zip(z["keys"].tolist(), z["vecs"], strict=True))
        except (OSError, ValueError, KeyError):
            pass  # no cache yet, or an unreadable one: it is rewritten below

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._enc.encode_queries(texts)

    @property
    def reports_progress(self) -> bool:
        """Whether `encode_passages` takes `progress` (it passes it on to an encoder that does)."""
        return bool(getattr(self._enc, "reports_progress", False))

    def encode_passages(self, texts: list[str], *, progress: Callable[[int], None] | None = None) -> np.ndarray:
        keys = [_digest(t) for t in texts]
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._vecs}
        if progress is not None:
            progress(len(texts) - len(todo))  # what the cache answers is done already
        if todo:
            kwargs = {"progress": progress} if progress is not None and self.reports_progress else {}
            self._vecs.update(zip(todo, self._enc.encode_passages(list(todo.values()), **kwargs), strict=True))
            self._save()
        log.debug("passages: %d asked, %d encoded, %d from the cache", len(texts), len(todo), len(texts) - len(todo))
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        return np.stack([self._vecs[k] for k in keys]).astype(np.float32, copy=False)

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.stem + f".{os.getpid()}.tmp.npz")
        np.savez(tmp, keys=np.array(list(self._vecs)), vecs=np.stack(list(self._vecs.values())))
        os.replace(tmp, self.path)
