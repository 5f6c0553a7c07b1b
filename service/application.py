"""The application object: everything a request needs, opened once.

CLI commands and HTTP routes are thin layers over this: it owns the settings,
the encoder, the searcher (and, through it, the indexes) and knows how to
build what is missing from the corpus.  Nothing here knows HTTP.

Kept as one module (~540 lines): the application object is the one writer of the data
directory; build, add and remove each stage one generation and must agree on its products
(graph, index, sources, carry-over) and on the check before it is published.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import pickle
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from cchc.graph.corpus import MANIFEST, DocumentInfo, corpus_files, load_manifest
from cchc.graph.extract.reading import DEFAULT_MAX_SOURCE_BYTES, check_source
from cchc.graph.extract.records import Extraction
from cchc.service.settings import Settings

log = logging.getLogger(__name__)


def extract_corpus(corpus_dir: Path, *, progress: bool = False, cache_dir: Path | None = None,
                   max_bytes: int = DEFAULT_MAX_SOURCE_BYTES, cluster: Any = None) -> list[Extraction]:
    """Extract every document of a corpus directory (with a progress bar on stderr).

    With `cache_dir`, extractions are kept there by content (see `extract_cached`):
    the carry-over of an add needs every document's extraction, and an
    appendix takes 1-2 s to extract, so without it an add would cost as much
    as extracting the whole corpus.  With a `cluster` (service/cluster.py), the documents the cache lacks are
    extracted on its workers."""
    manifest = load_manifest(corpus_dir)
    files = corpus_files(corpus_dir)
    if not files:
        raise ValueError(f"{corpus_dir}: no documents (.txt, .md, .docx, .pdf) in the corpus directory")
    if cluster is not None:
        return cluster.extract(files, [manifest.get(p.name) for p in files], cache_dir, max_bytes=max_bytes,
                               progress=progress)
    if progress:
        from tqdm import tqdm

        files = tqdm(files, desc="extracting", unit="doc")
    return [extract_cached(p, manifest.get(p.name), cache_dir, max_bytes) for p in files]


@functools.cache
def _extractor_digest() -> str:
    """A hash of the extraction code and its data: a cached extraction from other code is never served."""
    from cchc.graph import extract

    graph = Path(extract.__file__).parent.parent
    h = hashlib.blake2b(digest_size=16)
    for p in sorted([*(graph / "extract").rglob("*.py"), *(graph / "data").rglob("*"), graph / "corpus.py"]):
        if p.is_file():
            h.update(str(p.relative_to(graph)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def extraction_cache_entry(data: bytes, name: str, info: DocumentInfo | None, cache_dir: Path) -> Path:
    """Where the extraction of these bytes, under this name and manifest entry, by this extraction code is kept."""
    h = hashlib.blake2b(data, digest_size=20)
    h.update(f"\0{name}\0{info!r}\0{_extractor_digest()}".encode())
    return cache_dir / "extractions" / f"{h.hexdigest()}.pickle"


def read_cached_extraction(cached: Path) -> Extraction | None:
    """A cached extraction, or None when there is none (a damaged entry is logged and recomputed)."""
    try:
        return pickle.loads(cached.read_bytes())
    except FileNotFoundError:
        return None
    except Exception as exc:  # a damaged entry is recomputed and rewritten
        log.warning("%s: unreadable cached extraction (%s); extracting again", cached, exc)
        return None


def write_cached_extraction(cached: Path, ex: Extraction) -> None:
    """Keep an extraction (temp file + rename: a reader never sees half an entry)."""
    from cchc.graph.rdf.generations import atomic_write

    cached.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(cached, pickle.dumps(ex, protocol=pickle.HIGHEST_PROTOCOL))


def extract_cached(path: Path, info: DocumentInfo | None, cache_dir: Path | None,
                   max_bytes: int = DEFAULT_MAX_SOURCE_BYTES) -> Extraction:
    """`extract_file`, answered from `<cache_dir>/extractions/` when the same bytes, name, manifest entry and
    extraction code were seen before (pickles the data directory itself wrote; written by temp file + rename)."""
    from cchc.graph.extract.documents import extract_file

    check_source(path, max_bytes)  # a device, pipe or oversized file is refused before its bytes are hashed
    if cache_dir is None:
        return extract_file(path, info, max_bytes)
    cached = extraction_cache_entry(path.read_bytes(), path.name, info, cache_dir)
    ex = read_cached_extraction(cached)
    if ex is None:
        ex = extract_file(path, info, max_bytes)
        write_cached_extraction(cached, ex)
    return ex


def remote_store(settings: Settings, *, create: bool = False):
    """The settings' SPARQL server as a graph store (`CCHC_STORE_URL` and friends)."""
    from cchc.graph.rdf.remote import RemoteStore

    return RemoteStore.open(settings.store_url, update_url=settings.store_update_url or None,
                            graph_store_url=settings.store_graph_url or None, user=settings.store_user or None,
                            password=settings.store_password or None, auth=settings.store_auth,
                            base=settings.base_iri, timeout=settings.request_timeout, create=create)


