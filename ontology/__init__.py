"""The CCHC ontology (cchc.ttl), its SHACL shapes (shapes.ttl) and helpers.

Importable with rdflib alone: no torch, and pyshacl is only imported when
`validate` is called.  See README.md in this package for the model, the IRI
scheme, the provenance model and the competency questions.

    from cchc.ontology import CCHC, IRIs, load_ontology, validate
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from cchc.ontology.iris import DEFAULT_BASE, IRIs, fold, segment, slug
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDFS

__all__ = [
    "CCHC",
    "CCHCSH",
    "DCTERMS",
    "DEFAULT_BASE",
    "DOCTYPE",
    "ELI",
    "FIELD",
    "NAMESPACES",
    "ONTOLOGY_IRI",
    "ONTOLOGY_PATH",
    "ORG",
    "PROV",
    "README_PATH",
    "SH",
    "SHAPES_PATH",
    "SKOS",
    "TIME",
    "IRIs",
    "bind_namespaces",
    "field_concept",
    "fold",
    "instrument_class",
    "instrument_type_concept",
    "load_ontology",
    "load_shapes",
    "segment",
    "slug",
    "validate",
]

ONTOLOGY_IRI = URIRef("https://w3id.org/cchc/ontology")

CCHC = Namespace("https://w3id.org/cchc/ontology#")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
ORG = Namespace("http://www.w3.org/ns/org#")
PROV = Namespace("http://www.w3.org/ns/prov#")
TIME = Namespace("http://www.w3.org/2006/time#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
FIELD = Namespace("https://w3id.org/cchc/field/")
DOCTYPE = Namespace("https://w3id.org/cchc/doctype/")
SH = Namespace("http://www.w3.org/ns/shacl#")
CCHCSH = Namespace("https://w3id.org/cchc/shapes#")

NAMESPACES: dict[str, Namespace] = {
    "cchc": CCHC,
    "eli": ELI,
    "org": ORG,
    "prov": PROV,
    "time": TIME,
    "skos": SKOS,
    "dcterms": DCTERMS,
    "field": FIELD,
    "doctype": DOCTYPE,
}

_FILES = resources.files(__name__)
ONTOLOGY_PATH: Traversable = _FILES / "cchc.ttl"
SHAPES_PATH: Traversable = _FILES / "shapes.ttl"
README_PATH: Traversable = _FILES / "README.md"


def bind_namespaces(graph: Graph) -> Graph:
    """Bind the project prefixes on `graph` (returned for chaining)."""
    for prefix, ns in NAMESPACES.items():
        graph.bind(prefix, ns, override=True, replace=True)
    return graph


def _parse(path: Traversable) -> Graph:
    graph = bind_namespaces(Graph())
    graph.parse(data=path.read_text(encoding="utf-8"), format="turtle")
    return graph


def load_ontology() -> Graph:
    """A fresh graph holding the ontology and its SKOS schemes (callers may mutate it)."""
    return _parse(ONTOLOGY_PATH)


def load_shapes() -> Graph:
    """A fresh graph holding the SHACL shapes."""
    graph = _parse(SHAPES_PATH)
    graph.bind("cchcsh", CCHCSH)
    return graph


def validate(data_graph: Graph, *, with_ontology: bool = True, **kwargs: Any) -> tuple[bool, Graph, str]:
    """Validate a data graph against the shapes: `(conforms, report_graph, report_text)`.

    The ontology is mixed into (a copy of) the data graph so that sh:class and
    sh:targetClass follow rdfs:subClassOf; pass with_ontology=False when the
    data graph already contains it.  Extra keyword arguments go to
    pyshacl.validate.
    """
    import pyshacl  # deferred: heavy, and not needed to build or query graphs

    kwargs.setdefault("inference", "none")
    conforms, report, text = pyshacl.validate(
        data_graph,
        shacl_graph=load_shapes(),
        ont_graph=load_ontology() if with_ontology else None,
        **kwargs,
    )
    if not isinstance(report, Graph):  # pyshacl reports its own failures this way
        raise RuntimeError(f"SHACL validation could not run: {report}")
    return bool(conforms), report, str(text)


# --------------------------------------------------------------------------
#  Vocabulary look-ups for the graph builder
# --------------------------------------------------------------------------


def _vi(graph: Graph, subject: URIRef, predicate: URIRef) -> list[str]:
    return [str(o) for o in graph.objects(subject, predicate) if getattr(o, "language", None) == "vi"]


@lru_cache(maxsize=1)
def _vocab() -> tuple[dict[str, URIRef], dict[str, URIRef], dict[str, URIRef]]:
    """(type slug -> class, type slug -> doctype concept, label slug -> field concept)."""
    graph = load_ontology()
    classes: dict[str, URIRef] = {}
    todo = [CCHC.LegalInstrument]
    while todo:
        parent = todo.pop()
        for cls in graph.subjects(RDFS.subClassOf, parent):
            if isinstance(cls, URIRef) and cls not in classes.values():
                for label in _vi(graph, cls, RDFS.label):
                    classes[slug(label)] = cls
                todo.append(cls)
    concepts: dict[str, URIRef] = {}
    for concept in graph.subjects(SKOS.inScheme, CCHC.instrumentTypes):
        for label in _vi(graph, concept, SKOS.prefLabel):
            concepts[slug(label)] = concept  # type: ignore[assignment]
    fields: dict[str, URIRef] = {}
    for concept in graph.subjects(SKOS.inScheme, CCHC.fields):
        for predicate in (SKOS.prefLabel, SKOS.altLabel):
            for label in _vi(graph, concept, predicate):
                fields[slug(label)] = concept  # type: ignore[assignment]
    return classes, concepts, fields


def _longest_prefix(key: str, table: dict[str, URIRef]) -> URIRef | None:
    best = None
    for name, value in table.items():
        if (key == name or key.startswith(name + "-")) and (best is None or len(name) > len(best[0])):
            best = (name, value)
    return best[1] if best else None


def instrument_class(type_label: str | None) -> URIRef:
    """The cchc:LegalInstrument subclass for a type as printed ("Nghị định" -> cchc:NghiDinh).

    Longest match on whole words ("Kế hoạch hành động" -> cchc:KeHoach,
    "Thông tư liên tịch" -> cchc:ThongTuLienTich); cchc:LegalInstrument when
    the type is unknown or missing.
    """
    if not type_label or not type_label.strip():
        return CCHC.LegalInstrument
    try:
        key = slug(type_label)
    except ValueError:
        return CCHC.LegalInstrument
    return _longest_prefix(key, _vocab()[0]) or CCHC.LegalInstrument


def instrument_type_concept(type_label: str | None) -> URIRef | None:
    """The cchc:instrumentTypes concept (value of eli:type_document) for a printed type, else None."""
    if not type_label or not type_label.strip():
        return None
    try:
        return _longest_prefix(slug(type_label), _vocab()[1])
    except ValueError:
        return None


_SECTION_NUMBER = re.compile(r"^\s*(?:[IVXLC]+|\d+(?:\.\d+)*)\s*[.)]?\s+")


@lru_cache(maxsize=1 << 14)  # headings repeat in every task under them
def field_concept(title: str | None) -> URIRef | None:
    """The CCHC field for a section title or heading, else None.

    Accepts appendix section lines ("III CẢI CÁCH THỦ TỤC HÀNH CHÍNH") and
    narrative headings ("2.6. Xây dựng và phát triển Chính quyền điện tử,
    Chính quyền số:"): the leading number is dropped, then the title is
    matched on slugs against the concepts' prefLabel/altLabel, exactly or as
    a whole-word prefix.
    """
    if not title or not title.strip():
        return None
    text = _SECTION_NUMBER.sub("", title, count=1)
    try:
        key = slug(text)
    except ValueError:
        return None
    return _longest_prefix(key, _vocab()[2])
