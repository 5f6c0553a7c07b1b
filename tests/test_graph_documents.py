"""National instruments in the graph: one node per instrument, typed ELI-aligned edges, the basis network."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest
from cchc.graph.extract.documents import extract_file
from cchc.graph.extract.records import Span
from cchc.graph.rdf.store import Store
from cchc.graph.read.projection import projection
from cchc.graph.read.trace import PathStep, _reach, network, resolve_instruments, trace
from cchc.ontology import validate

from .test_graph_build import BASE, corpus_documents, prepared_queries  # noqa: F401 (a fixture)

DOCS = Path(__file__).parent / "fixtures" / "documents"
NAMES = ["97-2026-tt-btc.md", "91-2026-nd-cp-summary.md", "14-2026-nq-cp.md", "159-2026-nq-cp.md",
         "238-2026-nd-cp-ocr.md"]


def _iri(ident: str) -> str:
    from cchc.ontology import IRIs

    return str(IRIs().instrument(ident))


@pytest.fixture(scope="module")
def store(extractions) -> Store:
    """The corpus plus national instruments, added one by one as `cchc add` does (a store of its own)."""
    st = Store(None)
    st.build(corpus_documents(extractions))
    for name in NAMES:
        st.add_document(extract_file(DOCS / name))
    return st


def _edges(g: nx.MultiDiGraph, src: str, rel: str) -> dict[str, dict]:
    return {o: a for _, o, k, a in g.out_edges(_iri(src), keys=True, data=True) if k == rel}


def test_instrument_text_fills_its_node(store):
    g = projection(store)
    doc = BASE + "doc/97-2026-tt-btc.md"
    assert g.nodes[doc]["type"] == "InstrumentText"
    assert g.has_edge(doc, _iri("97/2026/TT-BTC"), key="textOf")
    rows = store.select(f"""PREFIX eli: <http://data.europa.eu/eli/ontology#>
        SELECT ?date ?title WHERE {{ <{_iri("97/2026/TT-BTC")}> eli:date_document ?date ; eli:title ?title }}""")
    (date, title), = rows
    assert str(date) == "2026-07-06" and title.startswith("BÃI BỎ THÔNG TƯ SỐ 55/2010/TT-BTC")


def test_typed_edges_with_their_source_line(store):
    g = projection(store)
    basis = _edges(g, "97/2026/TT-BTC", "basedOn")
    assert _iri("78/2025/NĐ-CP") in basis and _iri("09/2026/QH16") in basis
    assert (basis[_iri("78/2025/NĐ-CP")]["ev_doc"], basis[_iri("78/2025/NĐ-CP")]["ev_line"]) == \
        ("97-2026-tt-btc.md", 64)
    assert set(_edges(g, "97/2026/TT-BTC", "repeals")) == {_iri("55/2010/TT-BTC")}
    assert set(_edges(g, "238/2026/NĐ-CP", "amends")) == {_iri("168/2024/NĐ-CP")}
    assert set(_edges(g, "91/2026/NĐ-CP", "guides")) == {_iri("125/2025/QH15")}
    assert _iri("141/2013/NĐ-CP") in _edges(g, "91/2026/NĐ-CP", "repeals")
    # reported, not stated: "Luật ... số 48/2024/QH15 được sửa đổi, bổ sung bởi Luật số 149/2025/QH15"
    assert _iri("48/2024/QH15") in _edges(g, "149/2025/QH15", "amends")
    assert _iri("48/2024/QH15") not in _edges(g, "97/2026/TT-BTC", "amends")


def test_a_laws_name_and_number_are_one_node(store):
    """97/2026 prints "Luật Ban hành văn bản quy phạm pháp luật số 64/2025/QH15" and later the bare name."""
    g = projection(store)
    assert set(_edges(g, "78/2025/NĐ-CP", "guides")) >= {_iri("64/2025/QH15")}
    found = resolve_instruments(store, "Luật Ban hành văn bản quy phạm pháp luật")
    assert _iri("64/2025/QH15") in found


def test_network_traces_through_a_decree_to_the_law(store):
    g = projection(store)
    hits = {h.instrument_id: h for h in network(store, "64/2025/QH15")}
    assert hits["97/2026/TT-BTC"].path[0].relation == "basedOn"  # directly
    via = hits["14/NQ-CP"]  # "Căn cứ Nghị định số 78/2025/NĐ-CP ..." (14/NQ-CP, line 44); 78 details the law
    assert [s.relation for s in via.path] == ["basedOn", "guides", None]
    assert via.path[0] == PathStep(_iri("14/NQ-CP"), "basedOn", Span("14-2026-nq-cp.md", 44, 44))
    assert via.why(g).startswith("14/NQ-CP -> basedOn 78/2025/NĐ-CP (14-2026-nq-cp.md:44) -> guides 64/2025/QH15")
    assert "14/NQ-CP" not in {h.instrument_id for h in network(store, "64/2025/QH15", max_depth=1)}


def test_tasks_still_trace_through_plans(store):
    hits = trace(store, "76/NQ-CP")
    assert hits and {h.link for h in hits if h.kind == "task"} == {"via-plan"}


def test_reach_ends_at_cycles_and_depth():
    g = nx.MultiDiGraph()
    for n in ("a", "b", "c"):
        g.add_node(n, kind="instrument", id=n)
    g.add_edge("b", "a", key="basedOn")
    g.add_edge("c", "b", key="guides")
    g.add_edge("a", "c", key="basedOn")  # a cycle back to the start
    paths = _reach(g, "a")
    assert [s.node for s in paths["c"]] == ["c", "b", "a"]
    assert set(_reach(g, "a", max_depth=1)) == {"a", "b"}


@pytest.mark.usefixtures("prepared_queries")
def test_graph_with_instruments_conforms_to_the_shapes(store):
    conforms, _, text = validate(store.graph())
    assert conforms, text[:3000]


def test_a_law_cited_by_name_elsewhere_is_the_same_instrument(store):
    """159/NQ-CP cites "Luật Ban hành văn bản quy phạm pháp luật" by name only; 97/2026 gives its number."""
    g = projection(store)
    name = _iri("Luật Ban hành văn bản quy phạm pháp luật")
    assert g.has_edge(name, _iri("64/2025/QH15"), key="sameAs")
    assert name not in {h.node for h in network(store, "64/2025/QH15")}


def test_instrument_page_shows_basis_repeals_and_mentions(store):
    from cchc.graph.read.views import GraphViews

    page_ = GraphViews(store).instrument("97/2026/TT-BTC")
    rels = {(r["relation"], r["direction"], r["label"]) for r in page_["relations"]}
    assert ("basedOn", "out", "78/2025/NĐ-CP") in rels and ("repeals", "out", "55/2010/TT-BTC") in rels
    assert any(r == "textOf" and d == "in" for r, d, _ in rels)  # its own text, the document
    assert page_["date"] == "2026-07-06" and page_["type"] == "Thông tư"
    law = GraphViews(store).instrument("125/2025/QH15")
    assert ("guides", "in", "91/2026/NĐ-CP") in {(r["relation"], r["direction"], r["label"]) for r in law["relations"]}


# ----------------------------------------------------------------------------- article links
PLAN_2027 = "ke-hoach-phat-ngon-2027.txt"
ARTICLE_LINKS = """PREFIX cchc: <https://w3id.org/cchc/ontology#>
    SELECT ?line ?marker WHERE { ?c cchc:citesArticle ?u ; cchc:span/cchc:startLine ?line . ?u cchc:marker ?marker }
    ORDER BY ?line"""


def test_a_task_citing_an_article_links_to_it_while_the_instrument_is_present() -> None:
    """ "khoản 1 Điều 5 Nghị định số 244/2026/NĐ-CP" reaches Điều 5 of 244's own text, in either order of adding."""
    st = Store(None)
    st.add_document(extract_file(DOCS / PLAN_2027))
    assert st.select(ARTICLE_LINKS) == []  # the instrument's text is not here yet
    st.add_document(extract_file(DOCS / "244-2026-nd-cp.md"))
    assert st.select(ARTICLE_LINKS) == [(22, "Điều 5."), (26, "Điều 4.")]
    locators = st.select("""PREFIX cchc: <https://w3id.org/cchc/ontology#>
        SELECT ?line ?loc ?no WHERE { ?c cchc:locator ?loc ; cchc:citedArticle ?no ; cchc:span/cchc:startLine ?line }
        ORDER BY ?line""")
    assert locators == [(22, "khoản 1 Điều 5", "5"), (26, "Điều 4", "4")]
    st.remove_document("244-2026-nd-cp.md")
    assert st.select(ARTICLE_LINKS) == []  # derived links go with the instrument's text


def test_task_view_shows_the_cited_article_with_its_source_line() -> None:
    from cchc.graph.read.views import GraphViews

    st = Store(None)
    st.add_document(extract_file(DOCS / "244-2026-nd-cp.md"))
    st.add_document(extract_file(DOCS / PLAN_2027))
    views = GraphViews(st, DOCS)
    task = views.task(views.task_at(PLAN_2027, 21))
    (cite,) = [c for c in task["citations"] if c["line"] == 22]
    assert cite["locator"] == "khoản 1 Điều 5"
    assert cite["articles"] == [{"doc": "244-2026-nd-cp.md", "line": 112, "end_line": 112,
                                 "text": "Điều 5. Hình thức phát ngôn và cung cấp thông tin cho báo chí"}]
