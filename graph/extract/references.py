"""Loose references to instruments in user queries ("NĐ 118", "nghi dinh 118/2025", "ND-CP 118").

Kept apart from citations.py: a query is folded and matched against ids,
not read as printed text with its line spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from cchc.graph.extract.instrument_terms import _ID_RE, _YEAR, _alt, _code_type, _data, _key, _parts
from cchc.graph.extract.reading import fold, squash

__all__ = ["InstrumentRef", "normalise_id", "parse_reference", "same_number"]


_LOOKALIKES = {"Ð": "Đ", "ð": "đ"}  # Icelandic eth, typed for Đ


def normalise_id(s: str) -> str:
    """An instrument id for comparison: case and Đ/D folded, spaces dropped ("118/2025/ND-CP")."""
    return fold(s).upper().replace(" ", "")


def same_number(a: str, b: str) -> bool:
    """Whether two ids name one instrument: equal, or equal but for a year printed in one only.

    A non-normative resolution prints "14/NQ-CP" in its header while collections file it as
    "14/2026/NQ-CP"; two different years never match.
    """
    ma, mb = (_ID_RE.fullmatch(squash(x)) for x in (a, b))
    if not (ma and mb):
        return normalise_id(a) == normalise_id(b)
    if (ma.group("year") and mb.group("year")) and ma.group("year") != mb.group("year"):
        return False
    return (ma.group("num").lstrip("0"), normalise_id(ma.group("code"))) == \
        (mb.group("num").lstrip("0"), normalise_id(mb.group("code")))


@dataclass(frozen=True)
class InstrumentRef:
    """An instrument named in a user query ("NĐ 118", "nghi dinh 118/2025", "ND-CP 118").

    `start`/`end` are offsets of the reference in the query.  A missing year or
    code is a wildcard in `matches`.
    """

    type: str | None
    number: str
    year: str | None
    code: str | None
    start: int
    end: int

    def matches(self, citation_id: str, citation_type: str | None = None) -> bool:
        """Whether a citation id (and type, when known) is the instrument this reference names."""
        m = _ID_RE.fullmatch(_key(squash(citation_id)))
        if not m or m.group("num").lstrip("0") != self.number.upper().lstrip("0"):
            return False
        if self.year and m.group("year") and self.year != m.group("year"):
            return False
        parts = set(_parts(m.group("code")))
        if self.code and not set(_parts(self.code)) <= parts:
            return False
        if self.type is None:
            return True
        if citation_type:
            return fold(citation_type) == fold(self.type)
        abbrs = _data().abbrs.get(self.type, frozenset())  # "NĐ 118" needs an NĐ code
        return not abbrs or bool(abbrs & parts)


@cache
def _query_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Patterns over a folded query: type then number, code then number, bare number with code or year."""
    kind = rf"(?<![a-z0-9])(?P<type>{_alt(list(_data().canonical))})(?![a-z])".replace(r"\ ", r"\s+")
    code = r"[a-z][a-z0-9]*(?:[-/][a-z][a-z0-9]*)*"
    ref = (rf"(?P<num>\d{{1,5}}[a-z]?)(?!\d)(?:\s*/\s*(?P<year>{_YEAR}))?(?:\s*[/-]\s*(?P<code>{code}))?"
           rf"(?:\s+nam\s+(?P<year2>{_YEAR}))?(?![a-z0-9])")
    return (re.compile(rf"{kind}\s*(?:so\s*:?\s*)?{ref}"),
            re.compile(rf"(?<![a-z0-9/])(?P<code>[a-z]+[-/]{code})\s+(?:so\s+)?(?P<num>\d{{1,5}})(?![0-9/])"),
            re.compile(rf"(?<![a-z0-9/.-]){ref}"))


def parse_reference(query: str) -> list[InstrumentRef]:
    """Instrument references in a loose user query, in order; [] when there is none.

    The query is folded (lower case, no diacritics, Đ -> D) one character at a
    time, so offsets in the folded text map back onto the query.
    """
    folded, where = [], []
    for i, ch in enumerate(query):
        f = fold(_LOOKALIKES.get(ch, ch))
        folded.append(f)
        where.extend([i] * len(f))
    text, found = "".join(folded), []
    typed, code_first, bare = _query_patterns()

    def add(m: re.Match[str], kind: str | None, year: str | None) -> None:
        a, b = where[m.start()], where[m.end() - 1] + 1
        if not any(r.start < b and a < r.end for r in found):
            code = query[where[m.start("code")]:where[m.end("code") - 1] + 1] if m.group("code") else None
            code = code.replace(" ", "") if code else None
            found.append(InstrumentRef(kind or _code_type(code or ""), m.group("num"), year, code, a, b))

    for m in typed.finditer(text):
        add(m, _data().canonical.get(m.group("type")), m.group("year") or m.group("year2"))
    for m in code_first.finditer(text):
        add(m, None, None)
    for m in bare.finditer(text):
        if m.group("code") or m.group("year"):
            add(m, None, m.group("year") or m.group("year2"))
    return sorted(found, key=lambda r: r.start)
