"""BM25 over search units: bm25s's index, built with numpy, read back by memory map and scored with numpy.

bm25s stores the index as the BM25 weight of every (term, unit) pair in a
column-compressed matrix (``data`` / ``indices`` / ``indptr``, one column per
term) plus the vocabulary.  Scoring a query is adding the columns of its
terms, a few lines of numpy; so a reader opens the saved arrays by memory map
and never imports bm25s (with scipy behind it, ~0.35 s of a `cchc search`,
measured in bench/lean.md).  The sum runs term by term in float32, in the
order bm25s uses, so the scores are bm25s's to the bit (a test pins it).

The arrays are built here, not by bm25s (`_bm25_arrays`): bm25s turns every
unit's tokens into Python lists of ids, O(total tokens) Python objects, which
at national scale (~2.9M units, most of them repeated texts) took the build
past 23 GB (bench/scale.md, "BM25 build memory").  Here each distinct text is
tokenised once, its weights are computed once and copied to the units that
repeat it.  Arrays, vocabulary and saved files are bm25s's (0.3.x) to the bit;
tests/test_search.py builds both on the corpus and compares.

Beside bm25s's files the writer saves the same weights per distinct text
(`rows`: each unit's text; `row_*`: the columns over texts; `row_units`: the
units of each text).  A unit's weights depend on its text only (its term
counts and length; the idf is the collection's), so scoring the distinct
texts and reading each unit's score through its text gives the same floats,
and at national scale, where most units repeat a text, a query touches a
tenth of the postings (`scores_by_text`, used by the candidate path).
"""

from __future__ import annotations

import json
import math
from array import array
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from cchc.search.text import tokens

_ARRAYS = ("data", "indices", "indptr")
_ROW_ARRAYS = ("rows", "row_data", "row_indices", "row_indptr", "row_units_indptr", "row_units")
# What we used to call bm25s with, BM25(k1=1.2, b=0.75): method and idf "lucene", float32 weights, int32 rows.
_K1, _B, _DELTA = 1.2, 0.75, 0.5
_EMPTY = "∅"  # the one token of a unit with none (bm25s needs every unit to have a token)
_CHUNK = 1 << 18  # units per pass when scattering weights into columns: bounds the temporaries


class ByText:
    """Per-unit values kept per distinct text: indexing with unit numbers reads each unit's text's value."""

    def __init__(self, values: np.ndarray, rows: np.ndarray | None) -> None:
        self.values = values  # one per distinct text (per unit when `rows` is None)
        self.rows = rows  # unit -> its text's row

    def __getitem__(self, units):
        return self.values[units] if self.rows is None else self.values[self.rows[units]]

    def __len__(self) -> int:
        return len(self.values) if self.rows is None else len(self.rows)

    def min(self) -> float:
        return float(self.values.min()) if len(self.values) else 0.0

    def max(self) -> float:
        return float(self.values.max()) if len(self.values) else 0.0


