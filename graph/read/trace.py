"""Which tasks trace back to an instrument, and why: the library function behind search and the API.

A task traces back to instrument X when

* it cites X                                                  -> "cites";
* its plan (the document, or the plan its appendix belongs to) implements
  or is based on X                                            -> "via-plan";
* it cites, or its plan implements / is based on, an instrument Y that
  implements or is based on X, transitively                   -> "via-instrument".

Each hit carries its path, a list of `PathStep(node, relation, evidence)` from
the task to X, where `evidence` is the span of the citation that states the
relation, so an answer can say why.  Narrative units whose lines mention X are
returned too (search ranks units).  The walk runs over the cached networkx
read index (`readindex.py`, the projection saved with the generation): a few
array look-ups per hop, no query per call.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from cchc.graph.extract.reading import fold
from cchc.graph.extract.records import Span
from cchc.graph.extract.references import InstrumentRef, normalise_id, parse_reference
from cchc.graph.read.readindex import ReadIndex, read_index

if TYPE_CHECKING:
    import networkx as nx
    from cchc.graph.rdf.store import Store

__all__ = ["NetworkHit", "PathStep", "TraceHit", "network", "resolve_instruments", "trace", "trace_counts"]

# relations followed from a plan or an instrument towards X: carrying out, resting on, detailing
_CHAIN = ("implements", "basedOn", "guides")
_RANK = {"cites": 0, "via-plan": 1, "via-instrument": 2}


class PathStep(NamedTuple):
    """One hop: `node --relation--> next node`, stated at `evidence` (None for structural hops, and at X)."""

    node: str
    relation: str | None
    evidence: Span | None


@dataclass(frozen=True)
class TraceHit:
    """A task or unit that traces back to `instrument`, with the path that shows why."""

    node: str  # task or unit IRI
    kind: str  # "task" | "unit"
    link: str  # "cites" | "via-plan" | "via-instrument"
    instrument: str  # IRI of the instrument traced to
    instrument_id: str  # its normalised id ("118/2025/NĐ-CP")
    doc: str  # file name, as in extraction records
    line: int
    end_line: int
    section: str | None
    no: str | None
    content: str
    path: tuple[PathStep, ...]
    source: str | None = None  # "table" | "narrative" for tasks

    @property
    def key(self) -> str:
        """The search unit key: "<doc>:<section>.<no>" for table rows, "<doc>:L<line>" otherwise."""
        if self.kind == "task" and self.source == "table":
            return f"{self.doc}:{self.section}.{self.no}"
        return f"{self.doc}:L{self.line}"

    def why(self, labels: dict[str, str] | None = None) -> str:
        """The path in words: "cites 118/2025/NĐ-CP (line 847)", "plan implements 76/NQ-CP (line 11) ..."."""
        labels = {self.instrument: self.instrument_id, **(labels or {})}
        parts = []
        for step, nxt in zip(self.path, self.path[1:], strict=False):
            where = f" ({step.evidence.doc}:{step.evidence.line})" if step.evidence else ""
            parts.append(f"{step.relation} {labels.get(nxt.node, nxt.node.rsplit('/', 1)[-1])}{where}")
        return " -> ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {"node": self.node, "kind": self.kind, "link": self.link, "instrument": self.instrument_id,
                "doc": self.doc, "line": self.line, "end_line": self.end_line, "section": self.section,
                "no": self.no, "key": self.key, "content": self.content,
                "path": [{"node": s.node, "relation": s.relation,
                          "evidence": None if s.evidence is None else {"doc": s.evidence.doc, "line": s.evidence.line,
                                                                       "end_line": s.evidence.end_line}}
                         for s in self.path]}


def _evidence(attrs: dict[str, Any]) -> Span | None:
    return Span(attrs["ev_doc"], attrs["ev_line"], attrs["ev_end"]) if "ev_doc" in attrs else None


def resolve_instruments(store: Store, ref: str | InstrumentRef) -> list[str]:
    """IRIs of the instruments a reference names: an exact normalised id, a loose form ("NĐ 118"), or a name."""
    instruments = list(read_index(store).of_kind("instrument"))
    ids = {n: a["id"] for n, a in instruments}
    if isinstance(ref, InstrumentRef):
        refs = [ref]
    else:
        exact = [n for n, a in instruments if normalise_id(a["id"]) == normalise_id(ref)]
        if exact and any(ch.isdigit() for ch in ref):
            return exact
        refs = parse_reference(ref)
    found = [n for n, a in instruments if any(r.matches(a["id"], a.get("type")) for r in refs)]
    if not found and isinstance(ref, str) and len(fold(ref).strip()) >= 4:
        # by name: the unnumbered mentions, and the numbered law whose name it is ("Luật Ban hành ... số
        # 64/2025/QH15"): one law, whichever way a document cites it
        name = fold(ref).strip()
        found = [n for n, a in instruments if name in fold(a["id"])
                 or (a.get("title") and name == fold(f"{a.get('type') or ''} {a['title']}").strip())]
    return sorted(found, key=lambda n: ids[n])


def _reach(g: ReadIndex | nx.MultiDiGraph, target: str, max_depth: int | None = None) -> dict[str, list[PathStep]]:
    """Instruments from which `target` is reached over implements/basedOn/guides, with the shortest path (BFS).

    The basis network of national instruments has cycles (a law and the decree detailing it cite each
    other): a node is entered once, and `max_depth` bounds the hops between instruments.
    """
    paths = {target: [PathStep(target, None, None)]}
    queue = deque([target])
    while queue:
        cur = queue.popleft()
        if max_depth is not None and len(paths[cur]) > max_depth:
            continue
        for src, _, rel, attrs in g.in_edges(cur, keys=True, data=True):
            if rel in (*_CHAIN, "sameAs") and src not in paths and g.nodes[src].get("kind") == "instrument":
                paths[src] = [PathStep(src, rel, _evidence(attrs)), *paths[cur]]
                queue.append(src)
    return paths


def _candidates(g: ReadIndex, target: str, max_depth: int | None = None
                ) -> Iterable[tuple[int, str, list[PathStep]]]:
    """(node number, link kind, path) for every way a task or unit reaches `target`.

    Walks the read index by node numbers and relation codes (a popular instrument has thousands of citing
    tasks); IRIs are looked up only for the path steps."""
    task, unit, document = g.kind_code("task"), g.kind_code("unit"), g.kind_code("document")
    cites, part_of = g.rel_code("cites"), g.rel_code("partOf")
    plan_rels = {g.rel_code(r) for r in (*_CHAIN, "appendixOf")} - {-1}
    appendix = g.rel_code("appendixOf")
    for inst, tail in _reach(g, target, max_depth).items():
        direct = inst == target
        n = g.index_of(inst)
        if n is None:
            continue
        src, rels, evs = g.in_arrays(n)
        kinds = g.kinds[src]
        for s, rel, kind, ev in zip(src.tolist(), rels.tolist(), kinds.tolist(), evs.tolist(), strict=True):
            span = g.span(ev)
            step_ev = Span(*span) if span else None
            if rel == cites and (kind == task or (kind == unit and direct)):
                yield s, "cites" if direct else "via-instrument", [PathStep(g.iri(s), "cites", step_ev), *tail]
            elif kind == document and rel in plan_rels:
                # the plan node is the document, or for an appendix the plan instrument it belongs to
                via_plan = direct or (rel == appendix and len(tail) == 2)
                doc_step = PathStep(g.iri(s), g.rels[rel], step_ev)
                parts, part_rels, _ = g.in_arrays(s)
                for t in parts[(part_rels == part_of) & (g.kinds[parts] == task)].tolist():
                    yield t, "via-plan" if via_plan else "via-instrument", [
                        PathStep(g.iri(t), "partOf", None), doc_step, *tail]


def trace_counts(store: Store) -> dict[str, tuple[int, int]]:
    """Per instrument IRI: how many tasks trace back to it (`trace`'s task hits) and how many of them cite it.

    The instrument list needs only these counts; tracing each of a national graph's ~10^4 instruments with its
    paths took minutes.  The same walk as `_candidates` and `_reach`, by node numbers, counted by document: the
    plans resting on what an instrument reaches contribute all their tasks (a national resolution is the basis
    of nearly every plan: 1.6 * 10^5 tasks at 200k), and only citing tasks outside those plans are counted one
    by one."""
    g = read_index(store)
    task, document, instrument = g.kind_code("task"), g.kind_code("document"), g.kind_code("instrument")
    cites, part_of = g.rel_code("cites"), g.rel_code("partOf")
    plan_rels = np.array(sorted({g.rel_code(r) for r in (*_CHAIN, "appendixOf")} - {-1}), dtype=np.int64)
    chain = np.array(sorted({g.rel_code(r) for r in (*_CHAIN, "sameAs")} - {-1}), dtype=np.int64)
    task_doc = np.full(len(g), -1, dtype=np.int64)  # a task's document node
    doc_tasks = np.zeros(len(g), dtype=np.int64)  # a document's number of tasks
    for d in np.flatnonzero(g.kinds == document).tolist():
        src, rels, _ = g.in_arrays(d)
        mine = src[(rels == part_of) & (g.kinds[src] == task)]
        task_doc[mine] = d
        doc_tasks[d] = len(np.unique(mine))
    own: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # instrument -> (citing tasks, plans resting on it)
    above: dict[int, np.ndarray] = {}  # instrument -> instruments chained to it
    for n in np.flatnonzero(g.kinds == instrument).tolist():
        src, rels, _ = g.in_arrays(n)
        src, rels = src.astype(np.int64), rels.astype(np.int64)
        kinds = g.kinds[src]
        own[n] = (src[(rels == cites) & (kinds == task)], src[(kinds == document) & np.isin(rels, plan_rels)])
        above[n] = src[(kinds == instrument) & np.isin(rels, chain)]
    out: dict[str, tuple[int, int]] = {}
    for n in own:
        seen, queue = {n}, [n]
        while queue:
            cur = queue.pop()
            for m in above[cur].tolist():
                if m not in seen:
                    seen.add(m)
                    queue.append(m)
        docs = np.unique(np.concatenate([own[m][1] for m in seen]))
        citing = np.unique(np.concatenate([own[m][0] for m in seen]))
        outside = citing[~np.isin(task_doc[citing], docs)]
        out[g.iri(n)] = (int(doc_tasks[docs].sum()) + len(outside), len(np.unique(own[n][0])))
    return out


def trace(store: Store, instrument: str | InstrumentRef, max_depth: int | None = None) -> list[TraceHit]:
    """Tasks (and units mentioning it) that trace back to the instrument(s) named, direct links first.

    Accepts a normalised id ("76/NQ-CP"), a loose user form ("NĐ 118", "nghi quyet 76"), a law's name
    or an `InstrumentRef`; when several instruments match, each task appears once, with its best link.
    `max_depth` bounds the instrument-to-instrument hops of a path (None: no bound).
    """
    g = read_index(store)
    best: dict[int, tuple[tuple[int, int], str, str, list[PathStep]]] = {}
    for target in resolve_instruments(store, instrument):
        for node, link, path in _candidates(g, target, max_depth):
            rank = (_RANK[link], len(path))
            if node not in best or rank < best[node][0]:
                best[node] = (rank, link, target, path)
    attrs = {n: g.row(n) for n in best}
    task_starts = {(a["doc"], a["line"]) for a in attrs.values() if a["kind"] == "task"}
    ids = {t: g.nodes[t]["id"] for t in {b[2] for b in best.values()}}
    hits = []
    for node, (_, link, target, path) in best.items():
        a = attrs[node]
        if a["kind"] == "unit" and (a["doc"], a["line"]) in task_starts:
            continue  # the unit opening a narrative task's block: the task hit says it all
        hits.append(TraceHit(g.iri(node), a["kind"], link, target, ids[target], a["doc"], a["line"],
                             a["end_line"], a.get("section"), a.get("no"), a["content"], tuple(path), a.get("source")))
    hits.sort(key=lambda h: (_RANK[h.link], h.kind != "task", h.doc, h.line))
    return hits


@dataclass(frozen=True)
class NetworkHit:
    """An instrument that rests on `instrument` through the basis network, with the path that shows how."""

    node: str
    instrument_id: str
    instrument: str  # IRI of the instrument traced to
    path: tuple[PathStep, ...]

    def why(self, g: ReadIndex) -> str:
        """"14/NQ-CP basedOn 78/2025/NĐ-CP (14-2026-nq-cp.md:44) -> guides 64/2025/QH15 (...)"."""
        parts = [g.nodes[self.node]["id"]]
        for step, nxt in zip(self.path, self.path[1:], strict=False):
            where = f" ({step.evidence.doc}:{step.evidence.line})" if step.evidence else ""
            parts.append(f"{step.relation} {g.nodes[nxt.node]['id']}{where}")
        return " -> ".join(parts)


def network(store: Store, instrument: str | InstrumentRef, max_depth: int | None = 3) -> list[NetworkHit]:
    """Instruments that implement, rest on or detail the instrument(s) named, directly or through others.

    The walk follows implements / basedOn / guides edges backwards from the instrument (breadth first, so
    each instrument comes with its shortest path; cycles end there); nearest first.
    """
    g = read_index(store)
    best: dict[str, NetworkHit] = {}
    for target in resolve_instruments(store, instrument):
        for node, path in _reach(g, target, max_depth).items():
            if all(step.relation in ("sameAs", None) for step in path):
                continue  # the instrument itself under another name
            if node not in best or len(path) < len(best[node].path):
                best[node] = NetworkHit(node, g.nodes[node]["id"], target, tuple(path))
    return sorted(best.values(), key=lambda h: (len(h.path), h.instrument_id))
