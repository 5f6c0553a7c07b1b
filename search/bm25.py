"""BM25 over search units (bm25s), with the index persisted beside the graph."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from cchc.search.text import tokens


class BM25Index:
    """Lexical scores for every unit; keys are the units' keys, in index order."""

    def __init__(self, retriever, keys: list[str]) -> None:
        self._r = retriever
        self.keys = keys

    @classmethod
    def build(cls, keys: Sequence[str], texts: Sequence[str]) -> BM25Index:
        import bm25s

        r = bm25s.BM25(k1=1.2, b=0.75)
        r.index([tokens(t) or ["∅"] for t in texts], show_progress=False)
        return cls(r, list(keys))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every unit for `query` (zeros when no term matches)."""
        q = tokens(query)
        vocab = self._r.vocab_dict
        q = [t for t in q if t in vocab]
        if not q:
            return np.zeros(len(self.keys), dtype=np.float32)
        return np.asarray(self._r.get_scores(q), dtype=np.float32)

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self._r.save(str(path), show_progress=False)
        (path / "keys.json").write_text(json.dumps(self.keys, ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, path: Path) -> BM25Index:
        import bm25s

        r = bm25s.BM25.load(str(path), show_progress=False)
        keys = json.loads((path / "keys.json").read_text("utf-8"))
        return cls(r, keys)
