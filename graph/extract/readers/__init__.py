"""Readers: every file format a user has, to one intermediate (blocks with pages, and the reader's text).

`read_document(path)` picks the reader by suffix; the extractors take the
ReadDocument and never ask which format it was.  A file a reader cannot read
raises SourceError naming the file and the problem.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from cchc.graph.extract.readers.model import LOW_CONFIDENCE, Cell, Paragraph, ReadDocument, Row
from cchc.graph.extract.readers.text import read_text
from cchc.graph.extract.reading import DEFAULT_MAX_SOURCE_BYTES, SourceError, check_source

Reader = Callable[[Path], ReadDocument]

# suffix -> "module:function" of the reader.  Imported on first use: the Word and PDF libraries and
# OpenCV take ~0.4 s to import, which every command that reads only .txt (build, add of a text file) skipped.
READERS: dict[str, str] = {
    ".txt": "text:read_text",
    ".md": "text:read_text",
    ".docx": "docx:read_docx",
    ".pdf": "pdf:read_pdf",
}

__all__ = ["LOW_CONFIDENCE", "READERS", "Cell", "Paragraph", "ReadDocument", "Row", "read_document", "reader_for"]


def reader_for(path: Path) -> Reader:
    """The reader of `path`'s suffix; SourceError listing the readable suffixes for any other."""
    target = READERS.get(path.suffix.lower())
    if target is None:
        valid = ", ".join(sorted(READERS))
        raise SourceError(path, f"unsupported file type {path.suffix or '(no suffix)'!r}; readable: {valid}")
    module, func = target.split(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), func)


def read_document(path: str | Path, max_bytes: int = DEFAULT_MAX_SOURCE_BYTES) -> ReadDocument:
    """Read any supported file (a regular file of at most `max_bytes`); the reader's text is rendered and ready."""
    p = Path(path)
    check_source(p, max_bytes)
    reader = reader_for(p)
    doc = read_text(p, max_bytes) if reader is read_text else reader(p)
    doc.render()
    return doc