class BM25Index:
    """Lexical scores for every unit; keys are the units' keys, in index order."""

    def __init__(self, arrays: dict[str, np.ndarray], vocab: dict[str, int], keys: list[str],
                 built: bool = False) -> None:
        self._data, self._indices, self._indptr = (arrays[name] for name in _ARRAYS)
        by_text = all(name in arrays for name in _ROW_ARRAYS)
        self._rows, self._row_data, self._row_indices, self._row_indptr, self._row_units_indptr, self._row_units = (
            (arrays[name] for name in _ROW_ARRAYS) if by_text else (None,) * len(_ROW_ARRAYS))
        self.vocab = vocab
        self.keys = keys
        self._built = built  # a fresh build (in memory), what `save` writes; a loaded one is memory-mapped

    @classmethod
    def build(cls, keys: Sequence[str], texts: Sequence[str]) -> BM25Index:
        arrays, vocab = _bm25_arrays(texts)
        return cls(arrays, vocab, list(keys), built=True)

    @property
    def rows(self) -> np.ndarray | None:
        """Each unit's distinct text (row), when the index holds them."""
        return self._rows

    @property
    def units_per_text(self) -> np.ndarray:
        """How many units repeat each distinct text."""
        return np.diff(self._row_units_indptr) if self._row_units_indptr is not None else np.ones(len(self.keys))

    @property
    def by_text(self) -> bool:
        """Whether the index holds its weights per distinct text too (indexes written since issue 16's BM25 rows)."""
        return self._rows is not None

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every unit for `query` (zeros when no term matches)."""
        out = np.zeros(len(self.keys), dtype=np.float32)
        for term in tokens(query):  # a repeated term counts again, as in bm25s
            tid = self.vocab.get(term)
            if tid is not None:
                start, end = int(self._indptr[tid]), int(self._indptr[tid + 1])
                out[self._indices[start:end]] += self._data[start:end]  # a unit appears once in a column
        return out

    def scores_by_text(self, query: str) -> ByText:
        """`scores` per distinct text, read per unit through `ByText` (the same floats, term by term)."""
        if self._rows is None:
            return ByText(self.scores(query), None)
        out = np.zeros(len(self._row_units_indptr) - 1, dtype=np.float32)  # type: ignore[arg-type]
        for term in tokens(query):
            tid = self.vocab.get(term)
            if tid is not None:
                start, end = int(self._row_indptr[tid]), int(self._row_indptr[tid + 1])
                out[self._row_indices[start:end]] += self._row_data[start:end]
        return ByText(out, self._rows)

    def text_postings(self, term: str) -> np.ndarray | None:
        """The distinct texts (rows) holding `term`; None when no unit has it (or the index has no rows)."""
        tid = self.vocab.get(term)
        if tid is None or self._row_indptr is None:
            return None
        return np.asarray(self._row_indices[int(self._row_indptr[tid]):int(self._row_indptr[tid + 1])])

    def df(self, term: str) -> int:
        """How many units hold `term`."""
        tid = self.vocab.get(term)
        return 0 if tid is None else int(self._indptr[tid + 1]) - int(self._indptr[tid])

    def units_of_texts(self, rows: np.ndarray) -> np.ndarray:
        """The units of the given distinct texts, text by text in the order given (units ascending within one)."""
        if self._rows is None:
            return np.asarray(rows, dtype=np.int64)
        starts, ends = self._row_units_indptr[rows], self._row_units_indptr[np.asarray(rows) + 1]
        if not len(starts):
            return np.zeros(0, np.int64)
        size = ends - starts
        offsets = np.repeat(starts - (np.cumsum(size) - size), size) + np.arange(int(size.sum()))
        return np.asarray(self._row_units[offsets], dtype=np.int64)

    def postings(self, term: str) -> np.ndarray | None:
        """The units (index positions) whose text has `term`; None when no unit has it."""
        tid = self.vocab.get(term)
        if tid is None:
            return None
        return np.asarray(self._indices[int(self._indptr[tid]):int(self._indptr[tid + 1])])

    def save(self, path: Path) -> None:
        """The files `bm25s.BM25.save` writes (params too, so bm25s.BM25.load still opens them), plus keys.json."""
        if not self._built:
            raise ValueError("only a freshly built BM25 index can be saved")
        path.mkdir(parents=True, exist_ok=True)
        for name in _ARRAYS:
            np.save(path / f"{name}.csc.index.npy", getattr(self, f"_{name}"))
        (path / "vocab.index.json").write_text(json.dumps(self.vocab, ensure_ascii=False), "utf-8")
        params = dict(k1=_K1, b=_B, delta=_DELTA, method="lucene", idf_method="lucene", dtype="float32",
                      int_dtype="int32", num_docs=len(self.keys), version=_bm25s_version(), backend="numpy")
        (path / "params.index.json").write_text(json.dumps(params, indent=4))
        (path / "keys.json").write_text(json.dumps(self.keys, ensure_ascii=False), "utf-8")
        if self._rows is not None:
            for name in _ROW_ARRAYS:
                np.save(path / f"{name}.npy", getattr(self, f"_{name}"))

    @classmethod
    def load(cls, path: Path, keys: Sequence[str] | None = None) -> BM25Index:
        """The saved index by memory map; `keys`: the units' keys when the caller has them (keys.json unread)."""
        arrays = {name: np.load(path / f"{name}.csc.index.npy", mmap_mode="r") for name in _ARRAYS}
        arrays.update({name: np.load(path / f"{name}.npy", mmap_mode="r") for name in _ROW_ARRAYS
                       if (path / f"{name}.npy").exists()})
        vocab = json.loads((path / "vocab.index.json").read_text("utf-8"))
        if keys is None:
            keys = json.loads((path / "keys.json").read_text("utf-8"))
        return cls(arrays, vocab, keys)  # type: ignore[arg-type]


