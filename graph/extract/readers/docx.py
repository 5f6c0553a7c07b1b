"""Word (.docx): paragraphs with the numbers Word prints for them, and real tables.

python-docx gives the XML but not what Word computes when it lays the page
out: list numbers ("1.", "a)", "II.") and merged cells.  Numbers are counted
here from numbering.xml so a narrative plan reads as printed ("1. Nhiệm vụ
..."); a horizontally merged cell keeps its grid span, and a vertically merged
cell repeats the text of the cell it continues, as a reader of the printed
table would understand it.  Word files carry no pages; where Word left its
rendered page breaks (or hard page breaks) they number the pages.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
from cchc.graph.extract.readers.model import Cell, Paragraph, ReadDocument, Row
from cchc.graph.extract.reading import SourceError
from docx.opc.exceptions import OpcError
from docx.oxml.ns import qn
from lxml import etree

_ROMAN = (("M", 1000), ("CM", 900), ("D", 500), ("CD", 400), ("C", 100), ("XC", 90), ("L", 50),
          ("XL", 40), ("X", 10), ("IX", 9), ("V", 5), ("IV", 4), ("I", 1))


def _roman(n: int) -> str:
    out = ""
    for sym, val in _ROMAN:
        while n >= val:
            out, n = out + sym, n - val
    return out


def _letter(n: int) -> str:
    out = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        out = chr(ord("a") + r) + out
    return out


def _format(n: int, fmt: str) -> str:
    if fmt == "upperRoman":
        return _roman(n)
    if fmt == "lowerRoman":
        return _roman(n).lower()
    if fmt == "upperLetter":
        return _letter(n).upper()
    if fmt == "lowerLetter":
        return _letter(n)
    return str(n)


class _Numbering:
    """List counters of one document, advanced paragraph by paragraph as Word does."""

    def __init__(self, document) -> None:
        self.levels: dict[str, dict[int, tuple[str, str, int]]] = {}  # numId -> ilvl -> (fmt, text, start)
        self.counts: dict[str, list[int]] = {}
        # paragraph styles that number their paragraphs ("List Number"): styleId -> numPr
        self.styles = {}
        for st in document.styles.element.findall(qn("w:style")):
            num_pr = st.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
            if num_pr is not None:
                self.styles[st.get(qn("w:styleId"))] = num_pr
        try:
            root = document.part.numbering_part.element
        except (NotImplementedError, KeyError):
            return
        abstract = {}
        for an in root.findall(qn("w:abstractNum")):
            lv = {}
            for lvl in an.findall(qn("w:lvl")):
                fmt = lvl.find(qn("w:numFmt"))
                text = lvl.find(qn("w:lvlText"))
                start = lvl.find(qn("w:start"))
                lv[int(lvl.get(qn("w:ilvl")))] = (
                    fmt.get(qn("w:val")) if fmt is not None else "decimal",
                    text.get(qn("w:val")) if text is not None else "",
                    int(start.get(qn("w:val"))) if start is not None else 1,
                )
            abstract[an.get(qn("w:abstractNumId"))] = lv
        for num in root.findall(qn("w:num")):
            ref = num.find(qn("w:abstractNumId"))
            if ref is not None:
                self.levels[num.get(qn("w:numId"))] = abstract.get(ref.get(qn("w:val")), {})

    def label(self, p) -> str:
        """The number Word prints before paragraph element `p`, or ""."""
        num_pr = p.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
        if num_pr is None:
            style = p.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
            num_pr = self.styles.get(style.get(qn("w:val"))) if style is not None else None
        if num_pr is None:
            return ""
        nid, lvl = num_pr.find(qn("w:numId")), num_pr.find(qn("w:ilvl"))
        num_id = nid.get(qn("w:val")) if nid is not None else None
        ilvl = int(lvl.get(qn("w:val"))) if lvl is not None else 0
        levels = self.levels.get(num_id or "")
        if not levels or ilvl not in levels:
            return ""
        counts = self.counts.setdefault(num_id, [0] * 9)
        fmt, text, start = levels[ilvl]
        counts[ilvl] = counts[ilvl] + 1 if counts[ilvl] else start
        for deeper in range(ilvl + 1, 9):
            counts[deeper] = 0
        if fmt == "bullet":
            return "-"
        if fmt == "none":
            return ""
        for k in range(ilvl + 1):
            f, _, s = levels.get(k, ("decimal", "", 1))
            text = text.replace(f"%{k + 1}", _format(counts[k] or s, f))
        return text


def _para_text(p, numbering: _Numbering) -> str:
    text = _runs_text(p)
    label = numbering.label(p)
    return f"{label} {text}".strip() if label else text


def _runs_text(p) -> str:
    out = []
    for el in p.iter(qn("w:t"), qn("w:tab"), qn("w:br")):
        out.append((el.text or "") if el.tag == qn("w:t") else " ")  # a tab or line break reads as a space
    return "".join(out)


def _page_breaks(el) -> int:
    return sum(1 for br in el.iter(qn("w:br")) if br.get(qn("w:type")) == "page") + sum(
        1 for _ in el.iter(qn("w:lastRenderedPageBreak")))


def _table_rows(tbl, numbering: _Numbering, table: int, page: int | None) -> list[Row]:
    rows: list[Row] = []
    above: dict[int, Cell] = {}
    for tr in tbl.findall(qn("w:tr")):
        cells, col = [], 0
        for tc in tr.findall(qn("w:tc")):
            pr = tc.find(qn("w:tcPr"))
            span_el = pr.find(qn("w:gridSpan")) if pr is not None else None
            vmerge = pr.find(qn("w:vMerge")) if pr is not None else None
            span = int(span_el.get(qn("w:val"))) if span_el is not None else 1
            if vmerge is not None and vmerge.get(qn("w:val")) in (None, "continue") and col in above:
                cell = Cell(above[col].parts, col, span)  # continues the cell above: same text
            else:
                parts = tuple(t for t in (_para_text(p, numbering) for p in tc.findall(qn("w:p"))) if t.strip())
                cell = Cell(parts, col, span)
            cells.append(cell)
            above[col] = cell
            col += span
        rows.append(Row(tuple(cells), page, table))
        if page is not None:
            page += _page_breaks(tr)
    return rows


def read_docx(path: Path) -> ReadDocument:
    try:
        document = docx.Document(str(path))
    except (OpcError, zipfile.BadZipFile, KeyError, ValueError, etree.XMLSyntaxError) as exc:
        raise SourceError(path, f"not a readable Word document ({type(exc).__name__}: {exc})") from None
    numbering = _Numbering(document)
    body = document.element.body
    paged = _page_breaks(body) > 0
    page = 1
    blocks: list[Paragraph | Row] = []
    table = 0
    for el in body.iterchildren():
        here = page if paged else None
        if el.tag == qn("w:p"):
            text = _para_text(el, numbering)
            if text.strip():
                blocks.append(Paragraph(text, here))
        elif el.tag == qn("w:tbl"):
            blocks.extend(_table_rows(el, numbering, table, here))
            table += 1
        page += _page_breaks(el)
    if not blocks:
        raise SourceError(path, "Word document holds no text")
    return ReadDocument(path=str(path), doc=path.name, format="docx", blocks=blocks,
                        pages=page if paged else None)
