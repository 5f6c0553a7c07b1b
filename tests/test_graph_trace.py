"""Tracing tasks back to instruments, with the path that says why; the networkx projection."""

from __future__ import annotations

import dataclasses

import networkx as nx
import pytest
from cchc.graph.extract.records import Span
from cchc.graph.extract.references import parse_reference
from cchc.graph.rdf.store import Store
from cchc.graph.read.export import export
from cchc.graph.read.projection import graphml_bytes, projection
from cchc.graph.read.readindex import read_index
from cchc.graph.read.trace import PathStep, resolve_instruments, trace

from .conftest import APPENDIX_2023, APPENDIX_2026, PLAN_2026_2030, TANDOAN_2025
from .test_graph_build import BASE

PLAN = BASE + "doc/langson-2026-2030-cchc"


@pytest.fixture(scope="module")
def store(extractions) -> Store:
    from .test_graph_build import built_store

    return built_store(extractions)


def by_key(hits) -> dict:
    return {(h.kind, h.key): h for h in hits}


def test_trace_60_nq_tu_direct_and_via_plan(store, extractions):
    hits = trace(store, "60-NQ/TU")
    keys = by_key(hits)
    # direct: task III.1.1 of the 2026-2030 plan (line 113) names "Nghị quyết số 60-NQ/TU"
    direct = keys[("task", f"{PLAN_2026_2030}:L113")]
    assert direct.link == "cites" and (direct.section, direct.no) == ("III", "1.1")
    assert direct.path == (PathStep(direct.node, "cites", Span(PLAN_2026_2030, 113, 113)),
                           PathStep(BASE + "instrument/60-nq-tu", None, None))
    # via plan: the plan's preamble (line 11) says "Thực hiện ... Nghị quyết số 60-NQ/TU", so task III.1.2 traces
    via = keys[("task", f"{PLAN_2026_2030}:L115")]
    assert via.link == "via-plan"
    assert via.path == (PathStep(BASE + "task/langson-2026-2030-cchc/III-1.2", "partOf", None),
                        PathStep(PLAN, "implements", Span(PLAN_2026_2030, 11, 11)),
                        PathStep(BASE + "instrument/60-nq-tu", None, None))
    # Tân Đoàn: "Căn cứ ... Nghị quyết số 60-NQ/TU" (line 5) -> every task, via its plan
    tandoan = [h for h in hits if h.doc == TANDOAN_2025 and h.kind == "task"]
    assert len(tandoan) == len(extractions[TANDOAN_2025].tasks)
    assert {h.path[1].relation for h in tandoan} == {"basedOn"}
    plan_tasks = [h for h in hits if h.doc == PLAN_2026_2030 and h.kind == "task"]
    assert len(plan_tasks) == len(extractions[PLAN_2026_2030].tasks)
    ranks = [{"cites": 0, "via-plan": 1, "via-instrument": 2}[h.link] for h in hits]
    assert ranks == sorted(ranks)  # direct first


def test_trace_76_nq_cp(store):
    hits = trace(store, "76/NQ-CP")
    tasks = [h for h in hits if h.kind == "task"]
    assert tasks and {h.link for h in tasks} == {"via-plan"}  # no task row cites it; both plans do
    assert {h.doc for h in tasks} == {PLAN_2026_2030, TANDOAN_2025}
    units = {h.key for h in hits if h.kind == "unit"}
    assert f"{PLAN_2026_2030}:L21" in units  # "... theo Nghị quyết số 76/NQ-CP, Quyết định số 282/QĐ-TTg ..."
    assert f"{TANDOAN_2025}:L1" in units
    assert tasks[0].why().endswith("implements 76/NQ-CP (langson-2026-2030-cchc.txt:11)")


def test_loose_references_and_units(store):
    hits = trace(store, "NĐ 118")
    assert [(h.kind, h.key, h.link) for h in hits] == [
        ("task", f"{APPENDIX_2026}:III.9", "cites"),
        ("unit", f"{TANDOAN_2025}:L155", "cites"),  # "- 100% hồ sơ TTHC ..." names it at line 159
    ]
    assert hits[1].path[0].evidence == Span(TANDOAN_2025, 159, 161)
    (ref,) = parse_reference("nghị định 118/2025")
    assert [h.node for h in trace(store, ref)] == [h.node for h in hits]
    assert resolve_instruments(store, "118/2025/ND-CP") == [BASE + "instrument/118-2025-nd-cp"]
    assert resolve_instruments(store, "NĐ 999") == [] and trace(store, "NĐ 999") == []


def test_via_instrument_and_appendix_plans(store, extractions):
    # the 2026-2030 plan is "Căn cứ Kế hoạch số 238-KH/TU ... thực hiện Nghị quyết số 57-NQ/TW" (line 13)
    hits = [h for h in trace(store, "57-NQ/TW") if h.kind == "task"]
    assert hits and {h.link for h in hits} == {"via-instrument"}
    assert [s.relation for s in hits[0].path] == ["partOf", "basedOn", "implements", None]
    assert hits[0].path[2].node == BASE + "instrument/238-kh-tu"
    # every row of the 2026 appendix belongs to Kế hoạch số 29/KH-UBND (line 6: "Kèm theo Kế hoạch số: 29 /KH-UBND")
    rows = trace(store, "29/KH-UBND")
    assert len(rows) == len(extractions[APPENDIX_2026].tasks) and {h.link for h in rows} == {"via-plan"}
    assert rows[0].path[1] == PathStep(BASE + "doc/langson-2026-cchc-phuluc", "appendixOf", Span(APPENDIX_2026, 6, 6))
    # a task citing KH 226/KH-UBND, whose title says "về thực hiện Nghị quyết số 49-NQ/TU"
    vii1 = next(h for h in trace(store, "49-NQ/TU") if h.key == f"{APPENDIX_2023}:VII.1")
    assert vii1.link == "cites"  # the nested mention sits in the row itself


