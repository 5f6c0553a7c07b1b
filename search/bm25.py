"""BM25 over search units: built with bm25s, read back by memory map and scored with numpy.

bm25s stores the index as the BM25 weight of every (term, unit) pair in a
column-compressed matrix (``data`` / ``indices`` / ``indptr``, one column per
term) plus the vocabulary.  Scoring a query is adding the columns of its
terms, a few lines of numpy; so a reader opens the saved arrays by memory map
and never imports bm25s (with scipy behind it, ~0.35 s of a `cchc search`,
measured in bench/lean.md).  The sum runs term by term in float32, in the
order bm25s uses, so the scores are bm25s's to the bit (a test pins it).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from cchc.search.text import tokens

_ARRAYS = ("data", "indices", "indptr")


class BM25Index:
    """Lexical scores for every unit; keys are the units' keys, in index order."""

    def __init__(self, arrays: dict[str, np.ndarray], vocab: dict[str, int], keys: list[str],
                 retriever: object | None = None) -> None:
        self._data, self._indices, self._indptr = (arrays[name] for name in _ARRAYS)
        self.vocab = vocab
        self.keys = keys
        self._r = retriever  # the bm25s object of a fresh build: what `save` writes

    @classmethod
    def build(cls, keys: Sequence[str], texts: Sequence[str]) -> BM25Index:
        import bm25s  # lazy: only building needs it (and scipy behind it)

        # bm25s sets its logger to DEBUG when imported, so its chatter reaches stderr whatever the CLI's level;
        # back to NOTSET it follows the root logger (shown with -vv).
        logging.getLogger("bm25s").setLevel(logging.NOTSET)
        r = bm25s.BM25(k1=1.2, b=0.75)
        seen: dict[str, list[str]] = {}  # repeated rows (plans copying a template) are tokenised once
        r.index([seen[t] if t in seen else seen.setdefault(t, tokens(t) or ["∅"]) for t in texts],
                show_progress=False)
        return cls({name: np.asarray(r.scores[name]) for name in _ARRAYS}, r.vocab_dict, list(keys), r)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every unit for `query` (zeros when no term matches)."""
        out = np.zeros(len(self.keys), dtype=np.float32)
        for term in tokens(query):  # a repeated term counts again, as in bm25s
            tid = self.vocab.get(term)
            if tid is not None:
                start, end = int(self._indptr[tid]), int(self._indptr[tid + 1])
                out[self._indices[start:end]] += self._data[start:end]  # a unit appears once in a column
        return out

    def postings(self, term: str) -> np.ndarray | None:
        """The units (index positions) whose text has `term`; None when no unit has it."""
        tid = self.vocab.get(term)
        if tid is None:
            return None
        return np.asarray(self._indices[int(self._indptr[tid]):int(self._indptr[tid + 1])])

    def save(self, path: Path) -> None:
        if self._r is None:
            raise ValueError("only a freshly built BM25 index can be saved")
        path.mkdir(parents=True, exist_ok=True)
        self._r.save(str(path), show_progress=False)
        (path / "keys.json").write_text(json.dumps(self.keys, ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, path: Path, keys: Sequence[str] | None = None) -> BM25Index:
        """The saved index by memory map; `keys`: the units' keys when the caller has them (keys.json unread)."""
        arrays = {name: np.load(path / f"{name}.csc.index.npy", mmap_mode="r") for name in _ARRAYS}
        vocab = json.loads((path / "vocab.index.json").read_text("utf-8"))
        if keys is None:
            keys = json.loads((path / "keys.json").read_text("utf-8"))
        return cls(arrays, vocab, keys)  # type: ignore[arg-type]
