"""Quantified targets: real sentences of the corpus, then the forms the rules must read.

Each corpus case names the line the number is printed on, so spans are checked
exactly; the synthetic cases pin each comparator word.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cchc.graph.extract.narrative import extract_narrative
from cchc.graph.extract.reading import SourceText, read_source
from cchc.graph.extract.targets import find_targets, parse_number

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
PAPI = "langson-2023-papi-sipas-parindex.txt"
PLAN = "langson-2026-2030-cchc.txt"
TANDOAN = "tandoan-2025-cchc.txt"


@pytest.fixture(scope="module")
def targets() -> dict[str, list]:
    out = {}
    for doc in (PAPI, PLAN, TANDOAN):
        src = read_source(CORPUS / doc)
        out[doc] = (src, find_targets(src, extract_narrative(src).units))
    return out


# (doc, line of the number, value, unit, comparator, subject starts with, year) — sentence quoted alongside
CASES = [
    # "1. Chỉ số cải cách hành chính (PAR INDEX) năm 2023 nằm trong nhóm / 35 tỉnh, thành phố có chỉ số cao nhất"
    (PAPI, 71, 35, "tỉnh", "top", "Chỉ số cải cách hành chính (PAR INDEX) năm 2023", "2023"),
    # "... (SIPAS) năm 2023 nằm trong / nhóm 30 tỉnh, thành phố có chỉ số cao nhất."
    (PAPI, 74, 30, "tỉnh", "top", "Chỉ số hài lòng về sự phục vụ hành chính (SIPAS)", "2023"),
    # "nằm trong nhóm cao nhất (nhóm 15 tỉnh có chỉ số cao nhất theo phân nhóm của Chỉ số PAPI)."
    (PAPI, 78, 15, "tỉnh", "top", "Chỉ số hiệu quả quản trị", "2023"),
    # "phấn đấu năm 2023, tiếp tục sắp xếp giảm 09 đơn vị sự nghiệp công lập trên địa bàn tỉnh."
    (PAPI, 242, 9, "đơn vị", "=", "đơn vị sự nghiệp công lập", "2023"),
    # "đảm bảo hoàn thành chỉ tiêu: cấp tỉnh 70%; cấp huyện 60%; cấp xã 55% (mỗi năm tăng tối thiểu 20%)"
    (PAPI, 546, 70, "%", "=", "cấp tỉnh", None),
    (PAPI, 546, 55, "%", "=", "cấp xã", None),
    (PAPI, 546, 20, "%", ">=", "mỗi năm tăng", None),
    # "+ Tỷ lệ cấp kết quả giải quyết TTHC điện tử đạt 100%." (under "- *Giai đoạn 2026-2027:*")
    (PLAN, 61, 100, "%", "=", "Tỷ lệ cấp kết quả giải quyết TTHC điện tử", "2026-2027"),
    # "+ Mức độ hài lòng trong tiếp nhận, ... đạt tối thiểu 95%, trong đó, mức độ hài lòng ... đạt tối thiểu 90%."
    (PLAN, 67, 95, "%", ">=", "Mức độ hài lòng trong tiếp nhận", "2028-2030"),
    (PLAN, 67, 90, "%", ">=", "mức độ hài lòng về giải quyết các TTHC", "2028-2030"),
    # "- Tiếp tục phấn đấu giảm 10% biên chế sự nghiệp hưởng lương từ ngân sách nhà nước so với năm 2025."
    (PLAN, 73, 10, "%", "=", "giảm biên chế sự nghiệp", None),
    # "trên 95% cán bộ, công chức có trình độ đại học trở lên; 70% viên chức có trình độ đại học trở lên"
    (PLAN, 83, 95, "%", ">=", "cán bộ, công chức có trình độ đại học", None),
    (PLAN, 83, 70, "%", "=", "viên chức có trình độ đại học", None),
    # "+ Tỉnh Lạng Sơn đạt cấp độ 3 mức độ trưởng thành về quản trị dữ liệu."
    (PLAN, 99, 3, "cấp độ", "=", "Tỉnh Lạng Sơn", "2026-2027"),
    # "- Chỉ số PAR INDEX năm 2025 của xã xếp hạng thứ 35 xã, phường trở lên / trên địa bàn tỉnh."
    (TANDOAN, 67, 35, "xã", "top", "Chỉ số PAR INDEX năm 2025 của xã", "2025"),
    # "- Kiểm tra tối thiểu 25% phòng, Trung tâm Phục vụ hành chính công thuộc / UBND xã ..."
    (TANDOAN, 82, 25, "%", ">=", "Kiểm tra phòng, Trung tâm Phục vụ hành chính công", None),
    # "- Xây dựng 02 sáng kiến liên quan đến công tác cải cách thủ tục hành / chính, ..."
    (TANDOAN, 86, 2, "sáng kiến", "=", "Xây dựng sáng kiến", None),
    # "- Trên 99% tỷ lệ hồ sơ TTHC UBND cấp xã tiếp nhận trong năm được / giải quyết đúng hạn và trước hạn."
    (TANDOAN, 151, 99, "%", ">=", "tỷ lệ hồ sơ TTHC UBND cấp xã", None),
    # "kiểm tra công vụ 04 / cuộc trở lên ... Lồng ghép kiểm tra từ 02 cuộc trở lên"
    (TANDOAN, 211, 4, "cuộc", ">=", "kiểm tra công vụ cuộc", None),
    (TANDOAN, 215, 2, "cuộc", ">=", "Lồng ghép kiểm tra cuộc", None),
    # "- Thực hiện giải ngân kế hoạch đầu tư vốn ngân sách nhà nước (chỉ tính ...) đạt 80% trở lên."
    (TANDOAN, 232, 80, "%", ">=", "Thực hiện giải ngân kế hoạch đầu tư vốn", None),
    # "thực hiện kiểm tra trực tiếp tối / thiểu 20% phòng chuyên môn": the number is on the second line
    (TANDOAN, 308, 20, "%", ">=", "phòng chuyên môn", None),
]


@pytest.mark.parametrize(("doc", "line", "value", "unit", "comparator", "subject", "year"), CASES,
                         ids=[f"{d[:8]}:{n}:{v}" for d, n, v, *_ in CASES])
def test_corpus_targets(targets, doc, line, value, unit, comparator, subject, year):
    found = [t for t in targets[doc][1] if t.span.line == line and t.value == value]
    assert len(found) == 1, f"{doc}:{line} {value}: {[(t.span.line, t.value) for t in targets[doc][1]]}"
    t = found[0]
    assert (t.unit, t.comparator, t.year) == (unit, comparator, year)
    assert t.subject and t.subject.startswith(subject), t.subject


@pytest.mark.parametrize(("doc", "lines"), [
    (PAPI, range(11, 34)),  # preamble: "đạt 43,85 điểm, xếp hạng 13/61", "đạt 75,44%": last year's results
    (PAPI, range(1217, 1236)),  # "tuyên truyền ... về 08 nội dung của chỉ số PAPI": not a commitment
    (PLAN, [39, 205]),  # "tập trung vào 6 nội dung", "đầy đủ 06 lĩnh vực CCHC"
    (TANDOAN, [53, 148, 657]),  # "02 cấp", "thời hạn giải quyết từ 03 ngày trở lên", "chậm nhất sau 15 ngày"
])
def test_not_targets(targets, doc, lines):
    assert not [t for t in targets[doc][1] if t.span.line in lines]


def test_spans_point_at_the_number(targets):
    for doc, (src, found) in targets.items():
        assert len(found) >= 10, doc
        for t in found:
            assert 1 <= t.span.line == t.span.end_line <= len(src.lines)
            printed = f"{t.value:g}"
            line = src.line(t.span.line).replace(",", ".")
            assert printed in line or f"0{printed}" in line, f"{doc}:{t.span.line} {t.value}"


def plan(*items: str) -> SourceText:
    return SourceText.from_text("II. MỤC TIÊU\n" + "\n".join(items) + "\n", "t.txt")


@pytest.mark.parametrize(("sentence", "value", "unit", "comparator"), [
    ("- Mức độ hài lòng của người dân phấn đấu đạt trên 90%.", 90, "%", ">="),
    ("- Chỉ số PAR INDEX tăng ít nhất 5 bậc so với năm 2023.", 5, "bậc", ">="),
    ("- Chỉ số PAPI đạt từ 80 điểm trở lên.", 80, "điểm", ">="),
    ("- Giảm 30% thời gian giải quyết TTHC.", 30, "%", "="),
    ("- Tỷ lệ hồ sơ trễ hạn không quá 2%.", 2, "%", "<="),
    ("- Tỷ lệ hồ sơ trễ hạn dưới 1,5%.", 1.5, "%", "<="),
    ("- Thời gian giải quyết tối đa 5 ngày làm việc.", 5, "ngày", "<="),
    ("- Chỉ số SIPAS nằm trong nhóm 20 tỉnh có chỉ số cao nhất.", 20, "tỉnh", "top"),
    ("- 100% TTHC được công khai trên Cổng Dịch vụ công.", 100, "%", "="),
])
def test_forms(sentence, value, unit, comparator):
    src = plan(sentence)
    (t,) = find_targets(src)
    assert (t.value, t.unit, t.comparator, t.span.line) == (value, unit, comparator, 2)


def test_cue_needed_outside_target_sections():
    src = SourceText.from_text("III. NHIỆM VỤ\n- Rà soát 25% văn bản.\n- Phấn đấu giải quyết 95% hồ sơ đúng hạn.\n"
                               "- Đã đạt 90% hồ sơ trực tuyến năm 2022.\n", "t.txt")
    assert [(t.span.line, t.value) for t in find_targets(src)] == [(3, 95)]


def test_year_from_sentence_not_baseline():
    (t,) = find_targets(plan("- Năm 2024 giảm 10% chi thường xuyên so với năm 2023."))
    assert t.year == "2024"


def test_parse_number():
    assert (parse_number("43,85"), parse_number("05"), parse_number("100")) == (43.85, 5.0, 100.0)