def _bm25s_version() -> str:
    """What bm25s writes as `version` in params.index.json (its own fallback when it is not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bm25s")
    except PackageNotFoundError:
        return "0.0.0"


def _bm25_arrays(texts: Sequence[str]) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """bm25s's `index` of the texts' tokens (BM25 lucene, k1=1.2, b=0.75), from each distinct text once.

    Every unit is still a document of its own, as in bm25s: a term's document
    frequency counts every unit holding it, the average length is over all
    units, and a repeated text gets a column entry per unit.  The float
    arithmetic is bm25s's operation for operation (idf by `math.log` in double,
    stored float32; the tf part in double from float32 counts; the product
    rounded to float32), so the weights are the same floats.
    """
    if not texts:
        raise ValueError("no texts to index")  # bm25s fails too (max() of an empty vocabulary)
    term_id: dict[str, int] = {}  # term -> id in first-seen order (reordered to bm25s's below)
    row_of: dict[str, int] = {}  # distinct text -> its row
    unit_row = np.empty(len(texts), dtype=np.int64)
    terms, counts, n_terms, lengths = array("i"), array("i"), array("q"), array("q")
    for u, text in enumerate(texts):
        row = row_of.get(text)
        if row is None:
            row = row_of[text] = len(row_of)
            toks = tokens(text) or [_EMPTY]
            tf = Counter(toks)  # keys in first-seen order, so ids are given in the token stream's order
            terms.extend(term_id.setdefault(t, len(term_id)) for t in tf)
            counts.extend(tf.values())
            n_terms.append(len(tf))
            lengths.append(len(toks))
        unit_row[u] = row
    n_docs, n_vocab = len(texts), len(term_id)

    # bm25s's vocabulary order is a Python set's (`set().update(tokens)` unit by unit): adding the terms to a
    # set in first-seen order, one by one (set(list), not set(dict), which presizes), lays it out the same.
    vocab = {t: i for i, t in enumerate(set(list(term_id)))}
    remap = np.fromiter((vocab[t] for t in term_id), dtype=np.int32, count=n_vocab)
    if "" not in vocab:
        vocab[""] = n_vocab  # bm25s's `create_empty_token`: in the vocabulary, no column

    term = remap[np.frombuffer(terms, dtype=np.int32)]  # one (row, term) pair per distinct text's term
    tf32 = np.frombuffer(counts, dtype=np.int32).astype(np.float32)
    per_row = np.frombuffer(n_terms, dtype=np.int64)
    length = np.frombuffer(lengths, dtype=np.int64)
    pair_row = np.repeat(np.arange(len(per_row)), per_row)
    units_of_row = np.bincount(unit_row, minlength=len(per_row))
    df = np.bincount(term, weights=units_of_row[pair_row], minlength=n_vocab).astype(np.int64)  # exact: < 2**53
    idf = np.array([math.log(1 + (n_docs - f + 0.5) / (f + 0.5)) for f in df.tolist()], dtype=np.float32)
    avg_len = length[unit_row].mean()  # np.float64, as bm25s's mean over every unit's length
    tfc = tf32 / (_K1 * ((1 - _B) + _B * length[pair_row] / avg_len) + tf32)
    weight = (idf[term] * tfc).astype(np.float32)
    del tfc, tf32, pair_row

    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    data = np.empty(int(indptr[-1]), dtype=np.float32)
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    pair_start = np.zeros(len(per_row), dtype=np.int64)
    np.cumsum(per_row[:-1], out=pair_start[1:])
    cursor = indptr[:-1].copy()  # next free slot of each column
    for start in range(0, n_docs, _CHUNK):
        # The chunk's units in order, each with its text's pairs; a stable sort by term keeps units ascending
        # within a column, and chunks come in unit order, so each column's rows come out sorted (as bm25s's).
        rows = unit_row[start:start + _CHUNK]
        k = per_row[rows]
        ends = np.cumsum(k)
        pair = np.repeat(pair_start[rows] - (ends - k), k) + np.arange(int(ends[-1]))
        unit = np.repeat(np.arange(start, start + len(rows), dtype=np.int32), k)
        order = np.argsort(term[pair], kind="stable")
        col = term[pair[order]]
        in_chunk = np.bincount(col, minlength=n_vocab)
        dest = cursor[col] + (np.arange(len(col)) - (np.cumsum(in_chunk) - in_chunk)[col])
        data[dest] = weight[pair[order]]
        indices[dest] = unit[order]
        cursor += in_chunk
    # The same weights per distinct text: columns over texts (rows ascending within one), and each text's units.
    order = np.argsort(term, kind="stable")  # pairs are laid out text by text, so rows stay ascending
    row_indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(np.bincount(term, minlength=n_vocab), out=row_indptr[1:])
    by_row = np.argsort(unit_row, kind="stable").astype(np.int32)
    row_units_indptr = np.zeros(len(per_row) + 1, dtype=np.int64)
    np.cumsum(units_of_row, out=row_units_indptr[1:])
    return {"data": data, "indices": indices, "indptr": indptr, "rows": unit_row.astype(np.int32),
            "row_data": weight[order],
            "row_indices": np.repeat(np.arange(len(per_row), dtype=np.int32), per_row)[order],
            "row_indptr": row_indptr, "row_units_indptr": row_units_indptr, "row_units": by_row}, vocab

