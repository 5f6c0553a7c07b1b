"""The query path over a unit store: candidates from inverted lists, scores on candidates only.

Why: the first query path scored every unit on every query (structured
scores in a Python loop per unit, BM25 and dense arrays over the whole
collection, a sort of all of them, filters after ranking): at 1.19M units a
search took 5.7 s (issue 16).  Here a query touches

* the units its structured constraints name, from the store's inverted lists
  (instruments cited, plus the graph's trace; agencies with their lineage and
  groups, by role; deadline-year lists for a period; fields), scored with
  numpy on those units only, by the rules of `structured.structured_scores`
  (same numbers, float32 as there);
* the BM25 top `top_bm25` (BM25 over the query terms' posting lists, then a
  partial sort) and the ANN top `top_dense` (FAISS HNSW at the efSearch the
  writer tuned); dense scores of the other candidates exactly, from the
  index's stored vectors;
* filters (year, agency, field, documents) as a mask over candidates before
  ranking, and the ANN asked with the same mask, so a filter never empties a
  page that has matching units.

Fusion is `fusion.combine` on the union, scaled by the collection's BM25 min
and max (exact: the BM25 accumulator covers every unit) and the dense max and
a min estimated on a fixed sample of units.  The evidence cut-off of
`relevance.grade` applies as on the first path (the query's median cosine
estimated on the same sample); candidates that could not pass it (no typed
match, too few of the query's words) are dropped before their dense scores
are computed.  Below `exact_below` units every unit is a candidate and
dense scores come from the exact index, so results equal the first path's
(tests pin it); the strings of a result (text, reasons) are read only for
the k units returned.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from cchc.embeddings.encoder import Encoder
from cchc.embeddings.index import VectorIndex
from cchc.graph.extract.instrument_terms import _ID_RE, _key
from cchc.graph.extract.reading import file_sha256, squash
from cchc.search.ann import Ann, stored_vectors
from cchc.search.bm25 import BM25Index, ByText
from cchc.search.fusion import FusionWeights, combine, scale_by
from cchc.search.lexicon import expand, name_key
from cchc.search.query import ParsedQuery, parse_query
from cchc.search.structured import (
    _KIND_SCORE,
    AGENCY_OTHER_ROLE,
    AGENCY_ROLE_ASKED_OTHER,
    Link,
    Tracer,
    _relatives,
    plan_year_score,
    relation_factor,
    structured_scores,
)
from cchc.search.unitstore import (
    DAY_MAX,
    DAY_MIN,
    HAS_DEADLINE,
    HAS_END,
    HAS_START,
    OWN_TIME,
    RECURRING,
    STANDING,
    UnitStore,
)

if TYPE_CHECKING:
    from cchc.search.searcher import Filters, Result, SearchAnswer, Searcher

log = logging.getLogger(__name__)

EXACT_BELOW = 10_000  # units: below, every unit is a candidate and scored (~10 ms at 10k units)
TOP_BM25 = 1000
TOP_DENSE = 200
EXACT_DENSE_BELOW = 20_000  # a filter leaving fewer units: their dense scores exactly, no ANN
SAMPLE = 2048  # units whose dense scores estimate the collection's minimum
DENSE_ABOVE = 1 << 16  # named units above which structured scores are spread over an array of every unit
PRUNE_ABOVE = 4096  # candidates beyond 4 x the page plus this many: the cosines of those below the page are skipped
INSTRUMENT_PARTS = 64  # instrument sets whose cited and traced units a ranker keeps
# (units citing, {unit: the trace's link} for the others it reaches, their (units, scores) part)
_EMPTY = np.zeros(0, dtype=np.int64)
_InstrumentPart = tuple[np.ndarray, dict[int, Link], tuple[np.ndarray, np.ndarray] | None]


@dataclass
class Structured:
    """Structured scores on the units a query's constraints name: unit numbers (ascending) and scores."""

    idx: np.ndarray
    score: np.ndarray  # float32, aligned with idx
    traced: dict[int, Link]  # unit -> the graph's link, for units reaching an instrument without citing it
    timed: np.ndarray  # units (ascending) stating a time within the question's window
    by_unit: np.ndarray | None = None  # the scores spread over every unit, when the named units are many