def test_unnumbered_laws_are_traceable(store):
    hits = trace(store, "Luật Thực hiện dân chủ ở cơ sở")
    assert hits and all(h.instrument == BASE + "instrument/luat-thuc-hien-dan-chu-o-co-so" for h in hits)
    assert {h.doc for h in hits} == {"langson-2023-papi-sipas-parindex.txt"}


def test_projection_and_graphml(store, tmp_path):
    g = projection(store)
    kinds = nx.get_node_attributes(g, "kind")
    assert {"task", "unit", "document", "instrument", "agency"} == set(kinds.values())
    assert g.has_edge(BASE + "agency/so-kh-cn", BASE + "agency/so-tt-tt", key="successorOf")
    assert g.has_edge(PLAN, BASE + "instrument/316-kh-ubnd", key="replaces")
    assert g[PLAN][BASE + "instrument/316-kh-ubnd"]["replaces"]["ev_line"] == 277
    assert export(store, "graphml", tmp_path / "kg.graphml") is None
    back = nx.read_graphml(tmp_path / "kg.graphml")
    assert back.number_of_nodes() == g.number_of_nodes() and back.number_of_edges() == g.number_of_edges()
    assert graphml_bytes(store).startswith(b"<?xml")


def test_an_appendix_traces_through_its_plan_file_when_the_plan_prints_its_number(extractions):
    # Were the 2026-2030 plan numbered "Số: 29/KH-UBND", the plan the 2026 appendix is attached to, the
    # appendix rows would carry out what that plan's preamble says it implements.
    plan = dataclasses.replace(extractions[PLAN_2026_2030],
                               header={**extractions[PLAN_2026_2030].header, "number": "Số: 29/KH-UBND"})
    store = Store(None)
    store.build([(plan, None, None), (extractions[APPENDIX_2026], None, None)])
    row = next(h for h in trace(store, "76/NQ-CP") if h.key == f"{APPENDIX_2026}:III.9")
    assert row.link == "via-plan"
    assert [(s.node, s.relation, s.evidence) for s in row.path[1:]] == [
        (BASE + "doc/langson-2026-cchc-phuluc", "appendixOf", Span(APPENDIX_2026, 6, 6)),
        (BASE + "instrument/29-kh-ubnd", "implements", Span(PLAN_2026_2030, 11, 11)),
        (BASE + "instrument/76-nq-cp", None, None)]


def _edge_set(g) -> set:
    return {(s, d, k, tuple(sorted(a.items()))) for s, d, k, a in g.edges(keys=True, data=True)}


def test_the_read_index_saved_with_a_generation_is_the_projection(extractions, tmp_path):
    """A committed generation carries its projection (read/), which the trace and the views then read by
    memory map instead of computing it with SPARQL at every start: it must be the same graph."""
    from cchc.graph.read.readindex import READ_DIR, ReadIndex, read_index, save_with_generation

    disk = Store.open(tmp_path / "store", derive=save_with_generation)
    disk.build([(ex, None, None) for ex in extractions.values()])
    saved = disk.generation_path() / READ_DIR
    assert (saved / "manifest.json").exists() and (saved / "nodes.jsonl").stat().st_size > 0
    reopened = Store.open(tmp_path / "store", create=False)
    index = read_index(reopened)
    assert index.meta == ReadIndex.load(saved).meta and read_index(reopened) is index
    fresh = projection(reopened)
    again = index.to_networkx()
    assert dict(again.nodes(data=True)) == dict(fresh.nodes(data=True))
    assert _edge_set(again) == _edge_set(fresh)
    assert index.count("task") == sum(1 for _, a in fresh.nodes(data=True) if a.get("kind") == "task")
    assert ReadIndex.from_graph(fresh).meta["edges"] == fresh.number_of_edges()
    task = next(n for n, a in fresh.nodes(data=True) if a.get("kind") == "task")
    assert index.nodes[task] == fresh.nodes[task] and index.kind(task) == "task"
    assert BASE + "instrument/no-such" not in index
    memory = Store(None)
    memory.build([(ex, None, None) for ex in extractions.values()])
    for ref in ("60-NQ/TU", "NĐ 118", "76/NQ-CP"):  # the trace reads the saved index, answers as in memory
        assert [h.to_json() for h in trace(reopened, ref)] == [h.to_json() for h in trace(memory, ref)]


def test_trace_counts_are_the_traces_task_hits(store):
    """The instrument list's counts, computed for every instrument at once, equal each instrument's own trace."""
    from cchc.graph.read.trace import trace_counts

    counts = trace_counts(store)
    g = read_index(store)
    assert len(counts) == g.count("instrument") and counts
    for iri, got in counts.items():
        hits = [h for h in trace(store, g.nodes[iri]["id"]) if h.kind == "task" and h.instrument == iri]
        assert got == (len(hits), sum(1 for h in hits if h.link == "cites")), g.nodes[iri]["id"]
    assert max(t for t, _ in counts.values()) > max(d for _, d in counts.values())  # plans carry tasks further
