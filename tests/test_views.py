"""Read-side views of the graph (cchc.graph.views) over the store built from the real corpus."""

from __future__ import annotations

import re

import pytest
from cchc.graph.corpus import load_manifest
from cchc.graph.extract.reading import fold
from cchc.graph.read.views import GraphViews, NotFound

from .conftest import APPENDIX_2023, APPENDIX_2026, CORPUS

ROW = "langson-2026-cchc-phuluc/III.9"


@pytest.fixture(scope="module")
def views(app) -> GraphViews:
    return GraphViews(app.store, app.settings.corpus_dir, load_manifest(app.settings.corpus_dir))


def words(text: str) -> list[str]:
    return re.findall(r"\w+", fold(text))


def test_task_detail_cites_its_instrument_with_the_source_lines(views, extractions):
    row = next(t for t in extractions[APPENDIX_2026].tasks if (t.section, t.no) == ("III", "9"))
    t = views.task(ROW)
    assert (t["doc"], t["section"], t["no"], t["content"]) == (APPENDIX_2026, "III", "9", row.content)
    assert "118/2025/NĐ-CP" in {c["id"] for c in t["citations"]}
    cite = next(c for c in t["citations"] if c["id"] == "118/2025/NĐ-CP")
    assert cite["instrument"] == "118-2025-nd-cp" and row.span.line <= cite["line"] <= row.span.end_line
    prov = t["provenance"]
    assert (prov["doc"], prov["line"], prov["end_line"]) == (APPENDIX_2026, row.span.line, row.span.end_line)
    assert [x["line"] for x in prov["lines"]] == list(range(row.span.line, row.span.end_line + 1))
    source = (CORPUS / APPENDIX_2026).read_text("utf-8").splitlines()
    assert all(fold(x["text"]) == fold(source[x["line"] - 1]) for x in prov["lines"])
    shown = set(words(" ".join(x["text"] for x in prov["lines"])))
    assert set(words(row.content)) <= shown and set(words(row.product or "")) <= shown
    assert [a["id"] for a in t["lead"]] == [a.agency_id for a in row.lead_agencies if a.agency_id]
    assert t["deadline"]["text"] == row.timeline
    assert "thu-tuc-hanh-chinh" in {f["id"] for f in t["fields"]}
    assert t["document"] == {"id": "langson-2026-cchc-phuluc", "title": t["document"]["title"], "year": 2026}


def test_unknown_ids_raise_not_found(views):
    for call in (lambda: views.task("langson-2026-cchc-phuluc/IX-99"), lambda: views.instrument("999/NQ-XX"),
                 lambda: views.agency("so-khong-co"), lambda: views.document("khong-co")):
        with pytest.raises(NotFound):
            call()


def test_instrument_by_printed_id_lists_mentions_and_citing_tasks(views):
    inst = views.instrument("118/2025/NĐ-CP", limit=500)
    assert inst["id"] == "118-2025-nd-cp" and views.instrument("118-2025-nd-cp")["iri"] == inst["iri"]
    assert (inst["identifier"], inst["number"], inst["year"]) == ("118/2025/NĐ-CP", "118", 2025)
    assert inst["mentions"]["total"] == len(inst["mentions"]["items"]) > 0
    assert any(x["task"] == ROW and x["doc"] == APPENDIX_2026 for x in inst["mentions"]["items"])
    cites = {x["task"]: x for x in inst["tasks"]["items"] if x["link"] == "cites"}
    assert ROW in cites and "118/2025/NĐ-CP" in cites[ROW]["why"]


