"""Relations between plans and instruments, read from the words around citations.

A plan says what it carries out in its preamble ("Thực hiện Nghị quyết số
76/NQ-CP ...; Quyết định số 282/QĐ-TTg ..."), what it rests on ("Căn cứ ...")
and, near its end, what it replaces ("Kế hoạch này thay thế Kế hoạch số
316/KH-UBND ...").  Cited instruments relate to each other inside their titles
("Kế hoạch số 226/KH-UBND ... về thực hiện Nghị quyết số 49-NQ/TU": the
citations parser marks 49-NQ/TU with `parent`) or side by side ("Luật ... số
64/2025/QH15, được sửa đổi, bổ sung bởi Luật số 87/2025/QH15").  Tracing a
task back to a directive rests on these relations, so each one keeps the
citation that evidences it (its line span) and the cue words as printed.

The text read here is the source text as the records carry it: narrative units
(joined lines of one paragraph or item) and the content/product cells of table
rows, in which every citation's surface is an exact slice.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from cchc.graph.extract.records import Citation, Extraction

__all__ = ["PREDICATES", "Relation", "document_relations", "find_relations", "instrument_relations", "own_number"]

# A citation's `relation` (contract field) -> the graph predicate (cchc:basedOn, cchc:repeals, ...)
PREDICATES = {"based_on": "basedOn", "implements": "implements", "amends": "amends", "replaces": "replaces",
              "repeals": "repeals", "guides": "guides"}

# A preamble clause opens with its cue; the cue carries over a ";"-separated list of instruments.
_DOC_CUES = (
    (re.compile(r"căn\s+cứ(?:\s+vào)?\b", re.I), "basedOn"),
    (re.compile(r"(?:(?:để|nhằm)\s+)?(?:tiếp\s+tục\s+)?(?:thực\s+hiện|triển\s+khai)(?:,?\s+thực\s+hiện)?\b", re.I),
     "implements"),
)
# "Kế hoạch này thay thế ..." anywhere in the body.
_THIS_DOC = (
    (re.compile(r"\bnày\b[^;.]{0,40}?\bthay\s+thế\b", re.I), "replaces"),
    (re.compile(r"\bnày\b[^;.]{0,40}?\bsửa\s+đổi,?\s+bổ\s+sung\b", re.I), "amends"),
)
# Inside a title: the last cue before the nested citation says how the two relate.
_TITLE_CUES = re.compile(r"(thực\s+hiện|triển\s+khai)|(sửa\s+đổi,?\s+bổ\s+sung)|(thay\s+thế)|(căn\s+cứ)"
                         r"|(quy\s+định\s+chi\s+tiết|hướng\s+dẫn\s+thi\s+hành)", re.I)
_TITLE_PREDICATES = ("implements", "amends", "replaces", "basedOn", "guides")
# Between two sibling citations: "X, được sửa đổi, bổ sung bởi Y" (Y amends X).
_AMENDED_BY = re.compile(r",?\s*(?:đã\s+)?được\s+sửa\s+đổi,?\s+bổ\s+sung(?:\s+một\s+số\s+điều)?\s+(?:bởi|theo|tại)\s+",
                         re.I)
_LIST_JOIN = re.compile(r"(?:và|cùng|các)?\s*", re.I)
_OWN_NUMBER = re.compile(r"(\d{1,5}[A-Za-z]?(?:\s*/\s*(?:19|20)\d\d)?\s*[/-]\s*"
                         r"[A-ZĐ][A-Za-zĐđ0-9]*(?:[-/][A-ZĐ][A-Za-zĐđ0-9]*)*)")


@dataclass(frozen=True)
class Relation:
    """`subject predicate object`, evidenced by the citation of the object.

    `subject` is None for the document itself, else an instrument id;
    `within` is the enclosing citation when the relation was read in a title.
    """

    subject: str | None
    predicate: str  # "implements" | "basedOn" | "replaces" | "amends" | "repeals" | "guides" | "cites" | "appendixOf"
    object: str
    evidence: Citation
    cue: str
    within: Citation | None = None


@dataclass
class _Segment:
    """A stretch of text and the citations located in it (offset of each surface)."""

    text: str
    placed: list[tuple[int, Citation]]
    preamble: bool = False


def _place(text: str, citations: Sequence[Citation]) -> list[tuple[int, Citation]]:
    """Offsets of the citations' surfaces in `text`, in order; unfound ones are dropped."""
    out, pos = [], 0
    for c in citations:
        at = text.find(c.surface, pos)
        if at < 0:
            at = text.find(c.surface)
        if at >= 0:
            out.append((at, c))
            pos = at + 1
    return sorted(out, key=lambda x: x[0])


def _segments(ex: Extraction) -> Iterator[_Segment]:
    if ex.kind == "appendix":
        for t in ex.tasks:
            for cell in (t.content, t.product or ""):
                placed = _place(cell, [c for c in t.citations if c.surface in cell])
                if placed:
                    yield _Segment(cell, placed)
        return
    first_heading = next((u.span.line for u in ex.units if u.is_heading), None)
    cites = sorted(ex.citations, key=lambda c: (c.span.line, c.span.end_line))
    for u in ex.units:
        inside = [c for c in cites if u.span.line <= c.span.line <= u.span.end_line]
        if inside:
            preamble = first_heading is not None and u.span.line < first_heading
            yield _Segment(u.text, _place(u.text, inside), preamble)


