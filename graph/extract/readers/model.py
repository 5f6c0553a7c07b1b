"""The one intermediate every reader produces: blocks of a document in reading order.

A block is a paragraph (one printed line or Word paragraph) or a table row of
cells, each with the page it sits on.  Rendering the blocks gives "the
reader's text": one line per paragraph and per cell paragraph, and its line
numbers are what records of non-text formats count as `line`, so provenance
works the same whatever the file was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cchc.graph.extract.reading import SourceText, join_lines, squash

# OCR word confidence (Tesseract, 0-100) below which a cell is not trusted without a look.
LOW_CONFIDENCE = 80.0


@dataclass(frozen=True)
class Cell:
    """One table cell: its text as printed (paragraphs or printed lines), grid column and column span.

    `confidence` is the OCR confidence (0-100, the least confident word's,
    averaged with the mean) and None for text read from a text layer.
    """

    parts: tuple[str, ...]
    col: int
    span: int = 1
    confidence: float | None = None

    @property
    def text(self) -> str:
        return join_lines(self.parts)

    @property
    def low_confidence(self) -> bool:
        return self.confidence is not None and self.confidence < LOW_CONFIDENCE


@dataclass(frozen=True)
class Paragraph:
    text: str
    page: int | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class Row:
    """A table row as read; `table` numbers the tables of the document (a table may span pages)."""

    cells: tuple[Cell, ...]
    page: int | None = None
    table: int = 0

    def cell_at(self, col: int) -> Cell | None:
        """The cell covering grid column `col` (a merged cell covers several)."""
        for c in self.cells:
            if c.col <= col < c.col + c.span:
                return c
        return None


Block = Paragraph | Row


@dataclass(frozen=True)
class Rendered:
    """Where each block landed in the reader's text: first and last line (1-based)."""

    first: int
    last: int


@dataclass
class ReadDocument:
    """A document as its reader saw it: blocks in reading order, the reader's text and the line -> page map."""

    path: str
    doc: str
    format: str  # "text" | "docx" | "pdf" | "scan"
    blocks: list[Block] = field(default_factory=list)
    pages: int | None = None
    text: SourceText | None = None
    line_pages: tuple[int | None, ...] = ()
    spans: list[Rendered] = field(default_factory=list)
    cell_lines: dict[tuple[int, int], int] = field(default_factory=dict)  # (block index, col) -> first line

    def render(self) -> SourceText:
        """Lay the blocks out as text (once) and remember where each block and cell went.

        A row prints each non-empty cell's paragraphs in column order, a blank
        line between blocks of different kinds and between rows, so that the
        source view shows a row as a group of lines.
        """
        if self.text is not None:
            return self.text
        lines: list[str] = []
        pages: list[int | None] = []
        self.spans, self.cell_lines = [], {}
        prev_row = False
        for i, b in enumerate(self.blocks):
            if isinstance(b, Row) or prev_row:
                lines.append("")
                pages.append(b.page)
            first = len(lines) + 1
            if isinstance(b, Paragraph):
                lines.append(squash(b.text))
                pages.append(b.page)
            else:
                for c in b.cells:
                    parts = [squash(p) for p in c.parts if squash(p)]
                    if not parts:
                        continue
                    self.cell_lines[(i, c.col)] = len(lines) + 1
                    lines.extend(parts)
                    pages.extend([b.page] * len(parts))
                if len(lines) + 1 == first:  # an empty row still takes a line, to keep spans valid
                    lines.append("")
                    pages.append(b.page)
            self.spans.append(Rendered(first, len(lines)))
            prev_row = isinstance(b, Row)
        self.text = SourceText.from_text("\n".join(lines) + "\n", doc=self.doc, path=self.path)
        # from_text drops one trailing empty line only; keep the page map the same length
        self.line_pages = tuple(pages[: len(self.text.lines)])
        return self.text

    def page_of(self, line: int) -> int | None:
        if 1 <= line <= len(self.line_pages):
            return self.line_pages[line - 1]
        return None
