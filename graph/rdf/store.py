"""The graph store: an rdflib `Dataset` over Oxigraph, one named graph per document.

On disk (a standalone store; the application's is its data directory, `Settings.data_dir`)::

    store/
      CURRENT          name of the live generation ("g000007"), replaced by rename
      LOCK             held (flock) by the one writer
      g000007/
        oxigraph/      the Oxigraph (RocksDB) database of that generation
        manifest.json  base IRI, counts; per document: file, sha256, graph IRI, counts, instruments cited
      g000006/         the previous generation, kept for readers that still have it open

Writes are atomic (see generations.py): every change (build, add, remove)
fills a new generation, fresh or from an Oxigraph backup of the live one (a
RocksDB checkpoint: hard links, fast), recomputes the shared graphs there and
only then publishes it.  A published generation is never written again.
`stage()` lets a caller put several changes, and files of its own, into one
generation before it is published (the application's data directory does:
the store's root is the data directory, each generation also holds the
search index, sources and carry-over links of that state).

Concurrency: one writer at a time (a second one gets a StoreError at once);
any number of readers, each on the generation it opened, read-only; `refresh()`
moves a reader to the newest.  Each write deletes generations older than the
previous one, so long-lived readers should refresh after a write.

`Store(None)` is in memory (tests, one-off runs) and changes by copy-and-swap
too.  Anything offering open / add_document / remove_document / query / export
/ documents / close can stand in for this class (e.g. a remote SPARQL store).

Kept as one module (~420 lines): `Store` and `Staged` share the generation protocol (lock,
backup, fill, check, publish) that makes every write atomic; split, each half would need the other's
internals.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from cchc.graph.corpus import DocumentInfo
from cchc.graph.extract.reading import file_sha256
from cchc.graph.extract.records import Extraction
from cchc.graph.rdf import generations as gens
from cchc.graph.rdf import nquads
from cchc.graph.rdf.build import DocumentGraph, build_document, doc_stem
from cchc.graph.rdf.formats import RDF_FORMATS
from cchc.graph.rdf.shared import refresh_shared
from cchc.graph.rdf.terms import GraphNames, Triple, from_ox, prefixes, py_value, to_quads
from cchc.ontology import DEFAULT_BASE, IRIs, bind_namespaces
from oxrdflib import OxigraphStore
from rdflib import Dataset, Graph, URIRef
from rdflib.query import Result

__all__ = ["RDF_FORMATS", "DocumentRecord", "Staged", "Store", "StoreError", "file_sha256"]

_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "trig": ox.RdfFormat.TRIG, "nquads": ox.RdfFormat.N_QUADS,
            "jsonld": ox.RdfFormat.JSON_LD, "ntriples": ox.RdfFormat.N_TRIPLES}
assert tuple(_FORMATS) == RDF_FORMATS  # the CLI lists formats.RDF_FORMATS without importing this module
Apply = Callable[[ox.Store, dict], None]
# Files a generation carries beside its database, computed from its finished graph by the layer that reads
# them (the application's read index: graph/read/readindex.py); the store knows only when to call it.
Derive = Callable[["Staged", Path], None]


class StoreError(ValueError):
    """A store that cannot be used as asked (missing, busy, other base IRI, unknown document)."""


@dataclass(frozen=True)
class DocumentRecord:
    """A document as the manifest knows it."""

    stem: str
    file: str
    kind: str
    graph: str
    sha256: str | None
    counts: dict[str, int]
    instruments: dict[str, str]


class Store:
    """Documents' named graphs plus the shared graphs, queryable with SPARQL."""

    def __init__(self, path: str | Path | None = None, *, base: str | None = None, create: bool = True,
                 derive: Derive | None = None) -> None:
        self.root = Path(path) if path is not None else None
        self.derive = derive
        self.version = 0  # bumped on every change: caches (the projection) key on it
        self._ox, self._gen = ox.Store(), None
        self._manifest: dict[str, Any] = {"base": base or DEFAULT_BASE, "documents": {}}
        self._dataset: Dataset | None = None
        if self.root is not None and gens.current(self.root):
            self._load()
            if base and base != self._manifest["base"]:
                raise StoreError(f"{self.root}: the store was built with base IRI {self._manifest['base']}, "
                                 f"not {base}; rebuild it")
        elif self.root is not None and not create:
            raise StoreError(f"{self.root}: no graph store here; run `cchc build` first")
        self.iris = IRIs(self._manifest["base"])
        self.names = GraphNames(self.iris)

    @classmethod
    def open(cls, path: str | Path | None = None, *, base: str | None = None, create: bool = True,
             derive: Derive | None = None) -> Store:
        """The store at `path` (None: a new in-memory one); `create=False` refuses a missing store; `derive`
        writes files of each generation from its finished graph before it is published."""
        return cls(path, base=base, create=create, derive=derive)

    # ---------------------------------------------------------------- reading
    def _load(self) -> None:
        assert self.root is not None
        gen = gens.current(self.root)
        manifest = json.loads((self.root / gen / "manifest.json").read_text("utf-8"))
        self._ox, self._gen, self._manifest = ox.Store.read_only(str(self.root / gen / "oxigraph")), gen, manifest
        self._dataset = None
        self.version += 1

    def refresh(self) -> bool:
        """Move to the newest published generation; True when there was a newer one."""
        if self.root is not None and gens.current(self.root) not in (None, self._gen):
            self._load()
            return True
        return False

    @property
    def dataset(self) -> Dataset:
        """The rdflib view; its default graph is the union of the named graphs."""
        if self._dataset is None:
            self._dataset = bind_namespaces(Dataset(store=OxigraphStore(store=self._ox), default_union=True))
        return self._dataset

    def query(self, sparql: str) -> Result:
        """SELECT / ASK / CONSTRUCT / DESCRIBE over the union of the graphs (project prefixes predeclared)."""
        return self.dataset.query(sparql)

    def select(self, sparql: str) -> list[tuple]:
        """Fast path for library code: rows of plain Python values (IRIs and strings as str, int, bool)."""
        solutions = self._ox.query(sparql, use_default_graph_as_union=True, prefixes=prefixes(self.iris))
        return [tuple(py_value(v) for v in row) for row in solutions]  # type: ignore[union-attr]

    def documents(self) -> list[DocumentRecord]:
        return [DocumentRecord(**d) for _, d in sorted(self._manifest["documents"].items())]

    def generation_path(self) -> Path | None:
        """The directory of the generation this store reads (None in memory): derived files live there."""
        return self.root / self._gen if self.root is not None and self._gen else None

    def counts(self) -> dict[str, int]:
        """documents, tasks, citations, units, targets, instruments, agencies, triples (quads stored)."""
        return dict(self._manifest.get("counts", {}))

    def graph_names(self) -> list[str]:
        return sorted(g.value for g in self._ox.named_graphs() if isinstance(g, ox.NamedNode))

    def quads(self) -> Iterator[ox.Quad]:
        return iter(self._ox)

    def graph(self, *names: str, ontology: bool = False) -> Graph:
        """An rdflib copy of the named graphs `names` merged (default: all but the ontology, unless asked)."""
        wanted = {str(n) for n in names}
        skip = "" if ontology or wanted else str(self.names.ontology)
        out = bind_namespaces(Graph())
        for q in self._ox:
            g = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
            if (g in wanted) if wanted else g != skip:
                out.add((from_ox(q.subject), from_ox(q.predicate), from_ox(q.object)))
        return out

    def export(self, fmt: str, out: str | Path | None = None) -> bytes | None:
        """Serialise: turtle/ntriples merge the graphs, trig/nquads/jsonld keep them (graphml: `read.export`).

        With `out`, writes a temporary file next to it and renames it into place; else returns the bytes.
        """
        if fmt in ("turtle", "ntriples"):
            merged = ox.Store()
            merged.extend(ox.Quad(q.subject, q.predicate, q.object) for q in self._ox)
            data = merged.dump(format=_FORMATS[fmt], from_graph=ox.DefaultGraph(),
                               prefixes=prefixes(self.iris) if fmt == "turtle" else None)
        elif fmt in _FORMATS:
            data = self._ox.dump(format=_FORMATS[fmt], prefixes=prefixes(self.iris) if fmt == "trig" else None)
        else:
            raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(RDF_FORMATS)}")
        if out is None:
            return data
        gens.atomic_write(Path(out), data)
        return None

    def close(self) -> None:
        self._dataset = None
        self._ox = ox.Store()
        gc.collect()

    # ---------------------------------------------------------------- writing
    @contextlib.contextmanager
    def stage(self, *, fresh: bool = False) -> Iterator[Staged]:
        """A new generation to fill with several changes, published together by `Staged.commit` or not at all.

        Why: a data directory publishes more than the graph (search index,
        sources, carry-over links), and a reader must never see the graph of
        one change with the index of another.  The block holds the writer lock
        and gets the new generation's directory (`Staged.path`) to put its own
        products in; the generation it started from is `Staged.previous`.
        Leaving the block without `commit` (an exception, a kill) discards the
        new generation; the next writer deletes whatever a killed one left.
        """
        if self.root is None:
            st = ox.Store()
            if not fresh:
                st.extend(self._ox)
            manifest = {"base": self.iris.base, "documents": {}} if fresh else copy.deepcopy(self._manifest)
            yield Staged(self, st, manifest, None, None)
            return
        with gens.writer_lock(self.root, StoreError):
            self.refresh()  # start from what the last writer published, not from what we opened
            previous = self._gen
            target = gens.new_generation(self.root)
            staged: Staged | None = None
            try:
                keep = not fresh and previous is not None
                if keep:
                    self._ox.backup(str(target / "oxigraph"))
                manifest = copy.deepcopy(self._manifest) if keep else {"base": self.iris.base, "documents": {}}
                staged = Staged(self, ox.Store(str(target / "oxigraph")), manifest, target,
                                self.root / previous if previous else None)
                yield staged
            except BaseException:
                if staged is not None:
                    staged.discard()
                if staged is not None and staged.committed:
                    self._load()
                    gens.collect(self.root, {target.name, *((previous,) if previous else ())})
                else:
                    gens.collect(self.root, self._kept(previous))
                raise
            staged.discard()
            if staged.committed:
                self._load()
                gens.collect(self.root, {target.name, *((previous,) if previous else ())})
            else:
                gens.collect(self.root, self._kept(previous))

    def _kept(self, live: str | None) -> set[str]:
        """What a write that published nothing keeps: the live generation and the one before it (readers)."""
        assert self.root is not None
        if live is None:
            return set()
        return {live, *[g for g in gens.generations(self.root) if g < live][-1:]}

    def build(self, documents: Iterable[tuple[Extraction, DocumentInfo | None, str | None]],
              progress: Callable[[str], None] | None = None) -> dict[str, int]:
        """Replace the whole store with these (extraction, manifest entry, sha256) documents; the counts."""
        with self.stage(fresh=True) as staged:
            staged.build(documents, progress)
            staged.commit()
        return self.counts()

    def add_document(self, extraction: Extraction, info: DocumentInfo | None = None,
                     sha256: str | None = None) -> DocumentRecord:
        """Add a document, or replace the one with the same stem."""
        with self.stage() as staged:
            record = staged.add_document(extraction, info, sha256)
            staged.commit()
        return record

    def remove_document(self, doc: str) -> None:
        """Drop one document's graph (by stem or file name); the shared graphs are recomputed."""
        stem = doc_stem(Path(doc).name)
        if stem not in self._manifest["documents"] and not self.refresh():
            raise StoreError(f"{doc}: no such document in the store")
        with self.stage() as staged:  # checked again there: another writer may have removed it
            staged.remove_document(doc)
            staged.commit()

    def put_graph(self, name: str, triples: Iterable[Triple], docs: Iterable[str] = ()) -> None:
        """Store or replace a derived named graph (e.g. carry-over links), dropped when one of `docs` changes."""
        self.put_graphs({name: (triples, docs)})

    def put_graphs(self, graphs: Mapping[str, tuple[Iterable[Triple], Iterable[str]]]) -> None:
        """Store or replace several derived graphs ({name: (triples, docs)}) in one write."""
        with self.stage() as staged:
            staged.put_graphs(graphs)
            staged.commit()

    @staticmethod
    def _record(dg: DocumentGraph, sha: str | None) -> dict:
        return asdict(DocumentRecord(dg.stem, dg.file, dg.kind, str(dg.graph), sha, dg.counts, dg.instruments))