def _clauses(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of the ";"- and sentence-separated clauses of a paragraph."""
    start = 0
    for i, ch in enumerate(text):
        end_of_sentence = ch == "." and (i + 1 == len(text) or (text[i + 1] == " " and text[i + 2:i + 3].isupper()))
        if ch == ";" or end_of_sentence:
            yield start, i
            start = i + 1
    if start < len(text):
        yield start, len(text)


def _preamble_relations(seg: _Segment) -> Iterator[Relation]:
    cue: tuple[str, str] | None = None
    for a, b in _clauses(seg.text):
        lead = len(seg.text[a:b]) - len(seg.text[a:b].lstrip(" ,"))
        a += lead
        top = [(at, c) for at, c in seg.placed if a <= at < b and c.parent is None]
        found = next(((m, pred) for rx, pred in _DOC_CUES if (m := rx.match(seg.text, a))), None)
        if found:
            cue = (found[0].group(), found[1])
        elif not (top and _LIST_JOIN.fullmatch(seg.text, a, top[0][0])):
            cue = None  # a clause that neither opens with a cue nor continues the list ends it
        if cue:
            for _, c in top:
                yield Relation(None, cue[1], c.id, c, cue[0])


def _this_document_relations(seg: _Segment) -> Iterator[Relation]:
    for a, b in _clauses(seg.text):
        top = [(at, c) for at, c in seg.placed if a <= at < b and c.parent is None]
        if not top:
            continue
        for rx, pred in _THIS_DOC:
            m = rx.search(seg.text, a, top[0][0])
            if m:
                for _, c in top:
                    yield Relation(None, pred, c.id, c, m.group())
                break


def own_number(ex: Extraction) -> str | None:
    """The document's own number: a legal instrument's identity, a plan's "Số: 29/KH-UBND", else None."""
    if ex.kind == "instrument":
        return ex.identity.id if ex.identity else None
    m = _OWN_NUMBER.search(str(ex.header.get("number") or ""))
    return re.sub(r"\s+", "", m.group(1)) if m else None


def _stated_relations(ex: Extraction) -> list[Relation]:
    """A legal instrument's relations: each citation's `relation`, read from its clause (cues.py)."""
    return [Relation(None, PREDICATES[c.relation], c.id, c, c.relation) for c in ex.citations
            if c.relation and c.numbered]


def document_relations(ex: Extraction) -> list[Relation]:
    """What the document implements, is based on, replaces, amends, repeals or guides; an appendix's plan."""
    out: list[Relation] = []
    parent = ex.header.get("parent_plan")
    if parent:
        ev = next((c for c in ex.citations if c.id == parent["id"] and c.span.line == parent["line"]), None)
        if ev is not None:
            out.append(Relation(None, "appendixOf", ev.id, ev, "Kèm theo"))
    if ex.kind == "instrument":
        out.extend(_stated_relations(ex))
    for seg in _segments(ex) if ex.kind == "narrative" else ():
        if seg.preamble:
            out.extend(_preamble_relations(seg))
        out.extend(_this_document_relations(seg))
    seen: set[tuple[str, int]] = set()  # a citation evidences one document relation
    unique = []
    for r in out:
        key = (r.evidence.id, r.evidence.span.line)
        if key not in seen:
            seen.add(key)
            unique.append(r)
    own = own_number(ex)
    if own:  # the plan's number is the instrument other documents cite: it carries the same relations
        unique += [Relation(own, r.predicate, r.object, r.evidence, r.cue) for r in unique
                   if r.predicate != "appendixOf" and r.object != own]
    return unique


def _enclosing(cites: Sequence[Citation], i: int) -> Citation | None:
    c = cites[i]
    for p in reversed(cites[:i]):
        if p.id == c.parent and p.title and c.surface in p.title:
            return p
    return None


def instrument_relations(ex: Extraction) -> list[Relation]:
    """Instrument -> instrument relations printed in titles and between sibling citations."""
    out: list[Relation] = []
    cites = list(ex.citations)
    for i, c in enumerate(cites):
        if c.parent is None or c.parent == c.id:
            continue
        p = _enclosing(cites, i)
        if p is None or p.title is None:
            continue
        before = p.title[:p.title.find(c.surface)]
        cues = list(_TITLE_CUES.finditer(before))
        if cues:
            last = cues[-1]
            pred = _TITLE_PREDICATES[last.lastindex - 1]  # type: ignore[operator]
            out.append(Relation(p.id, pred, c.id, c, last.group(), within=p))
        else:
            out.append(Relation(p.id, "cites", c.id, c, "", within=p))
    for seg in _segments(ex):
        top = [(at, c) for at, c in seg.placed if c.parent is None]
        for (a_at, a), (b_at, b) in itertools.pairwise(top):
            m = _AMENDED_BY.fullmatch(seg.text, a_at + len(a.surface), b_at)
            if m and a.id != b.id:
                out.append(Relation(b.id, "amends", a.id, b, m.group().strip(" ,")))
    return list(dict.fromkeys(out))


def find_relations(ex: Extraction) -> list[Relation]:
    """Every relation of one document: document relations first, then instrument relations."""
    return document_relations(ex) + instrument_relations(ex)