@dataclass
class _Query:
    """What one query computes once, whichever candidates are scored."""

    q: ParsedQuery
    query: str  # as read (diacritics restored)
    ids: list[str]
    mixed: bool
    struct: Structured | None
    b_all: ByText  # BM25 per unit, kept per distinct text
    cover: ByText | None
    use_dense: bool
    d_all: np.ndarray | None = None  # exact dense scores of every unit (below `exact_below`)
    qv: np.ndarray | None = None  # the query vector (the ANN path)
    ann_ids: np.ndarray = field(default_factory=lambda: _EMPTY)
    ann_sims: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    dense_low: float | None = None  # the collection's min cosine (exact over flat distinct vectors, else sampled)
    dense_median: float | None = None  # its median, estimated on the fixed sample (relevance's lift)
    prior: np.ndarray | None = None  # per document slot: its title's BM25 against the query, scaled

    @property
    def dense_cut(self) -> float | None:
        """The 20th best dense score: a unit at or above it shows the reason "dense"."""
        if self.d_all is not None and len(self.d_all):
            return float(np.sort(self.d_all)[-min(len(self.d_all), 20)])
        if len(self.ann_sims):  # the ANN's float, numpy's: equal up to rounding
            return float(np.sort(self.ann_sims)[-min(len(self.ann_sims), 20)]) - 1e-6
        return None


@dataclass
class _Scored:
    """Candidates after the cut-off's first test, with fused scores, grades and the shown mask."""

    cand: np.ndarray
    score: np.ndarray
    grades: np.ndarray
    d_raw: np.ndarray | None
    keep: np.ndarray  # positions shown (graded above NONE, within the filters)
    strong: bool  # some candidate is a strong answer

    def shown(self, stop: int) -> tuple[np.ndarray, int]:
        """The first `stop` positions shown, best first (ties in candidate order, as a stable sort of all would
        give), and how many are shown in all.  Only the ones that can be among the first `stop` are sorted: an
        agency's or a year's candidates run to hundreds of thousands nationally."""
        idx = np.flatnonzero(self.keep)
        total = len(idx)
        if stop <= 0:
            return idx[:0], total
        if total > 4 * stop + 256:
            vals = self.score[idx]
            kth = np.partition(vals, total - stop)[total - stop]  # the stop-th best score
            idx = idx[vals >= kth]  # every position scoring at least that, ties included
        return idx[np.argsort(-self.score[idx], kind="stable")][:stop], total


