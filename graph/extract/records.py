"""Plain extraction records.

Every record keeps the document and the 1-based line span it came from, so any
answer built from it (a triple, a search hit) can point back at the source
lines.  Records are frozen dataclasses: the extraction is a pure function of the
text, and the graph builder reads them, never mutates them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Span:
    """Where a record sits in its source: document base name and line range."""

    doc: str
    line: int
    end_line: int

    def __post_init__(self) -> None:
        if self.line < 1 or self.end_line < self.line:
            raise ValueError(f"bad span {self.doc}:{self.line}-{self.end_line}")


@dataclass(frozen=True)
class Citation:
    """One mention of a legal instrument in a source text."""

    span: Span
    id: str  # normalised id ("118/2025/NĐ-CP") or the name of an unnumbered instrument
    type: str | None  # "Nghị định", "Quyết định", ...
    issuer: str | None  # as printed, else implied by an unambiguous code
    date: str | None  # ISO date when printed in full
    title: str | None  # the "về ..." title when printed
    surface: str  # the text as printed (NFC, single spaces)
    numbered: bool = True
    number: str | None = None  # "118"
    year: str | None = None  # "2025" when printed inside the id
    code: str | None = None  # "NĐ-CP"
    issuer_source: str | None = None  # "text" or "code"
    parent: str | None = None  # id of the citation whose title holds this one
    printed: str | None = None  # the number as printed when `id` repairs or completes it ("15/201 2/QI113")
    relation: str | None = None  # what the citing document does with it: "based_on", "amends", ... (cues.py)
    # "khoản 2 Điều 3 Nghị định ...": the articles cited ("3",) and the locator as printed ("khoản 2 Điều 3")
    articles: tuple[str, ...] = ()
    locator: str | None = None

    def to_json(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"printed": self.printed} if self.printed else {}
        if self.articles:
            extra.update(articles=list(self.articles), locator=self.locator)
        return {
            "kind": "citation",
            "doc": self.span.doc,
            "line": self.span.line,
            "end_line": self.span.end_line,
            "id": self.id,
            "type": self.type,
            "issuer": self.issuer,
            "date": self.date,
            "title": self.title,
            "surface": self.surface,
            "numbered": self.numbered,
            "number": self.number,
            "year": self.year,
            "code": self.code,
            "parent": self.parent,
            "relation": self.relation,
            **extra,
        }


@dataclass(frozen=True)
class Deadline:
    """A task's timeline cell as structured time.

    `start`/`end` are ISO dates bounding the interval when the text names one;
    `recurrence` is set for standing duties ("Thường xuyên"); otherwise only the
    original text is kept rather than guessing.
    """

    text: str
    start: str | None = None
    end: str | None = None
    recurrence: str | None = None  # "continuous" | "yearly" | None
    precision: str | None = None  # "day" | "month" | "quarter" | "half" | "year" | "period"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AgencyMention:
    """An agency (or group of agencies) as printed in a cell, resolved to the registry."""

    text: str
    agency_id: str | None  # registry id, None when unknown
    is_group: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Task:
    """A task: a row of an appendix table, or a task block of a narrative plan."""

    span: Span
    section: str | None
    section_title: str | None
    no: str | None
    content: str
    product: str | None
    lead: tuple[str, ...]
    cooperating: tuple[str, ...]
    timeline: str | None
    citations: tuple[Citation, ...] = ()
    lead_agencies: tuple[AgencyMention, ...] = ()
    cooperating_agencies: tuple[AgencyMention, ...] = ()
    deadline: Deadline | None = None
    heading_path: tuple[str, ...] = ()
    source: str = "table"  # "table" | "narrative"
    page: int | None = None  # page of the row's first line, for formats with pages (PDF)
    ocr_confidence: float | None = None  # least confident cell of an OCR-read row (Tesseract, 0-100)
    low_confidence: tuple[str, ...] = ()  # columns read by OCR below the trust threshold: check by eye

    @property
    def cites(self) -> list[str]:
        """Distinct numbered instrument ids cited by the task, in order of first mention."""
        seen: dict[str, None] = {}
        for c in self.citations:
            if c.numbered:
                seen.setdefault(c.id, None)
        return list(seen)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "task",
            "doc": self.span.doc,
            "line": self.span.line,
            "end_line": self.span.end_line,
            "section": self.section,
            "section_title": self.section_title,
            "no": self.no,
            "content": self.content,
            "product": self.product,
            "lead": list(self.lead),
            "cooperating": list(self.cooperating),
            "timeline": self.timeline,
            "cites": self.cites,
            "lead_ids": [a.agency_id for a in self.lead_agencies],
            "cooperating_ids": [a.agency_id for a in self.cooperating_agencies],
            "deadline": self.deadline.to_json() if self.deadline else None,
            "heading_path": list(self.heading_path),
            "source": self.source,
            **({"page": self.page} if self.page is not None else {}),
            **({"ocr_confidence": self.ocr_confidence, "low_confidence": bool(self.low_confidence),
                "low_confidence_cells": list(self.low_confidence)} if self.ocr_confidence is not None else {}),
        }


@dataclass(frozen=True)
class Unit:
    """A numbered item or bullet of a narrative plan, with its heading path."""

    span: Span
    marker: str  # "I.", "1.", "1.2.", "(1)", "a)", "-", "+", or "" for a paragraph
    level: int
    heading_path: tuple[str, ...]
    text: str
    is_heading: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "unit",
            "doc": self.span.doc,
            "line": self.span.line,
            "end_line": self.span.end_line,
            "marker": self.marker,
            "level": self.level,
            "heading_path": list(self.heading_path),
            "text": self.text,
            "is_heading": self.is_heading,
        }


@dataclass(frozen=True)
class Target:
    """A quantified target ("100% TTHC ...", "nằm trong nhóm 35 tỉnh")."""

    span: Span
    text: str
    value: float | None
    unit: str | None  # "%", "tỉnh", "điểm", ...
    comparator: str | None = None  # ">=", "<=", "=", "top"
    subject: str | None = None
    year: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "target",
            "doc": self.span.doc,
            "line": self.span.line,
            "end_line": self.span.end_line,
            "text": self.text,
            "value": self.value,
            "unit": self.unit,
            "comparator": self.comparator,
            "subject": self.subject,
            "year": self.year,
        }


@dataclass(frozen=True)
class Identity:
    """What a document says about itself; `line` is the first line after any front matter holding its number."""

    doc: str
    id: str | None
    type: str | None
    issuer: str | None
    date: str | None
    title: str | None
    line: int
    kind: str  # "instrument" | "plan" | "appendix"
    sources: dict[str, str] = field(default_factory=dict)  # field -> "header" | "metadata" | "front-matter" | ...
    part_of: str | None = None  # an appendix: the id of the plan it is attached to

    @property
    def is_empty(self) -> bool:
        return not (self.id or self.type)

    def to_json(self) -> dict[str, Any]:
        return {"kind": "document", "doc": self.doc, "id": self.id, "type": self.type, "issuer": self.issuer,
                "date": self.date, "title": self.title, "line": self.line, "document_kind": self.kind,
                "part_of": self.part_of, "sources": dict(self.sources)}


@dataclass
class Extraction:
    """Everything extracted from one source document."""

    doc: str
    kind: str  # "appendix" | "narrative" | "instrument"
    header: dict[str, Any] = field(default_factory=dict)
    identity: Identity | None = None
    tasks: list[Task] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    format: str = "text"  # the reader: "text" | "docx" | "pdf" | "scan"
    line_pages: tuple[int | None, ...] = ()  # page of each line of the reader's text, where known

    def page_of(self, line: int) -> int | None:
        return self.line_pages[line - 1] if 1 <= line <= len(self.line_pages) else None
