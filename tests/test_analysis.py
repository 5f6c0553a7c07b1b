"""The planner's tables (cchc.graph.analysis) and figure helpers (cchc.graph.figures) on the real corpus.

Each tally is checked against another path to the same fact: the store's
own counts, the extraction records, the carry-over result, or the registry.
"""

from __future__ import annotations

import warnings
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from cchc.graph.extract.agencies import load_registry
from cchc.graph.read import analysis
from cchc.graph.read.trace import trace

from .conftest import APPENDIX_2023, APPENDIX_2026, PLAN_2026_2030, TANDOAN_2025

LATER = "2026-12-31"


@pytest.fixture(scope="module")
def store(app):
    return app.store


@pytest.fixture(scope="module")
def rows(store):
    return analysis.task_rows(store)


@pytest.fixture(scope="module")
def fields(store):
    return analysis.field_labels(store)


# ---------------------------------------------------------------------------- tasks, fields


def test_task_rows_are_the_store_tasks(store, rows, extractions):
    assert len(rows) == store.counts()["tasks"] == len({r.iri for r in rows})
    per_doc = analysis.tasks_per_document(rows)
    assert per_doc == {d.file: d.counts["tasks"] for d in store.documents()}
    assert per_doc == {name: len(ex.tasks) for name, ex in extractions.items()}


def test_fields_follow_the_appendix_sections(fields, rows):
    assert len(fields) == 7
    assert next(iter(fields)) == "chi-dao-dieu-hanh"  # section I, "Công tác chỉ đạo, điều hành CCHC"
    assert list(fields)[-1] == "chinh-quyen-so"  # section VII
    assert fields["thu-tuc-hanh-chinh"] == "Cải cách thủ tục hành chính"
    # Every appendix row of one section has one field, and the fields come in section order.
    by_section = {}
    for r in rows:
        if r.doc == APPENDIX_2026:
            by_section.setdefault(r.section, set()).add(r.field)
    assert all(len(f) == 1 for f in by_section.values())
    order = sorted(by_section, key=lambda s: ["I", "II", "III", "IV", "V", "VI", "VII"].index(s))
    assert [next(iter(by_section[s])) for s in order] == list(fields)


def test_tasks_per_field_adds_up_to_the_sections(rows, fields, extractions):
    table = analysis.tasks_per_field(rows, list(fields))
    assert {d: sum(v.values()) for d, v in table.items()} == analysis.tasks_per_document(rows)
    for appendix in (APPENDIX_2023, APPENDIX_2026):
        sections = Counter(t.section for t in extractions[appendix].tasks)
        assert sorted(v for v in table[appendix].values() if v) == sorted(sections.values())
        assert table[appendix].get(analysis.NO_FIELD, 0) == 0
    # Hand-checked: 10 rows under "III CẢI CÁCH THỦ TỤC HÀNH CHÍNH" in 2026, 8 in 2023.
    assert table[APPENDIX_2026]["thu-tuc-hanh-chinh"] == 10
    assert table[APPENDIX_2023]["thu-tuc-hanh-chinh"] == 8


# ---------------------------------------------------------------------------- deadlines


