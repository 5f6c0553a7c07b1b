"""What every graph store offers: the interface the local Oxigraph store and the remote SPARQL store share.

Why a Protocol rather than a base class: the two share no code path (one is
an embedded database with on-disk generations, the other an HTTP client),
only a contract.  Library readers (`graph.read`, the SPARQL runner, the
application's views) use nothing beyond it, and `tests/test_store_backends.py`
runs the same behaviour tests over both implementations.

What is *not* in it: the local store's data-directory generations
(`Store.stage()` giving a directory to put the search index and sources in,
`Staged.path`, `Staged.previous`); a remote store holds the graph only, and
its `stage()` yields a `Staged` whose `path` is None.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from cchc.graph.corpus import DocumentInfo
from cchc.graph.extract.records import Extraction
from cchc.graph.rdf.terms import GraphNames, Triple
from cchc.ontology import IRIs
from rdflib import Graph
from rdflib.query import Result

__all__ = ["GraphStore"]


@runtime_checkable
class GraphStore(Protocol):
    """Documents' named graphs plus the shared graphs, readable with SPARQL, changed a document at a time.

    `version` changes whenever the store moves to another state (caches key on it);
    `refresh()` moves a reader to the newest published state.  Every write publishes
    all of its changes together, or none (see each implementation for how far that holds).
    """

    root: Any  # the local store's directory; None for in-memory and remote stores (no worker processes)
    iris: IRIs
    names: GraphNames
    version: int

    def refresh(self) -> bool: ...
    def query(self, sparql: str) -> Result: ...
    def select(self, sparql: str) -> list[tuple]: ...
    def documents(self) -> list[Any]: ...
    def counts(self) -> dict[str, int]: ...
    def graph_names(self) -> list[str]: ...
    def graph(self, *names: str, ontology: bool = False) -> Graph: ...
    def export(self, fmt: str, out: Any = None) -> bytes | None: ...
    def close(self) -> None: ...

    def stage(self, *, fresh: bool = False) -> contextlib.AbstractContextManager[Any]: ...
    def build(self, documents: Iterable[tuple[Extraction, DocumentInfo | None, str | None]],
              progress: Callable[[str], None] | None = None) -> dict[str, int]: ...
    def add_document(self, extraction: Extraction, info: DocumentInfo | None = None,
                     sha256: str | None = None) -> Any: ...
    def remove_document(self, doc: str) -> None: ...
    def put_graphs(self, graphs: Mapping[str, tuple[Iterable[Triple], Iterable[str]]]) -> None: ...
