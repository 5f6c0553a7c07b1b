"""The RDF build on the real corpus: relations, provenance, merged instruments, SHACL, determinism."""

from __future__ import annotations

import pytest
from cchc.graph.corpus import load_manifest
from cchc.graph.extract.relations import document_relations, instrument_relations
from cchc.graph.rdf.build import build_document
from cchc.graph.rdf.store import Store
from cchc.ontology import CCHC, DCTERMS, ELI, PROV, IRIs, validate
from rdflib import Literal, URIRef
from rdflib.namespace import RDF

from .conftest import APPENDIX_2023, APPENDIX_2026, CORPUS, PAPI_2023, PLAN_2026_2030, TANDOAN_2025

BASE = "https://w3id.org/cchc/"
_CACHE: dict[str, Store] = {}


def corpus_documents(extractions) -> list:
    manifest = load_manifest(CORPUS)
    return [(ex, manifest.get(name), None) for name, ex in sorted(extractions.items())]


def built_store(extractions) -> Store:
    """The whole corpus in one in-memory store, built once per session (tests must not change it)."""
    if "corpus" not in _CACHE:
        store = Store(None)
        store.build(corpus_documents(extractions))
        _CACHE["corpus"] = store
    return _CACHE["corpus"]


@pytest.fixture(scope="module")
def store(extractions) -> Store:
    return built_store(extractions)


def rels(items) -> set[tuple]:
    return {(r.subject, r.predicate, r.object, r.evidence.span.line) for r in items}


# ---------------------------------------------------------------- relations


def test_plan_preamble_relations(extractions):
    got = rels(document_relations(extractions[PLAN_2026_2030]))
    # "Thực hiện NQ 76/NQ-CP ...; QĐ 282/QĐ-TTg ...; NQ 60-NQ/TU ..." (line 11), "Căn cứ KH 238-KH/TU ...;
    # KH 145/KH-UBND ..." (line 13), "Kế hoạch này thay thế Kế hoạch số 316/KH-UBND" (line 277)
    assert got == {
        (None, "implements", "76/NQ-CP", 11), (None, "implements", "282/QĐ-TTg", 11),
        (None, "implements", "60-NQ/TU", 11), (None, "basedOn", "238-KH/TU", 13),
        (None, "basedOn", "145/KH-UBND", 13), (None, "replaces", "316/KH-UBND", 277),
    }


def test_tandoan_preamble_cue_changes_mid_paragraph(extractions):
    got = rels(document_relations(extractions[TANDOAN_2025]))
    assert got == {(None, "basedOn", "76/NQ-CP", 1), (None, "basedOn", "60-NQ/TU", 5),
                   (None, "basedOn", "249/KH-UBND", 7), (None, "implements", "184/KH-UBND", 11)}


def test_appendix_belongs_to_its_plan(extractions):
    assert rels(document_relations(extractions[APPENDIX_2026])) == {(None, "appendixOf", "29/KH-UBND", 6)}
    assert rels(document_relations(extractions[APPENDIX_2023])) == {(None, "appendixOf", "02/KH-UBND", 6)}
    assert document_relations(extractions[PAPI_2023]) == []


def test_instrument_relations_from_titles_and_siblings(extractions):
    plan = rels(instrument_relations(extractions[PLAN_2026_2030]))
    assert {("238-KH/TU", "implements", "57-NQ/TW", 13), ("145/KH-UBND", "implements", "71/NQ-CP", 13),
            ("145/KH-UBND", "implements", "238-KH/TU", 13), ("258-KH/TU", "implements", "66-NQ/TW", 53),
            ("219/KH-UBND", "implements", "140/NQ-CP", 53), ("140/NQ-CP", "implements", "66-NQ/TW", 53)} <= plan
    assert ("226/KH-UBND", "implements", "49-NQ/TU", 1476) in rels(instrument_relations(extractions[APPENDIX_2023]))
    # "Luật ... số 64/2025/QH15, được sửa đổi, bổ sung bởi Luật số 87/2025/QH15"
    assert ("87/2025/QH15", "amends", "64/2025/QH15", 208) in rels(instrument_relations(extractions[APPENDIX_2026]))
    # "Nghị quyết số 15/2021/NQ-HĐND ... sửa đổi, bổ sung một số điều của Nghị quyết số 08/2019/NQ-HĐND"
    assert ("15/2021/NQ-HĐND", "amends", "08/2019/NQ-HĐND", 639) in rels(instrument_relations(extractions[PAPI_2023]))


# ---------------------------------------------------------------- document graphs


def test_document_graph_is_deterministic_and_provenanced(extractions):
    ex = extractions[APPENDIX_2026]
    a, b = build_document(ex), build_document(ex)
    assert a.triples == b.triples and a.graph == URIRef(BASE + "graph/doc/langson-2026-cchc-phuluc")
    triples = set(a.triples)
    doc = URIRef(BASE + "doc/langson-2026-cchc-phuluc")
    facts = {s for s, p, o in triples if p == RDF.type and o in (CCHC.Task, CCHC.Citation)}
    assert len(facts) == len(ex.tasks) + len(ex.citations)
    for fact in facts:
        assert (fact, PROV.wasDerivedFrom, doc) in triples
        assert any(s == fact and p == CCHC.span for s, p, o in triples), fact
    task = URIRef(BASE + "task/langson-2026-cchc-phuluc/III-9")
    span = URIRef(BASE + "span/langson-2026-cchc-phuluc/L841-873")
    assert {(task, CCHC.span, span), (span, CCHC.startLine, Literal(841)),
            (task, CCHC.cites, URIRef(BASE + "instrument/118-2025-nd-cp")),
            (doc, CCHC.appendixOf, URIRef(BASE + "instrument/29-kh-ubnd"))} <= triples


