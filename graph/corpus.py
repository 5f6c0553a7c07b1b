"""The embedded default corpus and its manifest.

The manifest records only what a document's text does not say (title as a
reader names it, type, issuing body, level, year or period); everything the
text prints is extracted.  A corpus is any directory of `.txt` files; the
manifest is optional, so a user's own folder works too.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cchc.graph.extract.readers import READERS

MANIFEST = "manifest.toml"


@dataclass(frozen=True)
class DocumentInfo:
    """Context for one source document, from the manifest (all optional)."""

    file: str
    title: str | None = None
    type: str | None = None
    issuer: str | None = None
    level: str | None = None
    year: int | None = None
    period: tuple[int, int] | None = None

    @property
    def start_year(self) -> int | None:
        return self.year or (self.period[0] if self.period else None)

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "title": self.title, "type": self.type, "issuer": self.issuer,
                "level": self.level, "year": self.year, "period": list(self.period) if self.period else None}


def default_corpus_dir() -> Path:
    """`data/corpus` of the checkout this package was installed from (editable install)."""
    return Path(__file__).resolve().parent.parent / "data" / "corpus"


def load_manifest(corpus_dir: Path) -> dict[str, DocumentInfo]:
    """Manifest entries by file name; empty when the directory has none."""
    path = corpus_dir / MANIFEST
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text("utf-8"))
    out = {}
    for d in data.get("document", []):
        period = tuple(d["period"]) if d.get("period") else None
        out[d["file"]] = DocumentInfo(d["file"], d.get("title"), d.get("type"), d.get("issuer"),
                                      d.get("level"), d.get("year"), period)  # type: ignore[arg-type]
    return out


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The corpus's documents (every format a reader takes) in a stable order, by file name."""
    return sorted((p for p in corpus_dir.iterdir() if p.suffix.lower() in READERS and p.is_file()),
                  key=lambda p: p.name)
