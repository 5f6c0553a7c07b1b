"""The web page in a real browser (Debian's chromium, headless) against the live service.

A legal officer types "nhiệm vụ theo Nghị định 118", finds the 2026 appendix task
that cites it, opens it and reads the source lines it came from; the instrument
page lists the task; a phone-sized screen needs no sideways scrolling.  Screenshots
are saved under each test's tmp_path (paths logged) for a human to look at.
Without chromium the tests skip, unless CCHC_REQUIRE_BROWSER=1 (CI) makes that a failure.
"""

from __future__ import annotations

import logging
import os
import shutil
import unicodedata
from pathlib import Path

import pytest

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
APPENDIX_2026 = ROOT / "data" / "corpus" / "langson-2026-cchc-phuluc.txt"
QUERY = "nhiệm vụ theo Nghị định 118"
TASK = "langson-2026-cchc-phuluc/III.9"
TASK_LINK = f'a[href="#/task/{TASK}"]'
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _chromium() -> str | None:
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    if executable is None:
        reason = "Debian chromium is not installed (/usr/bin/chromium; apt-get install -y chromium)"
        if os.environ.get("CCHC_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}, and CCHC_REQUIRE_BROWSER=1 requires the browser tests to run")
        pytest.skip(reason)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)  # a query embeds the text on CPU; a busy CI machine is slow
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def open_page(browser, tmp_path):
    """A fresh page per viewport; JavaScript errors fail the test; `shot(name)` saves a screenshot."""
    contexts, errors, shots = [], [], []

    def make(viewport: dict, **options):
        ctx = browser.new_context(viewport=viewport, locale="vi-VN", **options)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # API answers such as a 404 for an unknown id are the page's business; a missing asset or a script error is not
        page.on("console", lambda msg: msg.type == "error" and not msg.text.startswith("Failed to load resource")
                and errors.append(msg.text))
        page.on("response", lambda r: r.status >= 400 and "/static/" in r.url and errors.append(f"{r.status} {r.url}"))

        def shot(name: str) -> Path:
            path = tmp_path / f"{name}.png"
            page.screenshot(path=str(path), full_page=True)
            log.info("screenshot %s", path)
            shots.append(path)
            return path

        page.shot = shot
        return page

    yield make
    for ctx in contexts:
        ctx.close()
    if shots:
        print("\nscreenshots:", *shots, sep="\n  ")
    assert not errors, f"errors in the page: {errors}"


def _corpus_lines(first: int, last: int) -> dict[int, str]:
    lines = unicodedata.normalize("NFC", APPENDIX_2026.read_text(encoding="utf-8")).split("\n")
    return {n: " ".join(lines[n - 1].split()) for n in range(first, last + 1)}


def _no_sideways_scroll(page) -> None:
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{page.url}: page is {scroll}px wide in a {inner}px viewport"


def test_search_as_you_type_then_task_page_with_source_lines(open_page, live_url):
    from playwright.sync_api import expect

    page = open_page(DESKTOP)
    page.goto(live_url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    page.locator("#q").press_sequentially(QUERY, delay=30)  # typed, not pasted: the page searches as one types

    hit = page.locator("li.result", has=page.locator(TASK_LINK))
    expect(hit).to_be_visible()
    expect(hit).to_contain_text("Công bố TTHC")
    expect(hit).to_contain_text("langson-2026-cchc-phuluc.txt")
    expect(hit.locator(".chip", has_text="118/2025/NĐ-CP")).to_be_visible()  # why it matched
    expect(page.locator("#search-status")).to_contain_text("kết quả")
    assert "q=" in page.url  # the search is a link that can be shared
    page.shot("search-desktop")

    # the filters come from the API: a year without the task hides it, its own field keeps it
    page.select_option("#f-field", "thu-tuc-hanh-chinh")
    expect(hit).to_be_visible()
    page.select_option("#f-year", "2023")
    expect(page.locator(TASK_LINK)).to_have_count(0)
    page.select_option("#f-year", "")
    page.select_option("#f-field", "")
    expect(page.locator(TASK_LINK)).to_be_visible()
    assert page.locator("#f-agency option").count() > 10

    page.locator(TASK_LINK).first.click()
    expect(page.locator("h1")).to_contain_text("Mục III, STT 9")
    expect(page.locator(".task-content")).to_contain_text("Nghị định số 118/2025/NĐ-CP")
    source = page.locator(".source")
    expect(source).to_be_visible()
    for n, text in _corpus_lines(841, 847).items():
        if text:  # the source lines as the corpus file has them, numbered as cat -n counts
            expect(source.locator(f'[data-line="{n}"] .tx')).to_have_text(text)
    expect(page.locator(".defs")).to_contain_text("Văn phòng Ủy ban nhân dân tỉnh")
    page.shot("task-desktop")


def test_instrument_page_lists_the_task_with_its_path(open_page, live_url):
    from playwright.sync_api import expect

    page = open_page(DESKTOP)
    page.goto(f"{live_url}/#/task/{TASK}")
    page.locator('.defs a[href^="#/instrument/118-2025-nd-cp"]').click()
    expect(page.locator("h1")).to_have_text("Nghị định 118/2025/NĐ-CP")
    traced = page.locator(".traced li.result", has=page.locator(TASK_LINK))
    expect(traced).to_be_visible()
    expect(traced.locator(".path")).to_contain_text("trích dẫn")
    expect(traced.locator(".badge")).to_have_text("trích dẫn trực tiếp")
    page.shot("instrument-desktop")
    traced.locator(TASK_LINK).first.click()  # and back to the task
    expect(page.locator("h1")).to_contain_text("Mục III, STT 9")


def test_phone_viewport_has_no_sideways_scroll(open_page, live_url):
    from playwright.sync_api import expect

    page = open_page(PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page.goto(f"{live_url}/#/?q={QUERY}")
    expect(page.locator(TASK_LINK)).to_be_visible()
    _no_sideways_scroll(page)
    page.shot("search-phone")
    for route, heading in ((f"#/task/{TASK}", "Mục III, STT 9"), ("#/instrument/118-2025-nd-cp", "118/2025/NĐ-CP"),
                           ("#/agency/vp-ubnd-tinh", "Văn phòng")):
        page.goto(f"{live_url}/{route}")
        expect(page.locator("h1")).to_contain_text(heading)
        _no_sideways_scroll(page)
        page.shot(route.split("/")[1] + "-phone")
    expect(page.locator(".agency")).to_contain_text("Năm 2026")
    # the agency page lists the task it leads (and may link it again as where a 2023 task went)
    expect(page.locator(f".agency {TASK_LINK}").first).to_be_visible()


def test_text_is_never_markup_and_unknown_ids_say_so(open_page, live_url):
    from playwright.sync_api import expect

    page = open_page(DESKTOP)
    typed = '<img id="injected" src="x"> Nghị định 118'
    page.goto(live_url + "/")
    page.fill("#q", typed)
    expect(page.locator("#search-status")).to_contain_text(typed)  # the query comes back as text, not as markup
    expect(page.locator("#injected")).to_have_count(0)
    page.goto(f"{live_url}/#/task/{TASK}-khong-co")
    expect(page.locator("[role=alert]")).to_contain_text("Không tìm thấy")
