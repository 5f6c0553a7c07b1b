"""Triples for carry-over links: `cchc:continues` with its reified `cchc:CarryOver` node.

The matcher (cchc.search.carryover) decides which task of a later plan
continues which task of an earlier plan; only graph writes triples, so the
links come here as plain records (the `GET /carryover` JSON pairs) and leave
as RDF, one named graph per plan pair (`<base>graph/carryover/<earlier-stem>
--<later-stem>`), so that replacing one document means replacing only the
carry-over graphs that name it.

For every link, as the ontology's provenance model requires (README,
"Provenance model", item 3):

    <later task> cchc:continues <earlier task> .
    <carryover/<later key>/<earlier key>> a cchc:CarryOver ;
        cchc:laterTask <later task> ; cchc:earlierTask <earlier task> ;
        cchc:score 0.91 ; cchc:reason "text 0.91" , "same lead: Sở Nội vụ" ;
        cchc:span <span of the later task> , <span of the earlier task> ;
        prov:wasDerivedFrom <later task> , <earlier task> .

The link is evidenced by the two tasks' source lines, so the CarryOver node
points at both spans (the same span IRIs the document graphs give the tasks).
Task and span nodes themselves belong to the document graphs and are not
repeated here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from cchc.ontology import CCHC, PROV, IRIs, bind_namespaces, segment
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

__all__ = ["CARRYOVER_GRAPH_PATH", "carryover_graph", "carryover_graph_docs", "carryover_graph_name",
           "carryover_graphs", "pairs_from_graph"]

CARRYOVER_GRAPH_PATH = "graph/carryover/"


def _record(pair: Any) -> Mapping[str, Any]:
    """A pair as its JSON record (accepts the record itself or any object with `to_json()`)."""
    return pair.to_json() if hasattr(pair, "to_json") else pair


def _stem(doc: str) -> str:
    return PurePath(doc).stem


def _task(iris: IRIs, ref: Mapping[str, Any]) -> URIRef:
    return iris.task(_stem(ref["doc"]), ref.get("section"), ref.get("no"), ref.get("line"))


def _span(iris: IRIs, ref: Mapping[str, Any]) -> URIRef | None:
    line = ref.get("line")
    if line is None:
        return None
    return iris.span(_stem(ref["doc"]), int(line), int(ref.get("end_line") or line))


def carryover_graph_name(iris: IRIs, earlier_doc: str, later_doc: str) -> URIRef:
    """The named graph holding one plan pair's links: <base>graph/carryover/<earlier-stem>--<later-stem>."""
    return URIRef(f"{iris.base}{CARRYOVER_GRAPH_PATH}{segment(_stem(earlier_doc))}--{segment(_stem(later_doc))}")


def carryover_graph_docs(name: URIRef | str, iris: IRIs | None = None) -> tuple[str, str] | None:
    """(earlier stem, later stem) of a carry-over graph name, None for any other graph.

    Lets the store find the carry-over graphs to drop when a document is replaced.
    """
    prefix = (iris or IRIs()).base + CARRYOVER_GRAPH_PATH
    text = str(name)
    if not text.startswith(prefix) or "--" not in text[len(prefix):]:
        return None
    earlier, later = text[len(prefix):].split("--", 1)
    return earlier, later


def _add(graph: Graph, iris: IRIs, rec: Mapping[str, Any]) -> None:
    later, earlier = _task(iris, rec["to"]), _task(iris, rec["from"])
    node = iris.carry_over(later, earlier)
    graph.add((later, CCHC.continues, earlier))
    graph.add((node, RDF.type, CCHC.CarryOver))
    graph.add((node, CCHC.laterTask, later))
    graph.add((node, CCHC.earlierTask, earlier))
    graph.add((node, CCHC.score, Literal(Decimal(str(round(float(rec["score"]), 4))), datatype=XSD.decimal)))
    for reason in rec.get("reasons", ()):
        graph.add((node, CCHC.reason, Literal(str(reason), datatype=XSD.string)))
    for ref, task in ((rec["to"], later), (rec["from"], earlier)):
        span = _span(iris, ref)
        if span is not None:
            graph.add((node, CCHC.span, span))
        graph.add((node, PROV.wasDerivedFrom, task))


