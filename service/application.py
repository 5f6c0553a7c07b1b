"""The application object: everything a request needs, opened once.

CLI commands and HTTP routes are thin layers over this: it owns the settings,
the encoder, the searcher (and, through it, the indexes) and knows how to
build what is missing from the corpus.  Nothing here knows HTTP.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cchc.graph.corpus import MANIFEST, DocumentInfo, corpus_files, load_manifest
from cchc.graph.extract.reading import DEFAULT_MAX_SOURCE_BYTES
from cchc.graph.extract.records import Extraction
from cchc.service.settings import Settings

log = logging.getLogger(__name__)


def extract_corpus(corpus_dir: Path, *, progress: bool = False,
                   max_bytes: int = DEFAULT_MAX_SOURCE_BYTES) -> list[Extraction]:
    """Extract every document of a corpus directory (with a progress bar on stderr)."""
    from cchc.graph.extract.documents import extract_file

    manifest = load_manifest(corpus_dir)
    files = corpus_files(corpus_dir)
    if not files:
        raise ValueError(f"{corpus_dir}: no documents (.txt, .md, .docx, .pdf) in the corpus directory")
    if progress:
        from tqdm import tqdm

        files = tqdm(files, desc="extracting", unit="doc")
    return [extract_file(p, manifest.get(p.name), max_bytes) for p in files]


def _copy_sources(corpus: Path, files: list[Path], target: Path) -> None:
    """Replace `target` with copies of `files` and the corpus manifest (built beside it, swapped by rename)."""
    tmp = target.with_name(target.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for f in [*files, corpus / MANIFEST]:
        if f.is_file():
            shutil.copy2(f, tmp / f.name)
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def _put_source(path: Path, target: Path) -> None:
    """Copy one document into the live corpus: a temporary name first, then rename."""
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / f".{path.name}.{os.getpid()}.tmp"
    shutil.copy2(path, tmp)
    os.replace(tmp, target / path.name)


@dataclass
class Application:
    """Settings plus the lazily opened store, encoder, searcher and carry-over result."""

    settings: Settings
    _cache: dict[str, Any] = field(default_factory=dict)
    _traced: dict[str, list] = field(default_factory=dict)  # instrument -> search links, for one store version
    _traced_version: int = -1
    _stamp: tuple | None = None  # what refresh() last saw of the search index and carry-over files
    linked_pairs: int = 0  # plan pairs whose carry-over links the last add or remove stored

    @property
    def search_dir(self) -> Path:
        return self.settings.data_dir / "search"

    @property
    def store_dir(self) -> Path:
        return self.settings.data_dir / "store"

    @property
    def sources_dir(self) -> Path:
        """The documents the data directory was built from plus those added since: the live corpus.

        `cchc build` copies the corpus here; `cchc add` / `cchc remove` change it
        with the store and the index, so source lines, carry-over and rebuilds all
        read the same documents the graph holds.
        """
        return self.settings.data_dir / "sources"

    @property
    def live_corpus(self) -> Path:
        """Where the data directory's documents are read from: its sources, or the corpus before a build."""
        return self.sources_dir if self.sources_dir.is_dir() else self.settings.corpus_dir

    @functools.cached_property
    def encoder(self):
        from cchc.embeddings.encoder import make_encoder

        t0 = time.perf_counter()
        enc = make_encoder(self.settings.model, self.settings.data_dir, runtime=self.settings.encoder_runtime)
        log.info("encoder %s loaded in %.1fs", enc.model_id, time.perf_counter() - t0)
        return enc

    @functools.cached_property
    def passage_encoder(self):
        """The encoder with passage vectors cached per model and text under `<data>/cache` (what builds use)."""
        from cchc.embeddings.passage_cache import CachedPassages

        return CachedPassages(self.encoder, self.settings.data_dir / "cache")

    # ---------------------------------------------------------------- building
    def build(self, *, progress: bool = False, graph_only: bool = False) -> dict[str, Any]:
        """Everything the service answers from: graph store, search index, carry-over links (in the store too).

        The corpus is extracted once; each product is written atomically, so an
        interrupted build leaves the previous one usable.
        """
        from cchc.graph.rdf.store import Store, file_sha256

        t0 = time.perf_counter()
        corpus = self.settings.corpus_dir
        manifest = load_manifest(corpus)
        exs = extract_corpus(corpus, progress=progress, max_bytes=self.settings.max_source_bytes)
        t1 = time.perf_counter()
        store = Store.open(self.store_dir, base=self.settings.base_iri, create=True)
        counts: dict[str, Any] = dict(store.build(
            [(ex, manifest.get(ex.doc), file_sha256(corpus / ex.doc)) for ex in exs]))
        t2 = time.perf_counter()
        if graph_only:  # no encoder: the graph and its SPARQL answers only
            self.__dict__.pop("store", None)
            counts.update(continues=0, extract_s=t1 - t0, graph_s=t2 - t1, search_s=0.0, carryover_s=0.0,
                          total_s=t2 - t0)
            return counts
        self.build_search(exs, progress=progress)
        _copy_sources(corpus, [corpus / ex.doc for ex in exs], self.sources_dir)
        t3 = time.perf_counter()
        result = self.load_carryover(exs, progress=progress)
        self.put_carryover(store, result)
        t4 = time.perf_counter()
        for name in ("store", "searcher", "carryover"):
            self.__dict__.pop(name, None)
        counts.update(continues=len(result.pairs), extract_s=t1 - t0, graph_s=t2 - t1, search_s=t3 - t2,
                      carryover_s=t4 - t3, total_s=t4 - t0)
        log.info("built %s in %.1fs", self.settings.data_dir, t4 - t0)
        return counts

    def build_search(self, extractions: list[Extraction] | None = None, *, progress: bool = False) -> Path:
        from cchc.search.index import build_search_index

        exs = extractions if extractions is not None else extract_corpus(self.settings.corpus_dir, progress=progress)
        path = build_search_index(exs, load_manifest(self.settings.corpus_dir), self.search_dir,
                                  self.passage_encoder, progress=progress)
        self.__dict__.pop("searcher", None)
        return path

    def load_carryover(self, extractions: list[Extraction] | None = None, threshold: float | None = None, *,
                       progress: bool = False):
        """The corpus's carry-over result, from `<data>/carryover.json` when current, else computed and cached."""
        from cchc.search.carryover.cache import ensure_carryover
        from cchc.search.carryover.compute import DEFAULT_THRESHOLD

        corpus = self.live_corpus
        return ensure_carryover(
            corpus, self.settings.data_dir, lambda: self.passage_encoder, self.model_id,
            threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
            extract=lambda: extractions if extractions is not None else extract_corpus(corpus, progress=progress))

    @staticmethod
    def put_carryover(store, result) -> int:
        """Write the links as one derived named graph per plan pair (dropped when either plan changes)."""
        from cchc.graph.rdf.continuity import carryover_graph_docs, carryover_graphs

        graphs = carryover_graphs(result.pairs, store.iris)
        store.put_graphs({name: (list(g), carryover_graph_docs(name, store.iris) or ()) for name, g in graphs.items()})
        return len(graphs)

    @property
    def model_id(self) -> str:
        """The encoder's model id without loading it (what the carry-over cache is keyed by)."""
        from cchc.embeddings.encoder import spec_model_id

        return spec_model_id(self.settings.model)

    def is_built(self) -> bool:
        from cchc.graph.rdf.generations import current

        return (self.search_dir / "units.jsonl").exists() and current(self.store_dir) is not None

    def ensure_built(self, *, progress: bool = False) -> None:
        """Build from the corpus when the data directory lacks the store or the search index."""
        if not self.is_built():
            log.warning("no graph store or search index in %s: building them from %s", self.settings.data_dir,
                        self.settings.corpus_dir)
            self.build(progress=progress)

    # ---------------------------------------------------------------- live changes
    def add_files(self, paths: list[Path], *, progress: bool = False) -> list[Any]:
        """Add or replace documents in a built data directory: store, search index, sources and carry-over.

        Every file is read and extracted first, so a bad one changes nothing.
        Only the new documents' units are encoded; only the plan pairs they are
        part of get their carry-over links recomputed.
        """
        from cchc.graph.extract.documents import extract_file
        from cchc.graph.rdf.store import Store, file_sha256
        from cchc.search.index import update_search_index

        self.ensure_built(progress=progress)
        exs, infos = [], {}
        for path in paths:
            info = load_manifest(path.parent).get(path.name) or load_manifest(self.live_corpus).get(path.name)
            exs.append(extract_file(path, info, self.settings.max_source_bytes))
            if info is not None:
                infos[path.name] = info
        store = Store.open(self.store_dir, base=self.settings.base_iri, create=False)
        records = [store.add_document(ex, infos.get(ex.doc), file_sha256(p)) for ex, p in zip(exs, paths, strict=True)]
        update_search_index(self.search_dir, exs, (), self._infos(infos), self.encoder, progress=progress)
        for path in paths:
            _put_source(path, self.sources_dir)
        self.linked_pairs = self._relink(store, progress=progress)
        return records

    def remove_documents(self, docs: list[str]) -> list[str]:
        """Drop documents (file name or stem) from the store, the search index, the sources and the carry-over."""
        from cchc.graph.rdf.store import Store
        from cchc.search.index import update_search_index

        store = Store.open(self.store_dir, base=self.settings.base_iri, create=False)
        known = {r.stem: r.file for r in store.documents()}
        files = []
        for doc in docs:
            stem = Path(doc).stem if Path(doc).suffix else doc
            if stem not in known:
                raise ValueError(f"{doc}: no such document in the store "
                                 f"(documents: {', '.join(sorted(known.values()))})")
            files.append(known[stem])
        for f in files:
            store.remove_document(f)
        update_search_index(self.search_dir, [], files, self._infos({}), None)
        for f in files:
            (self.sources_dir / f).unlink(missing_ok=True)
        self.linked_pairs = self._relink(store, progress=False)
        return files

    def _infos(self, extra: dict[str, DocumentInfo]) -> dict[str, DocumentInfo]:
        return {**load_manifest(self.live_corpus), **extra}

    def _relink(self, store, *, progress: bool) -> int:
        """Carry-over links after a change (only the plan pairs of changed documents are recomputed): pairs stored."""
        result = self.load_carryover(progress=progress)
        pairs = self.put_carryover(store, result)
        for name in ("store", "searcher", "carryover"):
            self.__dict__.pop(name, None)
        return pairs

    def refresh(self) -> None:
        """Follow changes another process published (`cchc add`, `cchc remove`, `cchc build`): a few stats."""
        stamp = _stamp(self.search_dir / "units.jsonl"), _stamp(self.settings.data_dir / "carryover.json")
        if "store" in self.__dict__:
            self.store.refresh()
        if stamp != self._stamp:
            if self._stamp is not None:
                log.info("the data directory changed: reopening the search index and carry-over links")
                self.__dict__.pop("searcher", None)
                self.__dict__.pop("carryover", None)
            self._stamp = stamp

    # ---------------------------------------------------------------- reading
    @functools.cached_property
    def store(self):
        from cchc.graph.rdf.store import Store

        self.ensure_built()
        return Store.open(self.store_dir, base=self.settings.base_iri, create=False)

    @functools.cached_property
    def searcher(self):
        from cchc.search.index import open_searcher

        self.ensure_built()
        return open_searcher(self.search_dir, self.encoder, tracer=self.tracer)

    @functools.cached_property
    def carryover(self):
        self.ensure_built()
        return self.load_carryover()

    def tracer(self, instrument_id: str) -> list:
        """The graph's trace as search links: tasks reaching an instrument directly, through a plan or another."""
        from cchc.graph.read.trace import trace
        from cchc.search.structured import Link

        store = self.store
        if self._traced_version != store.version or len(self._traced) > 4096:
            self._traced, self._traced_version = {}, store.version  # the store changed: traces may have too
        links = self._traced.get(instrument_id)
        if links is None:  # a trace is ~4 ms of SPARQL; the same instruments come back query after query
            links = self._traced[instrument_id] = [Link(h.key, h.link, h.why()) for h in trace(store, instrument_id)]
        return list(links)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns
