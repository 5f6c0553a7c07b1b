"""Narrative plans: heading tree, paragraph units, header and task blocks on the real corpus.

Line numbers are those of the files in data/corpus (`cat -n`), so each case
reads as a specification of how a printed item is split and where it sits.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cchc.graph.extract.narrative import (
    MAX_UNIT_CHARS,
    extract_narrative,
    line_of_offset,
    page_noise_lines,
    split_agencies,
)
from cchc.graph.extract.reading import SourceText, join_lines, read_source, squash

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "corpus"
QUERIES = ROOT.parent / "shared" / "dev-gold" / "queries.jsonl"
PAPI = "langson-2023-papi-sipas-parindex.txt"
PLAN = "langson-2026-2030-cchc.txt"
TANDOAN = "tandoan-2025-cchc.txt"
DOCS = (PAPI, PLAN, TANDOAN)


@pytest.fixture(scope="module")
def sources() -> dict[str, SourceText]:
    return {d: read_source(CORPUS / d) for d in DOCS}


@pytest.fixture(scope="module")
def results(sources):
    return {d: extract_narrative(src) for d, src in sources.items()}


def unit_at(results, doc: str, line: int):
    found = [u for u in results[doc].units if u.span.line == line]
    assert found, f"no unit starts at {doc}:{line}"
    return found[0]


III_PAPI = "III. NHIỆM VỤ, GIẢI PHÁP"
PAPI_12 = "1.2. Tập trung khắc phục những tồn tại, hạn chế được chỉ ra qua kết quả công bố, cụ thể như sau:"
# (doc, first line, last line, marker, heading path, is_heading, text starts with)
TREE = [
    (PAPI, 35, 35, "I.", (), True, "I. MỤC ĐÍCH, YÊU CẦU"),
    (PAPI, 181, 187, "+", (III_PAPI, "1. Chỉ số cải cách hành chính (PAR INDEX)", PAPI_12,
                           "1.2.3. Cải cách thủ tục hành chính",
                           "(1) Tiêu chí công khai tiến độ, kết quả giải quyết hồ sơ trên Hệ thống thông tin "
                           "giải quyết TTHC", "- Nhiệm vụ, giải pháp:"), False, "+ Văn phòng UBND tỉnh chủ trì"),
    (PAPI, 596, 600, "", (III_PAPI, "1. Chỉ số cải cách hành chính (PAR INDEX)", PAPI_12,
                          "1.2.7. Xây dựng và phát triển Chính quyền điện tử, Chính quyền số",
                          "(4) Tỷ lệ hồ sơ trực tuyến toàn trình; thực hiện thanh toán trực tuyến:",
                          "- Nhiệm vụ, giải pháp:"), False, "UBND cấp huyện, cấp xã có trách nhiệm"),
    (PAPI, 601, 601, "1.2.8.", (III_PAPI, "1. Chỉ số cải cách hành chính (PAR INDEX)", PAPI_12), True,
     "1.2.8. Tác động của CCHC đến sự phát triển kinh tế - xã hội của tỉnh"),
    (PAPI, 829, 846, "a)", (III_PAPI, "3. Chỉ số Quản trị và Hành chính công (PAPI)",
                            "3.1. Nội dung “Tham gia của người dân ở cấp cơ sở”"), False, "a) UBND các xã"),
    (PAPI, 848, 860, "b)", (III_PAPI, "3. Chỉ số Quản trị và Hành chính công (PAPI)",
                            "3.1. Nội dung “Tham gia của người dân ở cấp cơ sở”"), False, "b) UBND cấp huyện"),
    (PAPI, 894, 906, "a)", (III_PAPI, "3. Chỉ số Quản trị và Hành chính công (PAPI)",
                            "3.3. Nội dung “Trách nhiệm giải trình với người dân”"), False, "a) UBND cấp huyện"),
    (PAPI, 1112, 1112, "-", ("IV. TỔ CHỨC THỰC HIỆN", "1. Thủ trưởng các Sở, ban, ngành; Chủ tịch UBND các "
                             "huyện, thành phố; Chủ tịch UBND các xã, phường, thị trấn",
                             "a) Căn cứ nhiệm vụ được phân công tại Kế hoạch này ban hành và triển khai kế hoạch "
                             "thực hiện của cơ quan, đơn vị, địa phương đảm bảo thực chất, hiệu quả, đúng tiến độ "
                             "đề ra."), False, "- Kế hoạch của các cơ quan"),
    (PAPI, 1248, 1248, "6.", ("IV. TỔ CHỨC THỰC HIỆN",), True,
     "6. Đề nghị Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh"),
    (PLAN, 11, 11, "", (), False, "Thực hiện Nghị quyết số 76/NQ-CP"),
    (PLAN, 13, 13, "", (), False, "Căn cứ Kế hoạch số 238-KH/TU"),
    (PLAN, 29, 31, "", ("I. MỤC ĐÍCH, YÊU CẦU", "2. Yêu cầu"), False, "Xác định rõ trách nhiệm"),
    (PLAN, 59, 59, "+", ("II. MỤC TIÊU", "2. Chỉ tiêu cụ thể", "2.2. Cải cách thủ tục hành chính (TTHC)",
                         "- *Giai đoạn 2026-2027:*"), False, "+ 100% TTHC có đủ điều kiện"),
    (PLAN, 151, 153, "", ("III. NHIỆM VỤ, GIẢI PHÁP", "5. Cải cách chế độ công vụ"), False,
     "Tổ chức tuyển dụng công chức, viên chức bảo đảm công khai, minh bạch; ứng dụng"),
    (PLAN, 215, 215, "2.", ("V. TỔ CHỨC THỰC HIỆN",), True, "2. Sở Nội vụ"),
    (PLAN, 277, 277, "", ("V. TỔ CHỨC THỰC HIỆN",), False, "Kế hoạch này thay thế"),
    (TANDOAN, 1, 13, "", (), False, "Căn cứ Nghị quyết số 76/NQ-CP"),
    (TANDOAN, 155, 165, "-", ("II. MỤC TIÊU", "3. Chỉ tiêu cụ thể", "3.2. Cải cách thủ tục hành chính (TTHC)"),
     False, "- 100% hồ sơ TTHC để chậm, muộn"),
    (TANDOAN, 671, 675, "2.", ("IV. TỔ CHỨC THỰC HIỆN",), True, "2. Tổ Công tác Cải cách hành chính"),
    (TANDOAN, 677, 683, "", ("IV. TỔ CHỨC THỰC HIỆN", "2. Tổ Công tác Cải cách hành chính thuộc Ban Chỉ đạo "
                             "Phát triển khoa học, công nghệ, đổi mới sáng tạo, chuyển đổi số và Đề án 06 xã "
                             "Tân Đoàn"), False, "Tham mưu, giúp UBND xã"),
]


@pytest.mark.parametrize(("doc", "line", "end", "marker", "path", "heading", "start"), TREE,
                         ids=[f"{d[:8]}:{n}" for d, n, *_ in TREE])
def test_heading_tree(results, doc, line, end, marker, path, heading, start):
    u = unit_at(results, doc, line)
    assert (u.span.end_line, u.marker, u.heading_path, u.is_heading) == (end, marker, path, heading)
    assert u.text.startswith(start)
    assert u.level == len(path) + 1


@pytest.mark.parametrize(("doc", "romans"), [(PAPI, ["I.", "II.", "III.", "IV."]),
                                             (PLAN, ["I.", "II.", "III.", "IV.", "V."]),
                                             (TANDOAN, ["I.", "II.", "III.", "IV."])])
def test_top_headings(results, doc, romans):
    tops = [u for u in results[doc].units if u.level == 1 and u.is_heading]
    assert [u.marker for u in tops] == romans


def test_wrapped_paragraph_text_is_joined_lines(results, sources):
    for doc in DOCS:
        noise = page_noise_lines(sources[doc])
        for u in results[doc].units:
            if len(u.text) < MAX_UNIT_CHARS - 100:
                lines = [sources[doc].line(n) for n in range(u.span.line, u.span.end_line + 1) if n not in noise]
                assert u.text == join_lines(lines), f"{doc}:{u.span.line}"


def test_units_are_sane_and_cover_the_body(results, sources):
    for doc in DOCS:
        src, res = sources[doc], results[doc]
        first, last = res.header["body_lines"]
        covered: set[int] = set()
        starts = [u.span.line for u in res.units]
        assert starts == sorted(starts)
        for u in res.units:
            assert u.text.strip(), f"empty unit at {doc}:{u.span.line}"
            assert len(u.text) <= MAX_UNIT_CHARS
            assert 1 <= u.span.line <= u.span.end_line <= len(src.lines)
            assert first <= u.span.line and u.span.end_line <= last
            covered.update(range(u.span.line, u.span.end_line + 1))
        text_lines = set(range(first, last + 1)) - page_noise_lines(src)
        assert text_lines <= covered, f"{doc}: lines in no unit: {sorted(text_lines - covered)[:5]}"
        assert squash(src.line(first)) and squash(src.line(res.units[0].span.line))


def test_query_anchors_start_units(results):
    if not QUERIES.exists():
        pytest.skip("dev gold not present")
    anchors = []
    for line in QUERIES.read_text(encoding="utf-8").splitlines():
        for rel in json.loads(line)["relevant"] if line.strip() else []:
            if (m := re.fullmatch(r"(.+):L(\d+)", rel)) and m.group(1) in results:
                anchors.append((m.group(1), int(m.group(2))))
    assert anchors
    for doc, n in anchors:
        starts = [u.span.line for u in results[doc].units]
        assert any(abs(s - n) <= 2 for s in starts), f"no unit starts near {doc}:L{n}"
        assert n in starts, f"{doc}:L{n} is not a unit start"


def test_headers(results):
    plan = results[PLAN].header
    assert plan["number"] == "Số: /KH-UBND"
    assert plan["place_date"] == "Lạng Sơn, ngày tháng 3 năm 2026"
    assert (plan["place"], plan["year"], plan["date"]) == ("Lạng Sơn", "2026", None)
    assert plan["doc_type"] == "KẾ HOẠCH"
    assert plan["title"] == "Cải cách hành chính nhà nước tỉnh Lạng Sơn giai đoạn 2026-2030"
    assert plan["signer"] == "Trần Thanh Nhân" and "KT. CHỦ TỊCH" in plan["signature"]
    assert plan["body_lines"] == [11, 279]
    papi = results[PAPI].header
    assert papi["title"].startswith("Nâng cao Chỉ số hiệu quả quản trị và hành chính công cấp tỉnh (PAPI); ")
    assert papi["title"].endswith("(PAR INDEX) tỉnh Lạng Sơn năm 2023")
    assert papi["body_lines"] == [11, 1266]
    tandoan = results[TANDOAN]
    assert "doc_type" not in tandoan.header and tandoan.header["body_lines"][0] == 1
    assert tandoan.header["notes"] == ["no document type/title line before the body"]
    assert not tandoan.warnings


def test_full_header_and_date():
    text = ("ỦY BAN NHÂN DÂN\nTỈNH LẠNG SƠN\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"
            "Số: 02/KH-UBND\nLạng Sơn, ngày 04 tháng 01 năm 2023\nKẾ HOẠCH\nCải cách hành chính năm 2023\n\n"
            "I. MỤC TIÊU\n1. Đạt 100% hồ sơ đúng hạn.\n")
    res = extract_narrative(SourceText.from_text(text, "h.txt"))
    assert res.header["issuer"] == "ỦY BAN NHÂN DÂN TỈNH LẠNG SƠN"
    assert (res.header["number"], res.header["date"]) == ("Số: 02/KH-UBND", "2023-01-04")
    assert res.header["title"] == "Cải cách hành chính năm 2023"
    assert [(u.span.line, u.marker) for u in res.units] == [(10, "I."), (11, "1.")]


def test_long_paragraph_is_split_at_sentences():
    sentence = "Tăng cường kiểm tra việc thực hiện nhiệm vụ cải cách hành chính tại các cơ quan, đơn vị. "
    lines = [(sentence * 3).strip() for _ in range(8)]  # 8 wrapped lines, ~2100 characters
    text = "I. NHIỆM VỤ\n" + "\n".join(lines) + "\n"
    src = SourceText.from_text(text, "long.txt")
    units = [u for u in extract_narrative(src).units if not u.is_heading]
    assert len(units) > 1 and all(len(u.text) <= MAX_UNIT_CHARS for u in units)
    assert units[0].span.line == 2 and units[-1].span.end_line == 9
    assert " ".join(u.text for u in units) == join_lines(lines)
    for u in units:  # each piece points at the line its first sentence is on
        assert line_of_offset(src, u, 0) == u.span.line


def test_degenerate_inputs_do_not_crash():
    for text in ("KẾ HOẠCH\nCải cách hành chính\n", "\n\n 12 \n", "Nơi nhận:\n- Lưu: VT.\n"):
        res = extract_narrative(SourceText.from_text(text, "x.txt"))
        assert res.units == [] and res.tasks == []


def test_page_noise():
    src = SourceText.from_text("Một dòng\n\n 12 \n- 3 -\nhttps://thuvienphapluat.vn/x.aspx\nTrang 2/5\n2023 năm\n",
                               "n.txt")
    assert page_noise_lines(src) == {2, 3, 4, 5, 6}


def test_noise_lines_of_papi(sources):
    noise = page_noise_lines(sources[PAPI])
    assert {2, 9, 918, 919} <= noise and 916 not in noise


@pytest.mark.parametrize(("text", "agencies"), [
    ("Sở Nội vụ, Thanh tra tỉnh", ("Sở Nội vụ", "Thanh tra tỉnh")),
    ("các Sở, ban, ngành, UBND các huyện, thành phố.", ("các Sở, ban, ngành", "UBND các huyện, thành phố")),
    ("các Sở, ban, ngành, UBND cấp huyện, cấp xã", ("các Sở, ban, ngành", "UBND cấp huyện, cấp xã")),
    ("Các cơ quan, đơn vị có liên quan", ("Các cơ quan, đơn vị có liên quan",)),
    ("Các cơ quan, đơn vị liên quan; Đài Phát thanh và Truyền hình tỉnh, Báo Lạng Sơn.",
     ("Các cơ quan, đơn vị liên quan", "Đài Phát thanh và Truyền hình tỉnh", "Báo Lạng Sơn")),
    ("Cục Hải quan tỉnh, Cục Thuế tỉnh, Kho bạc nhà nước tỉnh, Sở Kế hoạch và Đầu tư, các Sở, ban, ngành",
     ("Cục Hải quan tỉnh", "Cục Thuế tỉnh", "Kho bạc nhà nước tỉnh", "Sở Kế hoạch và Đầu tư", "các Sở, ban, ngành")),
    ("Sở Kế hoạch và Đầu tư và Sở Tài chính", ("Sở Kế hoạch và Đầu tư", "Sở Tài chính")),
    ("Văn phòng HĐND và UBND xã", ("Văn phòng HĐND và UBND xã",)),
    ("Sở Tài chính; các cơ quan, đơn vị được giao nhiệm vụ giải ngân vốn.",
     ("Sở Tài chính", "các cơ quan, đơn vị được giao nhiệm vụ giải ngân vốn")),
])
def test_split_agencies(text, agencies):
    assert split_agencies(text) == agencies


# (doc, line, section, no, lead, cooperating, content starts with)
TASKS = [
    (PAPI, 106, "III", "1.1.6", ("Sở Kế hoạch và Đầu tư", "Sở Tài chính"), (), "Tác động của CCHC"),
    (PAPI, 181, "III", "1.2.3.(1).1", ("Văn phòng UBND tỉnh",), ("các Sở, ban, ngành", "UBND cấp huyện, cấp xã"),
     "Văn phòng UBND tỉnh chủ trì triển khai"),
    (PAPI, 274 + 6, "III", "1.2.5.(1).1", ("Sở Nội vụ", "Thanh tra tỉnh"),
     ("các Sở, ban, ngành", "UBND cấp huyện, cấp xã"), "Quán triệt đội ngũ"),
    (PAPI, 363, "III", "1.2.6.(1).1", ("Sở Kế hoạch và Đầu tư",),
     ("Sở Tài chính", "các cơ quan, đơn vị được giao nhiệm vụ giải ngân vốn"), "Sở Kế hoạch và Đầu tư chủ trì"),
    # a bullet that names its own lead is that agency's, not the block's (Sở TT&TT leads the block)
    (PAPI, 596, "III", "1.2.7.(4).4", ("UBND cấp huyện, cấp xã",),
     ("các Sở, ban, ngành",), "UBND cấp huyện, cấp xã có trách nhiệm"),
    (PAPI, 807, "III", "2.2.4", ("Văn phòng UBND tỉnh",),
     ("Sở Thông tin và Truyền thông", "các cơ quan, đơn vị liên quan"), "Văn phòng UBND tỉnh"),
    (PAPI, 736, "III", "2.1.1", ("Các Sở, ban, ngành",),
     ("Các cơ quan, đơn vị liên quan", "Đài Phát thanh và Truyền hình tỉnh", "Báo Lạng Sơn"), "Các Sở, ban"),
    (PAPI, 908, "III", "3.3.b", ("Thanh tra tỉnh",), (), "Thanh tra tỉnh chủ trì việc kiểm tra"),
    (PAPI, 974, "III", "3.5.b", ("Văn phòng UBND tỉnh", "UBND các huyện, thành phố"), (), "Văn phòng UBND tỉnh,"),
    (PLAN, 113, "III", "1.1", ("Sở Nội vụ",), (), "Tiếp tục quán triệt chủ trương"),
    (PLAN, 125, "III", "2.1", (), (), "Tổ chức quán triệt, phổ biến Luật Ban hành VBQPPL"),
    (PLAN, 141, "III", "3.5", ("Văn phòng UBND tỉnh",), (), "Tiếp tục đổi mới cơ chế một cửa"),
    (PLAN, 163, "III", "6.1", ("Sở Tài chính",), (), "Nâng cao hiệu quả phân bổ"),
    (PLAN, 177, "III", "7.2", ("Sở Khoa học và Công nghệ",), (), "Triển khai các kế hoạch"),
    (TANDOAN, 327, "III", "2.1", ("Văn phòng HĐND và UBND xã",), (), "Tiếp tục tổ chức triển khai Luật"),
    (TANDOAN, 630, "III", "7.8", ("Phòng Văn hoá - Xã hội xã",), (), "Tiếp tục triển khai, cung cấp dịch vụ công"),
    (TANDOAN, 288, "III", "1.1", (), (), "Quán triệt, triển khai đồng bộ"),
]


@pytest.mark.parametrize(("doc", "line", "section", "no", "lead", "coop", "start"), TASKS,
                         ids=[f"{d[:8]}:{n}" for d, n, *_ in TASKS])
def test_tasks(results, doc, line, section, no, lead, coop, start):
    found = [t for t in results[doc].tasks if t.span.line == line]
    assert len(found) == 1, f"no task at {doc}:{line}"
    t = found[0]
    assert (t.section, t.no, t.lead, t.cooperating) == (section, no, lead, coop)
    assert t.content.startswith(start)
    assert t.source == "narrative" and t.product is None
    assert t.citations == () and t.lead_agencies == () and t.deadline is None
    assert t.section_title == "NHIỆM VỤ, GIẢI PHÁP"


@pytest.mark.parametrize(("doc", "line"), [(PAPI, 116), (PAPI, 118), (PAPI, 120), (PAPI, 126), (PAPI, 142),
                                           (PAPI, 603), (PAPI, 716), (PAPI, 1094), (PAPI, 1130), (PLAN, 111),
                                           (PLAN, 191), (PLAN, 219), (TANDOAN, 155), (TANDOAN, 648)])
def test_not_tasks(results, doc, line):
    assert not [t for t in results[doc].tasks if t.span.line == line]


def test_papi_blocks_yield_tasks_with_leads(results):
    tasks = results[PAPI].tasks
    assert len(tasks) >= 70
    assert all(t.lead for t in tasks)
    assert all(t.timeline == "Trước ngày 30 tháng 11 năm 2023" for t in tasks)
    in_blocks = [t for t in tasks if "- Nhiệm vụ, giải pháp" in " ".join(t.heading_path)]
    assert len(in_blocks) >= 45
    block_tasks = [t for t in tasks if t.cooperating]  # (a bullet leading itself may have no other agency)
    assert len(block_tasks) >= 40 and all("- Nhiệm vụ, giải pháp" in " ".join(t.heading_path) or
                                          t.span.line in (363, 475, 661, 675) for t in block_tasks)


def test_task_numbers_are_unique(results):
    for doc in DOCS:
        keys = [(t.section, t.no) for t in results[doc].tasks]
        assert len(keys) == len(set(keys)), doc
        assert results[doc].tasks, doc


def test_other_marker_shapes():
    text = ("I - MỤC TIÊU\n1) Mục tiêu chung\na. Bảo đảm công khai.\n\uf0b7 Giải quyết đúng hạn.\n"
            "II - NHIỆM VỤ, GIẢI PHÁP\n1. Cải cách thể chế\n- Sở Tư pháp chủ trì rà soát văn bản.\n")
    res = extract_narrative(SourceText.from_text(text, "m.txt"))
    assert [(u.marker, u.level) for u in res.units] == [
        ("I -", 1), ("1)", 2), ("a.", 3), ("\uf0b7", 4), ("II -", 1), ("1.", 2), ("-", 3)]
    (task,) = res.tasks
    assert (task.section, task.no, task.lead) == ("II", "1.1", ("Sở Tư pháp",))
