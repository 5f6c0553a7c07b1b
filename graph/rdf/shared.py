"""The shared graphs: agencies from the registry, instruments merged across documents.

Instrument metadata is *recomputed*, never patched: the instruments graph is a
pure function of the citation nodes of the documents currently in the store
(`MENTIONS_QUERY`) and of the ids they cite, so adding, replacing or removing
one document and recomputing gives exactly what a fresh build gives.

Merging keeps disagreements visible rather than picking a winner.  Values that
say the same thing are one value: issuers naming the same registry agency, or
one a more specific form of the other ("Ủy ban nhân dân" / "UBND tỉnh"; code-
implied issuers only count when no mention prints one); titles sharing 80% of the
shorter one's words (truncated or reworded: "phân cấp, phân quyền" / "phân cấp,
phân quyền, uỷ quyền"); dates when equal.  Each distinct
value is kept in `cchc:stated*` on the instrument (several = a conflict, CQ9),
and the canonical `eli:passed_by`, `eli:date_document`, `eli:title` are set
only when there is exactly one.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox
from cchc.graph.extract.agencies import Registry, agency_key, load_registry
from cchc.graph.extract.reading import fold
from cchc.graph.rdf.terms import GraphNames, Triple, bool_, date_, py_value, string, text_vi, to_quads
from cchc.ontology import (
    CCHC,
    DCTERMS,
    ELI,
    ORG,
    SKOS,
    IRIs,
    instrument_class,
    instrument_type_concept,
    load_ontology,
    slug,
)
from rdflib import URIRef
from rdflib.compare import to_canonical_graph
from rdflib.namespace import OWL, RDF, RDFS

__all__ = ["MENTIONS_QUERY", "Mention", "agency_triples", "instrument_triples", "refresh_shared"]

_ID_PARTS = re.compile(r"(\d{1,5}[A-Za-z]?)(?:/((?:19|20)\d\d))?[/-](.+)")
_CHANGE_KIND = {"merge": "merger", "rename": "rename", "split": "split", "abolish": "dissolution"}
_PRIMARY = ("merge", "rename", "abolish")

MENTIONS_QUERY = """
PREFIX cchc: <https://w3id.org/cchc/ontology#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?i ?doc ?line ?type ?issuer ?src ?date ?title ?numbered ?own WHERE {
  ?c a cchc:Citation ; cchc:mentions ?i ; cchc:span ?s .
  ?s cchc:startLine ?line ; cchc:inDocument ?d .
  ?d dcterms:identifier ?doc .
  OPTIONAL { ?c cchc:statedType ?type }
  OPTIONAL { ?c cchc:statedIssuer ?issuer }
  OPTIONAL { ?c cchc:issuerSource ?src }
  OPTIONAL { ?c cchc:statedDate ?date }
  OPTIONAL { ?c cchc:statedTitle ?title }
  OPTIONAL { ?c cchc:numbered ?numbered }
  OPTIONAL { ?d cchc:textOf ?i . BIND(true AS ?own) }
}
"""


@dataclass(frozen=True)
class Mention:
    """What one citation node says about its instrument (a row of MENTIONS_QUERY)."""

    instrument: str
    doc: str
    line: int
    type: str | None = None
    issuer: str | None = None
    issuer_source: str | None = None
    date: str | None = None
    title: str | None = None
    numbered: bool | None = None
    own: bool | None = None  # said by the instrument's own text (its document is cchc:textOf it)


# ---------------------------------------------------------------- agencies


def agency_triples(registry: Registry, iris: IRIs) -> list[Triple]:
    """Registry agencies, their successor relations and the 2025 restructuring as events."""
    out: list[Triple] = []
    for a in sorted(registry, key=lambda a: a.id):
        node = iris.agency(a.id)
        out += [(node, RDF.type, CCHC.AgencyGroup if a.is_group else CCHC.Agency),
                (node, DCTERMS.identifier, string(a.id)), (node, SKOS.prefLabel, text_vi(a.name))]
        out += [(node, SKOS.altLabel, text_vi(alias)) for alias in dict.fromkeys(a.aliases) if alias != a.name]
    events: dict[str, list] = defaultdict(list)
    for s in registry.successions:
        if s.kind in _PRIMARY:  # successorOf is who holds the main duties; a split only hands some over
            out.append((iris.agency(s.successor), CCHC.successorOf, iris.agency(s.predecessor)))
        key = f"{s.date}-{s.kind}-{s.predecessor if s.kind == 'split' else s.successor}"
        events[key].append(s)
    for key, group in sorted(events.items()):
        node = iris.event(key)
        first = group[0]
        out += [(node, RDF.type, CCHC.RestructuringEvent), (node, CCHC.changeKind, string(_CHANGE_KIND[first.kind])),
                (node, DCTERMS.date, date_(first.date))]
        for s in group:
            old, new = iris.agency(s.predecessor), iris.agency(s.successor)
            out += [(node, ORG.originalOrganization, old), (node, ORG.resultingOrganization, new),
                    (old, ORG.changedBy, node), (new, ORG.resultedFrom if s.kind in _PRIMARY else ORG.changedBy, node)]
            if s.note:
                out.append((node, RDFS.comment, text_vi(s.note)))
    return list(dict.fromkeys(out))


# ---------------------------------------------------------------- instruments


def _clusters(values: Iterable[str], same: Callable[[str, str], bool]) -> list[list[str]]:
    """Group values that say the same thing (first-fit, in the given order)."""
    groups: list[list[str]] = []
    distinct: list[set[str]] = []  # each group's values once: `same` depends on the values only, and a popular
    for v in values:  # instrument repeats the same few titles and issuers thousands of times
        for g, seen in zip(groups, distinct, strict=True):
            if any(same(v, w) for w in seen):
                g.append(v)
                seen.add(v)
                break
        else:
            groups.append([v])
            distinct.append({v})
    return groups


def _pick(group: list[str], tie: Callable[[str], object]) -> str:
    """The value printed most often; `tie` orders the rest."""
    counts = Counter(group)
    return min(counts, key=lambda v: (-counts[v], tie(v), v))


@lru_cache(maxsize=1 << 14)  # each title is compared with every other title of its instrument
def _title_words(title: str) -> frozenset[str]:
    return frozenset(re.findall(r"\w+", fold(title)))


def _same_title(a: str, b: str) -> bool:
    """One title truncates or rephrases the other: 80% of the shorter one's words are in the longer one."""
    wa, wb = _title_words(a), _title_words(b)
    return bool(wa and wb) and len(wa & wb) >= 0.8 * min(len(wa), len(wb))