def _same_document(path: Path, infos: dict[str, DocumentInfo]) -> DocumentInfo | None:
    """The manifest entry of the same document in another format (plan.docx for plan.txt): a Word or PDF
    version of a corpus plan is the same plan, of the same year, for carry-over and filters."""
    stem = Path(path.name).stem
    for name, info in infos.items():
        if Path(name).stem == stem:
            return replace(info, file=path.name)
    return None


def _manifest_toml(infos: dict[str, DocumentInfo]) -> bytes:
    """A corpus manifest (`manifest.toml`) holding `infos`: what an added document's own manifest said about it
    is kept with the sources, so a later carry-over or rebuild reads the same year and type."""
    out = ["# The documents of this data generation (written by cchc add / remove).\n"]
    for info in infos.values():
        out.append("[[document]]")
        for key, value in ((f.name, getattr(info, f.name)) for f in fields(info)):
            if value is None:
                continue
            if isinstance(value, tuple):
                value = list(value)
            out.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
        out.append("")
    return "\n".join(out).encode("utf-8")


@dataclass
class Application:
    """Settings plus the lazily opened store, encoder, searcher and carry-over result.

    The data directory's layout is `cchc.service.generation`'s: one generation
    (graph, search index, sources, carry-over) per state, named by `CURRENT`.
    Writers (`build`, `add_files`, `remove_documents`) fill a new generation
    and publish it only when checked; readers follow `CURRENT` (`refresh`).
    """

    settings: Settings
    _cache: dict[str, Any] = field(default_factory=dict)
    _traced: dict[str, list] = field(default_factory=dict)  # instrument -> search links, for one store version
    _traced_version: int = -1
    _opened: str | None = None  # the generation refresh() last saw published
    _checked: dict[str, Any] = field(default_factory=dict)  # generation name -> its Summary (or GenerationError)
    _progress: bool = False  # progress bars of the cluster's encoding (the build's own steps take `progress=`)
    linked_pairs: int = 0  # plan pairs whose carry-over links the last add or remove stored

    # ---------------------------------------------------------------- where things are
    @property
    def generation(self) -> Path | None:
        """The live data generation's directory (None before the first build): one read of `<data>/CURRENT`."""
        from cchc.graph.rdf.generations import current

        name = current(self.settings.data_dir)
        return self.settings.data_dir / name if name else None

    @property
    def store_dir(self) -> Path:
        """The graph store's root: the data directory itself, whose generations also hold the other products."""
        return self.settings.data_dir

    @property
    def search_dir(self) -> Path:
        from cchc.service.generation import SEARCH

        return (self.generation or self.settings.data_dir) / SEARCH

    @property
    def sources_dir(self) -> Path:
        """The documents the live generation was built from plus those added since: the live corpus.

        `cchc build` copies the corpus here; `cchc add` / `cchc remove` change it
        with the store and the index, so source lines, carry-over and rebuilds all
        read the same documents the graph holds.
        """
        from cchc.service.generation import SOURCES

        return (self.generation or self.settings.data_dir) / SOURCES

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

        if self.cluster is not None:  # the workers encode, each with its own copy of the model
            return CachedPassages(self.cluster.encoder(self.settings.model, self.settings.data_dir,
                                                       runtime=self.settings.encoder_runtime,
                                                       progress=self._progress), self.cache_dir)
        return CachedPassages(self.encoder, self.cache_dir)

    @functools.cached_property
    def cluster(self):
        """The Dask cluster the settings ask for (`build_workers` or `cluster`), started on first use; else None."""
        if not self.settings.build_workers and not self.settings.cluster:
            return None
        from cchc.service.cluster import BuildCluster

        return BuildCluster(workers=self.settings.build_workers, address=self.settings.cluster)

    def close(self) -> None:
        """Stop what this object started (the build cluster's client and local workers)."""
        cluster = self.__dict__.pop("cluster", None)
        self.__dict__.pop("passage_encoder", None)
        if cluster is not None:
            cluster.close()

    def _encode_ahead(self, extractions: list[Extraction], infos: dict[str, DocumentInfo]) -> None:
        """On a cluster, every new unit text is encoded in one spread-out call first: the index then asks the
        passage cache batch by batch and finds each there (asked batch by batch, workers would take turns)."""
        if self.cluster is None:
            return
        from cchc.search.units import build_units

        self.passage_encoder.encode_passages(list(dict.fromkeys(u.index_text for u in build_units(extractions,
                                                                                                  infos))))

    @property
    def cache_dir(self) -> Path:
        """Content-addressed caches every generation shares (passage vectors, extractions): never published."""
        return self.settings.data_dir / "cache"

    # ---------------------------------------------------------------- building
    def build(self, *, progress: bool = False, graph_only: bool = False,
              corpus: Path | None = None) -> dict[str, Any]:
        """Everything the service answers from: graph store, search index, carry-over links (in the store too).

        The corpus is extracted once; every product goes into one new generation,
        published only when checked, so an interrupted build leaves the previous
        state serving.  `corpus` defaults to the settings' corpus directory.
        """
        from cchc.graph.rdf.store import Store, file_sha256
        from cchc.graph.read.readindex import save_with_generation
        from cchc.search.index import build_search_index
        from cchc.service.generation import SEARCH, SOURCES, clean, link_sources

        t0 = time.perf_counter()
        corpus = corpus or self.settings.corpus_dir
        manifest = load_manifest(corpus)
        self._progress = progress
        exs = extract_corpus(corpus, progress=progress, cache_dir=self.cache_dir,
                             max_bytes=self.settings.max_source_bytes, cluster=self.cluster)
        t1 = time.perf_counter()
        store = Store.open(self.store_dir, base=self.settings.base_iri, create=True, derive=save_with_generation)
        times: dict[str, float] = {}
        with store.stage(fresh=True) as staged:
            staged.build([(ex, manifest.get(ex.doc), file_sha256(corpus / ex.doc)) for ex in exs])
            t2 = time.perf_counter()
            if graph_only:  # no encoder: the graph and its SPARQL answers only
                staged.commit()
            else:
                assert staged.path is not None
                self._encode_ahead(exs, manifest)
                build_search_index(exs, manifest, staged.path / SEARCH, self.passage_encoder, progress=progress)
                link_sources(None, staged.path / SOURCES, add=[corpus / ex.doc for ex in exs],
                             manifest=corpus / MANIFEST)
                t3 = time.perf_counter()
                result = self._carryover_into(staged, exs, progress=progress)
                staged.commit(self._check)
                times.update(search_s=t3 - t2, carryover_s=time.perf_counter() - t3)
        self._publish_remote(store)
        for name in ("store", "searcher", "carryover"):
            self.__dict__.pop(name, None)
        clean(self.settings.data_dir)
        counts: dict[str, Any] = dict(store.counts())
        t4 = time.perf_counter()
        counts.update(continues=0 if graph_only else len(result.pairs), extract_s=t1 - t0, graph_s=t2 - t1,
                      search_s=times.get("search_s", 0.0), carryover_s=times.get("carryover_s", 0.0),
                      total_s=t4 - t0)
        log.info("built %s in %.1fs", self.settings.data_dir, t4 - t0)
        return counts

    def build_search(self, extractions: list[Extraction] | None = None, *, progress: bool = False) -> Path:
        """The search index alone, rebuilt from the corpus in a new generation (graph, sources kept)."""
        from cchc.graph.rdf.store import Store
        from cchc.graph.read.readindex import save_with_generation
        from cchc.search.index import build_search_index
        from cchc.service.generation import SEARCH, SOURCES, link_sources

        if not self.is_built():  # nothing to keep: the whole data generation
            self.build(progress=progress)
            return self.search_dir
        corpus = self.live_corpus
        exs = extractions if extractions is not None else extract_corpus(corpus, progress=progress,
                                                                          cache_dir=self.cache_dir,
                                                                          cluster=self.cluster)
        store = Store.open(self.store_dir, base=self.settings.base_iri, create=False, derive=save_with_generation)
        with store.stage() as staged:
            assert staged.path is not None and staged.previous is not None
            self._encode_ahead(exs, load_manifest(corpus))
            build_search_index(exs, load_manifest(corpus), staged.path / SEARCH, self.passage_encoder,
                               progress=progress)
            link_sources(staged.previous / SOURCES, staged.path / SOURCES)
            self._carryover_into(staged, exs, progress=progress)
            staged.commit(self._check)
        self._publish_remote(store)
        self.__dict__.pop("searcher", None)
        return self.search_dir

    def _carryover_into(self, staged, extractions: list[Extraction] | None, *, progress: bool):
        """The carry-over of the staged generation's sources, written into it (file and derived graphs).

        Computed from the previous generation's result where it can (only the
        plan pairs of changed documents are recomputed)."""
        from cchc.search.carryover.cache import ensure_carryover
        from cchc.search.carryover.compute import DEFAULT_THRESHOLD
        from cchc.service.generation import SOURCES

        sources = staged.path / SOURCES
        result = ensure_carryover(
            sources, staged.path, lambda: self.passage_encoder, self.model_id, threshold=DEFAULT_THRESHOLD,
            extract=lambda: extractions if extractions is not None else extract_corpus(
                sources, progress=progress, cache_dir=self.cache_dir, cluster=self.cluster),
            previous=staged.previous or self.settings.data_dir)  # a first build reuses a cache left at the root
        self.linked_pairs = self.put_carryover(staged, result)
        return result

    def _check(self, path: Path | None) -> None:
        """The last step before publishing: the new generation's products must agree (see check_generation)."""
        from cchc.ontology import IRIs
        from cchc.service.generation import check_generation

        assert path is not None
        summary = check_generation(path, IRIs(self.settings.base_iri), deep=True)
        log.info("generation %s checked: %s", path.name, summary)

    def load_carryover(self, extractions: list[Extraction] | None = None, threshold: float | None = None, *,
                       progress: bool = False):
        """The carry-over result: the live generation's when built (what its graph holds), else computed from the
        corpus and cached in `<data>/carryover.json`; another threshold is computed, never written into a
        published generation."""
        from cchc.search.carryover.cache import CACHE_NAME, cache_key, ensure_carryover, load_carryover
        from cchc.search.carryover.compute import DEFAULT_THRESHOLD

        gen = self.generation
        threshold = DEFAULT_THRESHOLD if threshold is None else threshold
        corpus = self.live_corpus
        if gen is not None and (gen / CACHE_NAME).exists():
            stored = load_carryover(gen)
            if stored is not None and stored.threshold == threshold:
                try:
                    stale = json.loads((gen / CACHE_NAME).read_text("utf-8"))["key"] != \
                        cache_key(corpus, self.model_id, threshold)
                except (OSError, ValueError, KeyError):
                    stale = True
                if stale:
                    log.warning("%s: the carry-over links were computed by another version or model; served as "
                                "the graph holds them (`cchc build` recomputes them)", gen)
                return stored
        return ensure_carryover(
            corpus, None if gen is not None else self.settings.data_dir, lambda: self.passage_encoder,
            self.model_id, threshold=threshold, previous=gen,
            extract=lambda: extractions if extractions is not None else extract_corpus(
                corpus, progress=progress, cache_dir=self.cache_dir))

    @staticmethod
    def put_carryover(store, result) -> int:
        """Write the links as one derived named graph per plan pair (dropped when either plan changes); a derived
        graph of a pair the result no longer has is dropped too, so graph and file always agree."""
        from cchc.graph.rdf.continuity import carryover_graph_docs, carryover_graphs

        graphs = carryover_graphs(result.pairs, store.iris)
        store.put_graphs({name: (list(g), carryover_graph_docs(name, store.iris) or ()) for name, g in graphs.items()})
        keep = {str(n) for n in graphs}
        if (drop := getattr(store, "drop_graphs", None)) is not None:  # a staged generation
            drop([n for n in store.manifest.get("derived", {}) if n not in keep])
        return len(graphs)

    @property
    def model_id(self) -> str:
        """The encoder's model id without loading it (what the carry-over cache is keyed by)."""
        from cchc.embeddings.encoder import spec_model_id

        return spec_model_id(self.settings.model)

    def is_built(self) -> bool:
        """A live generation with every product (a graph-only build has none but the graph)."""
        from cchc.service.generation import CARRYOVER, SEARCH, SOURCES

        gen = self.generation
        return gen is not None and (gen / SEARCH / "units.jsonl").exists() and (gen / SOURCES).is_dir() \
            and (gen / CARRYOVER).exists()

    def ensure_built(self, *, progress: bool = False) -> None:
        """Build from the corpus when the data directory has no complete generation.

        A data directory from before generations (`store/`, `search/`, `sources/`
        side by side) is rebuilt from its own sources, which hold what was added
        with `cchc add` since; the old folders go once the new generation is live.
        """
        if self.is_built():
            return
        corpus = self.legacy_corpus or self.settings.corpus_dir
        log.warning("no complete data generation in %s: building one from %s", self.settings.data_dir, corpus)
        self.build(progress=progress, corpus=corpus)

    @property
    def legacy_corpus(self) -> Path | None:
        """The sources of a data directory built before generations (rebuilt from them), else None."""
        legacy = self.settings.data_dir / "sources"
        if self.generation is None and (self.settings.data_dir / "store" / "CURRENT").exists() and legacy.is_dir():
            return legacy
        return None

    def clean(self) -> bool:
        """Delete what a killed writer left (see generation.clean); a no-op while another process writes."""
        from cchc.service.generation import clean

        return clean(self.settings.data_dir)

    # ---------------------------------------------------------------- live changes
    def add_files(self, paths: list[Path], *, progress: bool = False) -> list[Any]:
        """Add or replace documents in a built data directory: store, search index, sources and carry-over.

        Every file is read and extracted first, so a bad one changes nothing.
        Only the new documents' units are encoded (and those whose text the
        passage cache has seen are not); only the plan pairs they are part of
        get their carry-over links recomputed.  All of it lands in one new
        generation, published when checked.
        """
        from cchc.graph.rdf.store import Store, file_sha256
        from cchc.graph.read.readindex import save_with_generation
        from cchc.search.index import update_search_index
        from cchc.service.generation import SEARCH, SOURCES, link_sources

        self.ensure_built(progress=progress)
        self._progress = progress
        live = load_manifest(self.live_corpus)
        found = {p: load_manifest(p.parent).get(p.name) or live.get(p.name) or _same_document(p, live)
                 for p in paths}
        infos = {p.name: info for p, info in found.items() if info is not None}
        if self.cluster is not None:  # the documents the cache lacks, extracted on the workers
            exs = self.cluster.extract(paths, [found[p] for p in paths], self.cache_dir,
                                       max_bytes=self.settings.max_source_bytes, progress=progress)
        else:
            todo: Any = paths
            if progress and len(paths) > 1:  # `cchc add FOLDER`: one step per document read
                from tqdm import tqdm

                todo = tqdm(paths, desc="reading", unit="doc")
            exs = [extract_cached(p, found[p], self.cache_dir, self.settings.max_source_bytes) for p in todo]
        hashes = [file_sha256(p) for p in paths]
        store = Store.open(self.store_dir, base=self.settings.base_iri, create=False, derive=save_with_generation)
        with store.stage() as staged:
            assert staged.path is not None and staged.previous is not None
            prev = staged.previous
            records = [staged.add_document(ex, infos.get(ex.doc), sha) for ex, sha in zip(exs, hashes, strict=True)]
            known = load_manifest(prev / SOURCES)
            all_infos = {**known, **infos}
            self._encode_ahead(exs, all_infos)
            update_search_index(prev / SEARCH, exs, (), all_infos, self.passage_encoder, progress=progress,
                                out=staged.path / SEARCH)
            link_sources(prev / SOURCES, staged.path / SOURCES, add=paths)
            self._write_manifest(staged.path / SOURCES, known, all_infos)
            self._carryover_into(staged, None, progress=progress)
            staged.commit(self._check)
        self._publish_remote(store)
        for name in ("store", "searcher", "carryover"):
            self.__dict__.pop(name, None)
        return records

    def remove_documents(self, docs: list[str]) -> list[str]:
        """Drop documents (file name or stem) from the store, the search index, the sources and the carry-over."""
        from cchc.graph.rdf.store import Store
        from cchc.graph.read.readindex import save_with_generation
        from cchc.search.index import update_search_index
        from cchc.service.generation import SEARCH, SOURCES, link_sources

        store = Store.open(self.store_dir, base=self.settings.base_iri, create=False, derive=save_with_generation)
        records = store.documents()
        files = []
        for doc in docs:  # a file name, or a stem (a .txt document's is its name without the suffix)
            match = [r.file for r in records if doc in (r.file, r.stem)]
            if not match:
                raise ValueError(f"{doc}: no such document in the store "
                                 f"(documents: {', '.join(sorted(r.file for r in records))})")
            files.append(match[0])
        self.ensure_built()
        with store.stage() as staged:
            assert staged.path is not None and staged.previous is not None
            prev = staged.previous
            for f in files:
                staged.remove_document(f)
            infos = load_manifest(prev / SOURCES)
            update_search_index(prev / SEARCH, [], files, infos, None, out=staged.path / SEARCH)
            # the manifest keeps the removed documents' entries: a Word or PDF version added back is the same plan
            link_sources(prev / SOURCES, staged.path / SOURCES, drop=files)
            self._carryover_into(staged, None, progress=False)
            staged.commit(self._check)
        self._publish_remote(store)
        for name in ("store", "searcher", "carryover"):
            self.__dict__.pop(name, None)
        return files

    def _publish_remote(self, local) -> None:
        """With a SPARQL server (`store_url`), make it hold the graph of the generation just published here.

        Not atomic with the local publication: the data directory is published
        first; a failure here leaves the server on its previous state, /health
        of every replica says the two disagree, and the next build/add/remove
        (or this one again) brings the server up to date (only changed graphs
        are uploaded)."""
        if not self.settings.store_url:
            return
        remote = remote_store(self.settings, create=True)
        try:
            uploaded = remote.mirror(local)
        except ValueError as exc:
            raise ValueError(f"the data directory was updated but the SPARQL server {self.settings.store_url} "
                             f"was not ({exc}); run the command again") from None
        finally:
            remote.close()
        log.info("SPARQL server %s: %d graphs uploaded", self.settings.store_url, uploaded)

    @staticmethod
    def _write_manifest(sources: Path, before: dict[str, DocumentInfo], after: dict[str, DocumentInfo]) -> None:
        """The new generation's manifest.toml, when its entries changed (else the previous one, linked, stays)."""
        if after == before:
            return
        from cchc.graph.rdf.generations import atomic_write

        (sources / MANIFEST).unlink(missing_ok=True)  # a hard link to the previous generation's: never write it
        atomic_write(sources / MANIFEST, _manifest_toml(after))

    def refresh(self) -> None:
        """Follow a generation another process published (`cchc add`, `remove`, `build`): one read of CURRENT."""
        from cchc.graph.rdf.generations import current

        name = current(self.settings.data_dir)
        if name != self._opened:
            if self._opened is not None:
                log.info("the data directory changed (%s -> %s): reopening the search index and carry-over links",
                         self._opened, name)
                self.__dict__.pop("searcher", None)
                self.__dict__.pop("carryover", None)
            self._opened = name
        if "store" in self.__dict__:
            self.store.refresh()

    def check(self) -> Any:
        """The live generation's Summary, or GenerationError saying why it cannot be trusted (what /health reports).

        The files of a published generation never change, so each is checked
        once; what this process has open is compared every time (the store on
        the same generation, the searcher with as many units)."""
        from cchc.ontology import IRIs
        from cchc.service.generation import GenerationError, check_generation

        self.refresh()
        gen = self.generation
        if gen is None:
            raise GenerationError(f"{self.settings.data_dir}: no data generation published; run `cchc build`")
        if not gen.is_dir():
            raise GenerationError(f"{gen}: the live generation's directory is missing")
        summary = self._checked.get(gen.name)
        if summary is None:
            try:
                summary = check_generation(gen, IRIs(self.settings.base_iri))
            except GenerationError as exc:
                summary = exc
            self._checked = {gen.name: summary}
        if isinstance(summary, GenerationError):
            raise summary
        store = self.store
        if not getattr(store, "remote", False) and store._gen != gen.name:
            raise GenerationError(f"the graph open here is generation {store._gen}, the live one {gen.name}")
        if len(store.documents()) != summary.documents:
            where = f"in the SPARQL server {self.settings.store_url}" if getattr(store, "remote", False) else \
                "open here"
            raise GenerationError(f"{len(store.documents())} documents {where}, {summary.documents} in {gen.name}")
        if len(self.searcher.units) != summary.units:
            raise GenerationError(f"{len(self.searcher.units)} search units open here, {summary.units} in "
                                  f"{gen.name}")
        if len(self.carryover.pairs) != summary.carryover_links:
            raise GenerationError(f"{len(self.carryover.pairs)} carry-over links open here, "
                                  f"{summary.carryover_links} in {gen.name}")
        return summary

    # ---------------------------------------------------------------- reading
    @functools.cached_property
    def store(self):
        """The graph: the live generation's Oxigraph store, or the SPARQL server of `store_url` (the search index,
        sources and carry-over still come from the data directory)."""
        from cchc.graph.rdf.store import Store
        from cchc.graph.read.readindex import save_with_generation

        self.ensure_built()
        if self.settings.store_url:
            return remote_store(self.settings, create=False)
        return Store.open(self.store_dir, base=self.settings.base_iri, create=False, derive=save_with_generation)

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
