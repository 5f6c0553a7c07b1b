"""From source files to the store: extract, hash, build; the steps `cchc build` / `cchc add` run.

Library code, so it takes explicit arguments (directory, store) and reports
progress through a callback rather than drawing a bar itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from cchc.graph.corpus import corpus_files, load_manifest
from cchc.graph.extract.documents import extract_file
from cchc.graph.extract.reading import DEFAULT_MAX_SOURCE_BYTES
from cchc.graph.rdf.store import DocumentRecord, Store, file_sha256

__all__ = ["add_file", "build_corpus"]

log = logging.getLogger(__name__)


def build_corpus(store: Store, corpus_dir: Path, progress: Callable[[str], None] | None = None) -> dict[str, float]:
    """Extract every `.txt` of `corpus_dir` and rebuild `store` from them; counts plus timings (seconds).

    `progress` is called once per document extracted and once per document loaded.
    """
    files = corpus_files(corpus_dir)
    if not files:
        raise ValueError(f"{corpus_dir}: no documents (.txt, .md, .docx, .pdf) in the corpus directory")
    manifest = load_manifest(corpus_dir)
    t0 = time.perf_counter()
    docs = []
    for path in files:
        docs.append((extract_file(path, manifest.get(path.name)), manifest.get(path.name), file_sha256(path)))
        if progress:
            progress(path.name)
    t1 = time.perf_counter()
    counts: dict[str, float] = dict(store.build(docs, progress))
    t2 = time.perf_counter()
    counts.update(extract_s=t1 - t0, load_s=t2 - t1)
    log.info("built %d documents (%d triples) in %.2fs", counts["documents"], counts["triples"], t2 - t0)
    return counts


def add_file(store: Store, path: Path, max_bytes: int = DEFAULT_MAX_SOURCE_BYTES) -> DocumentRecord:
    """Extract one file (with its directory's manifest entry, if any) and add or replace it in `store`."""
    manifest = load_manifest(path.parent) if path.parent.is_dir() else {}
    extraction = extract_file(path, manifest.get(path.name), max_bytes)
    return store.add_document(extraction, manifest.get(path.name), file_sha256(path))
