"""The agency registry: cell splitting, alias resolution, free-text spotting, 2025 lineage.

Cells are copied from the corpus (lines joined as the dev-gold README says);
expected splits follow the gold lists of the 2023 appendix.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cchc.graph.extract.agencies import (
    find_agencies,
    load_registry,
    resolve_agency,
    split_agencies,
)
from cchc.graph.extract.reading import join_lines, read_source

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "corpus"
GOLD_TASKS = ROOT.parent / "shared" / "dev-gold" / "tasks.jsonl"

SPLIT_2023 = [
    # 2023 appendix: the gold lists
    ("Các cơ quan, đơn vị", ["Các cơ quan, đơn vị"]),
    ("Các sở, ban, ngành; UBND các huyện, thành phố", ["Các sở, ban, ngành", "UBND các huyện, thành phố"]),
    ("Các cơ quan, đơn vị; Đài PTTH tỉnh; Báo Lạng Sơn; Cổng TTĐT tỉnh",
     ["Các cơ quan, đơn vị", "Đài PTTH tỉnh", "Báo Lạng Sơn", "Cổng TTĐT tỉnh"]),
    ("Sở Nội vụ; Thanh tra tỉnh; Văn phòng UBND tỉnh",
     ["Sở Nội vụ", "Thanh tra tỉnh", "Văn phòng UBND tỉnh"]),
    ("Các sở, ban, ngành tỉnh; UBND các huyện, thành phố",
     ["Các sở, ban, ngành tỉnh", "UBND các huyện, thành phố"]),
    ("Các sở, ban, ngành,", ["Các sở, ban, ngành"]),
    ("Các sở, ban, ngành, UBND các huyện, thành phố", ["Các sở, ban, ngành", "UBND các huyện, thành phố"]),
    ("Các sở, ban, ngành, UBND cấp huyện, cấp xã", ["Các sở, ban, ngành", "UBND cấp huyện, cấp xã"]),
    ("Văn phòng UBND tỉnh, UBND cấp huyện, cấp xã", ["Văn phòng UBND tỉnh", "UBND cấp huyện, cấp xã"]),
    ("Sở Thông tin và Truyền thông; Văn phòng UBND tỉnh;",
     ["Sở Thông tin và Truyền thông", "Văn phòng UBND tỉnh"]),
    ("Các sở, ban, ngành; đơn vị sự nghiệp công lập thuộc UBND tỉnh; UBND các huyện, thành phố",
     ["Các sở, ban, ngành", "đơn vị sự nghiệp công lập thuộc UBND tỉnh", "UBND các huyện, thành phố"]),
    ("Các sở, ngành có liên quan; UBND cấp huyện, cấp xã",
     ["Các sở, ngành có liên quan", "UBND cấp huyện, cấp xã"]),
    ("Các sở, ban, ngành tỉnh theo chức năng quản lý ngành, lĩnh vực",
     ["Các sở, ban, ngành tỉnh theo chức năng quản lý ngành, lĩnh vực"]),
    ("Sở Nội vụ; các sở, ban, ngành, UBND các huyện, thành phố",
     ["Sở Nội vụ", "các sở, ban, ngành", "UBND các huyện, thành phố"]),
    ("Các cơ quan, đơn vị được thanh tra, kiểm tra", ["Các cơ quan, đơn vị được thanh tra, kiểm tra"]),
    ("- Sở Nội vụ; Sở Y tế; Sở Giáo dục và Đào tạo", ["Sở Nội vụ", "Sở Y tế", "Sở Giáo dục và Đào tạo"]),
    ("Sở Nội vụ; Sở Thông tin và Truyền thông", ["Sở Nội vụ", "Sở Thông tin và Truyền thông"]),
    ("Sở, ban, ngành, UBND cấp huyện, cấp xã", ["Sở, ban, ngành", "UBND cấp huyện, cấp xã"]),
    ("Văn phòng UBND tỉnh, Sở Thông tin và Truyền thông",
     ["Văn phòng UBND tỉnh", "Sở Thông tin và Truyền thông"]),
]
SPLIT_2026 = [
    # 2026 appendix: every distinct multi-name cell
    ("Các sở, ban, ngành; UBND các xã, phường", ["Các sở, ban, ngành", "UBND các xã, phường"]),
    ("Sở Tư pháp; các sở, ban, ngành", ["Sở Tư pháp", "các sở, ban, ngành"]),
    ("Các sở, ban, ngành, UBND các xã, phường", ["Các sở, ban, ngành", "UBND các xã, phường"]),
    ("Các cơ quan, đơn vị được kiểm toán, thanh tra", ["Các cơ quan, đơn vị được kiểm toán, thanh tra"]),
    ("4 Bệnh viện tuyến tỉnh; 10 Trung tâm Y tế khu vực",
     ["4 Bệnh viện tuyến tỉnh", "10 Trung tâm Y tế khu vực"]),
    ("Các sở, ban, ngành, UBND cấp xã", ["Các sở, ban, ngành", "UBND cấp xã"]),
    ("Các doanh nghiệp viễn thông; các Sở, ban, ngành, UBND cấp xã",
     ["Các doanh nghiệp viễn thông", "các Sở, ban, ngành", "UBND cấp xã"]),
    ("Văn phòng UBND tỉnh; các Sở, ban, ngành", ["Văn phòng UBND tỉnh", "các Sở, ban, ngành"]),
    ("Các sở,ban, ngành theo chức năng, nhiệm vụ quản lý nhà nước",
     ["Các sở,ban, ngành theo chức năng, nhiệm vụ quản lý nhà nước"]),
    ("Sở Khoa học và Công nghệ; các cơ quan, đơn vị liên quan",
     ["Sở Khoa học và Công nghệ", "các cơ quan, đơn vị liên quan"]),
    ("Các sở, ban, ngành; đơn vị sự nghiệp công lập thuộc UBND tỉnh; UBND các xã, phường",
     ["Các sở, ban, ngành", "đơn vị sự nghiệp công lập thuộc UBND tỉnh", "UBND các xã, phường"]),
]
SPLIT_OTHER = [
    # 2023 PAPI/SIPAS plan, "Cơ quan thực hiện/phối hợp" lines
    ("Cục Hải quan tỉnh, Cục Thuế tỉnh, Kho bạc nhà nước tỉnh, Sở Kế hoạch và Đầu tư, các Sở, ban, ngành, "
     "UBND các huyện, thành phố.",
     ["Cục Hải quan tỉnh", "Cục Thuế tỉnh", "Kho bạc nhà nước tỉnh", "Sở Kế hoạch và Đầu tư",
      "các Sở, ban, ngành", "UBND các huyện, thành phố"]),
    ("UBND huyện Chi Lăng, UBND các huyện, thành phố và UBND các xã, phường, thị trấn.",
     ["UBND huyện Chi Lăng", "UBND các huyện, thành phố", "UBND các xã, phường, thị trấn"]),
    ("Các cơ quan, đơn vị liên quan; Đài Phát thanh và Truyền hình tỉnh, Báo Lạng Sơn.",
     ["Các cơ quan, đơn vị liên quan", "Đài Phát thanh và Truyền hình tỉnh", "Báo Lạng Sơn"]),
    # names with "và"/"," inside stay whole
    ("Văn phòng HĐND và UBND xã", ["Văn phòng HĐND và UBND xã"]),
    ("Sở Văn hóa, Thể thao và Du lịch; Sở Nội vụ và Sở Tài chính",
     ["Sở Văn hóa, Thể thao và Du lịch", "Sở Nội vụ", "Sở Tài chính"]),
    ("", []),
]
SPLIT_CASES = SPLIT_2023 + SPLIT_2026 + SPLIT_OTHER


@pytest.mark.parametrize(("cell", "expected"), SPLIT_CASES)
def test_split_agencies(cell: str, expected: list[str]) -> None:
    assert split_agencies(cell) == expected


RESOLVE_CASES = [
    ("Sở Nội vụ", "so-noi-vu"),
    ("so noi vu", "so-noi-vu"),
    ("SỞ NỘI VỤ", "so-noi-vu"),
    ("Sở  Tư   pháp", "so-tu-phap"),
    ("Sở TT&TT", "so-tt-tt"),
    ("sở tt&tt", "so-tt-tt"),
    ("Sở Thông tin và Truyền thông", "so-tt-tt"),
    ("Sở KH&ĐT", "so-kh-dt"),
    ("Sở KH&CN", "so-kh-cn"),
    ("Sở LĐ-TB&XH", "so-ld-tb-xh"),
    ("Sở NN&PTNT", "so-nn-ptnt"),
    ("Sở TN&MT", "so-tn-mt"),
    ("Sở GTVT", "so-gtvt"),
    ("Sở Văn hoá, Thể thao và Du lịch", "so-vh-tt-dl"),
    ("UBND tỉnh", "ubnd-tinh"),
    ("Ủy ban nhân dân tỉnh", "ubnd-tinh"),
    ("Uỷ ban nhân dân tỉnh Lạng Sơn", "ubnd-tinh"),
    ("HĐND tỉnh", "hdnd-tinh"),
    ("Hội đồng nhân dân tỉnh", "hdnd-tinh"),
    ("VP UBND tỉnh", "vp-ubnd-tinh"),
    ("Văn phòng Ủy ban nhân dân tỉnh", "vp-ubnd-tinh"),
    ("Đài PTTH tỉnh", "dai-ptth-tinh"),
    ("Đài PT&TH tỉnh", "dai-ptth-tinh"),
    ("Cổng TTĐT tỉnh", "cong-ttdt-tinh"),
    ("Trung tâm Phục vụ hành chính công tỉnh", "ttpvhcc-tinh"),
    ("Báo và PTTH Lạng Sơn", "bao-ptth-lang-son"),
    ("Công an tỉnh", "cong-an-tinh"),
    ("Thanh tra tỉnh", "thanh-tra-tinh"),
    ("Ban Dân tộc", "ban-dan-toc"),
    ("Các sở, ban, ngành", "cac-so-ban-nganh"),
    ("các Sở, Ban, ngành", "cac-so-ban-nganh"),
    ("Các sở, ban, ngành có nội dung phân cấp", "cac-so-ban-nganh"),
    ("Các sở, ban, ngành phụ trách các lĩnh vực CCHC", "cac-so-ban-nganh-cchc"),
    ("Các cơ quan chuyên môn thuộc UBND tỉnh", "co-quan-chuyen-mon-ubnd-tinh"),
    ("UBND các huyện, thành phố", "ubnd-cac-huyen"),
    ("UBND các xã, phường", "ubnd-cac-xa"),
    ("UBND cấp xã", "ubnd-cac-xa"),
    ("UBND cấp huyện, cấp xã", "ubnd-cap-huyen-cap-xa"),
    ("UBND huyện Bình Gia", "ubnd-huyen-binh-gia"),
    ("UBND huyện Không Có", "ubnd-huyen"),
    ("Các cơ quan, đơn vị", "cac-co-quan-don-vi"),
    ("Các cơ quan, đơn vị có liên quan", "cac-co-quan-don-vi-lien-quan"),
    ("Các cơ quan, đơn vị liên quan", "cac-co-quan-don-vi-lien-quan"),
    ("4 Bệnh viện tuyến tỉnh", "benh-vien-tuyen-tinh"),
    ("- Sở Y tế;", "so-y-te"),
    ("Phòng Văn hoá - Xã hội xã", "phong-vhxh-xa"),
]


@pytest.mark.parametrize(("text", "agency_id"), RESOLVE_CASES)
def test_resolve(text: str, agency_id: str) -> None:
    assert resolve_agency(text).agency_id == agency_id


def test_resolve_unknown_keeps_text() -> None:
    m = resolve_agency("  Sở Ma   thuật ")
    assert (m.text, m.agency_id, m.is_group) == ("Sở Ma thuật", None, False)
    assert resolve_agency("").agency_id is None


def test_resolve_marks_groups() -> None:
    assert resolve_agency("Các sở, ban, ngành").is_group
    assert not resolve_agency("Sở Tư pháp").is_group


FIND_CASES = [
    ("Sở Tư pháp chủ trì", [("Sở Tư pháp", "so-tu-phap")]),
    ("sở tt&tt", [("sở tt&tt", "so-tt-tt")]),
    ("so noi vu", [("so noi vu", "so-noi-vu")]),
    ("nhiệm vụ của văn phòng ubnd tỉnh năm 2026", [("văn phòng ubnd tỉnh", "vp-ubnd-tinh")]),
    ("Kế hoạch số 02/KH-UBND ngày 04 tháng 01 năm 2023 của UBND tỉnh Lạng Sơn",
     [("UBND tỉnh Lạng Sơn", "ubnd-tinh")]),
    ("Nghị quyết số 15/2022/NQ-HĐND của HĐND tỉnh", [("HĐND tỉnh", "hdnd-tinh")]),
    ("phối hợp với các sở, ban, ngành, UBND cấp xã",
     [("các sở, ban, ngành", "cac-so-ban-nganh"), ("UBND cấp xã", "ubnd-cac-xa")]),
    ("Đề nghị Báo và Phát thanh, Truyền hình Lạng Sơn: chủ động",
     [("Báo và Phát thanh, Truyền hình Lạng Sơn", "bao-ptth-lang-son")]),
    ("không có cơ quan nào", []),
]


@pytest.mark.parametrize(("text", "expected"), FIND_CASES)
def test_find_agencies(text: str, expected: list[tuple[str, str]]) -> None:
    found = find_agencies(text)
    assert [(text[s:e], m.agency_id) for s, e, m in found] == expected
    assert all(m.text == text[s:e] for s, e, m in found)


def test_find_agencies_offsets_on_non_nfc_text() -> None:
    import unicodedata

    text = unicodedata.normalize("NFD", "Giao Sở Tư pháp chủ trì")
    [(s, e, m)] = find_agencies(text)
    assert unicodedata.normalize("NFC", text[s:e]) == "Sở Tư pháp" and m.agency_id == "so-tu-phap"


def test_lineage_tt_tt_to_kh_cn() -> None:
    reg = load_registry()
    assert reg.successors("so-tt-tt")[0] == "so-kh-cn"
    assert reg.successors("so-tt-tt", as_of="2025-02-28") == []
    assert "so-kh-cn" in reg.successors("so-tt-tt", as_of="2025-03-01")
    assert reg.predecessors("so-kh-cn") == ["so-tt-tt"]
    [rel] = reg.lineage("so-kh-cn")
    assert (rel.predecessor, rel.successor) == ("so-tt-tt", "so-kh-cn")
    assert (rel.date, rel.kind) == ("2025-03-01", "merge")
    assert reg.current("so-tt-tt") == ["so-kh-cn"]
    assert reg.current("so-tt-tt", as_of="2024-12-31") == ["so-tt-tt"]


def test_lineage_district_level_abolished() -> None:
    reg = load_registry()
    assert reg.successors("ubnd-cac-huyen") == ["ubnd-cac-xa"]
    assert reg.successors("ubnd-cac-huyen", as_of="2025-06-30") == []
    [rel] = reg.lineage("ubnd-cac-huyen")
    assert (rel.date, rel.kind) == ("2025-07-01", "abolish")
    assert reg.successors("ubnd-huyen-chi-lang") == ["ubnd-cac-xa"]
    assert "ubnd-cac-huyen" in reg.predecessors("ubnd-cac-xa")


@pytest.mark.parametrize(("old", "new"), [
    ("so-kh-dt", "so-tai-chinh"), ("so-ld-tb-xh", "so-noi-vu"), ("so-tn-mt", "so-nn-mt"),
    ("so-nn-ptnt", "so-nn-mt"), ("so-gtvt", "so-xay-dung"), ("dai-ptth-tinh", "bao-ptth-lang-son"),
    ("bao-lang-son", "bao-ptth-lang-son"), ("ubnd-cap-huyen-cap-xa", "ubnd-cac-xa"),
])
def test_2025_merges(old: str, new: str) -> None:
    reg = load_registry()
    assert reg.current(old) == [new]
    assert old in reg.predecessors(new)


def test_split_successors_are_listed_but_not_current() -> None:
    reg = load_registry()
    assert reg.successors("so-ld-tb-xh") == ["so-noi-vu", "so-y-te", "so-gd-dt"]
    assert {r.kind for r in reg.lineage("so-ld-tb-xh")} == {"merge", "split"}


def test_registry_integrity() -> None:
    reg = load_registry()
    levels = {"tỉnh", "huyện", "xã", "trung ương", None}
    for a in reg:
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", a.id), a.id
        assert a.level in levels, a
        assert reg.get(a.id) is a
    for s in reg.successions:
        assert s.kind in {"merge", "rename", "split", "abolish"}
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", s.date)
    assert reg.get("no-such-id") is None


def _gold_rows() -> list[dict]:
    if not GOLD_TASKS.exists():
        pytest.skip(f"no dev gold at {GOLD_TASKS}")
    return [json.loads(line) for line in GOLD_TASKS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_every_gold_agency_resolves() -> None:
    names = sorted({n for row in _gold_rows() for n in (*row["lead"], *row["cooperating"])})
    unresolved = [n for n in names if resolve_agency(n).agency_id is None]
    print(f"{len(names) - len(unresolved)}/{len(names)} distinct gold lead/cooperating strings resolve")
    for n in unresolved:
        print("unresolved:", n)
    assert not unresolved


def _joined(doc: str) -> str:
    return join_lines(read_source(CORPUS / doc).lines)


# A capitalised agency head and the capitalised words after it ("Sở Khoa học và
# Công nghệ" reads "Sở Khoa"); every such mention in an appendix must be found.
_MENTION = re.compile(r"(?<![\w/-])(?:Sở|UBND|Văn phòng|Công an|Thanh tra|Đài|Cổng TTĐT)(?= \w)")


@pytest.mark.parametrize("doc", ["langson-2023-cchc-phuluc.txt", "langson-2026-cchc-phuluc.txt"])
def test_appendix_agency_mentions_resolve(doc: str) -> None:
    if not (CORPUS / doc).exists():
        pytest.skip(f"no corpus file {doc}")
    text = _joined(doc)
    spans = find_agencies(text)
    missed = sorted({text[m.start():m.start() + 40] for m in _MENTION.finditer(text)
                     if not any(s <= m.start() < e for s, e, _ in spans)})
    for snippet in missed:
        print("not in registry:", snippet)
    found = {m.agency_id for *_, m in spans}
    print(f"{doc}: {len(spans)} mentions of {len(found)} agencies")
    # A cell cut by a page break ("… ngành, UBND" / "Văn phòng UBND tỉnh" of the
    # next column) joins into "UBND Văn phòng …"; that is a layout artefact.
    assert not [s for s in missed if not s.startswith("UBND Văn phòng")]


@pytest.mark.parametrize(("cell", "expected"), SPLIT_2023 + SPLIT_2026)
def test_appendix_cells_resolve(cell: str, expected: list[str]) -> None:
    for name in split_agencies(cell):
        assert resolve_agency(name).agency_id, name


def test_set_phrases_stay_whole_and_resolve() -> None:
    import tomllib

    from cchc.graph.extract.agencies import DATA_FILE

    phrases = tomllib.loads(DATA_FILE.read_text(encoding="utf-8"))["split"]["set_phrases"]
    for p in phrases:
        assert split_agencies(p) == [p]
        assert resolve_agency(p).agency_id
