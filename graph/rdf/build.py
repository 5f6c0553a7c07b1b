"""One source document's extraction -> the triples of its named graph.

Everything here is a pure function of the extraction (and the manifest entry),
so the same input always gives the same triples: IRIs come from
`cchc.ontology.IRIs`, never from blank nodes or counters that depend on other
documents.  The provenance model of the ontology is applied to every fact:
tasks, citations, units and targets get `cchc:span` -> `cchc:SourceSpan` and
`prov:wasDerivedFrom` -> the document; every link to an instrument is backed
by a reified `cchc:Citation` (its `cchc:citationRole` says which relation it
evidences).  Instruments are only *mentioned* here: their merged metadata is
computed across documents in `shared.py`.

Triples are written as N-Triples text (`nquads.py`), the form the store's bulk
loader reads: rdflib terms made per triple were most of a build's time.
`DocumentGraph.triples` gives them back as rdflib terms.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cchc.graph.corpus import DocumentInfo
from cchc.graph.extract.deadlines import parse_deadline
from cchc.graph.extract.reading import fold
from cchc.graph.extract.records import Deadline, Extraction, Identity, Span, Task
from cchc.graph.extract.relations import Relation, find_relations
from cchc.graph.rdf import nquads
from cchc.graph.rdf.nquads import Statement, Vocabulary, bool_, date_, decimal_, int_, iri, string, text_vi
from cchc.graph.rdf.terms import GraphNames, Triple
from cchc.ontology import CCHC as _CCHC
from cchc.ontology import DCTERMS as _DCTERMS
from cchc.ontology import PROV as _PROV
from cchc.ontology import TIME as _TIME
from cchc.ontology import IRIs, field_concept
from rdflib import URIRef
from rdflib.namespace import RDF as _RDF

__all__ = ["DocumentGraph", "build_document", "doc_stem"]

_RECURRENCES = {"continuous", "yearly"}  # what the ontology's shapes allow; others keep only the text
_PRECISIONS = {"day", "month", "quarter", "half", "year", "period"}
CCHC, DCTERMS, PROV, TIME, RDF = (Vocabulary(ns) for ns in (_CCHC, _DCTERMS, _PROV, _TIME, _RDF))
Node = str  # an IRI as N-Triples text ("<...>")


@lru_cache(maxsize=1 << 12)  # the same law names in every document
def _name_key(name: str) -> str:
    """A law's name for matching: folded, without "năm 2025" ("Luật Ban hành VBQPPL năm 2025")."""
    return re.sub(r"\s+nam\s+(?:19|20)\d\d$", "", " ".join(fold(name).split()))


def doc_stem(doc: str) -> str:
    """The document key used in IRIs and `dcterms:identifier`: the file name without extension."""
    return Path(doc).stem if doc.endswith(".txt") else doc


@dataclass
class DocumentGraph:
    """The named graph of one document, with what the store needs to know about it."""

    stem: str
    file: str
    kind: str
    iri: URIRef
    graph: URIRef
    statements: list[Statement]  # N-Triples text of each (subject, predicate, object)
    instruments: dict[str, str] = field(default_factory=dict)  # instrument IRI -> id as cited here
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def triples(self) -> list[Triple]:
        """The statements as rdflib terms (SHACL, rdflib graphs); the store loads `nquads()`."""
        return nquads.triples(self.statements)

    def nquads(self) -> bytes:
        """The statements as N-Quads in the document's named graph."""
        return nquads.lines(self.statements, self.graph)


