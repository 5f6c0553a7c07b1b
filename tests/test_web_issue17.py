"""The new web views in a real browser (issue 17): a search that answers nothing says so, paging and
filters without a question, the carry-over and instruments pages, older ids and loose names landing on
the canonical page, the SPARQL editor, and no English left in the Vietnamese page.  Screenshots (desktop
and phone) are saved under each test's tmp_path, as in test_web_browser."""

from __future__ import annotations

import re

import httpx

from . import test_web_browser as _web
from .test_web_browser import DESKTOP, PHONE, _no_sideways_scroll

browser = _web.browser  # the fixtures of the browser tests: one chromium per module, a fresh page per viewport
open_page = _web.open_page

ROW = "langson-2026-cchc-phuluc/III.9"
ENGLISH = re.compile(r"\b(read as|successor|predecessor|of|within the period|falls due|overlaps|group including|"
                     r"cites|lead:|field:|the-che|thu-tuc-hanh-chinh|chinh-quyen-so)\b")


def _vietnamese_only(page) -> None:
    text = page.locator("main").inner_text()
    found = ENGLISH.findall(text)
    assert not found, f"English in the page: {found}"


def test_nonsense_answers_nothing_and_says_so(open_page, live_url):
    from playwright.sync_api import expect

    page = open_page(DESKTOP)
    page.goto(f"{live_url}/#/?q=xyzzy%20qwerty")
    expect(page.locator("#search-status")).to_contain_text("Không có kết quả nào trả lời")
    expect(page.locator("li.result")).to_have_count(0)
    page.shot("nonsense-desktop")


def test_search_shows_the_count_pages_and_speaks_vietnamese(open_page, live_url):
    from playwright.sync_api import expect

    page = open_page(DESKTOP)
    page.goto(f"{live_url}/#/?q=so%20hoa%20ho%20so%20thu%20tuc%20hanh%20chinh")  # typed without diacritics
    expect(page.locator("#search-status")).to_contain_text("đang hiển thị 20")
    expect(page.locator("#search-status")).to_contain_text("đọc là")
    expect(page.locator("li.result")).to_have_count(20)
    page.locator("button.more").click()
    expect(page.locator("li.result")).not_to_have_count(20)
    _vietnamese_only(page)
    page.shot("search-paged-desktop")
    page.goto(f"{live_url}/#/?q=S%E1%BB%9F%20KH%26CN%20ch%E1%BB%A7%20tr%C3%AC%20n%C4%83m%202026")  # lineage reasons
    expect(page.locator("li.result").first).to_be_visible()
    _vietnamese_only(page)


def test_filters_list_tasks_without_a_question(open_page, live_url):
    from playwright.sync_api import expect

    page = open_page(DESKTOP)
    page.goto(f"{live_url}/")
    expect(page.locator("#f-agency option[value=so-noi-vu]")).to_have_count(1)
    page.select_option("#f-agency", "so-noi-vu")
    page.fill("#f-deadline", "quý I/2026")
    # the list of both filters, not the agency's alone shown a moment before (the deadline waits for typing to stop)
    total = httpx.get(f"{live_url}/search", params={"agency": "so-noi-vu", "deadline": "quý I/2026"}).json()["total"]
    expect(page.locator("#search-status")).to_contain_text(f"{total} kết quả theo bộ lọc")
    expect(page).to_have_url(re.compile(r"agency=so-noi-vu.*deadline=|deadline=.*agency=so-noi-vu"))
    first = page.locator("li.result").first
    expect(first).to_be_visible()
    first.locator(".result-title a").click()
    expect(page.locator(".defs")).to_contain_text("Sở Nội vụ")
    expect(page.locator(".defs")).to_contain_text("2026")


