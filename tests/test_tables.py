"""Row segmentation of the two appendix task tables, on the real corpus files.

The cases below are the hard layouts of the PDF extraction: merged lines,
rows broken by a page break, agency cells wrapped over several lines.
"""

from __future__ import annotations

import pytest
from cchc.graph.extract.cells import segment_row
from cchc.graph.extract.documents import extract_source
from cchc.graph.extract.reading import SourceText, read_source
from cchc.graph.extract.tables import raw_rows, table_lines

from .conftest import APPENDIX_2023, APPENDIX_2026, CORPUS


def _tasks(extractions, doc):
    return {(t.section, t.no): t for t in extractions[doc].tasks}


@pytest.mark.parametrize(
    ("doc", "rows", "per_section"),
    [
        (APPENDIX_2023, 48, {"I": 10, "II": 8, "III": 8, "IV": 5, "V": 6, "VI": 4, "VII": 7}),
        (APPENDIX_2026, 49, {"I": 7, "II": 9, "III": 10, "IV": 4, "V": 4, "VI": 8, "VII": 7}),
    ],
)
def test_every_row_is_found_once_in_order(extractions, doc, rows, per_section):
    tasks = extractions[doc].tasks
    assert len(tasks) == rows
    counts: dict[str, int] = {}
    for t in tasks:
        counts[t.section] = counts.get(t.section, 0) + 1
    assert counts == per_section
    src = read_source(CORPUS / doc)
    for t in tasks:  # a row's line is the line holding its STT
        assert src.line(t.span.line).split()[0] == t.no
        assert t.content and t.timeline and t.lead


def test_merged_line_then_page_break(extractions):
    """2023 I.6: one line holds all six columns; the rest of three cells follows the page header."""
    t = _tasks(extractions, APPENDIX_2023)[("I", "6")]
    assert t.span.line == 155
    assert t.content == ("Tổ chức bồi dưỡng, tập huấn cho công chức phụ trách công tác CCHC tại các sở, "
                         "ban, ngành tỉnh và UBND cấp huyện, cấp xã")
    assert t.product == "Kế hoạch tổ chức lớp bồi dưỡng, tập huấn; Hội nghị"
    assert t.lead == ("Sở Nội vụ",)
    assert t.cooperating == ("Các sở, ban, ngành phụ trách các lĩnh vực CCHC",)
    assert t.timeline == "Quý III/2023"


def test_line_merging_two_continuations_after_page_break(extractions):
    """2023 II.1: 'số 83-KL/TW, ngày 29/7/2020 của Bộ Chính trị. thực hiện' ends content and product."""
    t = _tasks(extractions, APPENDIX_2023)[("II", "1")]
    assert t.content.endswith("Kết luận số 83-KL/TW, ngày 29/7/2020 của Bộ Chính trị.")
    assert t.product == "Kế hoạch triển khai thực hiện; các văn bản hướng dẫn, chỉ đạo, đôn đốc việc thực hiện"
    assert t.cites == ["43/CT-TTg", "83-KL/TW"]


def test_word_split_by_page_break_rejoins(extractions):
    """2023 III.6: 'nền hành' / page header / 'chính phục vụ'."""
    t = _tasks(extractions, APPENDIX_2023)[("III", "6")]
    assert t.content.endswith("đáp ứng yêu cầu của nền hành chính phục vụ")
    assert t.product.startswith("Quyết định kiện toàn; Bộ nhận diện thương hiệu")
    assert t.lead == ("Văn phòng UBND tỉnh", "UBND cấp huyện, cấp xã")
    assert t.timeline == "Ngay sau khi có quyết định công bố của bộ, ngành Trung ương"


@pytest.mark.parametrize(
    ("key", "lead", "coop", "timeline"),
    [
        (("I", "2"), ("Sở Nội vụ",), ("Các sở, ban, ngành",), "Tháng 01/2026"),  # lead+coop on one line
        (("I", "4"), ("Các sở, ban, ngành", "UBND các xã, phường"), ("Sở Nội vụ",), "Thường xuyên"),
        (("II", "4"), ("Sở Tư pháp",), ("Các sở, ban, ngành", "UBND các xã, phường"), None),
        (("III", "2"), ("Các sở, ban, ngành", "UBND các xã, phường"), ("Văn phòng UBND tỉnh",), "Thường xuyên"),
        (("VII", "4"), ("Các sở,ban, ngành theo chức năng, nhiệm vụ quản lý nhà nước",),
         ("Sở Khoa học và Công nghệ", "các cơ quan, đơn vị liên quan"), "Thường xuyên"),
    ],
)
def test_agency_and_timeline_cells_2026(extractions, key, lead, coop, timeline):
    t = _tasks(extractions, APPENDIX_2026)[key]
    assert t.lead == lead
    assert t.cooperating == coop
    if timeline:
        assert t.timeline == timeline


