"""The graph in an existing SPARQL 1.1 server, reached by the protocol only: several replicas share one graph.

Layout in the server (the same graph IRIs as the local store, `GraphNames`)::

    <base>graph/doc/<stem>        one named graph per document
    <base>graph/instruments, agencies, ontology, carry-over graphs   as locally
    <base>graph/manifest          the documents manifest (one JSON literal per document, one for the rest:
                                  base, counts, derived graphs, a per-graph content hash, the state token)
    <base>graph/staging/<token>/N graphs of a write in progress (invisible to readers, see below)

Reads name their dataset: every query goes out with the live graphs of the
manifest as `default-graph-uri` (their union, as the local store's default
graph) and `named-graph-uri`, so the manifest and staging graphs never show.

Writes (`stage()`, and `build`, `add_document`, `remove_document`,
`put_graphs` through it) upload each new or changed graph, whole, into a
fresh staging graph by SPARQL Update `INSERT DATA`; the shared graphs are
recomputed by the same `refresh_shared` as locally, its queries running on
the server over the staged dataset.  Then *one* Update request publishes:
`MOVE` each staging graph onto its graph, `DROP` the removed ones, rewrite
the manifest.  What is atomic: that request is one transaction on Virtuoso
(and on Fuseki/TDB2); a server that applies an Update request's operations
one at a time would let a query see some graphs moved and not others.  A
reader keeps the list of live graphs it last refreshed (`refresh()`, at most
every `refresh_seconds` unless forced), so right after a publish it may miss a
newly added document's graph until it refreshes.  A killed writer leaves only
staging graphs, dropped by the next write.  One writer at a time: a write
that finds another writer's state token published since it began refuses to
publish (a guard, not a lock: two writers racing within one request's time
can still both publish, the last one winning).

Only the graph is remote: the search index, sources and carry-over file stay
in each replica's data directory (`cchc.service`).  Client: httpx, for
per-request timeouts, digest auth (Virtuoso's `/sparql-auth`) and a kept-alive
connection pool (rdflib's SPARQLUpdateStore uses urllib, writes triple by
triple and has neither).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import re
import secrets
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
from cchc.graph.rdf.shared import refresh_shared
from cchc.graph.rdf.store import DocumentRecord, Staged, Store, StoreError
from cchc.graph.rdf.terms import GraphNames, prefixes, py_value
from cchc.ontology import DEFAULT_BASE, IRIs, bind_namespaces
from rdflib import Graph
from rdflib.query import Result

__all__ = ["RemoteError", "RemoteStore", "graph_hash"]

log = logging.getLogger(__name__)

_XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
_JSON = "application/sparql-results+json"
_CHUNK = 500  # triples per INSERT DATA request (Virtuoso compiles one to SQL: ~1,000 triples is its limit)


class RemoteError(StoreError):
    """The SPARQL server refused or failed a request; the message names the endpoint and the server's words."""


def graph_hash(quads: Iterable[ox.Quad]) -> str:
    """A content hash of one graph's triples (sorted N-Triples lines): unchanged graphs are not uploaded again."""
    lines = sorted(f"{q.subject} {q.predicate} {q.object}" for q in quads)
    return hashlib.blake2b("\n".join(lines).encode(), digest_size=16).hexdigest()


def to_term(b: dict[str, str]) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """A SPARQL JSON results binding as a pyoxigraph term (Virtuoso writes booleans as 1/0: read back as RDF)."""
    kind, value = b["type"], b["value"]
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(re.sub(r"[^A-Za-z0-9_]", "_", value))
    if lang := b.get("xml:lang"):
        return ox.Literal(value, language=lang)
    datatype = b.get("datatype")
    if datatype == _XSD_BOOLEAN and value in ("1", "0"):
        value = "true" if value == "1" else "false"
    return ox.Literal(value, datatype=ox.NamedNode(datatype)) if datatype else ox.Literal(value)


