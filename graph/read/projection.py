"""A networkx projection of the store: tasks, units, documents, instruments, agencies and typed edges.

RDF is the record; this is the working copy for analysis (GraphML export) and
for tracing on the search hot path: it is built with a handful of SPARQL
queries once per store version and cached, so a trace is a walk over Python
dicts, not a query per hop.  Every edge to an instrument carries its evidence
(document file and line span of the citation that says so); node ids are IRIs.

Units get a `cites` edge for every citation inside their line span (search
ranks units, and a unit mentions what its lines mention, whether the citation
node is attached to the unit, a task inside it or the document).
"""

from __future__ import annotations

import bisect
import io
import re
import weakref
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import networkx as nx

if TYPE_CHECKING:
    from cchc.graph.rdf.store import Store

__all__ = ["EDGE_RELATIONS", "graphml_bytes", "project", "projection"]

EDGE_RELATIONS = ("cites", "implements", "basedOn", "replaces", "amends", "repeals", "guides", "textOf", "appendixOf",
                  "partOf", "leadAgency",
                  "cooperatingAgency", "successorOf", "continues")
_PREFIXES = """PREFIX cchc: <https://w3id.org/cchc/ontology#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX eli: <http://data.europa.eu/eli/ontology#>
"""
_TASKS = _PREFIXES + """SELECT ?n ?file ?line ?end ?section ?no ?content ?source WHERE {
  ?n a cchc:Task ; cchc:partOf ?d ; cchc:content ?content ; cchc:span ?s .
  ?s cchc:startLine ?line ; cchc:endLine ?end . ?d dcterms:source ?file .
  OPTIONAL { ?n cchc:sectionNumber ?section } OPTIONAL { ?n cchc:rowNumber ?no }
  OPTIONAL { ?n cchc:sourceKind ?source } }"""
_UNITS = _PREFIXES + """SELECT ?n ?file ?line ?end ?marker ?content ?heading WHERE {
  ?n a cchc:Unit ; cchc:partOf ?d ; cchc:content ?content ; cchc:span ?s ; cchc:isHeading ?heading .
  ?s cchc:startLine ?line ; cchc:endLine ?end . ?d dcterms:source ?file .
  OPTIONAL { ?n cchc:marker ?marker } }"""
_DOCS = _PREFIXES + """SELECT ?n ?stem ?file ?cls ?title WHERE {
  ?n a ?cls ; dcterms:identifier ?stem ; dcterms:source ?file .
  FILTER (?cls IN (cchc:Plan, cchc:Appendix, cchc:InstrumentText))
  OPTIONAL { ?n dcterms:title ?title } }"""
_INSTRUMENTS = _PREFIXES + """SELECT ?n ?id ?label ?type ?title WHERE {
  GRAPH <{graph}> { ?n dcterms:identifier ?id ; rdfs:label ?label . OPTIONAL { ?n cchc:statedType ?type }
  OPTIONAL { ?n eli:title ?title } } }"""
_AGENCIES = _PREFIXES + """SELECT ?n ?name ?cls WHERE {
  ?n a ?cls ; skos:prefLabel ?name . FILTER (?cls IN (cchc:Agency, cchc:AgencyGroup)) }"""
_EDGES = _PREFIXES + "SELECT DISTINCT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } FILTER (?p IN (" + ", ".join(
    f"cchc:{r}" for r in EDGE_RELATIONS) + ")) }"
_SAME = _PREFIXES + "SELECT ?a ?b WHERE { ?a <http://www.w3.org/2002/07/owl#sameAs> ?b }"
_CITATIONS = _PREFIXES + """SELECT ?g ?c ?i ?by ?role ?parent ?file ?line ?end WHERE { GRAPH ?g {
  ?c a cchc:Citation ; cchc:mentions ?i ; cchc:citedBy ?by ; cchc:span ?s .
  ?s cchc:startLine ?line ; cchc:endLine ?end ; cchc:inDocument/dcterms:source ?file .
  OPTIONAL { ?c cchc:citationRole ?role }
  OPTIONAL { ?c cchc:withinCitation/cchc:mentions ?parent } } }"""
_CCHC = "https://w3id.org/cchc/ontology#"
_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

_cache: weakref.WeakKeyDictionary[Any, tuple[int, nx.MultiDiGraph]] = weakref.WeakKeyDictionary()


def _attrs(**kw: Any) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if v is not None}


def _evidence(ev: tuple[str, int, int] | None) -> dict[str, Any]:
    return {"ev_doc": ev[0], "ev_line": ev[1], "ev_end": ev[2]} if ev else {}


