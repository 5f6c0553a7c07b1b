"""The application object: everything a request needs, opened once.

CLI commands and HTTP routes are thin layers over this: it owns the settings,
the encoder, the searcher (and, through it, the indexes) and knows how to
build what is missing from the corpus.  Nothing here knows HTTP.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cchc.graph.corpus import corpus_files, load_manifest
from cchc.graph.records import Extraction

from .settings import Settings

log = logging.getLogger(__name__)


def extract_corpus(corpus_dir: Path, *, progress: bool = False) -> list[Extraction]:
    """Extract every document of a corpus directory (with a progress bar on stderr)."""
    from cchc.graph.extract import extract_file

    manifest = load_manifest(corpus_dir)
    files = corpus_files(corpus_dir)
    if not files:
        raise ValueError(f"{corpus_dir}: no .txt documents in the corpus directory")
    if progress:
        from tqdm import tqdm

        files = tqdm(files, desc="extracting", unit="doc")
    return [extract_file(p, manifest.get(p.name)) for p in files]


@dataclass
class Application:
    settings: Settings
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def search_dir(self) -> Path:
        return self.settings.data_dir / "search"

    @functools.cached_property
    def encoder(self):
        from cchc.embeddings.encoder import make_encoder

        t0 = time.perf_counter()
        enc = make_encoder(self.settings.model, self.settings.data_dir)
        log.info("encoder %s loaded in %.1fs", enc.model_id, time.perf_counter() - t0)
        return enc

    def build_search(self, extractions: list[Extraction] | None = None, *, progress: bool = False) -> Path:
        from cchc.search.index import build_search_index

        exs = extractions if extractions is not None else extract_corpus(self.settings.corpus_dir, progress=progress)
        path = build_search_index(exs, load_manifest(self.settings.corpus_dir), self.search_dir, self.encoder,
                                  progress=progress)
        self.__dict__.pop("searcher", None)
        return path

    def ensure_built(self, *, progress: bool = False) -> None:
        """Build the indexes from the corpus when the data directory has none yet."""
        if not (self.search_dir / "units.jsonl").exists():
            log.warning("no search index in %s: building it from %s", self.settings.data_dir,
                        self.settings.corpus_dir)
            self.build_search(progress=progress)

    @functools.cached_property
    def searcher(self):
        from cchc.search.index import open_searcher

        self.ensure_built()
        return open_searcher(self.search_dir, self.encoder, tracer=self.tracer)

    @property
    def tracer(self):
        """Links from the graph's trace (tasks reaching an instrument through a plan), when the graph exists."""
        return None