def _merge(parts: Sequence[np.ndarray], n: int = 0) -> np.ndarray:
    """The sorted union of unit numbers: by a mask over the `n` units when the lists are long (a sort of a
    concatenation of long lists cost ~15 ms a query at 576k units), else by np.unique."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return _EMPTY
    if len(parts) == 1:
        return np.asarray(parts[0], dtype=np.int64)
    if n and sum(len(p) for p in parts) > 4096:
        mask = np.zeros(n, dtype=bool)
        for p in parts:
            mask[p] = True
        return np.flatnonzero(mask)
    return np.unique(np.concatenate(parts)).astype(np.int64)


_JAN1 = np.array([DAY_MAX] + [date(y, 1, 1).toordinal() for y in range(1, 2201)], dtype=np.int64)  # by plan year


def _window_scores(flags: np.ndarray, dl_start: np.ndarray, dl_end: np.ndarray, in_start: np.ndarray,
                   in_end: np.ndarray, year: np.ndarray, start: date | None, end: date | None,
                   plan_start: bool) -> np.ndarray:
    """`structured._time_score` over columns of deadlines (day ordinals, 0 where absent; `flags` as the unit
    store's)."""
    hs, he = (flags & HAS_START) > 0, (flags & HAS_END) > 0
    ds = np.where(hs, dl_start, DAY_MIN)
    de = np.where(he, dl_end, DAY_MAX)
    if plan_start:
        jan1 = _JAN1[np.clip(year, 0, len(_JAN1) - 1)]
        adj = ~hs & (year > 0) & (jan1 <= de)
        ds = np.where(adj, jan1, ds)
    qs = start.toordinal() if start else DAY_MIN
    qe = end.toordinal() if end else DAY_MAX
    standing = (flags & STANDING) > 0
    inside = (qs <= ds) & (de <= qe)
    score = np.where(inside, np.where(standing, 0.5, 1.0), 0.0)
    named = ~inside & (in_start > 0) & (in_end > 0) & (qs <= in_start) & (in_end <= qe)
    score = np.where(named, 0.9, score)
    due = ~inside & ~named & ~hs & he & ~standing & (qs <= de) & (de <= qe)
    score = np.where(due, 0.9, score)
    named |= due
    over = ~inside & ~named & (ds <= qe) & (qs <= de)
    both = hs & he
    lo, hi = np.maximum(ds, qs), np.minimum(de, qe)
    span = np.where(both, de - ds + 1, 1)
    share = np.where(both, (hi - lo + 1) / span, 0.5)
    partial = np.maximum(0.6 * share * np.where(standing, 0.5, 1.0), 0.02)
    score = np.where(over, partial, score)
    return np.where((flags & HAS_DEADLINE) > 0, score, 0.0)


class Ranker:
    """The candidate query path of a `Searcher` whose units are a `UnitStore`."""

    def __init__(self, store: UnitStore, bm25: BM25Index, vectors: VectorIndex | None, encoder: Encoder | None, *,
                 exact_below: int = EXACT_BELOW, top_bm25: int = TOP_BM25, top_dense: int = TOP_DENSE,
                 prune_above: int = PRUNE_ABOVE, dense_above: int = DENSE_ABOVE) -> None:
        self.store = store
        self.bm25 = bm25
        self.vectors = vectors if encoder is not None else None
        self.encoder = encoder if vectors is not None else None
        self.exact = store.n < exact_below
        self.top_bm25, self.top_dense = top_bm25, top_dense
        self.prune_above, self.dense_above = prune_above, dense_above
        self._vecs = stored_vectors(vectors.index) if vectors is not None else None
        self._hnsw = Ann(store.path) if Ann.exists(store.path) else None  # else the flat index answers
        self._distinct = self._hnsw.vectors if self._hnsw is not None else None
        n = store.n
        self._by_number: dict[str, list[tuple[int, str, str | None]]] | None = None  # cited ids by number
        self._sample = np.unique(np.linspace(0, n - 1, min(SAMPLE, n)).astype(np.int64)) if n else _EMPTY
        self._instrument_parts: OrderedDict[tuple[str, ...], _InstrumentPart] = OrderedDict()

    # ------------------------------------------------------------ instruments
    def resolve(self, s: Searcher, q: ParsedQuery) -> list[str]:
        """`Searcher.resolve_instruments`, looking at the cited ids of the reference's number only (a national
        corpus cites thousands of instruments; the first path tried every one against every reference)."""
        from cchc.search.searcher import _ref_matches

        if self._by_number is None:
            self._by_number = {}
            for pos, (c, kind) in enumerate(s._cited_type.items()):
                m = _ID_RE.fullmatch(_key(squash(c)))
                if m:
                    self._by_number.setdefault(m.group("num").lstrip("0"), []).append((pos, c, kind))
        found: dict[int, str] = {}
        for ref in q.instruments:
            for pos, c, kind in self._by_number.get(ref.number.upper().lstrip("0"), ()):
                if pos not in found and _ref_matches(ref, c, kind):
                    found[pos] = c
        ids = [found[p] for p in sorted(found)]
        for name in q.named:
            key = name_key(name)
            ids += [c for c, ck in s._name_keys if f" {key} " in f" {ck} "]
        return list(dict.fromkeys(ids))

    # ------------------------------------------------------------ structured
    def _instrument_part(self, s: Searcher, ids: list[str]) -> _InstrumentPart:
        """Units citing the instruments, and units the graph's trace reaches otherwise (with their link and
        score), kept per instrument set: nationally a directive reaches 10^5 tasks through the plans carrying
        it out, and mapping those links to units again at every query was most of a citation query's time.
        A ranker lives as long as its index generation, whose graph the trace reads."""
        key = tuple(ids)
        hit = self._instrument_parts.get(key)
        if hit is not None:
            self._instrument_parts.move_to_end(key)
            return hit
        st = self.store
        cited = st.union("cites", ids).astype(np.int64)
        traced: dict[int, Link] = {}
        part = None
        if s.tracer is not None and ids:
            by_key: dict[str, Link] = {}
            for iid in ids:
                for link in s.tracer(iid):
                    by_key.setdefault(link.key, link)
            keys = list(by_key)
            pos = st.index_of_keys(keys)
            cited_set = set(cited.tolist()) if len(pos) else set()
            for k, p in zip(keys, pos.tolist(), strict=True):
                if p >= 0 and p not in cited_set and p not in traced:
                    traced[p] = by_key[k]
            if traced:
                tidx = np.fromiter(traced, dtype=np.int64)
                order = np.argsort(tidx)
                vals = np.array([_KIND_SCORE.get(traced[int(i)].kind, 0.5) for i in tidx], dtype=np.float32)
                part = (tidx[order], vals[order])
        self._instrument_parts[key] = hit = (cited, traced, part)
        if len(self._instrument_parts) > INSTRUMENT_PARTS:
            self._instrument_parts.popitem(last=False)
        return hit

    def _since(self, units: np.ndarray, year: int) -> np.ndarray:
        """The units of plans from `year` on (or of no known year): where a successor counts as one."""
        if not year or not len(units):
            return units
        y = np.asarray(self.store.year[units])
        return units[(y == 0) | (y >= year)]

    def structured(self, s: Searcher, q: ParsedQuery, ids: list[str], plan_start: bool) -> Structured:
        """`structured_scores` on the units the constraints name (same rules and float32 arithmetic)."""
        st = self.store
        parts: list[tuple[np.ndarray, np.ndarray]] = []  # (units, float32 additions), in the original's order
        traced: dict[int, Link] = {}
        timed = _EMPTY
        weight = 0.0
        if q.instruments or q.named:
            weight += 1.0
            cited, traced, traced_part = self._instrument_part(s, ids)
            parts.append((cited, np.ones(len(cited), np.float32)))
            if traced_part is not None:
                parts.append(traced_part)
        if q.agencies:
            weight += 1.0
            related, since = _relatives(q.agencies)
            main_role = q.role or "lead"
            units, vals = [], []
            for role, post in (("lead", "lead"), ("cooperating", "coop")):
                for a, how in related.items():
                    p = self._since(st.postings(post, a), since.get(a, 0))
                    if len(p):
                        v = 1.0 if role == main_role else (AGENCY_ROLE_ASKED_OTHER if q.role else AGENCY_OTHER_ROLE)
                        v *= relation_factor(how, q.window is not None)
                        units.append(p)
                        vals.append(np.full(len(p), v))
            roles = _merge(units, st.n)
            best = np.zeros(len(roles))
            for p, v in zip(units, vals, strict=True):
                pos = np.searchsorted(roles, p)
                np.maximum.at(best, pos, v)
            named = _merge([self._since(st.postings("mention", a), since.get(a, 0)) for a in related], st.n)
            named = np.setdiff1d(named, roles, assume_unique=True).astype(np.int64)
            idx = _merge([roles, named], st.n)
            add = np.zeros(len(idx))
            add[np.searchsorted(idx, roles)] = best
            add[np.searchsorted(idx, named)] = 0.4
            parts.append((idx, add.astype(np.float32)))
        year_rule = None
        if q.window:
            start, end = q.window
            if q.year is None or not q.agencies or q.asks_when:
                weight += 1.0
                idx = st.deadline_candidates(start, end).astype(np.int64)
                score = self._time_scores(idx, start, end, plan_start)
                if plan_start:  # undated passages: their plan's business for its year (structured._time_score)
                    extra = st.undated_candidates(start, end, stated_only=q.asks_when)
                    years = np.asarray(st.year[extra])
                    by_year = {int(y): plan_year_score(int(y), start, end) for y in np.unique(years)}
                    idx = np.concatenate([idx, extra])
                    score = np.concatenate([score, np.array([by_year[int(y)] for y in years], dtype=np.float64)])
                    order = np.argsort(idx, kind="stable")
                    idx, score = idx[order], score[order]
                keep = score > 0
                wanted = OWN_TIME | (RECURRING if q.recurring else 0)
                timed = idx[keep & ((np.asarray(st.flags[idx]) & wanted) == wanted)]
                parts.append((idx[keep], score[keep].astype(np.float32)))
            year_rule = q.year
        if q.fields:
            idx = st.union("field", q.fields).astype(np.int64)
            field_part = (idx, np.full(len(idx), 0.5, np.float32))
        idx = _merge([p for p, _ in parts] + ([field_part[0]] if q.fields else []), st.n)
        spread = len(idx) > self.dense_above  # summed in one array over every unit, not by position lookups
        acc = np.zeros(st.n if spread else len(idx), dtype=np.float32)
        for p, v in parts:
            acc[p if spread else np.searchsorted(idx, p)] += v  # a unit appears once in a part
        total = acc[idx] if spread else acc
        if year_rule is not None and len(idx):
            y = np.asarray(st.year[idx])
            total[(y != 0) & (y != year_rule)] *= 0.5
        if q.fields:
            weight += 0.5
            if spread:
                extra = np.zeros(st.n, dtype=np.float32)
                extra[field_part[0]] = field_part[1]
                total += extra[idx]  # + 0.0 elsewhere: the same floats
            else:
                total[np.searchsorted(idx, field_part[0])] += field_part[1]
        if weight:
            total /= weight
        return Structured(idx, total, traced, timed)

    def _time_scores(self, idx: np.ndarray, start: date | None, end: date | None, plan_start: bool) -> np.ndarray:
        """`structured._time_score` on units `idx`, vectorised over day ordinals (float64, as there): per row of
        the store's table of distinct deadlines when it has one, then read per unit."""
        st = self.store
        if st.time_row is not None and st.times is not None:
            t = st.times.astype(np.int64)
            per_row = _window_scores(t[:, 0], t[:, 1], t[:, 2], t[:, 3], t[:, 4], t[:, 5], start, end, plan_start)
            return per_row[np.asarray(st.time_row[idx])]
        return _window_scores(np.asarray(st.flags[idx]), np.asarray(st.dl_start[idx], dtype=np.int64),
                              np.asarray(st.dl_end[idx], dtype=np.int64), np.asarray(st.in_start[idx], dtype=np.int64),
                              np.asarray(st.in_end[idx], dtype=np.int64), np.asarray(st.year[idx], dtype=np.int64),
                              start, end, plan_start)

    # ------------------------------------------------------------ filters
    def allowed(self, filters: Filters | None) -> np.ndarray | None:
        """Unit numbers (ascending) the filters accept; None without filters."""
        if filters is None:
            return None
        st = self.store
        sets: list[np.ndarray] = []
        if filters.year is not None:
            sets.append(st.postings("year", str(filters.year)))
        if filters.agency:
            sets.append(_merge([st.postings("lead", filters.agency), st.postings("coop", filters.agency)], st.n))
        if filters.field:
            sets.append(st.union("field", [f for f in st.fields if f.endswith(filters.field)]))
        if filters.docs:
            sets.append(st.union("doc", filters.docs))
        if filters.due_from or filters.due_to:
            sets.append(self._due(filters.due_from, filters.due_to))
        if not sets:
            return None
        out = np.asarray(sets[0], dtype=np.int64)
        for other in sets[1:]:
            out = np.intersect1d(out, other, assume_unique=True)
        return out

    def _due(self, lo: date | None, hi: date | None) -> np.ndarray:
        """`Filters._due` over the deadline columns: the deadline's end in the window, a standing duty's span
        meeting it; a unit without a dated end is never due."""
        st = self.store
        a = (lo or date.min).toordinal()
        b = (hi or date.max).toordinal()
        end, start, flags = np.asarray(st.dl_end), np.asarray(st.dl_start), np.asarray(st.flags)
        dated = (flags & HAS_END) > 0
        standing = dated & ((flags & STANDING) > 0) & ((flags & HAS_START) > 0)
        plain = dated & (a <= end) & (end <= b)
        spans = standing & (start <= b) & (a <= end)
        return np.flatnonzero(np.where((flags & STANDING) > 0, np.where((flags & HAS_START) > 0, spans, plain),
                                       plain)).astype(np.int64)

    def listing(self, filters: Filters) -> np.ndarray:
        """Units the filters accept, headings left out, in index order (document and line): a query-less list."""
        idx = self.allowed(filters)
        if idx is None:
            idx = np.arange(self.store.n, dtype=np.int64)
        return idx[np.asarray(self.store.heading)[idx] == 0]

    # ------------------------------------------------------------ dense
    def _dense_of(self, idx: np.ndarray, qv: np.ndarray) -> np.ndarray:
        """Exact cosines of units `idx`: by their distinct vectors when the ANN has them (in memory, each computed
        once however many units repeat it), else from the per-unit vectors."""
        if self._hnsw is not None and len(idx):
            rows = np.asarray(self._hnsw.rows[idx])
            if self._hnsw.exact:
                return self._hnsw.scores(qv)[rows]
            if len(rows) > self._hnsw.index.ntotal // 2:
                return (self._distinct @ qv)[rows]
            uniq, inverse = np.unique(rows, return_inverse=True)
            return (self._distinct[uniq] @ qv)[inverse.reshape(-1)]
        assert self._vecs is not None
        return self._vecs[idx] @ qv

    def _ann(self, qv: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """The ANN's top k (unit numbers, scores), among `allowed` when given."""
        import faiss

        if self._hnsw is not None:
            return self._hnsw.search(qv, k, allowed, cap=max(4 * k, 1000))
        assert self.vectors is not None
        index = self.vectors.index
        k = min(k, self.store.n)
        if k <= 0:
            return _EMPTY, np.zeros(0, np.float32)
        params = None
        if allowed is not None:
            sel = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            params = faiss.SearchParametersHNSW(sel=sel, efSearch=max(index.hnsw.efSearch, k)) \
                if hasattr(index, "hnsw") else faiss.SearchParameters(sel=sel)
        sims, ids = index.search(qv[None, :], k, params=params) if params is not None else index.search(qv[None, :], k)
        ok = ids[0] >= 0
        return ids[0][ok].astype(np.int64), sims[0][ok]

    # ------------------------------------------------------------ search
    def answer(self, s: Searcher, typed: str, k: int, filters: Filters | None, offset: int = 0) -> SearchAnswer:
        """`Searcher.answer` on candidates: the same scores, the same evidence cut-off (`relevance.grade`).

        `total` counts the candidates the evidence lets through: every unit
        below `exact_below` units; above, the structured matches, BM25 top and
        ANN top, which is what a reader pages through.  As on the first path,
        a weak answer within the filters shows when a strong one exists
        anywhere; that is asked of the unfiltered candidates only when the
        filtered ones have none.
        """
        from cchc.search.searcher import SearchAnswer

        query = s.read(typed)
        q = parse_query(query, s._named)
        ids = self.resolve(s, q)
        w: FusionWeights = s.weights
        mixed = q.topic_led(bool(ids), w.mixed_topic_words)
        struct = self.structured(s, q, ids, mixed) if q.structured else None
        text_query = expand(q.residual or query)
        # The searcher's own parts, read per query: a caller may swap them (bench/eval_search.py's nodense mode)
        self.bm25, self.vectors, self.encoder = s.bm25, s.vectors, s.encoder
        if self.vectors is not None and self._vecs is None:
            self._vecs = stored_vectors(self.vectors.index)
        b_all = self.bm25.scores_by_text(q.lexical_query(mixed) or text_query)
        use_dense = self.vectors is not None and self.encoder is not None and bool(text_query.strip())
        qp = _Query(q, query, ids, mixed, struct, b_all, s.coverage_by_text(q.residual or query), use_dense)
        if use_dense and self.exact:
            assert self.vectors is not None and self.encoder is not None
            qp.d_all = self.vectors.scores(self.encoder, text_query)
        elif use_dense:
            assert self.vectors is not None and self.encoder is not None
            self.vectors.check_encoder(self.encoder)
            qp.qv = np.asarray(self.encoder.encode_queries([text_query]), dtype=np.float32)[0]
            qp.ann_ids, qp.ann_sims = self._ann(qp.qv, max(self.top_dense, 20), None)
            if self._hnsw is not None and self._hnsw.exact:  # every distinct score: the true min
                qp.dense_low = float(self._hnsw.scores(qp.qv).min(initial=np.inf))
            if len(self._sample):  # the query's cosines over a fixed sample of units: min (else) and median
                spread = self._dense_of(self._sample, qp.qv)
                qp.dense_median = float(np.median(spread))
                qp.dense_low = min(qp.dense_low, float(spread.min())) if qp.dense_low is not None \
                    else float(spread.min())
        if s._title_index is not None:  # the plan a unit belongs to is evidence too (see Searcher.answer)
            t = s._title_index.scores(query)
            if t.max() > 0:
                qp.prior = np.append(t / t.max(), 0.0).astype(np.float32)
        allowed = self.allowed(filters)
        if self.exact or allowed is None:
            scored = self._scored(s, qp, self._candidates(qp, None if self.exact else allowed), offset + k)
            strong = scored.strong  # graded over every unit, the filters applied after (as the first path)
            if self.exact and allowed is not None:
                scored.keep &= np.isin(scored.cand, allowed, assume_unique=True)
        else:
            scored = self._scored(s, qp, self._candidates(qp, allowed), offset + k)
            strong = scored.strong or self._scored(s, qp, self._candidates(qp, None), 0).strong
        if not strong:  # weak evidence only, anywhere: nothing answers (relevance.grade)
            scored.keep[:] = False
        shown, total = scored.shown(offset + k)
        return SearchAnswer(typed, query if query != typed else None, total, offset,
                            [self._result(s, qp, scored, int(j)) for j in shown[offset:offset + k].tolist()])

    def _scored(self, s: Searcher, qp: _Query, cand: np.ndarray, stop: int | None = None) -> _Scored:
        """Fused scores and evidence grades of `cand`, dropping first those that could not pass the cut-off
        (no typed match, too few of the query's words) so their dense scores are never computed.  Weak grades
        are kept here; whether any strong answer exists is the caller's question (over which units).

        `stop`: only the first `stop` shown will be read.  A unit the query's constraints name is shown whatever
        its cosine (a weak answer at worst), so where such units number in the hundreds of thousands (an
        agency, a year, a field nationally), the cosine is computed only for those whose score with the best
        possible cosine reaches the `stop`-th best score with the worst; the others keep the latter, below
        the page, and the page is the one every cosine would give."""
        from cchc.search.relevance import NONE, STRONG, WEAK, grade

        w: FusionWeights = s.weights
        st_c = self._structured_of(qp.struct, cand)
        cover_c = qp.cover[cand] if qp.cover is not None else None
        ok = np.zeros(len(cand), bool)
        if cover_c is not None:
            ok |= cover_c >= (min(s.floors.weak_coverage, s.floors.paraphrase_coverage) if qp.use_dense
                              else s.floors.weak_coverage * 2)
        if st_c is not None:
            ok |= st_c > 0
        cand = cand[ok]
        st_c = st_c[ok] if st_c is not None else None
        cover_c = cover_c[ok] if cover_c is not None else None
        b_all = qp.b_all
        b_lo, b_hi = (float(b_all.min()), float(b_all.max())) if len(b_all) else (0.0, 0.0)
        b_c = scale_by(b_all[cand], b_lo, b_hi)
        untimed = None
        if qp.struct is not None and qp.mixed and qp.q.asks_when:
            untimed = ~np.isin(cand, qp.struct.timed, assume_unique=True)
        extra = np.zeros(len(cand), np.float32) if qp.prior is None else w.doc_title * qp.prior[s._unit_doc[cand]]
        extra = extra - 0.05 * s._heading[cand]

        def fused(d: np.ndarray | None) -> np.ndarray:
            return combine(st_c, b_c, d, w, mixed=qp.mixed, untimed=untimed, field_only=qp.q.field_only,
                           cover=cover_c) + extra

        d_raw = d_c = median = None
        skip = None  # candidates whose cosine is not needed (typed, and below the page whatever it is)
        if qp.d_all is not None:
            d_all = qp.d_all
            d_raw = d_all[cand]
            d_c = scale_by(d_raw, float(d_all.min()), float(d_all.max())) if len(d_all) else d_raw
            median = float(np.median(d_all)) if len(d_all) else 0.0
        elif qp.qv is not None:
            if stop is not None and st_c is not None and len(cand) > 4 * stop + self.prune_above:
                typed = st_c > 0
                low = fused(np.zeros(len(cand), np.float32))
                if typed.sum() > stop:
                    # a sort, not np.partition: on these scores (long runs of ties in unit order) introselect
                    # took 87 ms at 1M candidates where the sort takes ~10
                    floor = np.sort(low[typed])[-max(stop, 1)]
                    high = fused(np.ones(len(cand), np.float32))
                    skip = typed & (high < floor) if stop else typed
            need = slice(None) if skip is None else ~skip
            d_raw = np.full(len(cand), np.nan, np.float32)
            d_raw[need] = self._dense_of(cand[need], qp.qv)
            seen = d_raw[need]
            d_lo = qp.dense_low if qp.dense_low is not None else float(seen.min(initial=np.inf))
            d_hi = float(max(seen.max(initial=-np.inf), qp.ann_sims.max(initial=-np.inf)))
            d_c = np.clip(scale_by(np.nan_to_num(d_raw, nan=d_lo).astype(np.float32), d_lo, d_hi), 0.0, 1.0)
            d_c = d_c.astype(np.float32)
            median = qp.dense_median if qp.dense_median is not None else \
                float(np.median(seen)) if len(seen) else 0.0
        score = fused(d_c)
        if skip is not None:
            score[skip] = low[skip]  # below the page: the worst cosine's score orders them (never read)
        grades = grade(st_c, cover_c, np.nan_to_num(d_raw, nan=-np.inf) if d_raw is not None else None, s.floors,
                       typed_is_strong=not qp.mixed, dense_median=median, strong_elsewhere=True) \
            if len(cand) else np.zeros(0, np.int8)
        strong = bool((grades == STRONG).any())
        if skip is not None and not strong and qp.mixed and skip.any():
            return self._scored(s, qp, cand, None)  # a skipped unit might be the one strong answer: score them all
        if skip is not None:
            grades[skip] = np.maximum(grades[skip], STRONG if not qp.mixed else WEAK)
        return _Scored(cand, score, grades, d_raw, grades != NONE, strong)

    def _result(self, s: Searcher, qp: _Query, scored: _Scored, j: int) -> Result:
        """The result at candidate position `j`, with its reasons; strings are read for the page's units only."""
        from cchc.search.relevance import STRONG

        i = int(scored.cand[j])
        u = self.store[i]
        reasons: list[str] = []
        if qp.struct is not None:
            link = next((Link(u.key, "cites", f"cites {c}") for c in u.cites if c in qp.ids), None) \
                or qp.struct.traced.get(i)
            reasons = list(structured_scores(qp.q, [u], {u.key: link} if link else {}, plan_start=qp.mixed)[1][0])
        bmax = float(qp.b_all.max()) if len(qp.b_all) else 0.0
        if qp.b_all[i] > 0.2 * (bmax or 1.0):
            reasons.append("bm25")
        cut = qp.dense_cut
        if cut is not None and scored.d_raw is not None and scored.d_raw[j] >= cut:
            reasons.append("dense")
        return s._result(u, float(scored.score[j]), reasons, bool(scored.grades[j] != STRONG))

    def _candidates(self, qp: _Query, allowed: np.ndarray | None) -> np.ndarray:
        """Unit numbers (ascending) worth scoring: every allowed unit below `exact_below`, else the structured
        matches, the BM25 top and the ANN top, within the filters."""
        if self.exact:
            return np.arange(self.store.n, dtype=np.int64) if allowed is None else allowed
        parts = [qp.struct.idx[qp.struct.score > 0]] if qp.struct is not None else []
        parts.append(self._top_bm25(qp.b_all, allowed))
        if qp.qv is not None:
            if allowed is None:
                parts.append(qp.ann_ids)
            elif len(allowed) <= EXACT_DENSE_BELOW:
                d = self._dense_of(allowed, qp.qv)
                top = min(self.top_dense, len(allowed))
                parts.append(allowed[np.argpartition(-d, top - 1)[:top]] if top else _EMPTY)
            else:
                parts.append(self._ann(qp.qv, self.top_dense, allowed)[0])
        cand = _merge(parts, self.store.n)
        return np.intersect1d(cand, allowed, assume_unique=True) if allowed is not None else cand

    def _structured_of(self, struct: Structured | None, cand: np.ndarray) -> np.ndarray | None:
        """The structured scores of `cand` (zero where the query's constraints do not name the unit)."""
        if struct is None:
            return None
        if not len(struct.idx) or not len(cand):
            return np.zeros(len(cand), dtype=np.float32)
        if len(struct.idx) > self.dense_above:  # an agency's or a period's units nationally: one array over all units
            if struct.by_unit is None:
                struct.by_unit = np.zeros(self.store.n, dtype=np.float32)
                struct.by_unit[struct.idx] = struct.score
            return struct.by_unit[cand]
        out = np.zeros(len(cand), dtype=np.float32)
        pos = np.minimum(np.searchsorted(struct.idx, cand), len(struct.idx) - 1)
        hit = struct.idx[pos] == cand
        out[hit] = struct.score[pos[hit]]
        return out

    def _top_bm25(self, b_all: ByText, allowed: np.ndarray | None) -> np.ndarray:
        """The units with the `top_bm25` best BM25 scores above zero (among `allowed` when given).

        Unfiltered, the best distinct texts are chosen first and their units taken in order of score, at most
        `top_bm25` of them (a text repeated by many plans lends all its copies the same score)."""
        if allowed is None and b_all.rows is not None:
            values = b_all.values
            pool = np.flatnonzero(values)
            if len(pool) > self.top_bm25:
                pool = pool[np.argpartition(-values[pool], self.top_bm25 - 1)[: self.top_bm25]]
            pool = pool[np.argsort(-values[pool], kind="stable")]
            return np.sort(self.bm25.units_of_texts(pool)[: self.top_bm25])
        pool = np.flatnonzero(b_all.values) if allowed is None else allowed[b_all[allowed] > 0]
        if len(pool) <= self.top_bm25:
            return pool.astype(np.int64)
        vals = b_all[pool]
        return np.sort(pool[np.argpartition(-vals, self.top_bm25 - 1)[: self.top_bm25]]).astype(np.int64)


# ---------------------------------------------------------------- writing and opening

def open_columnar(search_dir: Path, encoder: Encoder | None = None, tracer: Tracer | None = None) -> Searcher:
    """The searcher over a built index with a unit store: nothing read per unit, keys and vectors in place."""
    import faiss
    from cchc.search.restore import Restorer
    from cchc.search.searcher import Searcher

    store = UnitStore(search_dir)
    m = store.manifest
    keys = store.keys
    if file_sha256(search_dir / "bm25" / "keys.json") != m.get("bm25_keys_sha256"):
        raise ValueError(f"{search_dir}: BM25 index and unit store disagree; rebuild the search index")
    bm25 = BM25Index.load(search_dir / "bm25", keys=keys)
    vectors = None
    vpath = search_dir / "vectors" / "vectors.faiss"
    if vpath.exists() and m.get("model_id"):
        try:  # flat vectors by memory map (shared between processes); HNSW into memory
            index = faiss.read_index(str(vpath), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
        except RuntimeError:
            index = faiss.read_index(str(vpath))
        if index.ntotal != store.n:
            raise ValueError(f"{search_dir}: {index.ntotal} vectors for {store.n} units; rebuild the search index")
        if m.get("ef_search") and hasattr(index, "hnsw"):
            index.hnsw.efSearch = int(m["ef_search"])
        vectors = VectorIndex(index, keys, m["model_id"], int(m["dimension"]))  # type: ignore[arg-type]
    titles = json.loads((search_dir / "docs.json").read_text("utf-8"))
    restorer = Restorer.load(search_dir / "restore.json")
    info = search_dir / "instruments.json"
    instruments = json.loads(info.read_text("utf-8")) if info.exists() else {}
    title_index = BM25Index.load(search_dir / "titles") if (search_dir / "titles").exists() else None
    return Searcher(store, bm25, vectors if encoder else None, encoder if vectors else None, tracer,
                    doc_titles=titles, restorer=restorer, instruments=instruments, title_index=title_index)
