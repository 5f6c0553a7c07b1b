"""`Searcher`: hybrid search over units, the object CLI and HTTP both serve.

The path of a query: parse it (instruments, agencies and role, time, field),
score every unit on the structured constraints, on BM25 and on dense cosine,
fuse, and return the top k with `why` and the source lines.  Instrument
references are resolved against the ids the corpus cites; the graph's trace
adds tasks that reach the instrument through a plan or another instrument.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from cchc.embeddings.encoder import Encoder
from cchc.embeddings.index import VectorIndex
from cchc.graph.extract.agencies import load_registry
from cchc.graph.extract.deadlines import parse_time_expression
from cchc.graph.extract.records import Deadline
from cchc.graph.extract.references import InstrumentRef, normalise_id, parse_reference
from cchc.graph.ids import task_ref
from cchc.search.bm25 import BM25Index, ByText
from cchc.search.fusion import FusionWeights, fuse
from cchc.search.lexicon import alternatives, expand, name_key
from cchc.search.query import NOT_TOPIC, ParsedQuery, parse_query
from cchc.search.relevance import NONE, STRONG, RelevanceFloors, content_terms, coverage_by_concept, grade
from cchc.search.restore import Restorer, is_folded
from cchc.search.structured import Link, Tracer, structured_scores
from cchc.search.units import SearchUnit

log = logging.getLogger(__name__)


@dataclass
class Result:
    doc: str
    line: int
    end_line: int
    section: str | None
    no: str | None
    score: float
    text: str
    why: list[str]
    key: str
    kind: str
    id: str = ""  # the readable id (`cchc.graph.ids`), the same in CLI, API and web
    weak: bool = False  # shown on weaker evidence than the floor of an answer (bench/relevance.md)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id or task_ref(self.doc, self.section, self.no, self.line), "doc": self.doc,
                "line": self.line, "end_line": self.end_line, "section": self.section, "no": self.no,
                "score": round(float(self.score), 4), "text": self.text, "why": self.why, "key": self.key,
                "kind": self.kind, "weak": self.weak}


@dataclass
class SearchAnswer:
    """One page of answers: `total` counts every unit the evidence lets through, `results` the page."""

    query: str
    read_as: str | None
    total: int
    offset: int
    results: list[Result]

    def to_json(self) -> dict[str, Any]:
        return {"query": self.query, "read_as": self.read_as, "total": self.total, "offset": self.offset,
                "results": [r.to_json() for r in self.results]}


@dataclass
class Filters:
    """Hard filters from the caller (year, agency, field, deadline): they apply with or without a query.

    `due_from`/`due_to` bound when a task is due: its deadline's end falls in
    the window (a standing duty counts in every window its span meets); a task
    with no dated deadline is never due in a window.
    """

    year: int | None = None
    agency: str | None = None  # registry id, lead or cooperating
    field: str | None = None  # field concept IRI or its last segment
    docs: list[str] = dc_field(default_factory=list)
    due_from: date | None = None
    due_to: date | None = None

    @property
    def active(self) -> bool:
        return bool(self.year or self.agency or self.field or self.docs or self.due_from or self.due_to)

    def accepts(self, u: SearchUnit) -> bool:
        if self.year is not None and u.year != self.year:
            return False
        if self.agency and self.agency not in u.lead_ids + u.coop_ids:
            return False
        if self.field and not (u.field or "").endswith(self.field):
            return False
        if (self.due_from or self.due_to) and not self._due(u.deadline):
            return False
        return not self.docs or u.doc in self.docs

    def _due(self, dl: Deadline | None) -> bool:
        if dl is None or dl.end is None:
            return False
        lo, hi = self.due_from or date.min, self.due_to or date.max
        end = date.fromisoformat(dl.end)
        if dl.recurrence == "continuous" and dl.start:
            return date.fromisoformat(dl.start) <= hi and lo <= end
        return lo <= end <= hi


def due_window(deadline: str | None = None, year: int | None = None, before: date | None = None
               ) -> tuple[date | None, date | None]:
    """(from, to) of a deadline filter: a period as people write it ("quý II/2026", "tháng 3/2026", "2026"),
    a year, a last day; given together they narrow each other.  ValueError names a period it cannot read."""
    lo: date | None = None
    hi: date | None = None
    if deadline:
        text = deadline.strip()
        window = parse_time_expression(f"năm {text}" if text.isdigit() else text)
        if window is None:
            raise ValueError(f"deadline: cannot read {deadline!r} as a period (e.g. 'quý II/2026', "
                             "'tháng 3/2026', '2026')")
        lo, hi = window[0], window[1]
    if year:
        lo, hi = max(lo or date(year, 1, 1), date(year, 1, 1)), min(hi or date(year, 12, 31), date(year, 12, 31))
    if before:
        hi = min(hi or before, before)
    return lo, hi


def resolve_agency(text: str) -> str | None:
    """A registry id for an agency as typed: its id, a name or an abbreviation ("Sở Nội vụ", "snv", "Sở TT&TT")."""
    reg = load_registry()
    if text in reg:
        return text
    if found := reg.lookup(text):
        return found
    hits = reg.find(text)
    return hits[0][2].agency_id if len(hits) == 1 else None


def _type_of(citation_id: str) -> str | None:
    """The instrument type an id's code implies ("06-KH/TU" -> Kế hoạch), None when it implies none."""
    refs = parse_reference(citation_id)
    return refs[0].type if len(refs) == 1 and refs[0].start == 0 else None