def carryover_graph(pairs: Iterable[Any], iris: IRIs | None = None) -> Graph:
    """All the given links in one graph (pass one plan pair's links to fill its named graph)."""
    iris = iris or IRIs()
    graph = bind_namespaces(Graph())
    for pair in pairs:
        _add(graph, iris, _record(pair))
    return graph


def carryover_graphs(pairs: Iterable[Any], iris: IRIs | None = None) -> dict[URIRef, Graph]:
    """The links grouped into one graph per plan pair, keyed by the named graph's IRI."""
    iris = iris or IRIs()
    groups: dict[URIRef, list[Mapping[str, Any]]] = {}
    for pair in pairs:
        rec = _record(pair)
        groups.setdefault(carryover_graph_name(iris, rec["from"]["doc"], rec["to"]["doc"]), []).append(rec)
    return {name: carryover_graph(recs, iris) for name, recs in groups.items()}


_TASK_KEY = re.compile(r"^(?P<stem>[^/]+)/(?:L(?P<line>\d+)|(?P<section>[^-/]+)-(?P<no>[^/]+))$")
_SPAN_KEY = re.compile(r"^(?P<stem>[^/]+)/L(?P<start>\d+)-(?P<end>\d+)$")


def _ref(graph: Graph, iris: IRIs, task: URIRef, spans: list[URIRef], suffix: str) -> dict[str, Any]:
    """A task reference from the graph: its own triples when present, else what its IRI says."""
    key = str(task)[len(iris.base + "task/"):]
    m = _TASK_KEY.match(key)
    if not m:
        raise ValueError(f"not a task IRI under {iris.base}: {task}")
    section = graph.value(task, CCHC.sectionNumber)
    no = graph.value(task, CCHC.rowNumber)
    ref: dict[str, Any] = {"doc": m.group("stem") + suffix,
                           "section": str(section) if section is not None else m.group("section"),
                           "no": str(no) if no is not None else m.group("no"),
                           "line": int(m.group("line")) if m.group("line") else None}
    for span in spans:
        s = _SPAN_KEY.match(str(span)[len(iris.base + "span/"):])
        if s and s.group("stem") == m.group("stem"):
            ref["line"], ref["end_line"] = int(s.group("start")), int(s.group("end"))
    return ref


def pairs_from_graph(graph: Graph, iris: IRIs | None = None, *, suffix: str = ".txt") -> list[dict[str, Any]]:
    """The links of a graph back as `GET /carryover` records (from = earlier), best score first.

    Documents are named by file stem in the graph; `suffix` turns a stem back
    into the file name the contract uses (the corpus is `.txt` files).
    """
    iris = iris or IRIs()
    out = []
    for node in graph.subjects(RDF.type, CCHC.CarryOver):
        later, earlier = graph.value(node, CCHC.laterTask), graph.value(node, CCHC.earlierTask)
        if not isinstance(later, URIRef) or not isinstance(earlier, URIRef):
            continue
        spans = [s for s in graph.objects(node, CCHC.span) if isinstance(s, URIRef)]
        score = graph.value(node, CCHC.score)
        out.append({"from": _ref(graph, iris, earlier, spans, suffix), "to": _ref(graph, iris, later, spans, suffix),
                    "score": float(score.toPython()) if score is not None else None,
                    "reasons": sorted(str(r) for r in graph.objects(node, CCHC.reason))})
    out.sort(key=lambda p: (-(p["score"] or 0.0), p["from"]["doc"], p["to"]["doc"], p["to"]["line"] or 0))
    return out
