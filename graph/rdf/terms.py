"""RDF plumbing shared by the graph builder, the store and the projection.

The shared graphs and derived graphs are plain `(s, p, o)` tuples of rdflib
terms, so the same code feeds an rdflib `Graph` (tests, SHACL) and the Oxigraph
store (as pyoxigraph quads, much faster than rdflib's per-triple `add`); the
document builder writes the same terms as N-Triples text (nquads.py).  Literal
helpers pin the lexical forms to what Oxigraph stores (explicit xsd:string,
canonical decimals), so a graph read back from the store equals the one built.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import pyoxigraph as ox
from cchc.ontology import NAMESPACES, IRIs, bind_namespaces
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD

Triple = tuple[URIRef, URIRef, URIRef | Literal]
_XSD_STRING = str(XSD.string)

__all__ = [
    "GraphNames", "Triple", "bool_", "date_", "decimal_", "from_ox", "int_", "plain_literals", "prefixes", "py_value",
    "string", "text_vi", "to_graph", "to_quads",
]


@dataclass(frozen=True)
class GraphNames:
    """Named-graph IRIs: one per source document, plus the shared graphs.

    A document's graph can be replaced or dropped alone; instruments (merged
    across documents), agencies (from the registry) and the ontology live in
    their own graphs.
    """

    iris: IRIs

    @property
    def base(self) -> str:
        return self.iris.base

    def doc(self, stem: str) -> URIRef:
        return URIRef(f"{self.base}graph/doc/{self.iris.doc(stem).rsplit('/', 1)[1]}")

    @property
    def instruments(self) -> URIRef:
        return URIRef(f"{self.base}graph/instruments")

    @property
    def agencies(self) -> URIRef:
        return URIRef(f"{self.base}graph/agencies")

    @property
    def ontology(self) -> URIRef:
        return URIRef(f"{self.base}graph/ontology")


def string(value: str) -> Literal:
    """Text copied from a source: an RDF 1.1 simple literal (= xsd:string; Oxigraph stores it so)."""
    return Literal(value)


def text_vi(value: str) -> Literal:
    """A name meant for people (labels, titles): @vi."""
    return Literal(value, lang="vi")


def int_(value: int) -> Literal:
    return Literal(str(int(value)), datatype=XSD.integer)


def bool_(value: bool) -> Literal:
    return Literal("true" if value else "false", datatype=XSD.boolean)


def date_(iso: str) -> Literal:
    return Literal(iso, datatype=XSD.date)


def decimal_(value: float) -> Literal:
    """Canonical xsd:decimal lexical form ("95", "95.5"), as Oxigraph stores it."""
    d = Decimal(repr(float(value)))
    text = str(int(d)) if d == d.to_integral_value() else format(d.normalize(), "f")
    return Literal(text, datatype=XSD.decimal)


def prefixes(iris: IRIs) -> dict[str, str]:
    """Prefixes for serialisations and queries: the vocabulary plus readable base-relative ones."""
    out = {p: str(ns) for p, ns in NAMESPACES.items()}
    for name in ("doc", "task", "instrument", "agency", "citation", "span", "unit", "target", "deadline"):
        out[name] = f"{iris.base}{name}/"
    return out


def _ox_term(term: URIRef | Literal | BNode) -> ox.NamedNode | ox.Literal | ox.BlankNode:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or XSD.string)))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def py_value(term: ox.NamedNode | ox.Literal | ox.BlankNode | None) -> object:
    """A query result term as plain Python: IRIs and strings as str, integers as int, booleans as bool."""
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        kind = term.datatype.value.rsplit("#", 1)[-1]
        return int(term.value) if kind == "integer" else term.value == "true" if kind == "boolean" else term.value
    return term.value


def to_quads(triples: Iterable[Triple], graph: URIRef) -> list[ox.Quad]:
    """pyoxigraph quads of `triples` in the named graph `graph` (IRIs and literals converted once each)."""
    g = ox.NamedNode(str(graph))
    cache: dict[object, object] = {}

    def conv(t):
        hit = cache.get(t)
        if hit is None:
            hit = cache[t] = _ox_term(t)
        return hit

    return [ox.Quad(conv(s), conv(p), conv(o), g) for s, p, o in triples]


def from_ox(term: ox.NamedNode | ox.Literal | ox.BlankNode) -> URIRef | Literal | BNode:
    """The rdflib term for an Oxigraph one; xsd:string literals come back as simple literals."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return Literal(term.value) if datatype == _XSD_STRING else Literal(term.value, datatype=URIRef(datatype))
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    raise TypeError(f"not an RDF term: {term!r}")


def plain_literals(triple: tuple) -> tuple:
    """The triple with explicit xsd:string literals as simple ones (how rdflib parses and prints them)."""
    return tuple(Literal(str(t)) if isinstance(t, Literal) and str(t.datatype) == _XSD_STRING else t for t in triple)


def to_graph(triples: Iterable[Triple], identifier: URIRef | None = None) -> Graph:
    """An rdflib Graph holding `triples`, with the project prefixes bound."""
    graph = bind_namespaces(Graph(identifier=identifier))
    for t in triples:
        graph.add(t)
    return graph
