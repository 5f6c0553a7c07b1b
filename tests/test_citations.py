"""Citations of legal instruments: table-driven cases from the corpus, generated inputs, real documents.

The cases are small excerpts copied from data/corpus (line numbers as in the
files), so each one reads as a specification of a form the documents use.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cchc.graph.extract.citations import document_lines, find_citations, join_numbered
from cchc.graph.extract.reading import join_lines, read_source
from cchc.graph.extract.references import InstrumentRef, normalise_id, parse_reference
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "corpus"
GOLD = ROOT.parent / "shared" / "dev-gold" / "citations.jsonl"


def numbered(lines: list[tuple[int, str]]) -> list[tuple]:
    return [(c.id, c.span.line, c.type, c.date, c.issuer)
            for c in find_citations(lines, "t.txt") if c.numbered]


CASES = {
    "wrapped number, date, issuer (tandoan 159)": (
        [(159, "cấp xã và thực hiện xin lỗi tổ chức, cá nhân theo đúng quy định tại Nghị định số "),
         (161, "118/2025/NĐ-CP ngày 09/6/2025 của Chính phủ về thực hiện thủ tục hành ")],
        [("118/2025/NĐ-CP", 159, "Nghị định", "2025-06-09", "Chính phủ")]),
    "type word wrapped, spaced number (2023 phụ lục 589)": (
        [(589, "2025 và định hướng đến năm 2030 theo Quyết "),
         (591, "định số 1495 /QĐ-UBND ngày 28/7/2021 của "), (593, "Chủ tịch UBND tỉnh ")],
        [("1495/QĐ-UBND", 589, "Quyết định", "2021-07-28", "Chủ tịch UBND tỉnh")]),
    "số:, odd spaces, date in words (2023 phụ lục 6)": (
        [(6, " (Ban hành kèm theo Kế hoạch số: 02  /KH-UBND ngày  04  tháng 01 năm 2023 của UBND tỉnh "
             "Lạng Sơn)   ")],
        [("02/KH-UBND", 6, "Kế hoạch", "2023-01-04", "UBND tỉnh")]),
    "spaced day (2026 phụ lục 6)": (
        [(6, " (Kèm theo Kế hoạch số: 29 /KH-UBND ngày   30 /01/2026 của UBND tỉnh)   ")],
        [("29/KH-UBND", 6, "Kế hoạch", "2026-01-30", "UBND tỉnh")]),
    "shared date and issuer (2023 phụ lục 961)": (
        [(961, "Tiếp tục triển khai thực hiện có hiệu quả Nghị "),
         (963, "quyết số 18-NQ/TW, Nghị quyết số 19-NQ/TW "),
         (965, "ngày 25/10/2017 của Ban Chấp hành Trung ương; ")],
        [("18-NQ/TW", 961, "Nghị quyết", "2017-10-25", "Ban Chấp hành Trung ương"),
         ("19-NQ/TW", 963, "Nghị quyết", "2017-10-25", "Ban Chấp hành Trung ương")]),
    "date without ngày; Quyết định without số (2023 phụ lục 1218)": (
        [(1218, "Tổ chức triển khai thực hiện có hiệu quả Nghị quyết "),
         (1220, "số 15/2022/NQ-HĐND 13/07/2022 của HĐND tỉnh "),
         (1228, "tác tại tỉnh Lạng Sơn; Quyết định 1807/QĐ-UBND "),
         (1230, "ngày 11/11/2022 của UBND tỉnh về việc ban hành ")],
        [("15/2022/NQ-HĐND", 1218, "Nghị quyết", "2022-07-13", "HĐND tỉnh"),
         ("1807/QĐ-UBND", 1228, "Quyết định", "2022-11-11", "UBND tỉnh")]),
    "hyphen at line end joins (2023 phụ lục 1057)": (
        [(1057, "Tiếp tục triển khai thực hiện Nghị quyết số 04/NQ-"),
         (1059, "CP ngày 10/01/2022 của Chính phủ về đẩy mạnh ")],
        [("04/NQ-CP", 1057, "Nghị quyết", "2022-01-10", "Chính phủ")]),
    "lower-case type, comma before date (2023 phụ lục 1474)": (
        [(1474, "dung theo kế hoạch số 226/KH-UBND ngày "),
         (1476, "18/11/2021 của UBND tỉnh về thực hiện Nghị "),
         (1478, "quyết số 49-NQ/TU, ngày 28/9/2021 của Ban Thường vụ Tỉnh ủy")],
        [("226/KH-UBND", 1474, "Kế hoạch", "2021-11-18", "UBND tỉnh"),
         ("49-NQ/TU", 1476, "Nghị quyết", "2021-09-28", "Ban Thường vụ Tỉnh ủy")]),
    "issuer from code (2023 phụ lục 871)": (
        [(871, "TTHC theo đúng quy định của Chính phủ tại Nghị "),
         (873, "định số 45/2020/NĐ-CP và Nghị định số "),
         (875, "107/2021/NĐ-CP, Kế hoạch số 157/KH-UBND "),
         (877, "ngày 15/7/2021 của UBND tỉnh về triển khai")],
        [("45/2020/NĐ-CP", 871, "Nghị định", None, "Chính phủ"),
         ("107/2021/NĐ-CP", 873, "Nghị định", None, "Chính phủ"),
         ("157/KH-UBND", 875, "Kế hoạch", "2021-07-15", "UBND tỉnh")]),
    "issuer stated once for two circulars (PAPI 896)": (
        [(896, "chức và hoạt động của thôn, tổ dân phố theo Thông tư số 04/2012/TT-BNV và "),
         (898, "Thông tư số 14/2018/TT-BNV của Bộ Trưởng Bộ Nội vụ; thực hiện nghiêm lịch ")],
        [("04/2012/TT-BNV", 896, "Thông tư", None, "Bộ Trưởng Bộ Nội vụ"),
         ("14/2018/TT-BNV", 898, "Thông tư", None, "Bộ Trưởng Bộ Nội vụ")]),
    "law named before its number; Quốc hội code (2026 phụ lục 204)": (
        [(204, "Tổ chức triển khai Luật Ban hành văn bản quy "),
         (206, "phạm pháp luật số 64/2025/QH15, được sửa đổi, bổ "),
         (208, "sung bởi Luật số 87/2025/QH15 và các Nghị định "),
         (210, "hướng dẫn thi hành; Chỉ thị số 43/CT-TTg ngày "),
         (212, "11/12/2020 của Thủ tướng Chính phủ")],
        [("64/2025/QH15", 204, "Luật", None, "Quốc hội"), ("87/2025/QH15", 208, "Luật", None, "Quốc hội"),
         ("43/CT-TTg", 210, "Chỉ thị", "2020-12-11", "Thủ tướng Chính phủ")]),
    "office code (2026 phụ lục 660)": (
        [(660, "hướng dẫn tại Công văn số 8536/VPCP-KSTT "),
         (662, "ngày 11/9/2025 của Văn phòng Chính phủ về công ")],
        [("8536/VPCP-KSTT", 660, "Công văn", "2025-09-11", "Văn phòng Chính phủ")]),
    "qualified type word (2026-2030 line 13)": (
        [(13, "và Kế hoạch hành động số 238-KH/TU ngày 23/5/2025 của Ban Thường vụ Tỉnh uỷ triển khai")],
        [("238-KH/TU", 13, "Kế hoạch", "2025-05-23", "Ban Thường vụ Tỉnh uỷ")]),
    "list of numbers under one type word": (
        [(1, "theo các Quyết định số 1291/QĐ-TTg, 1292/QĐ-TTg và 1293/QĐ-TTg"),
         (2, "ngày 7/10/2019 của Thủ tướng Chính phủ")],
        [("1291/QĐ-TTg", 1, "Quyết định", "2019-10-07", "Thủ tướng Chính phủ"),
         ("1292/QĐ-TTg", 1, "Quyết định", "2019-10-07", "Thủ tướng Chính phủ"),
         ("1293/QĐ-TTg", 1, "Quyết định", "2019-10-07", "Thủ tướng Chính phủ")]),
    "three ids on one long line (2026-2030 line 21)": (
        [(21, "nhiệm vụ CCHC theo Nghị quyết số 76/NQ-CP, Quyết định số 282/QĐ-TTg và "
              "Nghị quyết số 60-NQ/TU; ")],
        [("76/NQ-CP", 21, "Nghị quyết", None, "Chính phủ"),
         ("282/QĐ-TTg", 21, "Quyết định", None, "Thủ tướng Chính phủ"),
         ("60-NQ/TU", 21, "Nghị quyết", None, "Tỉnh ủy")]),
    "issuer stated once for a list (tandoan 551)": (
        [(551, "- Tiếp tục triển khai hiệu quả nội dung các Kế hoạch của UBND tỉnh về "),
         (553, "xây dựng và phát triển Chính quyền điện tử, Chính quyền số: Kế hoạch số "),
         (555, "226/KH-UBND ngày 18/11/2021 về thực hiện Nghị quyết số 49-NQ/TU, ngày "),
         (557, "28/9/2021 của Ban Thường vụ Tỉnh ủy về chuyển đổi số tỉnh Lạng Sơn; Kế hoạch số 195/KH-UBND "
               "ngày 18/12/2020 về ứng dụng công nghệ thông tin. ")],
        [("226/KH-UBND", 553, "Kế hoạch", "2021-11-18", "UBND tỉnh"),
         ("49-NQ/TU", 555, "Nghị quyết", "2021-09-28", "Ban Thường vụ Tỉnh ủy"),
         ("195/KH-UBND", 557, "Kế hoạch", "2020-12-18", "UBND tỉnh")]),
}


@pytest.mark.parametrize("lines,expected", CASES.values(), ids=CASES.keys())
def test_forms_in_the_corpus(lines: list[tuple[int, str]], expected: list[tuple]) -> None:
    assert numbered(lines) == expected


NEAR_MISSES = {
    "self-reference": [(657, "của đơn vị mình chậm nhất sau 15 ngày kể từ ngày nhận được Kế hoạch này. ")],
    "generic plural": [(208, "sung bởi luật mới và các Nghị định "), (210, "hướng dẫn thi hành; ")],
    "product cell": [(259, "Quyết định của UBND "), (261, "tỉnh ")],
    "plan to be produced": [(655, "- Yêu cầu các cơ quan, đơn vị ban hành Kế hoạch CCHC năm 2025 của ")],
    "law in general": [(345, "rà soát văn bản quy phạm pháp luật; tập trung vào việc rà soát, kỷ luật 2025")],
    "form number, not an instrument": [(1, "theo Mẫu số 01/TTHC ban hành kèm theo")],
    "hyperlink": [(918, "phapluat.vn/van-ban/bo-may-hanh-chinh/thong-tu-04-2012-tt-bnv-huong-dan-to-chuc")],
    "blank draft number": [(3, "Số: /KH-UBND")],
}


@pytest.mark.parametrize("lines", NEAR_MISSES.values(), ids=NEAR_MISSES.keys())
def test_near_misses_are_not_citations(lines: list[tuple[int, str]]) -> None:
    assert find_citations(lines, "t.txt") == []


def test_named_laws_are_unnumbered_citations() -> None:
    lines = [(327, "- Tiếp tục tổ chức triển khai Luật sửa đổi, bổ sung một số điều của Luật "),
             (329, "Ban hành văn bản quy phạm pháp luật và các Nghị định hướng dẫn thi hành; Chỉ "),
             (511, "theo quy định của Luật Tiếp cận thông tin, Luật Thực hiện dân chủ ở cơ sở ở xã, phường"),
             (217, "Ban Chỉ đạo ... chuyển đổi số và Đề án 06 tỉnh theo dõi"),
             (300, "theo Hiến pháp năm 2013 và Bộ luật Lao động; các Luật, Nghị định")]
    got = [(c.id, c.span.line, c.type, c.issuer) for c in find_citations(lines, "t.txt")]
    assert got == [
        ("Luật sửa đổi, bổ sung một số điều của Luật Ban hành văn bản quy phạm pháp luật", 327, "Luật",
         "Quốc hội"),
        ("Luật Tiếp cận thông tin", 511, "Luật", "Quốc hội"),
        ("Luật Thực hiện dân chủ ở cơ sở", 511, "Luật", "Quốc hội"),
        ("Đề án 06", 217, "Đề án", None),
        ("Hiến pháp năm 2013", 300, "Hiến pháp", "Quốc hội"),
        ("Bộ luật Lao động", 300, "Bộ luật", "Quốc hội")]
    assert all(not c.numbered for c in find_citations(lines, "t.txt"))


def test_titles_and_nested_citations() -> None:
    lines = [(635, "số 08/2019/NQ-HĐND ngày 10/12/2019 của HĐND tỉnh và Nghị quyết số "),
             (637, "15/2021/NQ-HĐND ngày 17/7/2021 của HĐND tỉnh về sửa đổi, bổ sung một số "),
             (639, "điều của Nghị quyết số 08/2019/NQ-HĐND ngày 10/12/2019 của HĐND tỉnh "),
             (641, "về chính sách đặc thù khuyến khích đầu tư; Kế hoạch số 1/KH-UBND")]
    cites = find_citations(lines, "t.txt")
    by_line = {(c.id, c.span.line): c for c in cites}
    outer = by_line[("15/2021/NQ-HĐND", 635)]
    assert outer.title.startswith("sửa đổi, bổ sung một số điều của Nghị quyết số 08/2019/NQ-HĐND")
    assert outer.title.endswith("khuyến khích đầu tư")
    inner = by_line[("08/2019/NQ-HĐND", 639)]
    assert inner.parent == "15/2021/NQ-HĐND" and inner.title == "chính sách đặc thù khuyến khích đầu tư"
    assert by_line[("08/2019/NQ-HĐND", 635)].title is None
    assert by_line[("1/KH-UBND", 641)].parent is None
    titled = find_citations([(1228, "Quyết định 1807/QĐ-UBND ngày 11/11/2022 của UBND tỉnh về việc ban hành "
                                    "danh mục trình độ. Tiếp theo")], "t.txt")
    assert titled[0].title == "ban hành danh mục trình độ"


def test_page_break_leaves_type_word_behind() -> None:
    # 2023 phụ lục: "Kết luận" ends line 314; the number follows the page header on line 348.
    lines = [(312, "phạm pháp luật; Chỉ thị số 43/CT-TTg ngày "),
             (314, "11/12/2020 của Thủ tướng Chính phủ; Kết luận "),
             (316, "Kế hoạch triển khai "), (332, "Thường xuyên "),
             (348, "số 83-KL/TW, ngày 29/7/2020 của Bộ Chính trị. thực hiện ")]
    got = numbered(lines)
    assert got[1] == ("83-KL/TW", 314, "Kết luận", "2020-07-29", "Bộ Chính trị")


# characters of citations, so that generated lines often come close to one
ALPHABET = "0123456789/-:., ;QĐNKHCPTUWBVsốngàyủa của Nghị quyết định Kế hoạch Luật Thông tư tháng năm\u0301"
line_text = st.text(alphabet=st.sampled_from(list(ALPHABET)), max_size=60)
any_text = st.one_of(line_text, st.text(max_size=60))


@st.composite
def numbered_lines(draw: st.DrawFn) -> list[tuple[int, str]]:
    texts = draw(st.lists(any_text, max_size=8))
    gaps = draw(st.lists(st.integers(1, 3), min_size=len(texts), max_size=len(texts)))
    n, out = 0, []
    for text, gap in zip(texts, gaps, strict=True):
        n += gap
        out.append((n, text))
    return out


@settings(max_examples=400, deadline=None)
@given(numbered_lines())
def test_any_text_gives_recoverable_citations(lines: list[tuple[int, str]]) -> None:
    text, owner = join_numbered(lines)
    assert text == join_lines(t for _, t in lines) and len(owner) == len(text)
    for c in find_citations(lines, "t.txt"):
        starts = [i for i in range(len(text)) if text.startswith(c.surface, i)]
        assert any(owner[i] == c.span.line and owner[i + len(c.surface) - 1] == c.span.end_line
                   for i in starts), c
        assert c.date is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", c.date)


REFERENCES = {
    "NĐ 118": ("Nghị định", "118", None, None),
    "nghị định 118/2025": ("Nghị định", "118", "2025", None),
    "QĐ 282": ("Quyết định", "282", None, None),
    "NQ 76": ("Nghị quyết", "76", None, None),
    "chỉ thị 43/CT-TTg": ("Chỉ thị", "43", None, "CT-TTg"),
    "nghi dinh 118": ("Nghị định", "118", None, None),
    "ND-CP 118": ("Nghị định", "118", None, "ND-CP"),
    "118/2025/ND-CP": ("Nghị định", "118", "2025", "ND-CP"),
    "Nghị quyết 60-NQ/TU": ("Nghị quyết", "60", None, "NQ/TU"),
    "kế hoạch 226/KH-UBND": ("Kế hoạch", "226", None, "KH-UBND"),
    "quyết  định  số 1495 /QĐ-UBND ở đâu": ("Quyết định", "1495", None, "QĐ-UBND"),
    "NĐ118": ("Nghị định", "118", None, None),
    "nghị định 118 năm 2025": ("Nghị định", "118", "2025", None),
}


@pytest.mark.parametrize("query,expected", REFERENCES.items(), ids=REFERENCES.keys())
def test_parse_reference(query: str, expected: tuple) -> None:
    [ref] = parse_reference(query)
    assert (ref.type, ref.number, ref.year, ref.code) == expected
    assert query[ref.start:ref.end].strip() == query[ref.start:ref.end]
    assert ref.number in query[ref.start:ref.end]


@pytest.mark.parametrize("query", ["tối đa 10 ngày", "30/6/2023", "năm 2025", "100% TTHC", ""])
def test_no_reference_in_plain_queries(query: str) -> None:
    assert parse_reference(query) == []


MATCHES = [
    ("NĐ 118", "118/2025/NĐ-CP", "Nghị định", True),
    ("NĐ 118", "118/2025/NĐ-CP", None, True),
    ("NĐ 118", "118/QĐ-UBND", None, False),
    ("NĐ 118", "118/QĐ-UBND", "Quyết định", False),
    ("nghị định 118/2025", "118/2024/NĐ-CP", None, False),
    ("118/2025/ND-CP", "118/2025/NĐ-CP", "Nghị định", True),
    ("NQ 4", "04/NQ-CP", "Nghị quyết", True),
    ("nghị quyết 60", "60-NQ/TU", "Nghị quyết", True),
    ("chỉ thị 43/CT-TTg", "43/CT-TTg", "Chỉ thị", True),
    ("QĐ 282", "282/QĐ-TTg", None, True),
    ("QĐ 282", "Luật Đầu tư công", "Luật", False),
]


@pytest.mark.parametrize("query,cid,ctype,expected", MATCHES)
def test_reference_matches(query: str, cid: str, ctype: str | None, expected: bool) -> None:
    [ref] = parse_reference(query)
    assert isinstance(ref, InstrumentRef)
    assert ref.matches(cid, ctype) is expected


def test_normalise_id() -> None:
    assert normalise_id("118/2025/nđ-CP ") == normalise_id("118/2025/ND-CP") == "118/2025/ND-CP"
    assert normalise_id("1495 /QĐ-UBND") == "1495/QD-UBND"


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), line_text))
def test_parse_reference_never_raises(query: str) -> None:
    for ref in parse_reference(query):
        assert 0 <= ref.start < ref.end <= len(query)
        ref.matches("118/2025/NĐ-CP", None)
        ref.matches(query, "Nghị định")


# --- real documents ---------------------------------------------------------

DOCS = sorted(CORPUS.glob("*.txt"))
# an independent, simpler pattern for "every number printed in the corpus is found"
ID_IN_TEXT = re.compile(r"(?<![\w/.-])\d{1,5}(?:/\d{4})?(?: ?/ ?|-)[A-ZĐ][A-Za-zĐđ0-9]*"
                        r"(?:[-/][A-ZĐ][A-Za-zĐđ0-9]*)*(?!\w)")


def corpus_citations() -> dict[str, list]:
    return {p.name: find_citations(document_lines(read_source(p)), p.name) for p in DOCS}


def test_every_printed_number_is_found() -> None:
    assert DOCS, "data/corpus is empty"
    found = corpus_citations()
    for p in DOCS:
        text, _ = join_numbered(document_lines(read_source(p)))
        printed = sorted(normalise_id(m.group()) for m in ID_IN_TEXT.finditer(text))
        got = sorted(normalise_id(c.id) for c in found[p.name] if c.numbered)
        assert got == printed, p.name
        for c in found[p.name]:
            assert c.span.line <= c.span.end_line and c.surface and c.span.doc == p.name


@pytest.mark.skipif(not GOLD.exists(), reason="dev gold not available")
def test_dev_gold_numbered_citations() -> None:
    gold = [g for g in map(json.loads, GOLD.read_text("utf-8").splitlines()) if g.get("numbered", True)]
    found = corpus_citations()
    docs = {g["doc"] for g in gold}
    left = {d: [c for c in found[d] if c.numbered] for d in docs}
    missed, same_date, same_issuer = [], 0, 0
    for g in gold:
        hit = next((c for c in left[g["doc"]] if normalise_id(c.id) == normalise_id(g["id"])
                    and abs(c.span.line - g["line"]) <= 3), None)
        if hit is None:
            missed.append((g["doc"], g["line"], g["id"]))
            continue
        left[g["doc"]].remove(hit)
        same_date += hit.date == g["date"]
        same_issuer += normalise_id(hit.issuer or "") == normalise_id(g["issuer"] or "")
    extras = [(d, c.span.line, c.id) for d, rest in left.items() for c in rest]
    print(f"gold {len(gold)}, missed {missed}, extras {extras}")
    assert not missed
    assert len(gold) / (len(gold) + len(extras)) >= 0.95, extras
    assert same_date / len(gold) >= 0.97 and same_issuer / len(gold) >= 0.95