def test_timeline_continued_over_page_break_2026(extractions):
    t = _tasks(extractions, APPENDIX_2026)[("II", "4")]
    assert t.timeline == ("Khi được cơ quan có thẩm quyền giao xây dựng dự thảo quy định về thủ tục hành chính, "
                          "quy định liên quan đến hoạt động kinh doanh tại dự thảo văn bản quy phạm pháp luật")
    assert t.deadline is not None and t.deadline.start is None  # event-triggered: kept as text
    assert t.product.endswith("hợp pháp và chi phí tuân thủ thấp nhất")


def test_row_citing_decree_118(extractions):
    t = _tasks(extractions, APPENDIX_2026)[("III", "9")]
    assert t.span.line == 841
    assert t.cites == ["118/2025/NĐ-CP"]
    assert t.lead_agencies[0].agency_id == "vp-ubnd-tinh"
    assert t.deadline.recurrence == "continuous"


def test_parent_plan_comes_from_the_header(extractions):
    assert extractions[APPENDIX_2026].header["parent_plan"]["id"] == "29/KH-UBND"
    assert extractions[APPENDIX_2026].header["parent_plan"]["date"] == "2026-01-30"
    assert extractions[APPENDIX_2023].header["parent_plan"]["id"] == "02/KH-UBND"
    assert extractions[APPENDIX_2023].header["parent_plan"]["date"] == "2023-01-04"


def test_cell_lines_are_provenance(extractions):
    """Every cell piece points at a line that prints it."""
    src = read_source(CORPUS / APPENDIX_2023)
    lines, _ = table_lines(src)
    for row in raw_rows(lines, [], src.doc):
        for cell in segment_row(row):
            for n, piece in cell.parts:
                assert piece in " ".join(src.line(n).split())


# A real excerpt: the first row of the 2026 appendix with its header; then the same with a broken row.
EXCERPT = """PHỤ LỤC

CÁC NHIỆM VỤ, GIẢI PHÁP VỀ CẢI CÁCH HÀNH CHÍNH NĂM 2026

(Kèm theo Kế hoạch số: 29 /KH-UBND ngày   30 /01/2026 của UBND tỉnh)

STT NỘI DUNG SẢN PHẨM
CƠ QUAN

CHỦ TRÌ

CƠ QUAN

PHỐI HỢP

THỜI GIAN

THỰC HIỆN

I CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH CCHC

1 Ban hành Kế hoạch CCHC năm 2026
Kế hoạch của UBND

tỉnh
Sở Nội vụ

Các sở, ban, ngành;

UBND các xã,

phường

Tháng 01/2026
"""


def test_excerpt_row():
    ex = extract_source(SourceText.from_text(EXCERPT, "excerpt.txt"))
    (t,) = ex.tasks
    first = EXCERPT.splitlines().index("1 Ban hành Kế hoạch CCHC năm 2026") + 1
    assert (t.section, t.no, t.span.line) == ("I", "1", first)
    assert t.content == "Ban hành Kế hoạch CCHC năm 2026"
    assert t.product == "Kế hoạch của UBND tỉnh"
    assert t.cooperating == ("Các sở, ban, ngành", "UBND các xã, phường")
    assert t.deadline.start == "2026-01-01" and t.deadline.end == "2026-01-31"


def test_unexpected_row_number_warns_with_line():
    text = EXCERPT + "\n5\n\nNội dung lạ không có số thứ tự đúng\n\nSở Nội vụ\n\nThường xuyên\n"
    ex = extract_source(SourceText.from_text(text, "excerpt.txt"))
    assert len(ex.tasks) == 2
    line = text.splitlines().index("5") + 1
    assert any(f"excerpt.txt:{line}" in w and "row number 5" in w for w in ex.warnings), ex.warnings
