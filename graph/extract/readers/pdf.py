"""PDF: table cells from the text layer where there is one, OCR where a page is a scan.

Choice of library, measured in bench/readers.md: pdfplumber (on pdfminer.six)
finds table cells from the ruling lines and read every cell of the fixture
tables exactly, rows continuing over a page break included; pypdfium2 reads
text ~50x faster but finds no tables, so it opens and checks the file, counts
each page's characters (a page with almost none is a scan) and renders scans
for OCR.

A table that goes on over a page break is printed as one table per page, the
header row repeated; the pieces are numbered as one table when the next page
starts with a table of the same number of columns, and the row builder drops
the repeated header and joins a row broken by the break.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pdfplumber
import pypdfium2 as pdfium
from cchc.graph.extract.readers.model import Block, Cell, Paragraph, ReadDocument, Row
from cchc.graph.extract.reading import SourceError
from pdfminer.pdfdocument import PDFPasswordIncorrect
from pdfminer.pdfexceptions import PDFException
from pdfminer.psexceptions import PSException
from pdfplumber.utils.exceptions import PdfminerException

log = logging.getLogger(__name__)

# A page with fewer characters in its text layer than this is read as a scan.
MIN_TEXT_CHARS = 20


def _open(path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise SourceError(path, _why_unreadable(path, str(exc))) from None


def _why_unreadable(path: Path, pdfium_says: str) -> str:
    """What is wrong with a PDF that PDFium would not open, in the user's words.

    PDFium's error code is global state (a stale "password" error can follow a
    later failure) and it refuses a document with no pages without a reason, so
    pdfminer, which says which, makes the diagnosis.
    """
    try:
        with pdfplumber.open(str(path)) as pdf:
            if len(pdf.pages) == 0:
                return "PDF has no pages"
    except PdfminerException as exc:
        if exc.args and isinstance(exc.args[0], PDFPasswordIncorrect):
            return "encrypted PDF (password required); save an unprotected copy"
        return f"not a readable PDF ({exc})"
    return f"not a readable PDF ({pdfium_says})"


def _text_pages(pdf: pdfium.PdfDocument) -> list[bool]:
    """For each page, whether it has a text layer worth reading."""
    out = []
    for page in pdf:
        tp = page.get_textpage()
        out.append(len(tp.get_text_range().strip()) >= MIN_TEXT_CHARS)
    return out


def _table_rows(table, page_no: int, table_no: int) -> list[Row]:
    """Rows of one pdfplumber table; a None cell is covered by the merged cell to its left."""
    rows = []
    for raw in table.extract():
        cells: list[Cell] = []
        for col, text in enumerate(raw):
            if text is None and cells:
                last = cells[-1]
                cells[-1] = Cell(last.parts, last.col, last.span + 1)
                continue
            cells.append(Cell(tuple((text or "").split("\n")), col))
        rows.append(Row(tuple(cells), page_no, table_no))
    return rows


def _page_blocks(page, page_no: int, table_no: int, prev_cols: int | None) -> tuple[list[Block], int, int | None]:
    """Blocks of one text page in reading order; returns them, the next table number and the last table's width."""
    tables = sorted(page.find_tables(), key=lambda t: t.bbox[1])
    boxes = [t.bbox for t in tables]

    def outside(obj) -> bool:
        x, y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
        return not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes)

    items: list[tuple[float, list[Block]]] = []
    for line in page.filter(outside).extract_text_lines(return_chars=False):
        if line["text"].strip():
            items.append((line["top"], [Paragraph(line["text"], page_no)]))
    first_top = min((top for top, _ in items), default=None)
    for t in tables:
        ncols = len(t.columns)
        starts_page = first_top is None or t.bbox[1] < first_top
        continues = starts_page and prev_cols == ncols and table_no > 0
        number = table_no - 1 if continues else table_no
        items.append((t.bbox[1], list(_table_rows(t, page_no, number))))
        table_no = number + 1
        prev_cols = ncols
    items.sort(key=lambda it: it[0])
    return [b for _, blocks in items for b in blocks], table_no, prev_cols


def _plumber_pages(path: Path, numbers: list[int]) -> tuple[pdfplumber.PDF, dict[int, pdfplumber.page.Page]]:
    try:
        pdf = pdfplumber.open(str(path))
    except PdfminerException as exc:
        raise SourceError(path, f"not a readable PDF ({exc})") from None
    return pdf, {n: pdf.pages[n - 1] for n in numbers}


def read_pdf(path: Path) -> ReadDocument:
    pdf = _open(path)
    try:
        n = len(pdf)
        if n == 0:
            raise SourceError(path, "PDF has no pages")
        has_text = _text_pages(pdf)
        scans = [i + 1 for i, t in enumerate(has_text) if not t]
        ocr = {}
        if scans:
            # OpenCV and numpy (~0.2 s to import) only for scans
            from cchc.graph.extract.readers.scan import ocr_pages

            ocr = ocr_pages(path, pdf, scans)
    finally:
        pdf.close()
    blocks: list[Block] = []
    table_no, prev_cols = 0, None
    texts = [i + 1 for i, t in enumerate(has_text) if t]
    plumber, pages = _plumber_pages(path, texts) if texts else (None, {})
    try:
        for page_no in range(1, n + 1):
            if page_no in ocr:
                page_blocks, table_no, prev_cols = ocr[page_no].blocks(table_no, prev_cols)
            else:
                try:
                    page_blocks, table_no, prev_cols = _page_blocks(pages[page_no], page_no, table_no, prev_cols)
                except (PdfminerException, PSException, PDFException, ValueError, KeyError, TypeError) as exc:
                    raise SourceError(path, f"page {page_no} cannot be read ({type(exc).__name__}: {exc})") from None
            blocks.extend(page_blocks)
    finally:
        if plumber is not None:
            plumber.close()
    if not blocks:
        raise SourceError(path, "PDF holds no text (and OCR read none)")
    fmt = "scan" if len(scans) == n else "pdf"
    return ReadDocument(path=str(path), doc=path.name, format=fmt, blocks=blocks, pages=n)