class _Builder:
    def __init__(self, ex: Extraction, info: DocumentInfo | None, iris: IRIs) -> None:
        self.ex, self.info, self.iris = ex, info, iris
        self.stem = doc_stem(ex.doc)
        self.doc = iri(iris.doc(self.stem))
        self.out: list[Statement] = []
        self.spans: set[Node] = set()
        self.instruments: dict[str, str] = {}
        self.year = ex.header.get("year")

    def add(self, s, p, o) -> None:
        if o is not None:
            self.out.append((s, p, o))

    def opt(self, s, p, value: str | None) -> None:
        if value:
            self.out.append((s, p, string(value)))

    # ------------------------------------------------------------ provenance
    def span(self, span: Span) -> Node:
        node = iri(self.iris.span(self.stem, span.line, span.end_line))
        if node not in self.spans:
            self.spans.add(node)
            self.out += [(node, RDF.type, CCHC.SourceSpan), (node, CCHC.inDocument, self.doc),
                         (node, CCHC.startLine, int_(span.line)), (node, CCHC.endLine, int_(span.end_line))]
        return node

    def fact(self, node: Node, cls: Node, span: Span, part_of: bool = True) -> None:
        self.out += [(node, RDF.type, cls), (node, CCHC.span, self.span(span)), (node, PROV.wasDerivedFrom, self.doc)]
        if part_of:
            self.out.append((node, CCHC.partOf, self.doc))

    def instrument(self, ident: str) -> Node:
        node = self.iris.instrument(ident)
        self.instruments.setdefault(str(node), ident)
        return iri(node)

    # ------------------------------------------------------------ document
    def document(self) -> None:
        ex, d = self.ex, self.doc
        cls = {"appendix": CCHC.Appendix, "instrument": CCHC.InstrumentText}.get(ex.kind, CCHC.Plan)
        self.out += [(d, RDF.type, cls), (d, DCTERMS.identifier, string(self.stem)),
                     (d, DCTERMS.source, string(ex.doc))]
        ident = ex.identity if ex.kind == "instrument" else None
        title = (self.info.title if self.info else None) or ex.header.get("title") \
            or " ".join(ex.header.get("title_lines") or ()) or (ident and ident.id and f"{ident.type} {ident.id}")
        if title:
            self.add(d, DCTERMS.title, text_vi(title))
        if ident and ident.id:
            self.own_identity(ident)

    def own_identity(self, ident: Identity) -> None:
        """The instrument this document is the text of, described by the document itself (its own citation).

        Its node is the one every citation of the number reaches; shared.py lets this description win.
        """
        instrument = self.instrument(ident.id)
        node = iri(self.iris.citation(self.stem, ident.line, 0))
        self.fact(node, CCHC.Citation, Span(self.ex.doc, ident.line, ident.line), part_of=False)
        self.out += [(self.doc, CCHC.textOf, instrument), (node, CCHC.citedBy, self.doc),
                     (node, CCHC.mentions, instrument), (node, CCHC.surface, string(ident.id)),
                     (node, CCHC.numbered, bool_(True)), (node, CCHC.issuerSource, string("text"))]
        for prop, value in ((CCHC.statedType, ident.type), (CCHC.statedIssuer, ident.issuer),
                            (CCHC.statedTitle, ident.title)):
            self.opt(node, prop, value)
        if ident.date:
            self.add(node, CCHC.statedDate, date_(ident.date))

    def aliases(self) -> dict[str, str]:
        """Unnumbered law names this document pairs with a number ("Luật Ban hành ... số 64/2025/QH15"):
        name -> id, so that a later "Luật Ban hành ..." reaches the same instrument node."""
        out: dict[str, str] = {}
        for c in self.ex.citations:
            if c.numbered and c.title and c.type in ("Luật", "Bộ luật", "Pháp lệnh") and c.surface.startswith(c.type):
                out.setdefault(_name_key(f"{c.type} {c.title}"), c.id)
        return out

    def deadline(self, dl: Deadline) -> Node:
        # A timeline without a year of its own ("Thường xuyên") means the document's year: key it with it,
        # so that the shared node of a text never carries two different intervals.
        bare = parse_deadline(dl.text)
        dated_by_doc = (bare.start, bare.end) != (dl.start, dl.end) and self.year
        node = iri(self.iris.deadline(f"{dl.text} (kế hoạch {self.year})" if dated_by_doc else dl.text))
        self.out += [(node, RDF.type, CCHC.Deadline), (node, CCHC.timelineText, string(dl.text))]
        if dl.recurrence in _RECURRENCES:
            self.add(node, CCHC.recurrence, string(dl.recurrence))
        if dl.precision in _PRECISIONS:
            self.add(node, CCHC.precision, string(dl.precision))
        for prop, iso in ((TIME.hasBeginning, dl.start), (TIME.hasEnd, dl.end)):
            if iso:
                instant = iri(self.iris.instant(iso))
                self.out += [(node, prop, instant), (instant, RDF.type, TIME.Instant),
                             (instant, TIME.inXSDDate, date_(iso))]
        return node

    def task(self, t: Task, node: Node) -> None:
        self.fact(node, CCHC.Task, t.span)
        self.add(node, CCHC.content, string(t.content))
        for prop, value in ((CCHC.sectionNumber, t.section), (CCHC.sectionTitle, t.section_title),
                            (CCHC.rowNumber, t.no), (CCHC.product, t.product), (CCHC.timelineText, t.timeline),
                            (CCHC.leadText, "; ".join(t.lead)), (CCHC.cooperatingText, "; ".join(t.cooperating)),
                            (CCHC.headingPath, " > ".join(t.heading_path)), (CCHC.sourceKind, t.source)):
            self.opt(node, prop, value)
        for prop, mentions in ((CCHC.leadAgency, t.lead_agencies), (CCHC.cooperatingAgency, t.cooperating_agencies)):
            for agency_id in dict.fromkeys(m.agency_id for m in mentions if m.agency_id):
                self.add(node, prop, iri(self.iris.agency(agency_id)))
        if t.deadline is not None and any(ch.isalnum() for ch in t.deadline.text):  # "-": no deadline node
            self.add(node, CCHC.deadline, self.deadline(t.deadline))
        titles = [f"{t.section} {t.section_title}"] if t.source == "table" and t.section_title else []
        concept = next((c for h in [*titles, *reversed(t.heading_path)] if (c := field_concept(h))), None)
        self.add(node, CCHC.field, concept and iri(concept))

    def tasks(self) -> dict[int, Node]:
        """Task triples; returns id(citation) -> citing task."""
        cited_by: dict[int, Node] = {}
        used: set[Node] = set()
        for t in sorted(self.ex.tasks, key=lambda t: t.span.line):
            node = iri(self.iris.task(self.stem, t.section, t.no, t.span.line))
            if node in used:  # a repeated section/STT: fall back to the line
                node = iri(self.iris.task(self.stem, line=t.span.line))
            used.add(node)
            self.task(t, node)
            for c in t.citations:
                cited_by[id(c)] = node
        return cited_by

    def units(self) -> tuple[list[int], list[Node], list[int]]:
        starts, nodes, ends = [], [], []
        for u in sorted(self.ex.units, key=lambda u: u.span.line):
            node = iri(self.iris.unit(self.stem, u.span.line))
            self.fact(node, CCHC.Unit, u.span)
            self.add(node, CCHC.content, string(u.text))
            self.opt(node, CCHC.marker, u.marker)
            self.out += [(node, CCHC.level, int_(u.level)), (node, CCHC.isHeading, bool_(u.is_heading))]
            self.opt(node, CCHC.headingPath, " > ".join(u.heading_path))
            heads = [u.text] if u.is_heading else []
            concept = next((c for h in [*heads, *reversed(u.heading_path)] if (c := field_concept(h))), None)
            self.add(node, CCHC.field, concept and iri(concept))
            starts.append(u.span.line)
            nodes.append(node)
            ends.append(u.span.end_line)
        return starts, nodes, ends

    def targets(self) -> None:
        n_on_line: dict[int, int] = {}
        for t in self.ex.targets:
            n = n_on_line[t.span.line] = n_on_line.get(t.span.line, 0) + 1
            node = iri(self.iris.target(self.stem, t.span.line, n))
            self.fact(node, CCHC.Target, t.span)
            self.add(self.doc, CCHC.hasTarget, node)
            self.add(node, CCHC.content, string(t.text))
            if t.value is not None:
                self.add(node, CCHC.targetValue, decimal_(t.value))
            for prop, value in ((CCHC.targetUnit, t.unit), (CCHC.comparator, t.comparator),
                                (CCHC.targetSubject, t.subject), (CCHC.targetYear, t.year)):
                self.opt(node, prop, value)

    def citations(self, task_of: dict[int, Node], units: tuple[list[int], list[Node], list[int]],
                  relations: list[Relation]) -> None:
        doc_roles = {id(r.evidence): r.predicate for r in relations
                     if r.subject is None and r.predicate != "appendixOf"}
        nodes: dict[int, Node] = {}
        n_on_line: dict[int, int] = {}
        starts, unit_nodes, ends = units
        aliases = self.aliases()
        for k, c in enumerate(self.ex.citations):
            n = n_on_line[c.span.line] = n_on_line.get(c.span.line, 0) + 1
            node = nodes[id(c)] = iri(self.iris.citation(self.stem, c.span.line, n))
            instrument = self.instrument(c.id if c.numbered else aliases.get(_name_key(c.id), c.id))
            role = doc_roles.get(id(c))
            i = bisect.bisect_right(starts, c.span.line) - 1
            in_unit = unit_nodes[i] if i >= 0 and c.span.line <= ends[i] else None
            by = self.doc if role else task_of.get(id(c)) or in_unit or self.doc
            self.fact(node, CCHC.Citation, c.span, part_of=False)
            self.out += [(node, CCHC.citedBy, by), (node, CCHC.mentions, instrument),
                         (node, CCHC.surface, string(c.surface)), (node, CCHC.numbered, bool_(c.numbered)),
                         (by, CCHC[role or "cites"], instrument)]
            if role:
                self.add(node, CCHC.citationRole, CCHC[role])
            for prop, value in ((CCHC.statedType, c.type), (CCHC.statedIssuer, c.issuer),
                                (CCHC.issuerSource, c.issuer_source), (CCHC.statedTitle, c.title)):
                self.opt(node, prop, value)
            if c.date:
                self.add(node, CCHC.statedDate, date_(c.date))
            self.opt(node, CCHC.locator, c.locator)
            self.out += [(node, CCHC.citedArticle, string(a)) for a in c.articles]
            self.within(k, node, nodes)

    def within(self, k: int, node: Node, nodes: dict[int, Node]) -> None:
        """`cchc:withinCitation`: the nearest earlier citation of the parent id (the title holding this one)."""
        parent = self.ex.citations[k].parent
        for p in reversed(self.ex.citations[:k] if parent else ()):
            if p.id == parent:
                self.add(node, CCHC.withinCitation, nodes[id(p)])
                return

    def relations(self, relations: list[Relation]) -> None:
        aliases = self.aliases()

        def node(ident: str) -> Node:  # a law's name this document pairs with its number: one node
            return self.instrument(aliases.get(_name_key(ident), ident))

        for r in relations:
            obj = node(r.object)
            if r.predicate == "appendixOf" and r.subject is None:
                self.add(self.doc, CCHC.appendixOf, obj)
            elif r.subject is not None and node(r.subject) != obj:
                self.add(node(r.subject), CCHC[r.predicate], obj)


def build_document(ex: Extraction, info: DocumentInfo | None = None, iris: IRIs | None = None) -> DocumentGraph:
    """The triples of one document's named graph (pure: same extraction, same triples)."""
    iris = iris or IRIs()
    b = _Builder(ex, info, iris)
    relations = find_relations(ex)
    b.document()
    task_of = b.tasks()
    units = b.units()
    b.targets()
    b.citations(task_of, units, relations)
    b.relations(relations)
    statements = list(dict.fromkeys(b.out))
    counts = {"tasks": len(ex.tasks), "citations": len(ex.citations), "units": len(ex.units),
              "targets": len(ex.targets), "relations": len(relations), "triples": len(statements)}
    return DocumentGraph(b.stem, ex.doc, ex.kind, iris.doc(b.stem), GraphNames(iris).doc(b.stem), statements,
                         dict(sorted(b.instruments.items())), counts)