def _nodes(store: Store, g: nx.MultiDiGraph) -> None:
    for n, file, line, end, section, no, content, source in store.select(_TASKS):
        g.add_node(n, **_attrs(kind="task", doc=file, line=line, end_line=end, section=section, no=no,
                               content=content, source=source, label=f"{file}:{section or ''}.{no or ''}"))
    for n, file, line, end, marker, content, heading in store.select(_UNITS):
        g.add_node(n, **_attrs(kind="unit", doc=file, line=line, end_line=end, marker=marker, content=content,
                               is_heading=heading, label=f"{file}:L{line}"))
    for n, stem, file, cls, title in store.select(_DOCS):
        g.add_node(n, **_attrs(kind="document", stem=stem, doc=file, type=cls.rsplit("#", 1)[-1], label=title or stem))
    types: dict[str, set[str]] = defaultdict(set)
    for n, ident, label, typ, title in store.select(_INSTRUMENTS.replace("{graph}", str(store.names.instruments))):
        g.add_node(n, **_attrs(kind="instrument", id=ident, label=label, title=title))
        if typ:
            types[n].add(typ)
    for n, names in types.items():
        if len(names) == 1:
            g.nodes[n]["type"] = next(iter(names))
    for n, name, cls in store.select(_AGENCIES):
        g.add_node(n, kind="agency", label=name, group=cls.endswith("AgencyGroup"))


def project(store: Store) -> nx.MultiDiGraph:
    """Build the projection (a few SPARQL queries); prefer `projection()`, which caches it."""
    g = nx.MultiDiGraph()
    _nodes(store, g)
    role_ev: dict[tuple[str, str, str], tuple[str, int, int]] = {}  # (citing node, relation, instrument)
    nested: dict[tuple[str, str, str], tuple[str, int, int]] = {}  # (graph, enclosing instrument, instrument)
    any_ev: dict[tuple[str, str], tuple[str, int, int]] = {}  # (graph, instrument)
    by_doc: dict[str, list[tuple[int, int, str, tuple[str, int, int]]]] = defaultdict(list)
    stated: dict[tuple[str, str, str], tuple[str, int, int]] = {}  # (graph, relation, instrument): the doc's own
    for gr, _c, inst, by, role, parent, file, line, end in sorted(store.select(_CITATIONS), key=lambda r: r[7]):
        ev = (file, line, end)
        role_ev.setdefault((by, (role or _CCHC + "cites")[len(_CCHC):], inst), ev)
        if role:
            stated.setdefault((gr, role[len(_CCHC):], inst), ev)
        any_ev.setdefault((gr, inst), ev)
        if parent:
            nested.setdefault((gr, parent, inst), ev)
        by_doc[file].append((line, end, inst, ev))
    for gr, s, p, o in store.select(_EDGES):
        rel = p[len(_CCHC):]
        if s not in g or o not in g:
            continue  # targets, deadlines, ...: not part of the projection
        kind = g.nodes[s]["kind"]
        if kind == "unit" and rel == "cites":
            continue  # units: by span containment, below
        if kind == "instrument":  # stated by the instrument's own text, read in a title, or any mention
            ev = stated.get((gr, rel, o)) or nested.get((gr, s, o)) or any_ev.get((gr, o))
        elif rel == "appendixOf":
            ev = role_ev.get((s, "cites", o))
        else:
            ev = role_ev.get((s, rel, o))
        g.add_edge(s, o, key=rel, relation=rel, **_evidence(ev))
    for a, b in store.select(_SAME):  # a law cited by name only and the numbered law of that name
        if a in g and b in g:
            g.add_edge(a, b, key="sameAs", relation="sameAs")
            g.add_edge(b, a, key="sameAs", relation="sameAs")
    _unit_edges(g, by_doc)
    return g


def _unit_edges(g: nx.MultiDiGraph, by_doc: dict[str, list[tuple[int, int, str, tuple[str, int, int]]]]) -> None:
    units: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for n, a in g.nodes(data=True):
        if a.get("kind") == "unit":
            units[a["doc"]].append((a["line"], a["end_line"], n))
    for file, spans in units.items():
        spans.sort()
        starts = [s[0] for s in spans]
        for line, _end, inst, ev in by_doc.get(file, ()):
            i = bisect.bisect_right(starts, line) - 1
            if i >= 0 and line <= spans[i][1] and not g.has_edge(spans[i][2], inst, key="cites"):
                g.add_edge(spans[i][2], inst, key="cites", relation="cites", **_evidence(ev))


def projection(store: Store) -> nx.MultiDiGraph:
    """The projection of the store's current version, built on first use and cached."""
    hit = _cache.get(store)
    if hit is None or hit[0] != store.version:
        hit = _cache[store] = (store.version, project(store))
    return hit[1]


def graphml_bytes(store: Store) -> bytes:
    """GraphML of the projection (text attributes stripped of characters XML cannot hold)."""
    g = projection(store).copy()
    for _, a in g.nodes(data=True):
        for k, v in a.items():
            if isinstance(v, str):
                a[k] = _XML_BAD.sub(" ", v)
    buf = io.BytesIO()
    nx.write_graphml(g, buf)
    return buf.getvalue()