class Staged:
    """A generation being filled (`Store.stage`): changes apply at once to its own read-write Oxigraph store.

    `manifest` is the new generation's manifest as the changes so far leave it;
    `commit(check)` recomputes the shared graphs, closes the database, writes
    the manifest, runs `check` on the finished directory and only then publishes.
    """

    def __init__(self, store: Store, st: ox.Store, manifest: dict, path: Path | None,
                 previous: Path | None) -> None:
        self.store, self._st, self.manifest = store, st, manifest
        self.path, self.previous = path, previous
        self.committed = False

    @property
    def iris(self) -> IRIs:
        return self.store.iris

    @property
    def names(self) -> GraphNames:
        return self.store.names

    def select(self, sparql: str) -> list[tuple]:
        """`Store.select` on the generation being filled (what the read index is computed from)."""
        if self._st is None:
            raise StoreError("this staged generation is closed")
        solutions = self._st.query(sparql, use_default_graph_as_union=True, prefixes=prefixes(self.iris))
        return [tuple(py_value(v) for v in row) for row in solutions]  # type: ignore[union-attr]

    def documents(self) -> list[DocumentRecord]:
        return [DocumentRecord(**d) for _, d in sorted(self.manifest["documents"].items())]

    def apply(self, fn: Apply) -> None:
        """Run one change on the new generation's database and manifest."""
        if self._st is None or self.committed:
            raise StoreError("this staged generation is closed")
        fn(self._st, self.manifest)

    def build(self, documents: Iterable[tuple[Extraction, DocumentInfo | None, str | None]],
              progress: Callable[[str], None] | None = None) -> None:
        """Add these documents in one bulk load (each document's graph built as the loader reads it)."""

        def apply(st: ox.Store, manifest: dict) -> None:
            failed: list[BaseException] = []

            def chunks() -> Iterator[bytes]:
                try:
                    for ex, info, sha in documents:
                        dg = build_document(ex, info, self.iris)
                        yield dg.nquads()
                        manifest["documents"][dg.stem] = Store._record(dg, sha)
                        if progress:
                            progress(dg.stem)
                except BaseException as exc:  # the loader reports it as an OSError: keep the real one
                    failed.append(exc)
                    raise

            try:
                st.bulk_load(nquads.reader(chunks()), ox.RdfFormat.N_QUADS)
            except BaseException:
                if failed:
                    raise failed[0] from None
                raise

        self.apply(apply)

    def add_document(self, extraction: Extraction, info: DocumentInfo | None = None,
                     sha256: str | None = None) -> DocumentRecord:
        dg = build_document(extraction, info, self.iris)

        def apply(st: ox.Store, manifest: dict) -> None:
            st.remove_graph(ox.NamedNode(str(dg.graph)))
            _drop_derived(st, manifest, dg.stem)
            st.extend(ox.parse(dg.nquads(), ox.RdfFormat.N_QUADS))
            manifest["documents"][dg.stem] = Store._record(dg, sha256)

        self.apply(apply)
        return DocumentRecord(**self.manifest["documents"][dg.stem])

    def remove_document(self, doc: str) -> None:
        stem = doc_stem(Path(doc).name)

        def apply(st: ox.Store, manifest: dict) -> None:
            if stem not in manifest["documents"]:
                raise StoreError(f"{doc}: no such document in the store")
            st.remove_graph(ox.NamedNode(manifest["documents"].pop(stem)["graph"]))
            _drop_derived(st, manifest, stem)

        self.apply(apply)

    def put_graphs(self, graphs: Mapping[str, tuple[Iterable[Triple], Iterable[str]]]) -> None:
        names = self.store.names
        taken = {d["graph"] for d in self.manifest["documents"].values()}
        taken |= {str(names.ontology), str(names.agencies), str(names.instruments)}
        todo = {str(name): (list(triples), sorted({doc_stem(Path(d).name) for d in docs}))
                for name, (triples, docs) in graphs.items()}
        for name in todo:
            if name in taken:
                raise StoreError(f"{name}: a document or shared graph; not replaceable with put_graph")

        def apply(st: ox.Store, manifest: dict) -> None:
            for name, (triples, docs) in todo.items():
                st.remove_graph(ox.NamedNode(name))
                st.extend(to_quads(triples, URIRef(name)))
                manifest.setdefault("derived", {})[name] = docs

        self.apply(apply)

    def drop_graphs(self, names: Iterable[str]) -> None:
        """Drop derived graphs by name (a carry-over pair that no longer has links)."""
        todo = [str(n) for n in names]
        for name in todo:
            if name not in self.manifest.get("derived", {}):
                raise StoreError(f"{name}: not a derived graph")

        def apply(st: ox.Store, manifest: dict) -> None:
            for name in todo:
                st.remove_graph(ox.NamedNode(name))
                del manifest["derived"][name]

        if todo:
            self.apply(apply)

    def commit(self, check: Callable[[Path | None], None] | None = None) -> None:
        """Finish the graph (shared graphs, manifest), let `check` refuse it, then make it the live generation."""
        if self._st is None or self.committed:
            raise StoreError("this staged generation is closed")
        st, store = self._st, self.store
        refresh_shared(st, self.manifest, store.names)
        if self.path is None:  # in memory: the swap is the publication
            if check is not None:
                check(None)
            store._ox, store._manifest, store._dataset = st, self.manifest, None
            store.version += 1
            self._st, self.committed = None, True
            return
        if store.derive is not None:
            store.derive(self, self.path)
        st.flush()
        del st  # the last reference besides self._st: a database left open keeps compacting (and deleting
        self.discard()  # .sst files) under the read-only check below; closing also releases RocksDB's lock
        gens.atomic_write(self.path / "manifest.json",
                          json.dumps(self.manifest, ensure_ascii=False, indent=1).encode())
        if check is not None:
            check(self.path)
        assert store.root is not None
        gens.publish(store.root, self.path)
        self.committed = True

    def discard(self) -> None:
        """Close the read-write database (the directory itself is the store's to delete or keep)."""
        if self._st is not None:
            self._st = None
            gc.collect()


def _drop_derived(st: ox.Store, manifest: dict, stem: str) -> None:
    for name, docs in list(manifest.get("derived", {}).items()):
        if stem in docs:
            st.remove_graph(ox.NamedNode(name))
            del manifest["derived"][name]
