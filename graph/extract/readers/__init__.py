"""Readers: every file format a user has, to one intermediate (blocks with pages, and the reader's text).

`read_document(path)` picks the reader by suffix; the extractors take the
ReadDocument and never ask which format it was.  A file a reader cannot read
raises SourceError naming the file and the problem.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cchc.graph.extract.readers.docx import read_docx
from cchc.graph.extract.readers.model import LOW_CONFIDENCE, Cell, Paragraph, ReadDocument, Row
from cchc.graph.extract.readers.pdf import read_pdf
from cchc.graph.extract.readers.text import read_text
from cchc.graph.extract.reading import SourceError

Reader = Callable[[Path], ReadDocument]

READERS: dict[str, Reader] = {
    ".txt": read_text,
    ".md": read_text,
    ".docx": read_docx,
    ".pdf": read_pdf,
}

__all__ = ["LOW_CONFIDENCE", "READERS", "Cell", "Paragraph", "ReadDocument", "Row", "read_document"]


def read_document(path: str | Path) -> ReadDocument:
    """Read any supported file; the reader's text is rendered and ready."""
    p = Path(path)
    if not p.exists():
        raise SourceError(p, "no such file")
    if p.is_dir():
        raise SourceError(p, "is a directory, expected a document file")
    reader = READERS.get(p.suffix.lower())
    if reader is None:
        valid = ", ".join(sorted(READERS))
        raise SourceError(p, f"unsupported file type {p.suffix or '(no suffix)'!r}; readable: {valid}")
    doc = reader(p)
    doc.render()
    return doc