class RemoteStore:
    """A `GraphStore` (see backend.py) whose graphs live in a SPARQL 1.1 server."""

    root = None  # no directory: the SPARQL runner sends /sparql queries to the server, not to worker processes
    remote = True

    def __init__(self, query_url: str, *, update_url: str | None = None, user: str | None = None,
                 password: str | None = None, auth: str = "digest", graph_store_url: str | None = None,
                 base: str | None = None,
                 timeout: float = 60.0, create: bool = True, refresh_seconds: float = 1.0) -> None:
        if not query_url.startswith(("http://", "https://")):
            raise StoreError(f"SPARQL query endpoint must be an http(s) URL: {query_url!r}")
        if auth not in ("digest", "basic"):
            raise StoreError(f"SPARQL server auth must be digest or basic: {auth!r}")
        self.query_url, self.update_url = query_url, update_url or query_url
        self.graph_store_url = graph_store_url  # Graph Store Protocol: uploads a graph whole in one PUT
        scheme = httpx.DigestAuth if auth == "digest" else httpx.BasicAuth
        self._auth = scheme(user, password or "") if user else None
        self._http = httpx.Client(timeout=timeout)
        self.timeout, self.refresh_seconds = timeout, refresh_seconds
        self.iris = IRIs(base or DEFAULT_BASE)
        self.names = GraphNames(self.iris)
        self.manifest_graph = f"{self.iris.base}graph/manifest"
        self.version = 0
        self._gen: str | None = None  # the published state's token
        self._checked = 0.0
        self._manifest: dict[str, Any] = {"base": self.iris.base, "documents": {}}
        self._load()
        if self._gen is None and not create:
            raise StoreError(f"{query_url}: no graph store under base {self.iris.base} there; run `cchc build`")

    @classmethod
    def open(cls, query_url: str, **kwargs: Any) -> RemoteStore:
        return cls(query_url, **kwargs)

    # ---------------------------------------------------------------- protocol
    def request(self, query: str, graphs: list[str] | None, *, accept: str = _JSON, named: list[str] | None = None,
                timeout: float | None = None) -> httpx.Response:
        """POST one query (SPARQL 1.1 Protocol); `graphs` (None: the live ones) make its dataset."""
        live = self.live_graphs() if graphs is None else graphs
        data = {"query": query, "default-graph-uri": live or [f"{self.iris.base}graph/none"],
                "named-graph-uri": (live if named is None else named) or [f"{self.iris.base}graph/none"]}
        try:
            r = self._http.post(self.query_url, data=data, headers={"Accept": accept},
                                timeout=timeout or self.timeout)
        except httpx.TimeoutException:
            raise
        except httpx.HTTPError as exc:
            raise RemoteError(f"{self.query_url}: {exc}") from None
        if r.status_code != 200:
            raise RemoteError(f"{self.query_url}: HTTP {r.status_code}: {r.text.strip()[:400]}")
        return r

    def update(self, text: str) -> None:
        """POST one SPARQL Update request to the update endpoint (one transaction on Virtuoso)."""
        try:
            r = self._http.post(self.update_url, data={"update": text}, auth=self._auth or httpx.USE_CLIENT_DEFAULT)
        except httpx.HTTPError as exc:
            raise RemoteError(f"{self.update_url}: {exc}") from None
        if r.status_code not in (200, 201, 204):
            raise RemoteError(f"{self.update_url}: update refused, HTTP {r.status_code}: {r.text.strip()[:400]}")

    def put_graph_data(self, graph: str, ntriples: bytes) -> None:
        """Replace `graph` with these N-Triples by the Graph Store Protocol (HTTP PUT ?graph=)."""
        param = "graph-uri" if "sparql-graph-crud" in (self.graph_store_url or "") else "graph"  # Virtuoso's name
        try:
            r = self._http.put(self.graph_store_url or "", params={param: graph}, content=ntriples,
                               headers={"Content-Type": "application/n-triples"},
                               auth=self._auth or httpx.USE_CLIENT_DEFAULT)
        except httpx.HTTPError as exc:
            raise RemoteError(f"{self.graph_store_url}: {exc}") from None
        if r.status_code not in (200, 201, 204):
            raise RemoteError(f"{self.graph_store_url}: graph upload refused, HTTP {r.status_code}: "
                              f"{r.text.strip()[:400]}")

    def select_terms(self, sparql: str, graphs: list[str] | None = None) -> list[tuple]:
        """Rows of pyoxigraph terms (None when unbound), the variables in the query's order."""
        body = json.loads(self.request(self._prefixed(sparql), graphs).content)
        names = body["head"]["vars"]
        return [tuple(to_term(row[v]) if v in row else None for v in names) for row in body["results"]["bindings"]]

    def _prefixed(self, sparql: str) -> str:
        return "".join(f"PREFIX {k}: <{v}>\n" for k, v in prefixes(self.iris).items()) + sparql

    # ---------------------------------------------------------------- reading
    def _load(self) -> None:
        rows = self.select_terms(f"SELECT ?p ?o WHERE {{ GRAPH <{self.manifest_graph}> {{ ?s ?p ?o }} }}",
                                 [self.manifest_graph])
        state, docs = None, {}
        for p, o in rows:
            if p.value.endswith("#state"):
                state = json.loads(o.value)
            elif p.value.endswith("#document"):
                d = json.loads(o.value)
                docs[d["stem"]] = d
        self._checked = time.monotonic()
        if state is None:
            return
        if state["base"] != self.iris.base:
            raise StoreError(f"{self.query_url}: the graph was built with base IRI {state['base']}, not "
                             f"{self.iris.base}; rebuild it")
        if state["token"] != self._gen:
            self._manifest = {**{k: v for k, v in state.items() if k != "token"}, "documents": docs}
            self._gen = state["token"]
            self.version += 1

    def refresh(self, *, force: bool = False) -> bool:
        """Re-read the manifest (at most every `refresh_seconds` unless forced); True when it changed."""
        if not force and time.monotonic() - self._checked < self.refresh_seconds:
            return False
        before = self._gen
        self._load()
        return self._gen != before

    def live_graphs(self) -> list[str]:
        """The graphs of the published state: documents', derived (carry-over) and shared ones."""
        return sorted(self._manifest.get("hashes", {}))

    def query(self, sparql: str) -> Result:
        """SELECT / ASK (rdflib Result from the server's JSON) or CONSTRUCT / DESCRIBE (from its Turtle)."""
        r = self.request(self._prefixed(sparql), None, accept=f"{_JSON}, text/turtle;q=0.9")
        if "json" in r.headers.get("content-type", ""):
            import io

            return Result.parse(io.BytesIO(r.content), format="json")
        g = bind_namespaces(Graph())
        g.parse(data=r.content, format="turtle")
        result = Result("CONSTRUCT")
        result.graph = g
        return result

    def select(self, sparql: str) -> list[tuple]:
        return [tuple(py_value(v) for v in row) for row in self.select_terms(sparql)]

    def documents(self) -> list[DocumentRecord]:
        return [DocumentRecord(**d) for _, d in sorted(self._manifest["documents"].items())]

    def counts(self) -> dict[str, int]:
        return dict(self._manifest.get("counts", {}))

    def graph_names(self) -> list[str]:
        return self.live_graphs()

    def quads(self) -> Iterator[ox.Quad]:
        """Every live graph's quads, one CONSTRUCT per graph (the server's result cap must exceed the largest)."""
        for name in self.live_graphs():
            r = self.request(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{name}> {{ ?s ?p ?o }} }}", [name],
                             accept="text/turtle")
            g = ox.NamedNode(name)
            for t in ox.parse(r.content, format=ox.RdfFormat.TURTLE):
                o = t.object
                if isinstance(o, ox.Literal) and o.datatype.value == _XSD_BOOLEAN and o.value in ("1", "0"):
                    o = ox.Literal("true" if o.value == "1" else "false", datatype=o.datatype)
                yield ox.Quad(t.subject, t.predicate, o, g)

    def snapshot(self) -> Store:
        """An in-memory local copy of the live state (export, GraphML, `graph()`): as big as the graph."""
        local = Store(None, base=self.iris.base)
        local._ox.extend(self.quads())
        local._manifest = copy.deepcopy(self._manifest)
        return local

    def graph(self, *names: str, ontology: bool = False) -> Graph:
        return self.snapshot().graph(*names, ontology=ontology)

    def export(self, fmt: str, out: str | Path | None = None) -> bytes | None:
        return self.snapshot().export(fmt, out)

    def close(self) -> None:
        self._http.close()

    # ---------------------------------------------------------------- writing
    @contextlib.contextmanager
    def stage(self, *, fresh: bool = False) -> Iterator[Staged]:
        """Changes staged in the server, published together by `Staged.commit` (see the module's docstring)."""
        self.refresh(force=True)
        self._drop_leftovers()
        live = {} if fresh else dict(self._manifest.get("hashes", {}))
        dataset = StagedDataset(self, live, started=self._gen)
        manifest = {"base": self.iris.base, "documents": {}} if fresh else copy.deepcopy(self._manifest)
        manifest.pop("hashes", None)
        staged = RemoteStaged(self, dataset, manifest)
        try:
            yield staged
        finally:
            if not staged.committed:
                staged.discard()

    build = Store.build
    add_document = Store.add_document
    remove_document = Store.remove_document
    put_graph = Store.put_graph
    put_graphs = Store.put_graphs

    def mirror(self, local: Store) -> int:
        """Make the server hold what a local store holds (the application's writer publishes its checked local
        generation so): graphs whose content hash changed are uploaded, the rest kept; one publish.  The number
        of graphs uploaded."""
        self.refresh(force=True)
        self._drop_leftovers()
        dataset = StagedDataset(self, dict(self._manifest.get("hashes", {})), started=self._gen)
        by_graph: dict[str, list[ox.Quad]] = {}
        for q in local.quads():
            if isinstance(q.graph_name, ox.NamedNode):
                by_graph.setdefault(q.graph_name.value, []).append(q)
        for name in set(dataset.live) - set(by_graph):
            dataset.remove_graph(ox.NamedNode(name))
        changed = [n for n, qs in by_graph.items() if dataset.live.get(n) != graph_hash(qs)]
        for name in changed:
            dataset.remove_graph(ox.NamedNode(name))
            dataset.extend(by_graph[name])
        manifest = copy.deepcopy(local._manifest)
        manifest.pop("hashes", None)
        try:
            self._publish(dataset, manifest)
        except BaseException:
            dataset.abandon()
            raise
        return len(changed)

    def _drop_leftovers(self) -> None:
        """Staging graphs a killed writer left behind (one writer at a time: none of them is in progress)."""
        prefix = f"{self.iris.base}graph/staging/"
        rows = self._raw_select(f'SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), '
                                f'"{prefix}")) }}')
        if names := [r["g"]["value"] for r in rows]:
            log.warning("%s: dropping %d staging graphs a previous write left", self.update_url, len(names))
            self.update(" ;\n".join(f"DROP SILENT GRAPH <{n}>" for n in names))

    def _raw_select(self, sparql: str) -> list[dict]:
        """A query over the server's own default dataset (no graphs named): for housekeeping only."""
        try:
            r = self._http.post(self.query_url, data={"query": sparql}, headers={"Accept": _JSON})
        except httpx.HTTPError as exc:
            raise RemoteError(f"{self.query_url}: {exc}") from None
        if r.status_code != 200:
            raise RemoteError(f"{self.query_url}: HTTP {r.status_code}: {r.text.strip()[:400]}")
        return json.loads(r.content)["results"]["bindings"]

    def _publish(self, dataset: StagedDataset, manifest: dict) -> None:
        """One Update request: staging graphs moved onto their graphs, dropped graphs dropped, a new manifest."""
        dataset.flush()
        self._load()
        if self._gen != dataset.started:
            raise StoreError(f"{self.query_url}: another writer published since this write began; nothing was "
                             f"changed, try again")
        hashes = {**dataset.live, **dataset.hashes}
        ops = []
        for name, target in dataset.targets.items():
            if target is None:
                hashes.pop(name, None)
                ops.append(f"DROP SILENT GRAPH <{name}>")
            else:
                ops.append(f"MOVE SILENT GRAPH <{target}> TO GRAPH <{name}>")
        token = secrets.token_hex(8)
        state = {k: v for k, v in manifest.items() if k != "documents"} | {"hashes": hashes, "token": token}
        triples = [f"<{self.manifest_graph}> <{self.manifest_graph}#state> {ox.Literal(json.dumps(state))} ."]
        triples += [f"<{self.manifest_graph}#{stem}> <{self.manifest_graph}#document> "
                    f"{ox.Literal(json.dumps(d, ensure_ascii=False))} ."
                    for stem, d in sorted(manifest["documents"].items())]
        ops += [f"DROP SILENT GRAPH <{self.manifest_graph}>",
                f"INSERT DATA {{ GRAPH <{self.manifest_graph}> {{\n{chr(10).join(triples)}\n}} }}"]
        self.update(" ;\n".join(ops))
        log.info("published %s: %d graph operations, state %s", self.query_url, len(ops) - 2, token)
        dataset.targets.clear()
        self._checked = 0.0
        self.refresh(force=True)