def test_carryover_page(open_page, live_url):
    from playwright.sync_api import expect

    for viewport, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page = open_page(viewport)
        page.goto(f"{live_url}/#/carryover")
        expect(page.locator("h1")).to_have_text("Chuyển tiếp nhiệm vụ giữa các kế hoạch")
        section = page.locator("section.plan-pair").first
        expect(section.locator(".counts")).to_contain_text("Không còn")
        dropped = section.locator("details[data-list=dropped]")
        dropped.locator("summary").click()
        expect(dropped.locator("li").first).to_be_visible()
        expect(dropped.locator(".excerpt").first).not_to_be_empty()
        _vietnamese_only(page)
        if name == "phone":
            _no_sideways_scroll(page)
        page.shot(f"carryover-{name}")
    page = open_page(DESKTOP)
    page.goto(f"{live_url}/#/carryover?agency=so-kh-cn")
    pair = page.locator(".pair").first
    expect(pair).to_contain_text("Sở Thông tin và Truyền thông")  # the successor's view includes its predecessor
    expect(pair.locator(".chip").first).to_be_visible()


def test_instruments_page_counts_tasks(open_page, live_url):
    from playwright.sync_api import expect

    for viewport, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page = open_page(viewport)
        page.goto(f"{live_url}/#/instruments")
        row = page.locator("tr", has=page.locator('a[href="#/instrument/118-2025-nd-cp"]'))
        expect(row).to_be_visible()
        assert int(row.locator("td.num").first.inner_text()) >= 1
        if name == "phone":
            _no_sideways_scroll(page)
        page.shot(f"instruments-{name}")
        row.locator("a").click()
        expect(page.locator("h1")).to_have_text("Nghị định 118/2025/NĐ-CP")


def test_old_ids_and_loose_names_land_on_the_canonical_page(open_page, live_url):
    from playwright.sync_api import expect

    page = open_page(DESKTOP)
    page.goto(f"{live_url}/#/task/langson-2026-cchc-phuluc.txt:III.9")
    expect(page.locator("h1")).to_contain_text("Mục III, STT 9")
    expect(page.locator(".src-line.cited").first).to_be_visible()  # the line citing NĐ 118, highlighted
    assert page.url.endswith(f"#/task/{ROW}")
    page.goto(f"{live_url}/#/instrument/N%C4%90%20118")
    expect(page.locator("h1")).to_have_text("Nghị định 118/2025/NĐ-CP")
    assert page.url.endswith("#/instrument/118-2025-nd-cp")
    page.goto(f"{live_url}/#/agency/S%E1%BB%9F%20N%E1%BB%99i%20v%E1%BB%A5")
    expect(page.locator("h1")).to_have_text("Sở Nội vụ")
    assert page.url.endswith("#/agency/so-noi-vu")


def test_abolished_agency_page_shows_where_its_tasks_went(open_page, live_url):
    from playwright.sync_api import expect

    page = open_page(DESKTOP)
    page.goto(f"{live_url}/#/agency/S%E1%BB%9F%20TT%26TT")
    expect(page.locator("h1")).to_have_text("Sở Thông tin và Truyền thông")
    went = page.locator(".went-to", has_text="Sở Khoa học và Công nghệ").first
    expect(went).to_be_visible()  # its 2023 task continues in a 2026 row the successor leads
    _vietnamese_only(page)
    page.shot("agency-abolished-desktop")


def test_sparql_editor_runs_an_example(open_page, live_url):
    from playwright.sync_api import expect

    for viewport, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page = open_page(viewport)
        page.goto(f"{live_url}/sparql")
        expect(page.locator("h1")).to_have_text("Truy vấn SPARQL")
        page.select_option("#example", "0")
        expect(page.locator("#query")).to_have_value(re.compile("118"))
        page.locator("button[type=submit]").click()
        expect(page.locator(".results-table tbody tr").first).to_be_visible()
        page.shot(f"sparql-{name}")


def test_a_deadline_falling_due_in_the_period_is_said_in_vietnamese(open_page, live_url):
    from playwright.sync_api import expect

    page = open_page(DESKTOP)
    page.goto(f"{live_url}/#/?q=nhi%E1%BB%87m%20v%E1%BB%A5%20n%C3%A0o%20%C4%91%E1%BA%BFn%20h%E1%BA%A1n%20qu%C3%BD%20II%2F2023")
    expect(page.locator("li.result").first).to_be_visible()
    expect(page.locator("main")).to_contain_text("đến hạn trong khoảng thời gian")
    _vietnamese_only(page)