def test_plan_instrument_reaches_tasks_via_the_plan_with_paths(views):
    inst = views.instrument("76/NQ-CP", limit=500)
    via_plan = [x for x in inst["tasks"]["items"] if x["link"] == "via-plan"]
    assert via_plan and inst["tasks"]["total"] == len(inst["tasks"]["items"])
    for x in via_plan:
        path = x["path"]
        assert path[0] == {**path[0], "kind": "task", "id": x["task"]}
        assert path[-1]["kind"] == "instrument" and path[-1]["id"] == "76-nq-cp"
        hop = next(s for s in path if s["relation"] in ("implements", "basedOn", "appendixOf"))
        assert hop["evidence"] and hop["evidence"]["doc"].endswith(".txt")
        # the plan the path goes through says so in its own view
        doc = next(s["id"] for s in path if s["kind"] == "document")
        if hop["kind"] == "document":
            assert "76-nq-cp" in {r["instrument"] for r in views.document(doc)["relations"]}
        assert views.task(x["task"])["document"]["id"] == doc


def test_agency_lineage_and_tasks_of_the_predecessor_by_year(views):
    a = views.agency("so-kh-cn", limit=500)
    assert {"id": "so-tt-tt", "name": "Sở Thông tin và Truyền thông"}.items() <= a["predecessors"][0].items()
    assert a["predecessors"][0]["relation"] == "merge" and a["predecessors"][0]["date"].startswith("2025")
    assert set(a["tasks"]["lead"]) == {"2026"}  # the merged department exists from 2025 on
    assert "2023" in a["inherited"]["lead"]
    for year, items in a["inherited"]["lead"].items():
        assert len(items) == a["inherited_totals"]["lead"][year]
        for item in items[:5]:
            assert item["agency"] == "so-tt-tt"
            assert "so-tt-tt" in {x["id"] for x in views.task(item["task"])["lead"]}
    for item in a["tasks"]["lead"]["2026"][:5]:
        assert "so-kh-cn" in {x["id"] for x in views.task(item["task"])["lead"]}
    old = views.agency("so-tt-tt")
    assert "so-kh-cn" in {s["id"] for s in old["successors"]} and "2026" not in old["tasks"]["lead"]


def test_agency_year_lists_are_paged(views):
    full = views.agency("so-kh-cn", limit=500)
    part = views.agency("so-kh-cn", limit=3, offset=2)
    assert part["totals"] == full["totals"]
    for year, items in full["inherited"]["lead"].items():
        assert part["inherited"]["lead"][year] == items[2:5]


def test_documents_and_their_task_pages_agree_with_the_store(views, app):
    docs = views.documents(limit=500)
    assert docs["total"] == len(app.store.documents()) == 5
    assert sum(d["tasks"] for d in docs["items"]) == app.store.counts()["tasks"]
    by_id = {d["id"]: d for d in docs["items"]}
    assert by_id["langson-2023-cchc-phuluc"]["year"] == 2023 and by_id["langson-2026-2030-cchc"]["period"] == [
        2026, 2030]
    d = views.document("langson-2026-cchc-phuluc", limit=10, offset=40)
    assert d["tasks"]["total"] == by_id["langson-2026-cchc-phuluc"]["tasks"] == d["counts"]["tasks"]
    assert len(d["tasks"]["items"]) == d["tasks"]["total"] - 40
    assert views.document(APPENDIX_2023)["id"] == "langson-2023-cchc-phuluc"  # the file name works too
    assert "appendixOf" in {r["relation"] for r in d["relations"]}


def test_task_at_maps_search_hits_to_tasks(views, searcher):
    for r in searcher.search("công bố thủ tục hành chính theo Nghị định 118", k=20):
        task = views.task_at(r.doc, r.line)
        if r.kind == "task":
            t = views.task(task)
            assert (t["doc"], t["section"], t["no"], t["provenance"]["line"]) == (r.doc, r.section, r.no, r.line)


def test_fields_count_tasks(views, app):
    fields = views.fields(limit=500)
    assert "thu-tuc-hanh-chinh" in views.field_ids() and fields["total"] == len(views.field_ids())
    assert 0 < sum(f["tasks"] for f in fields["items"]) <= app.store.counts()["tasks"]
