"""Appendix task tables rebuilt from PDF-extracted text: the table's lines and its rows.

The PDF extraction prints a row's cells one after another (content, product,
lead, cooperating, timeline), each wrapped at its column's width, sometimes
several cells merged on one line, and a row broken by a page break continues
after the repeated table header with each column's remainder in turn.

This module finds the table body (repeated headers and page numbers dropped)
and groups its lines into rows by their STT; `cells.py` then splits each row's
lines into the five cells.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cchc.graph.extract.reading import SourceText, squash

COLUMNS = ("content", "product", "lead", "cooperating", "timeline")
CONTENT, PRODUCT, LEAD, COOP, TIME = range(5)

HEADER_WORDS = frozenset({"CƠ QUAN", "CHỦ TRÌ", "PHỐI HỢP", "THỜI GIAN", "THỰC HIỆN"})
HEADER_START = re.compile(r"^STT\s+NỘI DUNG")
SECTION_LINE = re.compile(r"^(?P<roman>[IVX]{1,5})\s+(?P<title>\w.{2,})$")
ROW_START = re.compile(r"^(?P<no>\d{1,3})(?:\s+(?P<rest>\S.*))?$")
LONE_NUMBER = re.compile(r"^\d{1,3}$")

@dataclass(frozen=True)
class Line:
    n: int
    text: str
    blank_before: bool
    page_break_before: bool = False


@dataclass
class RawRow:
    """A row's lines before segmentation."""

    section: str | None
    section_title: str | None
    no: str
    start: int
    lines: list[Line] = field(default_factory=list)



def _is_header_line(text: str) -> bool:
    return bool(HEADER_START.match(text)) or text in HEADER_WORDS


def table_lines(src: SourceText) -> tuple[list[Line], int]:
    """The table body as lines, page headers and page numbers removed.

    Returns the lines after the first table header, each flagged with whether a
    blank line preceded it and whether a page break did, and the line number
    where the table starts (the lines before it are the document header).
    """
    raw = [squash(t) for t in src.lines]
    start = next((i for i, t in enumerate(raw) if HEADER_START.match(t)), None)
    if start is None:
        return [], 0
    nonblank = [i for i in range(start, len(raw)) if raw[i]]
    out: list[Line] = []
    page_break = False
    prev_i = None
    for pos, i in enumerate(nonblank):
        t = raw[i]
        if _is_header_line(t):
            page_break = True
            prev_i = i
            continue
        nxt = raw[nonblank[pos + 1]] if pos + 1 < len(nonblank) else None
        if LONE_NUMBER.match(t) and (nxt is None or HEADER_START.match(nxt)):
            page_break = True  # a page number: the next thing is the repeated header (or the end)
            prev_i = i
            continue
        blank_before = prev_i is None or i - prev_i > 1
        out.append(Line(i + 1, t, blank_before, page_break))
        page_break = False
        prev_i = i
    return out, start + 1


def raw_rows(lines: Sequence[Line], warnings: list[str], doc: str) -> list[RawRow]:
    """Group table lines into rows: a row starts at its STT, the next expected number of its section."""
    rows: list[RawRow] = []
    section: str | None = None
    title: str | None = None
    expected = 1
    for ln in lines:
        m = SECTION_LINE.match(ln.text)
        if m and m["title"].upper() == m["title"]:
            section, title, expected = m["roman"], squash(m["title"]), 1
            rows.append(RawRow(section, title, "", ln.n))  # sentinel: closes the previous row
            continue
        m = ROW_START.match(ln.text)
        if m and int(m["no"]) == expected:
            rows.append(RawRow(section, title, m["no"], ln.n))
            expected += 1
            rest = m["rest"]
            if rest:
                rows[-1].lines.append(Line(ln.n, rest, ln.blank_before, ln.page_break_before))
            continue
        if m and not m["rest"] and int(m["no"]) > expected and rows:
            warnings.append(f"{doc}:{ln.n}: row number {m['no']} where {expected} was expected; "
                            f"treated as a new row")
            rows.append(RawRow(section, title, m["no"], ln.n))
            expected = int(m["no"]) + 1
            continue
        if not rows:
            warnings.append(f"{doc}:{ln.n}: text before the first row ignored: {ln.text[:40]!r}")
            continue
        rows[-1].lines.append(ln)
    out = []
    for r in rows:
        if r.no:
            out.append(r)
        elif r.lines:
            warnings.append(f"{doc}:{r.start}: text under section {r.section} before its first row ignored")
    return out