def _issuer_matcher(registry: Registry) -> Callable[[str, str], bool]:
    lookup, key = lru_cache(maxsize=None)(registry.lookup), lru_cache(maxsize=None)(agency_key)  # one refresh

    def same(a: str, b: str) -> bool:
        ra, rb = lookup(a), lookup(b)
        if ra and rb:
            return ra == rb
        ka, kb = key(a), key(b)
        return ka == kb or ka.startswith(kb + " ") or kb.startswith(ka + " ")

    return same


def _choose_id(variants: Iterable[str]) -> str:
    counts = Counter(variants)
    return min(counts, key=lambda v: (-counts[v], v))


def instrument_triples(ids: Mapping[str, Iterable[str]], mentions: Iterable[Mention], registry: Registry,
                       iris: IRIs) -> list[Triple]:
    """The instruments graph: one node per instrument IRI in `ids` (IRI -> ids as cited, one per document).

    Deterministic for a given set of documents, whatever the order they were added in.
    """
    by_instrument: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        by_instrument[m.instrument].append(m)
    same_issuer = _issuer_matcher(registry)
    out: list[Triple] = []
    agents: dict[URIRef, set[str]] = defaultdict(set)
    for iri in sorted(ids):
        node = URIRef(iri)
        ident = _choose_id(ids[iri])
        ms = sorted(by_instrument.get(iri, ()), key=lambda m: (m.doc, m.line))
        own = [m for m in ms if m.own]
        parts = _ID_PARTS.fullmatch(ident)
        numbered = any(m.numbered for m in ms) if any(m.numbered is not None for m in ms) else bool(parts)
        types = list(dict.fromkeys(m.type for m in ms if m.type))
        if own and own[0].type:  # its own text names its type: the class and label follow it
            types = [own[0].type, *(t for t in types if t != own[0].type)]
        classes = {instrument_class(t) for t in (types[:1] if own and own[0].type else types)}
        cls = classes.pop() if len(classes) == 1 else CCHC.LegalInstrument
        out += [(node, RDF.type, cls), (node, DCTERMS.identifier, string(ident)),
                (node, CCHC.numbered, bool_(numbered))]
        label = f"{types[0]} {ident}" if numbered and (len(types) == 1 or own) else ident
        out.append((node, RDFS.label, text_vi(label)))
        if numbered and parts:
            out += [(node, ELI.number, string(parts.group(1))), (node, CCHC.symbol, string(parts.group(3)))]
        concept = instrument_type_concept(types[0]) if len(types) == 1 or (own and own[0].type) else None
        if concept is not None and cls != CCHC.LegalInstrument:
            out.append((node, ELI.type_document, concept))
        out += [(node, CCHC.statedType, string(t)) for t in types]
        out += _issuers(node, ms, same_issuer, registry, iris, agents, own)
        dates = sorted({m.date for m in ms if m.date})
        out += [(node, CCHC.statedDate, date_(d)) for d in dates]
        own_date = next((m.date for m in own if m.date), None)
        if own_date or len(dates) == 1:  # its own text wins; other dates stay in cchc:statedDate
            out.append((node, ELI.date_document, date_(own_date or dates[0])))
        titles = [_pick(g, lambda t: len(t)) for g in _clusters((m.title for m in ms if m.title), _same_title)]
        out += [(node, CCHC.statedTitle, string(t)) for t in sorted(titles)]
        own_title = next((m.title for m in own if m.title), None)
        if own_title or len(titles) == 1:
            out.append((node, ELI.title, string(own_title or titles[0])))
    out += _same_laws(out)
    for agent, names in sorted(agents.items()):
        out += [(agent, RDF.type, CCHC.Agency), (agent, SKOS.prefLabel, text_vi(min(names)))]
    return list(dict.fromkeys(out))