class StagedDataset:
    """The new state of a remote write, standing in for the `ox.Store` that `Staged` and `refresh_shared` change.

    Only what they call is offered: `remove_graph`, `extend` / `bulk_extend` / `bulk_load` of a
    graph removed first (or new), `query` over the staged dataset, `len`.
    """

    def __init__(self, remote: RemoteStore, live: dict[str, str], started: str | None) -> None:
        self.remote, self.live, self.started = remote, live, started
        self.token = secrets.token_hex(6)
        self.targets: dict[str, str | None] = {}  # graph -> its staging graph, or None: dropped
        self.hashes: dict[str, str] = {}
        self._pending: dict[str, list[ox.Quad]] = {}

    def remove_graph(self, graph: ox.NamedNode) -> None:
        name = graph.value
        if self.targets.get(name):
            self.remote.update(f"DROP SILENT GRAPH <{self.targets[name]}>")
        self.targets[name] = None
        self._pending.pop(name, None)
        self.hashes.pop(name, None)

    def extend(self, quads: Iterable[ox.Quad]) -> None:
        for q in quads:
            name = q.graph_name.value  # type: ignore[union-attr]
            if name not in self._pending:
                if self.targets.get(name) or (name in self.live and name not in self.targets):
                    raise StoreError(f"{name}: a remote store replaces a graph whole; remove it first")
                self.targets[name] = f"{self.remote.iris.base}graph/staging/{self.token}/{len(self.targets)}"
                self._pending[name] = []
            self._pending[name].append(q)

    bulk_extend = extend

    def bulk_load(self, input: Any, format: ox.RdfFormat, **_: Any) -> None:
        """N-Quads as `Staged.build` streams them: parsed here, grouped by graph like `extend`."""
        self.extend(ox.parse(input, format))

    def flush(self) -> None:
        """Upload the pending graphs into their staging graphs: by the Graph Store Protocol when the server has
        one, else by INSERT DATA in chunks (a graph with blank nodes in one request: labels are per request)."""
        for name, quads in self._pending.items():
            digest = graph_hash(quads)
            if self.live.get(name) == digest:  # unchanged (a shared graph recomputed to the same triples)
                del self.targets[name]
                continue
            self.hashes[name] = digest
            target = self.targets[name]
            lines = [f"{q.subject} {q.predicate} {q.object} ." for q in quads]
            if self.remote.graph_store_url:
                self.remote.put_graph_data(target, ("\n".join(lines) + "\n").encode())
                continue
            blank = any(isinstance(t, ox.BlankNode) for q in quads for t in (q.subject, q.object))
            step = len(lines) if blank else _CHUNK
            for i in range(0, len(lines), max(step, 1)):
                self.remote.update(f"INSERT DATA {{ GRAPH <{target}> {{\n" + "\n".join(lines[i:i + step]) + "\n} }")
        self._pending.clear()

    def visible(self) -> list[str]:
        """The staged state's graphs as the server holds them now (staging graphs for replaced ones)."""
        kept = [n for n in self.live if n not in self.targets]
        return sorted(kept + [t for t in self.targets.values() if t])

    def query(self, sparql: str, *, use_default_graph_as_union: bool = True, **_: Any) -> list[tuple]:
        if not use_default_graph_as_union:
            raise StoreError("a staged remote dataset is queried over the union of its graphs only")
        self.flush()
        return self.remote.select_terms(sparql, self.visible())

    def __len__(self) -> int:
        self.flush()
        rows = self.remote.select_terms("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", self.visible())
        return int(rows[0][0].value)

    def abandon(self) -> None:
        """Drop this write's staging graphs (the write failed or was not committed)."""
        self._pending.clear()
        names = [t for t in self.targets.values() if t]
        self.targets.clear()
        if names:
            with contextlib.suppress(StoreError):
                self.remote.update(" ;\n".join(f"DROP SILENT GRAPH <{n}>" for n in names))


class RemoteStaged(Staged):
    """A remote write in progress: the same changes as a local `Staged`, on a `StagedDataset`; no directory."""

    def __init__(self, store: RemoteStore, dataset: StagedDataset, manifest: dict) -> None:
        super().__init__(store, dataset, manifest, None, None)  # type: ignore[arg-type]

    def commit(self, check: Any = None) -> None:
        """Recompute the shared graphs on the server, let `check(None)` refuse, then publish in one request."""
        if self._st is None or self.committed:
            raise StoreError("this staged write is closed")
        dataset: StagedDataset = self._st  # type: ignore[assignment]
        refresh_shared(dataset, self.manifest, self.store.names)  # type: ignore[arg-type]
        if check is not None:
            check(None)
        self.store._publish(dataset, self.manifest)  # type: ignore[attr-defined]
        self._st, self.committed = None, True

    def discard(self) -> None:
        if self._st is not None and not self.committed:
            self._st.abandon()  # type: ignore[attr-defined]
        self._st = None