def test_deadline_quarters_agree_with_the_extracted_deadlines(rows, extractions):
    table = analysis.deadline_table(rows)
    expected: Counter[str] = Counter()
    for ex in extractions.values():
        for t in ex.tasks:
            if t.deadline and t.deadline.end:
                end = date.fromisoformat(t.deadline.end)
                expected[analysis.quarter_label(end.year, (end.month - 1) // 3 + 1)] += 1
    assert {q: sum(c.values()) for q, c in table.items()} == dict(expected)
    assert list(table) == sorted(table, key=lambda q: (q[-4:], ["I", "II", "III", "IV"].index(q[4:-5])))
    # "Thường xuyên" rows of the 2026 appendix are recurring tasks due at the end of 2026.
    recurring = sum(1 for t in extractions[APPENDIX_2026].tasks if t.timeline == "Thường xuyên")
    assert recurring > 0
    assert table["Quý IV/2026"]["thường xuyên"] >= recurring
    # "Quý II, III/2026" is due when it ends, in quarter III.
    row = next(r for r in rows if r.timeline == "Quý II, III/2026")
    assert analysis.deadline_quarter(row) == (2026, 3)
    assert analysis.deadline_kind(row) == "hạn cụ thể"


# ---------------------------------------------------------------------------- lead agencies


def _led(extractions, doc, agency_ids):
    return sum(1 for t in extractions[doc].tasks if {a.agency_id for a in t.lead_agencies} & set(agency_ids))


def test_lineage_puts_so_tt_tt_tasks_under_so_kh_cn(rows, extractions):
    registry = load_registry()
    assert registry.current("so-tt-tt", LATER) == ["so-kh-cn"]
    led_2023 = _led(extractions, APPENDIX_2023, ["so-tt-tt"])
    assert led_2023 >= 5  # hand-checked: the 2023 appendix gives Sở TT&TT the digital-government rows
    raw = {c.agency: c for c in analysis.lead_tally(rows, registry, docs=[APPENDIX_2023])}
    assert raw["so-tt-tt"].tasks == led_2023 and "so-kh-cn" not in raw
    mapped = {c.agency: c for c in analysis.lead_tally(rows, registry, as_of=LATER, docs=[APPENDIX_2023])}
    assert "so-tt-tt" not in mapped
    assert mapped["so-kh-cn"].tasks == _led(extractions, APPENDIX_2023, ["so-tt-tt", "so-kh-cn"])
    assert mapped["so-kh-cn"].via == {"so-tt-tt": led_2023}
    assert mapped["so-kh-cn"].name == "Sở Khoa học và Công nghệ"
    # Unchanged departments keep their count.
    assert mapped["so-tu-phap"].tasks == raw["so-tu-phap"].tasks == _led(extractions, APPENDIX_2023, ["so-tu-phap"])


def test_lead_comparison_sets_2023_beside_2026(rows, extractions):
    registry = load_registry()
    periods = {"2023": [APPENDIX_2023], "2026": [APPENDIX_2026]}
    table = analysis.lead_comparison(rows, registry, periods, as_of=LATER, top=50)
    by_id = {e["agency"]: e for e in table}
    assert by_id["so-kh-cn"]["2026"] == _led(extractions, APPENDIX_2026, ["so-kh-cn"])
    assert by_id["so-kh-cn"]["2023"] == _led(extractions, APPENDIX_2023, ["so-tt-tt", "so-kh-cn"])
    assert all(not registry.get(e["agency"]).is_group for e in table)
    totals = [e["2023"] + e["2026"] for e in table]
    assert totals == sorted(totals, reverse=True)
    assert table[0]["agency"] == "so-noi-vu"  # hand-checked: the reform's lead department leads most rows
    groups = {e["agency"]: e for e in analysis.lead_comparison(rows, registry, periods, as_of=LATER, top=50,
                                                               include_groups=True)}
    # Abolished district committees count under the communes.
    communes = [a.id for a in registry if registry.current(a.id, LATER) == ["ubnd-cac-xa"]]
    assert "ubnd-cac-huyen" in communes
    assert groups["ubnd-cac-xa"]["2023"] == _led(extractions, APPENDIX_2023, communes)
    assert groups["ubnd-cac-xa"]["2023"] > _led(extractions, APPENDIX_2023, ["ubnd-cac-xa"])


# ---------------------------------------------------------------------------- citations


def test_citation_graph_is_what_cites_instruments(store):
    g = analysis.citation_graph(store)
    folded = analysis.citation_graph(store, tasks=False)
    assert {a["kind"] for _, a in folded.nodes(data=True)} == {"document", "instrument"}
    assert {a["kind"] for _, a in g.nodes(data=True)} == {"document", "instrument", "task"}
    for graph in (g, folded):
        assert all(graph.nodes[v]["kind"] == "instrument" for _, v in graph.edges)
        assert all(set(d["relations"]) <= set(analysis.CITING_RELATIONS) for *_, d in graph.edges(data=True))
    instruments = [n for n, a in folded.nodes(data=True) if a["kind"] == "instrument"]
    assert len(instruments) == store.counts()["instruments"]
    assert sum(1 for _, a in folded.nodes(data=True) if a["kind"] == "document") == store.counts()["documents"]


def test_most_cited_counts_every_mention_once(store, extractions):
    cited = analysis.most_cited(store, None)
    assert sum(c.mentions for c in cited) == store.counts()["citations"]
    assert len(cited) == store.counts()["instruments"]
    keys = [(-c.documents, -c.mentions, -c.tasks, c.id) for c in cited]
    assert keys == sorted(keys)
    by_id = {c.id: c for c in cited}
    for ident in ("43/CT-TTg", "76/NQ-CP", "118/2025/NĐ-CP"):
        docs = {name for name, ex in extractions.items() if any(c.id == ident for c in ex.citations)}
        assert set(by_id[ident].cited_by) == docs and by_id[ident].documents == len(docs)
        assert by_id[ident].mentions == sum(1 for ex in extractions.values() for c in ex.citations if c.id == ident)
    assert by_id["43/CT-TTg"].documents == 3  # hand-checked: both appendices and Tân Đoàn cite it


def test_chain_from_76_nq_cp_down_to_tasks(store, fields):
    hits = trace(store, "76/NQ-CP")
    groups = analysis.chain_groups(hits)
    assert sum(len(g["hits"]) for g in groups) == len(hits)
    sizes = {d.file: d.counts["tasks"] for d in store.documents()}
    via_plan = {next(iter(g["docs"])): len(g["hits"]) for g in groups if g["link"] == "via-plan"}
    # Both plans that implement / are based on the resolution bring every one of their tasks.
    assert via_plan == {PLAN_2026_2030: sizes[PLAN_2026_2030], TANDOAN_2025: sizes[TANDOAN_2025]}
    tree = analysis.chain_tree(store, hits, fields)
    roots = [n for n, a in tree.nodes(data=True) if a["layer"] == 0]
    assert [tree.nodes[n]["label"] for n in roots] == ["76/NQ-CP"]
    counted = sum(a["count"] for _, a in tree.nodes(data=True) if a["kind"] == "tasks")
    assert counted == sum(1 for h in hits if h.kind == "task")
    assert all(tree.out_degree(n) == 1 for n in tree if n not in roots)


# ---------------------------------------------------------------------------- carry-over


def test_carryover_by_field_agrees_with_the_carryover_result(app, store, rows, fields):
    plan = app.carryover.plan(APPENDIX_2023, APPENDIX_2026)
    table = analysis.carryover_by_field(store, APPENDIX_2023, APPENDIX_2026, list(fields))
    assert [c.field for c in table][:7] == list(fields)
    for key, value in plan.counts().items():
        if key in ("continued", "dropped", "carried", "new"):
            assert sum(getattr(c, key) for c in table) == value, key
    per_field = analysis.tasks_per_field(rows, list(fields))
    for c in table:
        assert c.continued + c.dropped == per_field[APPENDIX_2023].get(c.field, 0)
        assert c.carried + c.new == per_field[APPENDIX_2026].get(c.field, 0)
    # The one 2023 -> 2026 link the restructuring renamed the lead of: Sở TT&TT's rows continued by Sở KH&CN.
    renamed = [p for p in plan.pairs if "so-tt-tt" in p.earlier.lead_ids and "so-kh-cn" in p.later.lead_ids]
    assert renamed
    digital = next(c for c in table if c.field == "chinh-quyen-so")
    assert digital.continued >= len({p.earlier.key for p in renamed if p.earlier.section == "VII"})


# ---------------------------------------------------------------------------- figures


def _missing_glyph_warnings(text: str, family: str | None = None) -> list[str]:
    """Matplotlib's "Glyph ... missing from font(s)" warnings when drawing `text` (in `family`, if given)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"font.family": family, "axes.formatter.use_mathtext": True} if family else {}):
        fig, ax = plt.subplots()
        ax.set_title(text)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.canvas.draw()
        plt.close(fig)
    return [str(w.message) for w in caught if "missing from" in str(w.message)]


def test_vietnamese_font_renders_every_letter():
    import matplotlib
    from cchc.graph.read import figures
    from matplotlib import font_manager

    name = figures.use_vietnamese_font()
    path = font_manager.findfont(font_manager.FontProperties(family=name), fallback_to_default=False)
    assert figures.font_covers(path)
    assert matplotlib.rcParams["font.sans-serif"][0] == name
    sample = "Sở Khoa học và Công nghệ · Quý IV/2026 · ư ơ đ Đ " + figures.VIETNAMESE_LETTERS
    assert _missing_glyph_warnings(sample) == []
    # The check bites: matplotlib's Computer Modern has no "ơ", and both the font test and the drawing say so.
    cmr10 = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "cmr10.ttf"
    assert not figures.font_covers(cmr10)
    assert _missing_glyph_warnings("Sở ơ đ", family="cmr10")


def test_save_figure_writes_a_small_png_atomically(tmp_path, store, fields):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from cchc.graph.read import figures

    figures.use_vietnamese_font()
    table = [c.to_json() for c in analysis.carryover_by_field(store, APPENDIX_2023, APPENDIX_2026, list(fields))]
    fig, ax = plt.subplots(figsize=(12, 5.5))
    figures.carryover_chart(ax, table, fields)
    out = figures.save_figure(fig, tmp_path / "figs", "carryover")
    plt.close(fig)
    assert out == tmp_path / "figs" / "carryover.png"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 10_000 < out.stat().st_size < 300_000
    assert [p.name for p in out.parent.iterdir()] == ["carryover.png"]  # no temporary file left behind
