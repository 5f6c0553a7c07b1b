"""Issue 17: answers people can act on.  Relevance cut-off, paging, filters without a question, one
readable id per task (older forms redirect), loose instrument and agency names, on the real corpus."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from .conftest import APPENDIX_2026, PLAN_2026_2030

ROW = "langson-2026-cchc-phuluc/III.9"
NONSENSE = "xyzzy qwerty"


@pytest.fixture(scope="module")
def client(app):
    from cchc.service.app import create_app

    with TestClient(create_app(app.settings, app), base_url="http://localhost") as c:
        yield c


def _typed(why: list[str]) -> bool:
    return any(w not in ("bm25", "dense") for w in why)


# ---------------------------------------------------------------- relevance (library)


def test_nonsense_answers_nothing(searcher):
    for text in (NONSENSE, "asdf ghjk", "pizza margherita recipe"):
        answer = searcher.answer(text, k=20)
        assert answer.total == 0 and answer.results == [], text


def test_an_instrument_question_shows_only_what_traces_to_it(searcher):
    answer = searcher.answer("nhiệm vụ theo Nghị định 118", k=20)
    assert answer.results and answer.total == len(answer.results) < 20  # the count, not the cap
    assert all(_typed(r.why) and not r.weak for r in answer.results)
    assert any(r.id == ROW for r in answer.results)


def test_topic_question_pages_with_a_stable_total(searcher):
    first = searcher.answer("nộp hồ sơ qua mạng", k=5)
    second = searcher.answer("nộp hồ sơ qua mạng", k=5, offset=5)
    assert first.total == second.total > 10
    assert not {r.key for r in first.results} & {r.key for r in second.results}
    assert [r.key for r in first.results + second.results] == [r.key for r in searcher.search("nộp hồ sơ qua mạng",
                                                                                              k=10)]


def test_weak_results_are_marked_and_never_alone(searcher):
    answer = searcher.answer("trả phí, lệ phí online không dùng tiền mặt", k=100)
    assert answer.results and not answer.results[0].weak
    assert all(isinstance(r.weak, bool) for r in answer.results)
    for text in ("bóng đá ngoại hạng anh", "kết quả xổ số miền bắc"):  # chance words of another topic
        assert all(not r.weak for r in searcher.answer(text, k=100).results) or not searcher.answer(text).total


def test_filters_without_a_question_list_the_tasks(searcher):
    from cchc.search.searcher import Filters, due_window

    lo, hi = due_window(None, 2026, None)
    answer = searcher.answer("", k=500, filters=Filters(agency="so-noi-vu", due_from=lo, due_to=hi))
    assert answer.total == len(answer.results) > 0
    units = {u.key: u for u in searcher.units}
    for r in answer.results:
        u = units[r.key]
        assert "so-noi-vu" in u.lead_ids + u.coop_ids
        assert u.deadline is not None and u.deadline.end is not None
    # a quarter is narrower than its year, and "before" cuts the later rows
    q1 = searcher.answer("", k=500, filters=Filters(agency="so-noi-vu", **dict(zip(
        ("due_from", "due_to"), due_window("quý I/2026"), strict=True))))
    assert 0 < q1.total < answer.total
    for r in q1.results:  # due in the quarter; a standing duty counts in every quarter its span meets
        dl = units[r.key].deadline
        assert dl.end <= "2026-03-31" or (dl.recurrence == "continuous" and dl.start <= "2026-03-31")
    assert searcher.answer("", k=5).total == 0  # no question, no filter: nothing to list


def test_deadline_window_reads_periods_as_people_write_them():
    from datetime import date

    from cchc.search.searcher import due_window

    assert due_window("quý II/2026") == (date(2026, 4, 1), date(2026, 6, 30))
    assert due_window("2026") == (date(2026, 1, 1), date(2026, 12, 31))
    assert due_window(None, 2026, date(2026, 5, 31)) == (date(2026, 1, 1), date(2026, 5, 31))
    with pytest.raises(ValueError, match="deadline"):
        due_window("không rõ")


# ---------------------------------------------------------------- relevance (API)


def test_api_nonsense_is_empty_with_total_zero(client):
    body = client.get("/search", params={"q": NONSENSE, "k": 20}).json()
    assert body["results"] == [] and body["total"] == 0


def test_api_paging_and_ids(client):
    a = client.get("/search", params={"q": "số hóa hồ sơ thủ tục hành chính", "k": 4}).json()
    b = client.get("/search", params={"q": "số hóa hồ sơ thủ tục hành chính", "k": 4, "offset": 4}).json()
    assert a["total"] == b["total"] > 8 and b["offset"] == 4
    assert not {r["id"] for r in a["results"]} & {r["id"] for r in b["results"]}
    for r in a["results"] + b["results"]:
        assert {"id", "weak", "doc", "line", "section", "no", "score", "text", "why"} <= set(r)
        assert r["id"].split("/")[0] == r["doc"].rsplit(".", 1)[0]


def test_api_filters_without_q(client):
    body = client.get("/search", params={"agency": "Sở Nội vụ", "deadline_year": 2026, "k": 50}).json()
    assert body["total"] == len(body["results"]) > 0 and body["query"] == ""
    for r in body["results"]:
        t = client.get(f"/tasks/{r['id']}").json()
        assert "so-noi-vu" in {x["id"] for x in t["lead"] + t["cooperating"]}
        assert t["deadline"]["end"].startswith("2026")
    assert client.get("/search", params={"deadline": "mùa xuân"}).status_code == 400
    assert client.get("/search").json()["total"] == 0  # neither a question nor a filter: nothing to answer


# ---------------------------------------------------------------- one id, older forms redirect


def _location(client: TestClient, url: str) -> str:
    r = client.get(url, follow_redirects=False)
    assert r.status_code in (301, 308), (url, r.status_code, r.text[:300])
    return r.headers["location"]


def test_search_result_id_opens_the_task(client):
    hit = next(r for r in client.get("/search", params={"q": "NĐ 118", "k": 10}).json()["results"]
               if r["doc"] == APPENDIX_2026)
    assert hit["id"] == ROW
    t = client.get(f"/tasks/{hit['id']}", follow_redirects=False)
    assert t.status_code == 200 and t.json()["id"] == ROW


@pytest.mark.parametrize("old", ["langson-2026-cchc-phuluc.txt:III.9", "langson-2026-cchc-phuluc/III-9",
                                 "https://w3id.org/cchc/task/langson-2026-cchc-phuluc/III-9"])
def test_old_task_ids_redirect_to_the_readable_one(client, old):
    assert _location(client, f"/tasks/{quote(old, safe='/:')}") == f"/tasks/{ROW}"
    assert _location(client, f"/tasks/{quote(old, safe='/:')}/history") == f"/tasks/{ROW}/history"
    assert client.get(f"/tasks/{quote(old, safe='/:')}").json()["id"] == ROW


def test_narrative_tasks_go_by_their_heading_number(client, searcher):
    stem = PLAN_2026_2030[:-4]
    assert _location(client, f"/tasks/{stem}/L113") == f"/tasks/{stem}/III.1.1"
    t = client.get(f"/tasks/{stem}/III.1.1").json()
    assert t["provenance"]["line"] == 113 and t["no"] == "1.1"
    hit = next(r for r in searcher.search("QĐ 282", k=10) if r.doc == PLAN_2026_2030 and r.line == 113)
    assert hit.id == f"{stem}/III.1.1"


@pytest.mark.parametrize("loose", ["NĐ 118", "nghi dinh 118/2025", "118/2025/NĐ-CP"])
def test_loose_instrument_names_redirect(client, loose):
    assert _location(client, f"/instruments/{quote(loose, safe='')}") == "/instruments/118-2025-nd-cp"


@pytest.mark.parametrize(("name", "agency"), [("Sở Nội vụ", "so-noi-vu"), ("Sở TT&TT", "so-tt-tt")])
def test_agency_names_redirect(client, name, agency):
    assert _location(client, f"/agencies/{quote(name, safe='')}") == f"/agencies/{agency}"
    assert client.get(f"/agencies/{quote(name, safe='')}").json()["id"] == agency


def test_unknown_names_are_404(client):
    assert client.get("/instruments/NĐ 999999").status_code == 404
    assert client.get("/agencies/Sở Không Có").status_code == 404
    assert client.get("/tasks/langson-2026-cchc-phuluc/IX.99").status_code == 404


def test_cli_history_takes_the_readable_id(app, capsys):
    from cchc.service.cli import main

    for ref in (ROW, "langson-2026-cchc-phuluc.txt:III.9"):
        assert main(["history", ref, "--data", str(app.settings.data_dir), "--json"]) == 0
        body = json.loads(capsys.readouterr().out)
        assert any(s.get("query") for s in body["history"])