def _law_name(text: str) -> str:
    return re.sub(r"\s+nam\s+(?:19|20)\d\d$", "", " ".join(fold(text).split()))


def _same_laws(triples: list[Triple]) -> list[Triple]:
    """`owl:sameAs` from a law cited by name only to the numbered law of that name.

    One document prints "Luật Ban hành văn bản quy phạm pháp luật số 64/2025/QH15", another only
    "Luật Ban hành văn bản quy phạm pháp luật (năm 2025)": when exactly one numbered law carries the
    name, the two nodes are one instrument.
    """
    numbered = {s for s, p, o in triples if p == CCHC.numbered and o.toPython() is True}
    types = {s: str(o) for s, p, o in triples if p == CCHC.statedType}
    names: dict[str, set[URIRef]] = defaultdict(set)
    for s, p, o in triples:
        if p == ELI.title and s in numbered and types.get(s) in ("Luật", "Bộ luật", "Pháp lệnh"):
            names[_law_name(f"{types[s]} {o}")].add(s)
    out: list[Triple] = []
    for s, p, o in triples:
        if p == DCTERMS.identifier and s not in numbered:
            same = names.get(_law_name(str(o)), set())
            if len(same) == 1:
                out.append((s, OWL.sameAs, next(iter(same))))
    return out


