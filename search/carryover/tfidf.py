"""TF-IDF cosine of every row of one plan with every row of another, as arrays, to the last bit of the sums.

The matcher compares rows by TF-IDF cosine with the IDF taken over the two
plans of a pair (text.py).  Written as a double loop over row dictionaries it
was most of the carry-over's time on a national corpus (thousands of plan
pairs of dozens of rows, each cell a sum over a row's terms).  Here each
plan's rows are term ids once (`Terms`), and a pair's matrix is computed with
numpy.

The links must not move when this gets faster, and a score on the threshold
moves with the last bit of a sum, so every sum is taken in the order the
dictionary loop took it (a row's terms in first-occurrence order, the shorter
row's terms for a cosine) and the way the interpreter's `sum()` adds floats:
left to right before Python 3.12, compensated (Neumaier) from 3.12.  Logs are
`math.log`'s, tabled per pair for the counts and document frequencies it has.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Terms", "row_terms", "tfidf_cosine"]

# builtins.sum() of floats is compensated from 3.12 (gh-100425); sums here must match it, not be better.
_COMPENSATED_SUM = sys.version_info >= (3, 12)
# Cells of a pair's (rows x rows x terms) products held at once.
_CHUNK = 1 << 21


@dataclass(frozen=True)
class Terms:
    """Rows of text as term ids: each row's distinct terms in first-occurrence order, with their counts."""

    ids: np.ndarray  # int64, row after row
    counts: np.ndarray  # int64, occurrences of each id in its row
    offsets: np.ndarray  # int64, len(rows) + 1: row r is ids[offsets[r]:offsets[r + 1]]

    @classmethod
    def of(cls, rows: Iterable[Iterable[str]], vocabulary: dict[str, int]) -> Terms:
        """`vocabulary` (term -> id) is shared by every Terms that will be compared, and grows."""
        return cls.stack([row_terms(terms, vocabulary) for terms in rows])

    @classmethod
    def stack(cls, rows: Sequence[tuple[np.ndarray, np.ndarray]]) -> Terms:
        """Rows made by `row_terms`, in order."""
        lengths = [len(ids) for ids, _ in rows]
        offsets = np.zeros(len(rows) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        if not rows:
            return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), offsets)
        return cls(np.concatenate([ids for ids, _ in rows]), np.concatenate([c for _, c in rows]), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1


def row_terms(terms: Iterable[str], vocabulary: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """One row's (term ids, counts): its distinct terms in first-occurrence order."""
    c = Counter(terms)
    ids = np.fromiter((vocabulary.setdefault(t, len(vocabulary)) for t in c), np.int64, len(c))
    return ids, np.fromiter(c.values(), np.int64, len(c))


def _sum_last(a: np.ndarray) -> np.ndarray:
    """`sum()` over the last axis, term by term as the interpreter adds floats."""
    if a.shape[-1] == 0:
        return np.zeros(a.shape[:-1])
    if not _COMPENSATED_SUM:
        return np.add.accumulate(a, axis=-1)[..., -1]
    total, comp = np.zeros(a.shape[:-1]), np.zeros(a.shape[:-1])
    for k in range(a.shape[-1]):
        _add(total, comp, slice(None), a[..., k])
    return _finish(total, comp)


def _add(total: np.ndarray, comp: np.ndarray, at: np.ndarray | slice, x: np.ndarray) -> None:
    """total[at] += x, as `sum()` adds the next float (`at` names each cell at most once)."""
    if not _COMPENSATED_SUM:
        total[at] += x
        return
    f = total[at]
    t = f + x
    comp[at] += np.where(np.abs(f) >= np.abs(x), (f - t) + x, (x - t) + f)
    total[at] = t


def _finish(total: np.ndarray, comp: np.ndarray) -> np.ndarray:
    if not _COMPENSATED_SUM:
        return total
    return np.where((comp != 0) & np.isfinite(comp), total + comp, total)


@dataclass(frozen=True)
class _Rows:
    """One side of a pair: each (row, term) entry with its position in the row and normalised TF-IDF weight."""

    row: np.ndarray
    pos: np.ndarray
    term: np.ndarray
    weight: np.ndarray
    lengths: np.ndarray


def _cell_sums(short: _Rows, long: _Rows, cells: np.ndarray, containment: float) -> np.ndarray:
    """[r, s] for the cells where `cells` is true (row r of `short` has no more terms than row s of `long`):
    the sum over r's terms, in r's order, of r's weight times s's weight (r's weight squared for the
    containment share, on the terms s has).

    A term s lacks adds a zero, which changes no sum, so only shared terms are
    visited, position by position in r: a cell has at most one term at each
    position, so each step adds to every cell at most once.
    """
    ns, nl = len(short.lengths), len(long.lengths)
    cos, covered = np.zeros(ns * nl), np.zeros(ns * nl)
    cos_c, covered_c = np.zeros(ns * nl), np.zeros(ns * nl)
    by_term = np.argsort(long.term, kind="stable")
    long_terms = long.term[by_term]
    by_pos = np.lexsort((short.row, short.pos))  # short rows' entries, position by position
    row, pos, weight = short.row[by_pos], short.pos[by_pos], short.weight[by_pos]
    start = np.searchsorted(long_terms, short.term[by_pos], "left")
    count = np.searchsorted(long_terms, short.term[by_pos], "right") - start
    ends = np.cumsum(count)
    first = 0
    while first < len(row):  # about _CHUNK shared terms at a time, in position order
        last = int(np.searchsorted(ends, ends[first] - count[first] + _CHUNK, "right"))
        last = min(max(last, first + 1), len(row))
        n = count[first:last]
        entry = np.repeat(np.arange(first, last), n)
        other = by_term[np.repeat(start[first:last], n) + np.arange(len(entry)) - np.repeat(np.cumsum(n) - n, n)]
        r, s = row[entry], long.row[other]
        keep = cells[r, s]
        entry, other, cell = entry[keep], other[keep], r[keep] * nl + s[keep]
        x = weight[entry]
        products, squares = x * long.weight[other], x * x
        at_pos = pos[entry]
        bounds = np.searchsorted(at_pos, np.arange(at_pos[0], at_pos[-1] + 2)) if len(at_pos) else []
        for k in range(len(bounds) - 1):
            at = slice(bounds[k], bounds[k + 1])
            if at.start == at.stop:
                continue
            _add(cos, cos_c, cell[at], products[at])
            if containment:
                _add(covered, covered_c, cell[at], squares[at])
        first = last
    out = _finish(cos, cos_c)
    if containment:
        out = np.maximum(out, containment * _finish(covered, covered_c))
    return out.reshape(ns, nl)


def tfidf_cosine(left: Terms, right: Terms, *, containment: float = 0.0) -> np.ndarray:
    """TF-IDF cosine of every left row with every right row, IDF over both; rows without terms score 0.

    With `containment` > 0 a cell is at least `containment` times the share
    of the shorter row's TF-IDF mass found in the longer one (text.lexical_matrix).
    """
    nl, nr = len(left), len(right)
    out = np.zeros((nl, nr), np.float32)
    ids = np.concatenate([left.ids, right.ids])
    if not nl or not nr or not len(ids):
        return out
    distinct, local = np.unique(ids, return_inverse=True)
    n = nl + nr
    df = np.bincount(local, minlength=len(distinct))
    counts = np.concatenate([left.counts, right.counts])
    tf = np.array([1 + math.log(x) for x in range(1, int(counts.max()) + 1)])  # as the dictionary loop: math.log
    idf = np.array([math.log(1 + n / d) for d in range(1, n + 1)])
    weight = tf[counts - 1] * idf[df - 1][local]
    lengths = np.concatenate([np.diff(left.offsets), np.diff(right.offsets)])
    row = np.repeat(np.arange(n), lengths)
    pos = np.arange(len(ids)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    padded = np.zeros((n, int(lengths.max())))
    padded[row, pos] = weight
    norm = np.sqrt(_sum_last(padded * padded))
    norm[norm == 0] = 1.0
    weight = weight / norm[row]
    split = len(left.ids)
    sides = [_Rows(row[:split], pos[:split], local[:split], weight[:split], lengths[:nl]),
             _Rows(row[split:] - nl, pos[split:], local[split:], weight[split:], lengths[nl:])]
    ll, rl = lengths[:nl, None], lengths[None, nl:]
    left_shorter = ll <= rl
    cos = np.where(left_shorter, _cell_sums(sides[0], sides[1], left_shorter, containment),
                   _cell_sums(sides[1], sides[0], ~left_shorter.T, containment).T)
    out[:] = cos
    return out
