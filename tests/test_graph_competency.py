"""The ontology's competency questions (CQ1–CQ10) against the graph built from the real corpus.

Expected answers come from reading the corpus text (line numbers as `cat -n` prints them).
"""

from __future__ import annotations

import pytest
from cchc.graph.rdf.continuity import carryover_graph
from cchc.graph.rdf.store import Store
from cchc.ontology.competency import competency_queries

from .test_graph_build import BASE, corpus_documents

APPX26 = BASE + "task/langson-2026-cchc-phuluc/"


@pytest.fixture(scope="module")
def store(extractions) -> Store:
    from .test_graph_build import built_store

    return built_store(extractions)


def answers(store: Store, cq: str) -> list[dict[str, str | None]]:
    return [{str(k): None if v is None else str(v) for k, v in row.asdict().items()}
            for row in store.query(competency_queries()[cq])]


def test_cq1_tasks_citing_nd_118(store):
    # 2026 appendix III.9 (lines 841-873) prints "Nghị định số 118/2025/NĐ-CP" on line 847; Tân Đoàn mentions
    # it at line 159 in a "- 100% hồ sơ TTHC ..." target item, not inside a task.
    rows = answers(store, "CQ1")
    assert [(r["task"], r["surface"], r["startLine"]) for r in rows] == [
        (APPX26 + "III-9", "Nghị định số 118/2025/NĐ-CP", "847")]


def test_cq2_tasks_led_by_so_tu_phap_in_2026(store):
    # CƠ QUAN CHỦ TRÌ "Sở Tư pháp" (II.3 together with "các sở, ban, ngành"), II.4, II.7, III.5
    assert [(r["section"], r["no"]) for r in answers(store, "CQ2")] == [("II", "3"), ("II", "4"), ("II", "7"),
                                                                         ("III", "5")]


def test_cq3_instruments_cited_by_both_appendices(store):
    assert [r["id"] for r in answers(store, "CQ3")] == ["18-NQ/TW", "43/CT-TTg"]


def test_cq4_documents_implementing_nq_76(store):
    # The 2026-2030 plan opens "Thực hiện Nghị quyết số 76/NQ-CP"; Tân Đoàn is only "Căn cứ" it (basedOn).
    assert [(r["stem"], r["how"]) for r in answers(store, "CQ4")] == [("langson-2026-2030-cchc", "direct")]


def test_cq5_successor_of_so_tt_tt_and_its_2026_tasks(store):
    rows = answers(store, "CQ5")
    assert {r["successorName"] for r in rows} == {"Sở Khoa học và Công nghệ"}
    assert sorted(r["task"] for r in rows) == [APPX26 + "VII-2", APPX26 + "VII-3"]


def test_cq6_tasks_due_in_q1_2026(store):
    # "Tháng 01/2026" (I.1, I.2) and "Quý I/2026" (I.3, I.5); "Thường xuyên" is not due in the quarter
    rows = answers(store, "CQ6")
    assert sorted(r["task"] for r in rows) == [APPX26 + k for k in ("I-1", "I-2", "I-3", "I-5")]


def test_cq7_tasks_per_field_in_the_appendices(store):
    counts = {(r["doc"], r["field"].rsplit("/", 1)[1]): int(r["tasks"]) for r in answers(store, "CQ7")}
    fields = ("chi-dao-dieu-hanh", "the-che", "thu-tuc-hanh-chinh", "to-chuc-bo-may", "che-do-cong-vu",
              "tai-chinh-cong", "chinh-quyen-so")
    # rows per roman-numeral section I..VII, counted in the text
    for doc, sizes in (("langson-2023-cchc-phuluc", (10, 8, 8, 5, 6, 4, 7)),
                       ("langson-2026-cchc-phuluc", (7, 9, 10, 4, 4, 8, 7))):
        assert {f: counts.get((doc, f)) for f in fields} == dict(zip(fields, sizes, strict=True))
    assert any(doc == "tandoan-2025-cchc" for doc, _ in counts)


def test_cq8_source_lines_of_task_iii_9(store):
    assert [(r["doc"], r["startLine"], r["endLine"]) for r in answers(store, "CQ8")] == [
        ("langson-2026-cchc-phuluc", "841", "873")]


def test_cq9_disagreeing_metadata(store):
    rows = answers(store, "CQ9")
    got = sorted((r["id"], r["property"].rsplit("#", 1)[1], r["value"], r["doc"], r["line"]) for r in rows)
    assert got == [
        # "Nghị định số 42/2022/NĐ-CP ... của Thủ tướng Chính phủ" (2023 appendix) vs "... của Chính phủ"
        ("42/2022/NĐ-CP", "statedIssuer", "Chính phủ", "tandoan-2025-cchc", "632"),
        ("42/2022/NĐ-CP", "statedIssuer", "Thủ tướng Chính phủ", "langson-2023-cchc-phuluc", "1693"),
        # line 53: "66-NQ/TW, ngày 30/4/2025", then "66-NQ/TW, ngày 30/4/2024" (258-KH/TU), then 30/4/2025 again
        ("66-NQ/TW", "statedDate", "2024-04-30", "langson-2026-2030-cchc", "53"),
        ("66-NQ/TW", "statedDate", "2025-04-30", "langson-2026-2030-cchc", "53"),
        ("66-NQ/TW", "statedDate", "2025-04-30", "langson-2026-2030-cchc", "53"),
    ]


def test_cq10_carry_over_links(extractions):
    store = Store(None)
    store.build(corpus_documents(extractions))
    assert answers(store, "CQ10") == []  # built without embeddings: no carry-over links yet
    later = {"doc": "langson-2026-cchc-phuluc.txt", "section": "VII", "no": "2", "line": 1444}
    earlier = {"doc": "langson-2023-cchc-phuluc.txt", "section": "VII", "no": "2", "line": 1480}
    pair = {"from": earlier, "to": later, "score": 0.8, "reasons": ["lead: successor of Sở TT&TT"]}
    graph = carryover_graph([pair], store.iris)
    store.put_graph(BASE + "graph/carryover/test", list(graph), docs=[later["doc"], earlier["doc"]])
    rows = answers(store, "CQ10")
    assert [(r["task"], r["earlier"]) for r in rows] == [
        (APPX26 + "VII-2", BASE + "task/langson-2023-cchc-phuluc/VII-2")]
    store.remove_document("langson-2023-cchc-phuluc.txt")  # a derived graph goes with its documents
    assert answers(store, "CQ10") == []
