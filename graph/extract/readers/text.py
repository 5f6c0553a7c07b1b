"""Plain text and Markdown: today's reading, unchanged (the file's own lines are the reader's text)."""

from __future__ import annotations

from pathlib import Path

from cchc.graph.extract.readers.model import Paragraph, ReadDocument
from cchc.graph.extract.reading import DEFAULT_MAX_SOURCE_BYTES, read_source


def read_text(path: Path, max_bytes: int = DEFAULT_MAX_SOURCE_BYTES) -> ReadDocument:
    src = read_source(path, max_bytes)
    return ReadDocument(path=str(path), doc=src.doc, format="text",
                        blocks=[Paragraph(line) for line in src.lines], text=src,
                        line_pages=(None,) * len(src.lines))