def _ref_matches(ref: InstrumentRef, citation_id: str, kind: str | None) -> bool:
    return ref.matches(citation_id, kind) if ref.type and kind else ref.matches(citation_id)


class Searcher:
    def __init__(
        self, units: Sequence[SearchUnit], bm25: BM25Index, vectors: VectorIndex | None = None,
        encoder: Encoder | None = None, tracer: Tracer | None = None, weights: FusionWeights | None = None,
        doc_titles: dict[str, str] | None = None, restorer: Restorer | None = None,
        instruments: dict[str, dict] | None = None, title_index: BM25Index | None = None,
        floors: RelevanceFloors | None = None,
    ) -> None:
        # ---- issue 16: a UnitStore (columns by memory map) takes the candidate path of search/candidates.py
        from cchc.search.unitstore import UnitStore

        self._ranker = None
        self.units = units if isinstance(units, UnitStore) else list(units)
        # ---- end issue 16
        self.bm25 = bm25
        self.vectors = vectors
        self.encoder = encoder
        self.tracer = tracer
        self.weights = weights or FusionWeights()
        self.floors = floors or RelevanceFloors()
        self.restorer = restorer
        if vectors is not None and encoder is not None:
            vectors.check_encoder(encoder)
        if not isinstance(self.units, UnitStore) and bm25.keys != [u.key for u in self.units]:
            raise ValueError("BM25 index and units disagree; rebuild the search index")  # a store checks at open
        self.doc_titles = dict(doc_titles or {})
        docs = sorted(self.doc_titles)
        if title_index is not None and title_index.keys != docs:
            raise ValueError("the title index and the document titles disagree; rebuild the search index")
        self._title_index = title_index or (BM25Index.build(docs, [self.doc_titles[d] for d in docs]) if docs else None)
        # Per-unit constants of the ranking, computed once rather than on every query.
        slot = {d: i for i, d in enumerate(docs)}
        if isinstance(self.units, UnitStore):  # issue 16: the same constants from the store's columns
            store = self.units
            self._unit_doc = np.array([slot.get(d, len(docs)) for d in store.docs], dtype=np.int64)[store.doc]
            self._heading = np.asarray(store.heading, dtype=np.float32)
            self._cited = sorted(store.vocabulary("cites"))
        else:
            self._unit_doc = np.array([slot.get(u.doc, len(docs)) for u in self.units], dtype=np.int64)  # no title
            self._heading = np.array([u.is_heading for u in self.units], dtype=np.float32)
            self._cited = sorted({c for u in self.units for c in u.cites})
        info = instruments or {}
        unnumbered = [c for c in self._cited if not normalise_id(c)[:1].isdigit()]
        self._cited_type = {c: info.get(c, {}).get("type") or _type_of(c) for c in self._cited if c not in unnumbered}
        # (id, name key) for every name an instrument goes by: its own for unnumbered ones, titles for laws.
        aliases = [(c, n) for c in self._cited_type for n in info.get(c, {}).get("names", ())]
        self._named = list(dict.fromkeys([*unnumbered, *(n for _, n in aliases)]))
        self._name_keys = [(c, name_key(c)) for c in unnumbered] + [(c, name_key(n)) for c, n in aliases]
        if isinstance(self.units, UnitStore):  # issue 16
            from cchc.search.candidates import Ranker

            self._ranker = Ranker(self.units, bm25, self.vectors, self.encoder)

    # ---------------------------------------------------------------- instruments
    def resolve_instruments(self, q: ParsedQuery) -> list[str]:
        """Ids cited in the corpus that the query's references name.

        A typed reference must agree with the type the id's code implies ("Đề
        án 06" is not 06-KH/TU); a named instrument takes every cited name that
        contains it, across abbreviations ("Luật Ban hành VBQPPL" also finds
        the law amending "Luật Ban hành văn bản quy phạm pháp luật").
        """
        ids = [c for c, kind in self._cited_type.items() for ref in q.instruments if _ref_matches(ref, c, kind)]
        for name in q.named:
            key = name_key(name)
            ids += [c for c, ck in self._name_keys if f" {key} " in f" {ck} "]
        return list(dict.fromkeys(ids))

    def _links(self, ids: Sequence[str]) -> dict[str, Link]:
        links: dict[str, Link] = {}
        for u in self.units:
            for c in u.cites:
                if c in ids:
                    links[u.key] = Link(u.key, "cites", f"cites {c}")
                    break
        if self.tracer is not None:
            for iid in ids:
                for link in self.tracer(iid):
                    links.setdefault(link.key, link)
        return links

    # ---------------------------------------------------------------- search
    def read(self, query: str) -> str:
        """The query as the index reads it: diacritics restored from the corpus when it was typed without any."""
        return self.restorer.restore(query) if self.restorer is not None and is_folded(query) else query

    def search(self, query: str, k: int = 10, filters: Filters | None = None, offset: int = 0) -> list[Result]:
        """The page of results that answer `query` (see `answer`)."""
        return self.answer(query, k, filters, offset).results

    def answer(self, query: str, k: int = 10, filters: Filters | None = None, offset: int = 0) -> SearchAnswer:
        """Results best first, only those the evidence says answer (`cchc.search.relevance`), paged.

        An empty query with filters lists the units the filters accept, in
        document and line order: "the tasks of Sở Nội vụ due in 2026".
        """
        typed = query.strip()
        if not typed:
            if filters is None or not filters.active:
                return SearchAnswer(query, None, 0, offset, [])
            if self._ranker is not None:  # the store's masks, not a pass over every unit
                idx = self._ranker.listing(filters)
                page = [self._result(self.units[int(i)], 0.0, [], False) for i in idx[offset:offset + k]]
                return SearchAnswer(query, None, len(idx), offset, page)
            hits = [u for u in self.units if filters.accepts(u) and not u.is_heading]
            page = [self._result(u, 0.0, [], False) for u in hits[offset:offset + k]]
            return SearchAnswer(query, None, len(hits), offset, page)
        if self._ranker is not None:  # candidates from inverted lists (search/candidates.py)
            return self._ranker.answer(self, typed, k, filters, offset)
        query = self.read(typed)
        q = parse_query(query, self._named)
        ids = self.resolve_instruments(q)
        links = self._links(ids) if ids else {}
        # A period with a topic is a topic question; one naming an agency's role ("Sở X chủ trì ... năm 2026")
        # or an instrument stays a structured one.
        mixed = q.topic_led(bool(ids), self.weights.mixed_topic_words)
        struct, why, timed = structured_scores(q, self.units, links, plan_start=mixed) if q.structured \
            else (None, None, None)
        text_query = expand(q.residual or query)
        bm25 = self.bm25.scores(q.lexical_query(mixed) or text_query)
        dense = None
        if self.vectors is not None and self.encoder is not None and text_query.strip():
            dense = self.vectors.scores(self.encoder, text_query)
        untimed = ~timed if timed is not None and mixed and q.asks_when else None
        cover = self.coverage(q.residual or query)
        score = fuse(struct, bm25, dense, self.weights, mixed=mixed, untimed=untimed, field_only=q.field_only,
                     cover=cover)
        if self._title_index is not None:
            # The plan a unit belongs to is evidence too: "nhiệm vụ CCHC năm 2023" is the 2023 task appendix.
            t = self._title_index.scores(query)
            if t.max() > 0:
                prior = np.append(t / t.max(), 0.0).astype(np.float32)  # the extra slot: units of untitled docs
                score = score + self.weights.doc_title * prior[self._unit_doc]
        # A heading is a signpost, not an answer: rank it below its items.
        score = score - 0.05 * self._heading
        grades = grade(struct, cover, dense, self.floors, typed_is_strong=not mixed)
        order = np.argsort(-score, kind="stable")
        bmax = float(bm25.max()) or 1.0
        dense_cut = float(np.sort(dense)[-min(len(dense), 20)]) if dense is not None and len(dense) else None
        shown = [int(i) for i in order if grades[i] != NONE and (filters is None or filters.accepts(self.units[i]))]
        out: list[Result] = []
        for i in shown[offset:offset + k]:
            reasons = list(why[i]) if why else []
            if bm25[i] > 0.2 * bmax:
                reasons.append("bm25")
            if dense_cut is not None and dense[i] >= dense_cut:
                reasons.append("dense")
            out.append(self._result(self.units[i], float(score[i]), reasons, bool(grades[i] != STRONG)))
        return SearchAnswer(typed, query if query != typed else None, len(shown), offset, out)

    def coverage(self, text: str) -> np.ndarray | None:
        """Per unit, the IDF-weighted share of the query's content words it has (its abbreviations expanded:
        a unit printing either form covers the word)."""
        found = self.coverage_by_text(text)
        return None if found is None else found[np.arange(len(found))]

    def coverage_by_text(self, text: str) -> ByText | None:
        """`coverage` per distinct text (the candidate path reads only its candidates' values); an abbreviation
        or synonym counts once, in whichever form the unit prints it (`relevance.coverage_by_concept`)."""
        terms = content_terms(text, NOT_TOPIC)
        concepts = [(content_terms(phrase, NOT_TOPIC), [content_terms(o, NOT_TOPIC) for o in others])
                    for phrase, others in alternatives(text)]
        return coverage_by_concept(self.bm25, terms, concepts)

    @staticmethod
    def _result(u: SearchUnit, score: float, why: list[str], weak: bool) -> Result:
        return Result(u.doc, u.line, u.end_line, u.section, u.no, score, u.text, why, u.key, u.kind,
                      id=u.uid or task_ref(u.doc, u.section, u.no, u.line), weak=weak)

    # ---------------------------------------------------------------- persistence
    @staticmethod
    def save_units(units: Sequence[SearchUnit], path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        tmp = path / "units.jsonl.tmp"
        with tmp.open("w", encoding="utf-8") as fh:
            for u in units:
                row = u.to_json()
                row.update({"index_text": u.index_text, "lead_ids": list(u.lead_ids), "coop_ids": list(u.coop_ids),
                            "mention_ids": list(u.mention_ids),
                            "deadline": u.deadline.to_json() if u.deadline else None, "is_heading": u.is_heading,
                            "uid": u.uid})
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        os.replace(tmp, path / "units.jsonl")

    @staticmethod
    def load_units(path: Path) -> list[SearchUnit]:
        from cchc.search.unitstore import unit_from_row  # unitstore imports this module

        units = []
        with (path / "units.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                units.append(unit_from_row(json.loads(line)))
        return units
