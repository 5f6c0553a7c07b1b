"""Timeline cells as structured time: every corpus form, invalid forms, period filters."""

from __future__ import annotations

import json
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from cchc.graph.extract.deadlines import overlaps, parse_deadline, parse_time_expression
from cchc.graph.extract.records import Deadline
from hypothesis import given
from hypothesis import strategies as st

GOLD_TASKS = Path(__file__).resolve().parents[2] / "shared" / "dev-gold" / "tasks.jsonl"

# (cell, default_year, start, end, recurrence, precision)
CASES = [
    # 2026 appendix
    ("Tháng 01/2026", None, "2026-01-01", "2026-01-31", None, "month"),
    ("Quý I/2026", None, "2026-01-01", "2026-03-31", None, "quarter"),
    ("Quý III/2026", None, "2026-07-01", "2026-09-30", None, "quarter"),
    ("Quý IV/2026", None, "2026-10-01", "2026-12-31", None, "quarter"),
    ("Quý II, III/2026", None, "2026-04-01", "2026-09-30", None, "quarter"),
    ("Trong năm 2026", None, "2026-01-01", "2026-12-31", None, "year"),
    ("Thường xuyên", 2026, "2026-01-01", "2026-12-31", "continuous", "year"),
    # 2023 appendix (every timeline form of the gold rows)
    ("Trong tháng 01/2023", None, "2023-01-01", "2023-01-31", None, "month"),
    ("Trong tháng 03/2023", None, "2023-03-01", "2023-03-31", None, "month"),
    ("Trong tháng 3/2023", None, "2023-03-01", "2023-03-31", None, "month"),
    ("Quý III/2023", None, "2023-07-01", "2023-09-30", None, "quarter"),
    ("Năm 2023", None, "2023-01-01", "2023-12-31", None, "year"),
    ("Trong năm 2023", None, "2023-01-01", "2023-12-31", None, "year"),
    ("Trong năm", 2023, "2023-01-01", "2023-12-31", None, "year"),
    ("Trong năm", None, None, None, None, None),
    ("Thường xuyên trong năm", 2023, "2023-01-01", "2023-12-31", "continuous", "year"),
    ("Thường xuyên trong năm", None, None, None, "continuous", None),
    ("Thường xuyên", None, None, None, "continuous", None),
    ("Tháng 9/2023 hoàn thành", None, "2023-09-01", "2023-09-30", None, "month"),
    ("Trong năm 2023 và các năm tiếp theo", None, "2023-01-01", None, "yearly", "year"),
    ("Kế hoạch ban hành trong tháng 01/2023; thực hiện thường xuyên", None,
     "2023-01-01", "2023-12-31", "continuous", "year"),
    ("Ngay sau khi có quyết định công bố của bộ, ngành Trung ương", 2023, None, None, None, None),
    ("Khi được cơ quan có thẩm quyền giao xây dựng dự thảo quy định về TTHC, quy định liên quan "
     "đến hoạt động kinh doanh tại dự thảo văn bản QPPL", 2023, None, None, None, None),
    # narrative plans and other forms
    ("Trước ngày 30 tháng 11 năm 2023", None, None, "2023-11-30", None, "day"),
    ("chậm nhất ngày 30/6/2023", None, None, "2023-06-30", None, "day"),
    ("Trước ngày 30/6/2026", None, None, "2026-06-30", None, "day"),
    ("6 tháng đầu năm 2026", None, "2026-01-01", "2026-06-30", None, "half"),
    ("6 tháng cuối năm", 2026, "2026-07-01", "2026-12-31", None, "half"),
    ("6 tháng cuối năm", None, None, None, None, None),
    ("Tháng 3, tháng 9/2026", None, "2026-03-01", "2026-09-30", None, "month"),
    ("tháng 3 năm 2026", None, "2026-03-01", "2026-03-31", None, "month"),
    ("Quý I năm 2026", None, "2026-01-01", "2026-03-31", None, "quarter"),
    ("Quý 2/2026", None, "2026-04-01", "2026-06-30", None, "quarter"),
    ("Quý II", 2026, "2026-04-01", "2026-06-30", None, "quarter"),
    ("Hằng năm", None, None, None, "yearly", None),
    ("Hằng năm", 2026, "2026-01-01", "2026-12-31", "yearly", "year"),
    ("Định kỳ hằng quý", None, None, None, "quarterly", None),
    ("2026-2030", None, "2026-01-01", "2030-12-31", None, "period"),
    ("Giai đoạn 2026-2030", None, "2026-01-01", "2030-12-31", None, "period"),
    ("giai đoạn 2026 - 2030", None, "2026-01-01", "2030-12-31", None, "period"),
    ("2026–2030", None, "2026-01-01", "2030-12-31", None, "period"),
    ("  Trong   tháng\n01/2023 ", None, "2023-01-01", "2023-01-31", None, "month"),
    ("TRONG THÁNG 01/2023", None, "2023-01-01", "2023-01-31", None, "month"),
    # invalid or unknown: text only, never guessed
    ("Quý V/2026", 2026, None, None, None, None),
    ("Quý II, V/2026", 2026, None, None, None, None),
    ("tháng 13/2026", 2026, None, None, None, None),
    ("tháng 0/2026", 2026, None, None, None, None),
    ("Trước ngày 31/2/2026", None, None, None, None, None),
    ("2030-2026", None, None, None, None, None),
    ("2026", None, None, None, None, None),
    ("Sớm nhất có thể", 2026, None, None, None, None),
    ("", 2026, None, None, None, None),
]


