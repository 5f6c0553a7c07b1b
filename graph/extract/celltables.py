"""Task tables read as cells (Word, PDF, scans) to task records.

A reader that sees the table's real cells needs none of the text path's
guessing of where a cell ends (tables.py); what is left is the table's own
structure: the header row names the columns (and repeats on every page),
section rows carry a roman numeral and a title merged across the row, a row
broken by a page break goes on in a row with an empty STT, and everything
else is a task.  Cells then get the same treatment as text-path cells
(taskrows.py), so the records are the same whatever the file format.  OCR'd
cells keep their confidence; a doubtful cell, or an STT or numeral inferred
from the row sequence, is named in the record's `low_confidence` list.
"""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass, field

from cchc.graph.corpus import DocumentInfo
from cchc.graph.extract.citations import find_citations
from cchc.graph.extract.readers.model import LOW_CONFIDENCE, Paragraph, ReadDocument, Row
from cchc.graph.extract.reading import fold, join_lines, squash
from cchc.graph.extract.records import Citation, Extraction, Span, Task
from cchc.graph.extract.taskrows import appendix_header, document_year, with_agencies_and_deadline

log = logging.getLogger(__name__)

# Header words of each column, folded; the order is the usual order of the columns.
COLUMN_WORDS = (
    ("no", ("stt", "so tt")), ("content", ("noi dung", "nhiem vu")), ("product", ("san pham", "ket qua")),
    ("lead", ("chu tri",)), ("cooperating", ("phoi hop",)), ("timeline", ("thoi gian", "thoi han", "tien do")),
)
COLUMN_NUMBER = re.compile(r"^\(?\d{1,2}\)?$")  # the "(1) (2) (3) ..." row some tables print under the header
FIELDS = ("content", "product", "lead", "cooperating", "timeline")
ROMAN = re.compile(r"^[IVX]{1,5}\.?$")
ROMAN_TITLE = re.compile(r"^(?P<roman>[IVX]{1,5})[.\s]+(?P<title>\S.*)$")
STT = re.compile(r"^(\d{1,3})\.?$")
_ROMANS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV")


