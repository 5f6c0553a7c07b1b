"""The IRI scheme of CCHC graphs (see README.md, "IRI scheme").

Everything the graph builder mints goes through `IRIs`, so that two runs over
the same corpus give the same IRIs and queries can rely on them:

    base/doc/<file-stem>                      cchc:Plan / cchc:Appendix
    base/task/<file-stem>/<section>-<no>      cchc:Task from a table row ("III-9")
    base/task/<file-stem>/L<line>             cchc:Task without section/STT (narrative)
    base/instrument/<slug of normalised id>   cchc:LegalInstrument ("118-2025-nd-cp")
    base/agency/<registry-id>                 cchc:Agency / cchc:AgencyGroup
    base/citation/<file-stem>/L<line>-<n>     cchc:Citation, n-th starting on that line
    base/span/<file-stem>/L<start>-<end>      cchc:SourceSpan (shared)
    base/deadline/<slug of timeline text>     cchc:Deadline (shared)
    base/instant/<yyyy-mm-dd>                 time:Instant (shared)
    base/unit/<file-stem>/L<line>             cchc:Unit
    base/target/<file-stem>/L<line>-<n>       cchc:Target
    base/carryover/<later task key>/<earlier task key>   cchc:CarryOver
    base/event/<slug>                         cchc:RestructuringEvent

Vocabulary IRIs do not move with the base: the CCHC fields are
https://w3id.org/cchc/field/<concept> and instrument types
https://w3id.org/cchc/doctype/<slug>, as declared in cchc.ttl.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rdflib import URIRef

DEFAULT_BASE = "https://w3id.org/cchc/"
FIELD_BASE = "https://w3id.org/cchc/field/"
DOCTYPE_BASE = "https://w3id.org/cchc/doctype/"


# fold / slug / segment are pure and meet the same texts over and over (a document's stem in every IRI it
# mints, section numbers, instrument ids, timelines): cached, they stop being most of a graph build.
_cached = lru_cache(maxsize=1 << 14)


@_cached
def fold(text: str) -> str:
    """NFC, lower case, Vietnamese diacritics removed (đ -> d)."""
    text = unicodedata.normalize("NFC", text).lower().replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


@_cached
def slug(text: str) -> str:
    """Folded, lower case, every run of non-alphanumerics -> "-".

    >>> slug("118/2025/NĐ-CP")
    '118-2025-nd-cp'
    >>> slug("Quý I/2026")
    'quy-i-2026'
    """
    out = re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")
    if not out:
        raise ValueError(f"nothing to build a slug from: {text!r}")
    return out


@_cached
def segment(text: str) -> str:
    """A path segment that keeps case, dots and digits ("III", "1.2"); diacritics folded."""
    text = unicodedata.normalize("NFC", str(text)).replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    out = re.sub(r"[^0-9A-Za-z._~]+", "-", text).strip("-")
    if not out:
        raise ValueError(f"nothing to build an IRI segment from: {text!r}")
    return out


@dataclass(frozen=True)
class IRIs:
    """IRI factory for one base (default https://w3id.org/cchc/)."""

    base: str = DEFAULT_BASE

    def __post_init__(self) -> None:
        if not self.base.endswith(("/", "#")):
            object.__setattr__(self, "base", self.base + "/")

    def _iri(self, path: str) -> URIRef:
        return URIRef(self.base + path)

    def doc(self, stem: str) -> URIRef:
        return self._iri(f"doc/{segment(stem)}")

    def task_key(self, stem: str, section: str | None = None, no: str | None = None, line: int | None = None) -> str:
        """The part after "task/": "<stem>/<section>-<no>", else "<stem>/L<line>"."""
        if section and no:
            return f"{segment(stem)}/{segment(section)}-{segment(no)}"
        if line is not None:
            return f"{segment(stem)}/L{int(line)}"
        raise ValueError("a task IRI needs section and no, or a line")

    def task(self, stem: str, section: str | None = None, no: str | None = None, line: int | None = None) -> URIRef:
        return self._iri("task/" + self.task_key(stem, section, no, line))

    def instrument(self, ident: str) -> URIRef:
        """From the normalised id ("118/2025/NĐ-CP") or the name of an unnumbered instrument."""
        return self._iri(f"instrument/{slug(ident)}")

    def agency(self, registry_id: str) -> URIRef:
        return self._iri(f"agency/{segment(registry_id)}")

    def citation(self, stem: str, line: int, n: int = 1) -> URIRef:
        return self._iri(f"citation/{segment(stem)}/L{int(line)}-{int(n)}")

    def span(self, stem: str, start: int, end: int) -> URIRef:
        return self._iri(f"span/{segment(stem)}/L{int(start)}-{int(end)}")

    def deadline(self, text: str) -> URIRef:
        return self._iri(f"deadline/{slug(text)}")

    def instant(self, iso_date: str) -> URIRef:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso_date):
            raise ValueError(f"not an ISO date: {iso_date!r}")
        return self._iri(f"instant/{iso_date}")

    def unit(self, stem: str, line: int) -> URIRef:
        return self._iri(f"unit/{segment(stem)}/L{int(line)}")

    def target(self, stem: str, line: int, n: int = 1) -> URIRef:
        return self._iri(f"target/{segment(stem)}/L{int(line)}-{int(n)}")

    def carry_over(self, later_task: URIRef, earlier_task: URIRef) -> URIRef:
        prefix = self.base + "task/"
        keys = []
        for task in (later_task, earlier_task):
            if not str(task).startswith(prefix):
                raise ValueError(f"not a task IRI under {self.base}: {task}")
            keys.append(str(task)[len(prefix) :])
        return self._iri(f"carryover/{keys[0]}/{keys[1]}")

    def event(self, key: str) -> URIRef:
        return self._iri(f"event/{slug(key)}")

    @staticmethod
    def field(concept: str) -> URIRef:
        """A CCHC field concept (fixed vocabulary IRI, independent of the base)."""
        return URIRef(FIELD_BASE + concept)

    @staticmethod
    def doctype(type_label: str) -> URIRef:
        """An instrument-type concept (fixed vocabulary IRI), from its Vietnamese name."""
        return URIRef(DOCTYPE_BASE + slug(type_label))