@pytest.mark.parametrize(("text", "year", "start", "end", "recurrence", "precision"), CASES)
def test_parse_deadline(text: str, year: int | None, start: str | None, end: str | None,
                        recurrence: str | None, precision: str | None) -> None:
    d = parse_deadline(text, default_year=year)
    assert (d.start, d.end, d.recurrence, d.precision) == (start, end, recurrence, precision)
    assert d.text == " ".join(text.split())


def test_non_nfc_input() -> None:
    d = parse_deadline(unicodedata.normalize("NFD", "Quý IV/2023"))
    assert (d.start, d.end) == ("2023-10-01", "2023-12-31")
    assert d.text == "Quý IV/2023"


@given(st.text(alphabet=st.sampled_from(list("0123456789/ ,-–IVXivqQuýtháng năm Quý Tháng Trước ngày"))))
def test_never_raises(text: str) -> None:
    d = parse_deadline(text, default_year=2026)
    assert isinstance(d, Deadline)
    if d.start and d.end:
        assert d.start <= d.end
    parse_time_expression(text)


def test_none_input_is_kept_empty() -> None:
    assert parse_deadline(None) == Deadline(text="")  # type: ignore[arg-type]


def test_gold_timelines_parse_or_are_events() -> None:
    if not GOLD_TASKS.exists():
        pytest.skip(f"no dev gold at {GOLD_TASKS}")
    rows = [json.loads(x) for x in GOLD_TASKS.read_text(encoding="utf-8").splitlines() if x.strip()]
    undated = sorted({r["timeline"] for r in rows if parse_deadline(r["timeline"], 2023).start is None})
    print("undated gold timelines:", undated)
    assert all(t.startswith(("Khi ", "Ngay sau khi")) for t in undated)


Q1_2026 = (date(2026, 1, 1), date(2026, 3, 31))
YEAR_2026 = (date(2026, 1, 1), date(2026, 12, 31))
MARCH_2023 = (date(2023, 3, 1), date(2023, 3, 31))

OVERLAP_CASES = [
    ("Quý I/2026", None, Q1_2026, True),
    ("Quý II, III/2026", None, Q1_2026, False),
    ("Tháng 01/2026", None, Q1_2026, True),
    ("Thường xuyên", 2026, Q1_2026, True),
    ("Thường xuyên", None, Q1_2026, False),  # undated: a filter cannot claim it
    ("Trong năm 2026", None, YEAR_2026, True),
    ("Quý IV/2023", None, YEAR_2026, False),
    ("Trong tháng 3/2023", None, MARCH_2023, True),
    ("Trong năm 2023 và các năm tiếp theo", None, YEAR_2026, True),
    ("Trước ngày 30/6/2026", None, Q1_2026, True),
    ("Trước ngày 30/6/2026", None, (date(2026, 7, 1), date(2026, 12, 31)), False),
    ("2026-2030", None, MARCH_2023, False),
    ("Giai đoạn 2026-2030", None, (date(2028, 5, 1), date(2028, 5, 31)), True),
]


@pytest.mark.parametrize(("text", "year", "window", "expected"), OVERLAP_CASES)
def test_overlaps(text: str, year: int | None, window: tuple[date, date], expected: bool) -> None:
    assert overlaps(parse_deadline(text, year), *window) is expected


def test_overlaps_open_window_and_iso_strings() -> None:
    d = parse_deadline("Quý I/2026")
    assert overlaps(d, None, None)
    assert overlaps(d, "2026-03-31", None)
    assert not overlaps(d, None, "2025-12-31")


EXPRESSION_CASES = [
    ("nhiệm vụ quý I/2026", date(2026, 1, 1), date(2026, 3, 31), "quý I/2026"),
    ("nhiem vu quy 1/2026 cua so noi vu", date(2026, 1, 1), date(2026, 3, 31), "quy 1/2026"),
    ("Q1/2026", date(2026, 1, 1), date(2026, 3, 31), "Q1/2026"),
    ("kế hoạch năm 2026", date(2026, 1, 1), date(2026, 12, 31), "năm 2026"),
    ("nam 2026", date(2026, 1, 1), date(2026, 12, 31), "nam 2026"),
    ("việc cần làm tháng 3/2023 của Sở Tư pháp", date(2023, 3, 1), date(2023, 3, 31), "tháng 3/2023"),
    ("6 tháng đầu năm 2026", date(2026, 1, 1), date(2026, 6, 30), "6 tháng đầu năm 2026"),
    ("CCHC giai đoạn 2026-2030", date(2026, 1, 1), date(2030, 12, 31), "giai đoạn 2026-2030"),
    ("hạn trước ngày 30/6/2026", None, date(2026, 6, 30), "trước ngày 30/6/2026"),
]


@pytest.mark.parametrize(("query", "start", "end", "surface"), EXPRESSION_CASES)
def test_parse_time_expression(query: str, start: date | None, end: date, surface: str) -> None:
    found = parse_time_expression(query)
    assert found is not None
    got_start, got_end, (s, e) = found
    assert (got_start, got_end, query[s:e]) == (start, end, surface)


@pytest.mark.parametrize("query", ["nhiệm vụ thường xuyên", "quý V/2026", "tháng 13/2026", "quy định về TTHC",
                                   "Sở Nội vụ", ""])
def test_parse_time_expression_none(query: str) -> None:
    assert parse_time_expression(query) is None


def test_parse_time_expression_default_year() -> None:
    assert parse_time_expression("quý 2") is None
    assert parse_time_expression("quý 2", default_year=2026)[:2] == (date(2026, 4, 1), date(2026, 6, 30))