def _upper(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and sum(ch.isupper() for ch in letters) >= 0.8 * len(letters)


def _has_word(text: str, word: str, fuzzy: bool) -> bool:
    """Whether folded `text` holds `word`, with `fuzzy` allowing an OCR slip or two ("phoi hoop")."""
    if word in text:
        return True
    if not fuzzy or len(text) > 40:  # header cells are short and in capitals; anything else is a task's text
        return False
    n = len(word)
    return any(difflib.SequenceMatcher(None, text[i:i + n + 1], word).ratio() >= 0.8
               for i in range(max(len(text) - n + 1, 1)))


def _named_columns(row: Row) -> tuple[dict[str, int], int]:
    """The fields that `row`'s cells name as headers, and how many non-empty cells name none."""
    cols: dict[str, int] = {}
    unnamed = 0
    for c in row.cells:
        f, fuzzy = fold(c.text), _upper(c.text)
        name = next((n for n, words in COLUMN_WORDS if n not in cols and any(_has_word(f, w, fuzzy) for w in words)),
                    None)
        if name is not None:
            cols[name] = c.col
        elif f.strip():
            unnamed += 1
    return cols, unnamed


def subheader_columns(row: Row) -> dict[str, int] | None:
    """The fields named by the second row of a two-row header ("CƠ QUAN THỰC HIỆN" over "CHỦ TRÌ" |
    "PHỐI HỢP"), or {} for the row of column numbers; None when `row` is neither."""
    texts = [squash(c.text) for c in row.cells if squash(c.text)]
    if len(texts) >= 3 and all(COLUMN_NUMBER.match(t) for t in texts):
        return {}
    cols, unnamed = _named_columns(row)
    return cols if cols and not unnamed else None


def header_columns(row: Row) -> dict[str, int] | None:
    """Column of each field when `row` is the task table's header row (it names STT and NỘI DUNG), else None."""
    cols, _ = _named_columns(row)
    if "no" not in cols or "content" not in cols:
        return None
    if len(row.cells) == len(COLUMN_WORDS):  # a slip in one header word: the column is where it always is
        for (name, _), c in zip(COLUMN_WORDS, row.cells, strict=True):
            cols.setdefault(name, c.col)
    return cols


def _repeats_header(row: Row, header: Row) -> bool:
    """Whether `row` is the header printed again (on a new page), read with OCR slips ("SIT" for "STT")."""
    if header_columns(row) is not None:
        return True
    if len(row.cells) != len(header.cells):
        return False
    sims = [difflib.SequenceMatcher(None, fold(a.text), fold(b.text)).ratio()
            for a, b in zip(row.cells, header.cells, strict=True)]
    return sum(sims) / len(sims) >= 0.7


@dataclass
class _Pending:
    """A task row being assembled (it may go on after a page break)."""

    section: str | None
    title: str | None
    no: str
    line: int
    end: int
    page: int | None
    parts: dict[str, list[tuple[int, str]]] = field(default_factory=lambda: {f: [] for f in FIELDS})
    confidence: dict[str, float] = field(default_factory=dict)
    doubtful: list[str] = field(default_factory=list)


class _Builder:
    def __init__(self, doc: ReadDocument, ex: Extraction, year: int | None) -> None:
        self.doc, self.ex, self.year = doc, ex, year
        self.section: str | None = None
        self.title: str | None = None
        self.open: _Pending | None = None
        self.open_page: int | None = None  # page of the open row's last piece
        self.expected = 1

    def _cell_parts(self, i: int, row: Row, col: int | None) -> tuple[list[tuple[int, str]], float | None]:
        cell = row.cell_at(col) if col is not None else None
        if cell is None or cell.col != col or (i, col) not in self.doc.cell_lines:
            return [], None
        first = self.doc.cell_lines[(i, col)]
        parts = [squash(p) for p in cell.parts if squash(p)]
        return [(first + k, p) for k, p in enumerate(parts)], cell.confidence

    def _section(self, row: Row, cols: dict[str, int], stt: str) -> bool:
        """Take `row` as a section row if it is one: a numeral and a title merged across the row."""
        no_cell, content_cell = row.cell_at(cols["no"]), row.cell_at(cols["content"])
        if no_cell is None or content_cell is None:
            return False
        if no_cell is content_cell:  # one cell across the whole row: "II. CẢI CÁCH THỂ CHẾ"
            m = ROMAN_TITLE.match(squash(no_cell.text))
            if not m or m["title"].upper() != m["title"]:
                return False
            roman, title = m["roman"], m["title"]
        else:
            title = squash(content_cell.text)
            others = [c for c in row.cells if c is not no_cell and c is not content_cell and squash(c.text)]
            merged = content_cell.span >= 2 or (not others and bool(stt))
            if not merged or not title or not (ROMAN.match(stt) or _upper(title)):
                return False
            roman = stt.rstrip(".")
            if not ROMAN.match(roman):  # an OCR slip ("]" for "I"): the next numeral in sequence
                nxt = _ROMANS.index(self.section) + 1 if self.section in _ROMANS else 0
                roman = _ROMANS[min(nxt, len(_ROMANS) - 1)]
                self.ex.warnings.append(f"{self.doc.doc}: section numeral read as {stt!r}, taken as {roman}")
        self._close()
        self.section, self.title, self.expected = roman, title, 1
        return True

    def row(self, i: int, row: Row, cols: dict[str, int]) -> None:
        stt = squash(row.cell_at(cols["no"]).text) if row.cell_at(cols["no"]) else ""
        if self._section(row, cols, stt):
            return
        m = STT.match(stt)
        span = self.doc.spans[i]
        ocr = any(c.confidence is not None for c in row.cells)
        if not stt and self.open is not None and not (ocr and row.page == self.open_page):
            # the row goes on after a page break (or a Word row split by its author); on a scanned page an
            # empty STT in mid-page is more likely a number OCR missed, so that starts a row (flagged)
            pending = self.open
        else:
            if not any(squash(c.text) for c in row.cells if c.col != cols["no"]):
                return  # an empty row
            self._close()
            no = m.group(1) if m else str(self.expected)
            line = self.doc.cell_lines.get((i, cols["no"]), span.first)
            pending = _Pending(self.section, self.title, no, line, span.last, row.page)
            if not m:
                pending.doubtful.append("no")
                self.ex.warnings.append(f"{self.doc.doc}:{line}: row number read as {stt!r}, taken as {no}")
            self.expected = int(no) + 1
            self.open = pending
        pending.end = span.last
        self.open_page = row.page
        for name in FIELDS:
            parts, conf = self._cell_parts(i, row, cols.get(name))
            pending.parts[name].extend(parts)
            if conf is not None and parts:
                pending.confidence[name] = min(conf, pending.confidence.get(name, 100.0))

    def _close(self) -> None:
        p, self.open = self.open, None
        if p is None:
            return
        text = {f: join_lines(t for _, t in p.parts[f]) for f in FIELDS}
        if not text["content"]:
            self.ex.warnings.append(f"{self.doc.doc}:{p.line}: row {p.section}.{p.no} has no content; skipped")
            return
        cites: list[Citation] = []
        for f in ("content", "product"):  # these cells name instruments; agency cells do not
            cites.extend(find_citations(p.parts[f], self.doc.doc))
        doubtful = [*p.doubtful, *(f for f, c in p.confidence.items() if c < LOW_CONFIDENCE)]
        task = Task(
            span=Span(self.doc.doc, p.line, max(p.end, p.line)),
            section=p.section, section_title=p.title, no=p.no,
            content=text["content"], product=text["product"] or None,
            lead=(text["lead"],) if text["lead"] else (),
            cooperating=(text["cooperating"],) if text["cooperating"] else (),
            timeline=text["timeline"] or None, citations=tuple(cites), source="table",
            page=p.page, ocr_confidence=min(p.confidence.values()) if p.confidence else None,
            low_confidence=tuple(doubtful),
        )
        self.ex.tasks.append(with_agencies_and_deadline(task, self.year))
        self.ex.citations.extend(cites)

    def finish(self) -> None:
        self._close()


def extract_cell_tables(doc: ReadDocument, info: DocumentInfo | None = None) -> Extraction | None:
    """The appendix records of a document whose reader found a task table; None when it has none."""
    tables: dict[int, dict[str, int]] = {}
    headers: dict[int, Row] = {}
    for b in doc.blocks:
        if isinstance(b, Row) and b.table not in tables:
            cols = header_columns(b)
            if cols:
                tables[b.table], headers[b.table] = cols, b
    if not tables:
        return None
    doc.render()
    first = next(i for i, b in enumerate(doc.blocks) if isinstance(b, Row) and b.table in tables)
    head = [(doc.spans[i].first, squash(b.text)) for i, b in enumerate(doc.blocks[:first])
            if isinstance(b, Paragraph) and squash(b.text)]
    ex = Extraction(doc=doc.doc, kind="appendix", format=doc.format, line_pages=doc.line_pages)
    header_cites = find_citations(head, doc.doc)
    year = document_year(info, head)
    ex.header = appendix_header(head, header_cites, year)
    ex.citations.extend(header_cites)
    builder = _Builder(doc, ex, year)
    in_header = False
    for i, b in enumerate(doc.blocks):
        if not isinstance(b, Row) or b.table not in tables:
            continue
        if b is headers[b.table] or _repeats_header(b, headers[b.table]):
            tables[b.table].update(header_columns(b) or {})  # a second header row may name what the first spans
            in_header = True
            continue
        if in_header:  # rows under a header may be more header: its second row, the column numbers
            sub = subheader_columns(b)
            if sub is not None:
                tables[b.table].update(sub)
                continue
        in_header = False
        builder.row(i, b, tables[b.table])
    builder.finish()
    ex.citations.sort(key=lambda c: (c.span.line, c.span.end_line))
    return ex