def _issuers(node: URIRef, ms: list[Mention], same: Callable[[str, str], bool], registry: Registry, iris: IRIs,
             agents: dict[URIRef, set[str]], own: list[Mention] = ()) -> list[Triple]:
    printed = [m.issuer for m in ms if m.issuer and m.issuer_source == "text"]
    values = printed or [m.issuer for m in ms if m.issuer]
    reps = sorted(_pick(g, lambda v: -len(v)) for g in _clusters(values, same))
    out: list[Triple] = [(node, CCHC.statedIssuer, string(v)) for v in reps]
    chosen = next((m.issuer for m in own if m.issuer), None) or (reps[0] if len(reps) == 1 else None)
    if chosen:  # its own text wins; otherwise only when the mentions agree
        known = registry.lookup(chosen)
        agent = iris.agency(known or slug(chosen))
        if known is None:  # an issuer outside the provincial registry (Chính phủ, Bộ Chính trị, ...)
            agents[agent].add(chosen)
        out.append((node, ELI.passed_by, agent))
    return out


# ---------------------------------------------------------------- in the store


# A citation of "Điều 5 Nghị định X" reaches the article unit of X's own text, when that text is in the store.
ARTICLE_LINKS_QUERY = """
PREFIX cchc: <https://w3id.org/cchc/ontology#>
SELECT DISTINCT ?c ?unit WHERE {
  ?c cchc:citedArticle ?no ; cchc:mentions ?i .
  ?doc cchc:textOf ?i .
  ?unit cchc:partOf ?doc ; a cchc:Unit ; cchc:marker ?marker .
  FILTER (?marker = CONCAT("Điều ", ?no, ".") || ?marker = CONCAT("Điều ", ?no))
}"""


_TEXTS_QUERY = "SELECT DISTINCT ?doc WHERE { ?doc <https://w3id.org/cchc/ontology#textOf> ?i }"


def article_links(st: ox.Store) -> list[Triple]:
    """`cchc:citesArticle` from citations to the article units they name (recomputed with the shared graphs).

    The documents that are an instrument's text come first, as VALUES: left to itself, Oxigraph joins every
    unit of the store with its marker before it finds that no (or few) documents are texts.
    """
    texts = " ".join(str(row[0]) for row in st.query(_TEXTS_QUERY, use_default_graph_as_union=True))  # type: ignore[index]
    if not texts:
        return []
    query = ARTICLE_LINKS_QUERY.replace("WHERE {", f"WHERE {{\n  VALUES ?doc {{ {texts} }}", 1)
    rows = st.query(query, use_default_graph_as_union=True)
    return [(URIRef(c.value), CCHC.citesArticle, URIRef(u.value)) for c, u in rows]  # type: ignore[union-attr]


@lru_cache(maxsize=1)
def _ontology_triples() -> tuple:
    """The ontology with canonical blank-node labels, so that every build stores the same quads."""
    return tuple(to_canonical_graph(load_ontology()))


def refresh_shared(st: ox.Store, manifest: dict, names: GraphNames) -> None:
    """Recompute the ontology, agencies and instruments graphs of `st` from what its documents now say.

    `manifest["documents"][stem]["instruments"]` gives the ids each document cites; the counts are
    written to `manifest["counts"]`.
    """
    registry = load_registry()
    rows = st.query(MENTIONS_QUERY, use_default_graph_as_union=True)
    mentions = [Mention(*(py_value(v) for v in row)) for row in rows]  # type: ignore[union-attr]
    ids: dict[str, list[str]] = {}
    for d in manifest["documents"].values():
        for iri, ident in d["instruments"].items():
            ids.setdefault(iri, []).append(ident)
    instruments = instrument_triples(ids, mentions, registry, names.iris) + article_links(st)
    shared = [(names.ontology, _ontology_triples()), (names.agencies, agency_triples(registry, names.iris)),
              (names.instruments, instruments)]
    for graph, triples in shared:
        st.remove_graph(ox.NamedNode(str(graph)))
        st.extend(to_quads(triples, graph))
    docs = manifest["documents"].values()
    manifest["counts"] = {
        "documents": len(docs),
        **{k: sum(d["counts"][k] for d in docs) for k in ("tasks", "citations", "units", "targets")},
        "instruments": len(ids), "agencies": len(registry), "triples": len(st),
    }
