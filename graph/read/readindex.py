"""The projection kept on disk with each generation, read by memory map: trace and views at national size.

Why: the networkx projection (`projection.project`) is built with SPARQL from
the whole store.  At ten thousand tasks that is 6 s and ~200 MB at every start;
at two hundred thousand it would be minutes and gigabytes, and the server's
start, the trace behind every citation query and the instrument pages all
waited on it.  A generation is never written after it is published, so its
projection can be computed once, when the generation is committed, and saved
beside it: numpy columns (node kind, document, lines; edges by source and by
target) and one JSON line of attributes per node, parsed only for the nodes an
answer shows.  Opening it costs milliseconds whatever the size.

The semantics stay those of `projection.project` (the same node attributes,
edges and evidence), so `to_networkx()` gives back that graph exactly; the
analysis tables, the figures and GraphML still work on it at small sizes.
A store with no saved index (in memory, remote, or a generation written
before this) gets one built in memory on first use, cached per store version.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import networkx as nx
    from cchc.graph.rdf.store import Store

__all__ = ["READ_DIR", "ReadIndex", "read_index", "save_with_generation", "write_read_index"]

log = logging.getLogger(__name__)
READ_DIR = "read"
_FORMAT = 2
_KINDS = ("task", "unit", "document", "instrument", "agency", "other")
_EV_KEYS = ("ev_doc", "ev_line", "ev_end")
_cache: weakref.WeakKeyDictionary[Any, tuple[int, ReadIndex]] = weakref.WeakKeyDictionary()


def _hash(iri: str) -> int:
    return int.from_bytes(hashlib.blake2b(iri.encode(), digest_size=8).digest(), "little") >> 1


class ReadIndex:
    """Nodes and typed edges of the projection, with the look-ups the trace and the views make.

    The calls mirror networkx's where the read side used them (`in g`, `nodes[iri]`, `in_edges`,
    `out_edges`), so a walk reads the same on both; kinds, documents and lines come from columns
    without parsing a node's attributes.
    """

    def __init__(self, cols: dict[str, np.ndarray], rows: bytes | np.memmap, meta: dict[str, Any]) -> None:
        # plain ndarray views of the memory maps: numpy's memmap subclass costs microseconds per element read
        self._c = {k: v.view(np.ndarray) for k, v in cols.items()}
        self._rows, self.meta = rows, meta
        self.rels: list[str] = meta["relations"]
        self.files: list[str] = meta["files"]
        self.kinds: np.ndarray = self._c["kind"]
        self._file_no = {f: i for i, f in enumerate(self.files)}
        self._attrs = functools.lru_cache(maxsize=65536)(self._parse)
        self.iri = functools.lru_cache(maxsize=262144)(self._iri)

    # ---------------------------------------------------------------- building
    @classmethod
    def from_graph(cls, g: nx.MultiDiGraph) -> ReadIndex:
        """The index of a networkx projection (nodes in kind, document, line order)."""
        kind_no = {k: i for i, k in enumerate(_KINDS)}
        nodes = sorted(g.nodes(data=True), key=lambda na: (kind_no.get(na[1].get("kind"), 5), str(na[1].get("doc", "")),
                                                             na[1].get("line", 0), na[0]))
        files = sorted({str(a["doc"]) for _, a in nodes if a.get("doc")} | {
            str(a["ev_doc"]) for _, _, a in g.edges(data=True) if "ev_doc" in a})
        file_no = {f: i for i, f in enumerate(files)}
        pos = {n: i for i, (n, _) in enumerate(nodes)}
        lines, offsets = [], [0]
        for _, a in nodes:
            lines.append(json.dumps(a, ensure_ascii=False).encode() + b"\n")
            offsets.append(offsets[-1] + len(lines[-1]))
        iris = [n.encode() for n, _ in nodes]
        iri_offsets = np.concatenate([[0], np.cumsum([len(b) for b in iris], dtype=np.int64)]).astype(np.int64)
        rels = sorted({k for _, _, k in g.edges(keys=True)})
        rel_no = {r: i for i, r in enumerate(rels)}
        edges = sorted(((pos[s], pos[d], rel_no[k], file_no[a["ev_doc"]] if "ev_doc" in a else -1,
                         a.get("ev_line", 0), a.get("ev_end", 0)) for s, d, k, a in g.edges(keys=True, data=True)))
        e = np.array(edges, dtype=np.int64).reshape(-1, 6)
        hashes = np.array([_hash(n) for n, _ in nodes], dtype=np.int64)
        by_hash = np.argsort(hashes, kind="stable").astype(np.int32)
        n_nodes = len(nodes)
        by_dst = np.lexsort((e[:, 0], e[:, 1])).astype(np.int32) if len(e) else np.zeros(0, np.int32)
        cols = {
            "kind": np.array([kind_no.get(a.get("kind"), 5) for _, a in nodes], dtype=np.uint8),
            "doc": np.array([file_no[a["doc"]] if a.get("doc") else -1 for _, a in nodes], dtype=np.int32),
            "line": np.array([a.get("line") or 0 for _, a in nodes], dtype=np.int32),
            "end": np.array([a.get("end_line") or 0 for _, a in nodes], dtype=np.int32),
            "offsets": np.array(offsets, dtype=np.int64), "iri_offsets": iri_offsets,
            "iris": np.frombuffer(b"".join(iris), dtype=np.uint8),
            "hash": hashes[by_hash], "by_hash": by_hash,
            "e_src": e[:, 0].astype(np.int32), "e_dst": e[:, 1].astype(np.int32), "e_rel": e[:, 2].astype(np.uint8),
            "e_ev": e[:, 3:6].astype(np.int32),
            "out_ptr": np.searchsorted(e[:, 0], np.arange(n_nodes + 1)).astype(np.int64),
            "by_dst": by_dst,
            "in_ptr": np.searchsorted(e[by_dst, 1], np.arange(n_nodes + 1)).astype(np.int64),
        }
        meta = {"format": _FORMAT, "relations": rels, "files": files, "nodes": n_nodes, "edges": len(e),
                "counts": {k: int(np.count_nonzero(cols["kind"] == i)) for i, k in enumerate(_KINDS)}}
        return cls(cols, b"".join(lines), meta)

    def save(self, path: Path) -> None:
        """Write into `path` (a generation being staged: published, with it, by rename)."""
        path.mkdir(parents=True, exist_ok=True)
        for name, arr in self._c.items():
            np.save(path / f"{name}.npy", arr)
        (path / "nodes.jsonl").write_bytes(bytes(self._rows))
        (path / "manifest.json").write_text(json.dumps(self.meta, ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, path: Path) -> ReadIndex:
        meta = json.loads((path / "manifest.json").read_text("utf-8"))
        cols = {p.stem: np.load(p, mmap_mode="r") for p in path.glob("*.npy")}
        size = (path / "nodes.jsonl").stat().st_size
        rows = np.memmap(path / "nodes.jsonl", mode="r") if size else b""
        return cls(cols, rows, meta)

    # ---------------------------------------------------------------- nodes
    def __len__(self) -> int:
        return int(self.meta["nodes"])

    def index_of(self, iri: str) -> int | None:
        h, key = self._c["hash"], _hash(iri)
        i = int(np.searchsorted(h, key))
        while i < len(h) and int(h[i]) == key:
            n = int(self._c["by_hash"][i])
            if self.iri(n) == iri:
                return n
            i += 1
        return None

    def __contains__(self, iri: object) -> bool:
        return isinstance(iri, str) and self.index_of(iri) is not None

    def _parse(self, n: int) -> dict[str, Any]:
        o = self._c["offsets"]
        return json.loads(bytes(self._rows[int(o[n]):int(o[n + 1])]))

    def _iri(self, n: int) -> str:
        o = self._c["iri_offsets"]
        return bytes(self._c["iris"][int(o[n]):int(o[n + 1])]).decode()

    def attrs(self, n: int) -> dict[str, Any]:
        """The node's attributes as the networkx projection has them (a copy: callers may change it)."""
        return dict(self._attrs(n))

    def row(self, n: int) -> dict[str, Any]:
        """`attrs` without the copy, for walks that only read (the dict is shared: do not change it)."""
        return self._attrs(n)

    def kind_code(self, kind: str) -> int:
        return _KINDS.index(kind)

    @property
    def nodes(self) -> _Nodes:
        return _Nodes(self)

    def kind(self, iri: str) -> str | None:
        n = self.index_of(iri)
        return None if n is None else _KINDS[int(self._c["kind"][n])]

    def of_kind(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """(iri, attrs) of every node of a kind, in document and line order."""
        k = np.flatnonzero(self._c["kind"] == _KINDS.index(kind))
        for n in k.tolist():
            yield self.iri(n), self.attrs(n)

    def task_at(self, file: str, line: int) -> int | None:
        """The task starting on `line` of `file`, else the last one whose lines contain it (node number).

        Tasks are stored by document and line, so this is two binary searches, not a scan."""
        if file not in self._file_no:
            return None
        kinds, docs = self.kinds, self._c["doc"]
        lo, hi = np.searchsorted(kinds, _KINDS.index("task"), "left"), np.searchsorted(kinds, _KINDS.index("task"),
                                                                                        "right")
        f = self._file_no[file]
        a = int(lo + np.searchsorted(docs[lo:hi], f, "left"))
        b = int(lo + np.searchsorted(docs[lo:hi], f, "right"))
        lines, ends = self._c["line"][a:b], self._c["end"][a:b]
        exact = np.flatnonzero(lines == line)
        if len(exact):
            return a + int(exact[0])
        inside = np.flatnonzero((lines <= line) & (line <= ends))
        return a + int(inside[-1]) if len(inside) else None

    def count(self, kind: str) -> int:
        return int(np.count_nonzero(self._c["kind"] == _KINDS.index(kind)))

    # ---------------------------------------------------------------- edges
    def rel_code(self, rel: str) -> int:
        """The code of a relation in this index (-1 when no edge has it)."""
        return self.rels.index(rel) if rel in self.rels else -1

    def in_arrays(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sources, relation codes, evidence rows [file no, line, end]) of the edges into node `n`."""
        p = self._c["in_ptr"]
        es = self._c["by_dst"][int(p[n]):int(p[n + 1])]
        return self._c["e_src"][es], self._c["e_rel"][es], self._c["e_ev"][es]

    def span(self, ev: list[int] | tuple[int, ...]) -> tuple[str, int, int] | None:
        """An evidence row as (file, line, end), None for an edge without evidence."""
        return None if ev[0] < 0 else (self.files[ev[0]], int(ev[1]), int(ev[2]))

    def _edge_attrs(self, e: int) -> dict[str, Any]:
        rel = self.rels[int(self._c["e_rel"][e])]
        ev = self._c["e_ev"][e]
        out: dict[str, Any] = {"relation": rel}
        if int(ev[0]) >= 0:
            out.update(zip(_EV_KEYS, (self.files[int(ev[0])], int(ev[1]), int(ev[2])), strict=True))
        return out

    def in_edges(self, iri: str, keys: bool = True, data: bool = True) -> list[tuple[str, str, str, dict[str, Any]]]:
        """(source, target, relation, attrs) of the edges into `iri` (networkx's `in_edges(keys, data)`)."""
        n = self.index_of(iri)
        if n is None:
            return []
        p = self._c["in_ptr"]
        es = self._c["by_dst"][int(p[n]):int(p[n + 1])].tolist()
        return [(self.iri(int(self._c["e_src"][e])), iri, self.rels[int(self._c["e_rel"][e])], self._edge_attrs(e))
                for e in es]

    def out_edges(self, iri: str, keys: bool = True, data: bool = True) -> list[tuple[str, str, str, dict[str, Any]]]:
        n = self.index_of(iri)
        if n is None:
            return []
        p = self._c["out_ptr"]
        return [(iri, self.iri(int(self._c["e_dst"][e])), self.rels[int(self._c["e_rel"][e])], self._edge_attrs(e))
                for e in range(int(p[n]), int(p[n + 1]))]

    def to_networkx(self) -> nx.MultiDiGraph:
        """The projection as a networkx graph (analysis, figures, GraphML)."""
        import networkx as nx

        g = nx.MultiDiGraph()
        for n in range(len(self)):
            g.add_node(self.iri(n), **self.attrs(n))
        for e in range(int(self.meta["edges"])):
            a = self._edge_attrs(e)
            g.add_edge(self.iri(int(self._c["e_src"][e])), self.iri(int(self._c["e_dst"][e])), key=a["relation"], **a)
        return g


class _Nodes:
    """`index.nodes[iri]` / `.get(iri)`, as on a networkx graph."""

    def __init__(self, index: ReadIndex) -> None:
        self._i = index

    def __getitem__(self, iri: str) -> dict[str, Any]:
        n = self._i.index_of(iri)
        if n is None:
            raise KeyError(iri)
        return self._i.attrs(n)

    def get(self, iri: str, default: Any = None) -> Any:
        n = self._i.index_of(iri)
        return default if n is None else self._i.attrs(n)

    def __contains__(self, iri: object) -> bool:
        return iri in self._i


def write_read_index(store: Any, path: Path) -> ReadIndex:
    """Compute the projection of a staged generation's graph and save it under `path` (see the module doc)."""
    from cchc.graph.read.projection import project

    t0 = time.perf_counter()
    index = ReadIndex.from_graph(project(store))
    index.save(path)
    log.info("read index: %d nodes, %d edges in %.1fs", index.meta["nodes"], index.meta["edges"],
             time.perf_counter() - t0)
    return index


def save_with_generation(staged: Any, generation: Path) -> None:
    """`Store.open(..., derive=save_with_generation)`: every generation the store publishes carries its index."""
    write_read_index(staged, generation / READ_DIR)


def _saved_format(path: Path) -> int | None:
    try:
        return json.loads((path / "manifest.json").read_text("utf-8")).get("format")
    except (OSError, ValueError):
        return None


def read_index(store: Store) -> ReadIndex:
    """The read index of the store's current version: the generation's saved one, else built and cached."""
    hit = _cache.get(store)
    if hit is not None and hit[0] == store.version:
        return hit[1]
    saved = store.generation_path() / READ_DIR if getattr(store, "generation_path", None) and \
        store.generation_path() is not None else None
    if saved is not None and _saved_format(saved) == _FORMAT:
        index = ReadIndex.load(saved)
    else:
        from cchc.graph.read.projection import project

        index = ReadIndex.from_graph(project(store))
    _cache[store] = (store.version, index)
    return index