def test_other_base_moves_every_minted_iri(extractions):
    dg = build_document(extractions[PLAN_2026_2030], iris=IRIs("http://example.org/kg/"))
    fixed = ("https://w3id.org/cchc/ontology#", "https://w3id.org/cchc/field/", "https://w3id.org/cchc/doctype/")
    minted = {str(t) for triple in dg.triples for t in triple
              if isinstance(t, URIRef) and "/cchc/" in t and not str(t).startswith(fixed)}
    assert minted == set(), sorted(minted)[:5]


def test_standing_duties_keep_one_interval_per_node(store):
    rows = store.select("""SELECT ?d (COUNT(DISTINCT ?end) AS ?n) WHERE {
        ?d a cchc:Deadline ; time:hasEnd/time:inXSDDate ?end } GROUP BY ?d HAVING (COUNT(DISTINCT ?end) > 1)""")
    assert rows == []
    ends = dict(store.select("""SELECT ?t ?end WHERE { ?d cchc:timelineText "Thường xuyên" ;
        time:hasEnd/time:inXSDDate ?end . BIND(STR(?d) AS ?t) }"""))
    assert ends == {BASE + "deadline/thuong-xuyen-ke-hoach-2023": "2023-12-31",
                    BASE + "deadline/thuong-xuyen-ke-hoach-2026": "2026-12-31"}


# ---------------------------------------------------------------- merged instruments


def test_one_node_per_instrument_with_merged_metadata(store):
    g = store.graph(str(store.names.instruments))
    nd42 = URIRef(BASE + "instrument/42-2022-nd-cp")
    # printed once as "của Thủ tướng Chính phủ" (2023 appendix), once as "của Chính phủ" (Tân Đoàn): both kept
    assert {str(o) for o in g.objects(nd42, CCHC.statedIssuer)} == {"Thủ tướng Chính phủ", "Chính phủ"}
    assert (nd42, ELI.passed_by, None) not in g
    assert (nd42, RDF.type, CCHC.NghiDinh) in g and str(g.value(nd42, DCTERMS.identifier)) == "42/2022/NĐ-CP"
    nq66 = URIRef(BASE + "instrument/66-nq-tw")  # "ngày 30/4/2024" in the 258-KH/TU title, 30/4/2025 elsewhere
    assert {str(o) for o in g.objects(nq66, CCHC.statedDate)} == {"2024-04-30", "2025-04-30"}
    assert (nq66, ELI.date_document, None) not in g
    nq76 = URIRef(BASE + "instrument/76-nq-cp")  # agreeing mentions: canonical values set
    assert str(g.value(nq76, ELI.date_document)) == "2021-07-15"
    assert g.value(nq76, ELI.passed_by) == URIRef(BASE + "agency/chinh-phu")
    nq60 = URIRef(BASE + "instrument/60-nq-tu")  # "Ban Thường vụ Tỉnh ủy" and "Tỉnh ủy": one registry agency
    assert g.value(nq60, ELI.passed_by) == URIRef(BASE + "agency/tinh-uy")
    law = URIRef(BASE + "instrument/luat-thuc-hien-dan-chu-o-co-so")
    assert (law, CCHC.numbered, Literal(False)) in g and (law, RDF.type, CCHC.Luat) in g
    ids = [str(o) for o in g.objects(None, DCTERMS.identifier)]
    assert len(ids) == len(set(ids)) == store.counts()["instruments"]


@pytest.fixture
def prepared_queries(monkeypatch):
    """Reuse parsed SPARQL: pyshacl re-parses each SPARQL constraint for every focus node (~17 ms, ~2,700 times).

    Same semantics: a prepared query run with different initBindings is how rdflib reuses queries.
    """
    from rdflib.plugins.sparql import processor

    cache: dict = {}
    original = processor.SPARQLProcessor.query

    def query(self, q, initBindings=None, initNs=None, base=None, DEBUG=False):
        if isinstance(q, str):
            key = (q, base, tuple(sorted((initNs or {}).items())))
            if key not in cache:
                cache[key] = processor.translateQuery(processor.parseQuery(q), base, initNs)
            q = cache[key]
        return original(self, q, initBindings, initNs, base, DEBUG)

    monkeypatch.setattr(processor.SPARQLProcessor, "query", query)


def test_corpus_graph_conforms_to_the_shapes(store, prepared_queries):
    graph = store.graph()
    conforms, _, text = validate(graph)
    assert conforms, text[:3000]
    task = URIRef(BASE + "task/langson-2026-cchc-phuluc/III-9")  # and the check has teeth
    graph.remove((task, CCHC.span, None))
    assert not validate(graph)[0]


def test_counts(store):
    counts = store.counts()
    assert counts["documents"] == 5
    assert counts["tasks"] == 249 and counts["citations"] == 101
    assert counts["triples"] == len(list(store.quads())) > 10000
