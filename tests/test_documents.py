"""National legal documents: kinds, own identity, the relation of every citation (real excerpts).

The fixtures are excerpts of Markdown copies from a public collection
(tests/fixtures/documents/README.md): site metadata tables and lists, YAML
front matter, OCR damage.  Plans and appendices come from the embedded corpus.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cchc.graph.extract.cues import assign_relations
from cchc.graph.extract.documents import extract_file
from cchc.graph.extract.reading import SourceText
from cchc.service.cli import main

from .conftest import APPENDIX_2026, CORPUS, PLAN_2026_2030, TANDOAN_2025

DOCS = Path(__file__).parent / "fixtures" / "documents"


def _ex(name: str):
    return extract_file(DOCS / name)


def _relations(ex, relation: str) -> list[str]:
    return list(dict.fromkeys(c.id for c in ex.citations if c.relation == relation))


# ---------------------------------------------------------------- document kinds and identity

@pytest.mark.parametrize(("name", "want"), [
    ("97-2026-tt-btc.md", ("97/2026/TT-BTC", "Thông tư", "Bộ Tài chính", "2026-07-06")),
    ("238-2026-nd-cp-ocr.md", ("238/2026/NĐ-CP", "Nghị định", "Chính phủ", "2026-06-26")),
    ("91-2026-nd-cp-summary.md", ("91/2026/NĐ-CP", "Nghị định", "Chính phủ", "2026-03-30")),
    ("32-2026-tt-bnnmt-repeals.md", ("32/2026/TT-BNNMT", "Thông tư", "Bộ Nông nghiệp và Môi trường", "2026-07-17")),
    ("159-2026-nq-cp.md", ("159/NQ-CP", "Nghị quyết", "Chính phủ", "2026-06-20")),
    ("1074-2026-qd-bxd.md", ("1074/QĐ-BXD", "Quyết định", "Bộ Xây dựng", "2026-06-29")),
])
def test_instrument_identity(name, want):
    ex = _ex(name)
    assert ex.kind == "instrument"
    ident = ex.identity
    assert (ident.id, ident.type, ident.issuer, ident.date) == want


def test_identity_prefers_the_printed_header():
    """97/2026: "Số:" line, organ above CỘNG HÒA, "Hà Nội, ngày ...", title under the type word."""
    ident = _ex("97-2026-tt-btc.md").identity
    assert ident.sources == {"id": "header", "type": "header", "issuer": "header", "date": "header",
                             "title": "header"}
    assert ident.title.startswith("BÃI BỎ THÔNG TƯ SỐ 55/2010/TT-BTC NGÀY 16 THÁNG 4 NĂM 2010")
    assert ident.line == 19  # the first line after the front matter holding the number (the site heading)


def test_header_number_wins_over_the_sites_and_the_own_number_is_no_citation():
    """14/NQ-CP: the site files it as 14/2026/NQ-CP and 'Nghị quyết của Quốc hội'; the header says otherwise."""
    ex = _ex("14-2026-nq-cp.md")
    assert (ex.identity.id, ex.identity.type, ex.identity.issuer) == ("14/NQ-CP", "Nghị quyết", "Chính phủ")
    assert not [c for c in ex.citations if c.numbered and c.number == "14"]


def test_number_and_date_on_one_line():
    ident = _ex("1074-2026-qd-bxd.md").identity  # "Số: 1074/QĐ-BXD — Hà Nội, ngày 29 tháng 6 năm 2026"
    assert ident.sources["date"] == "header"
    assert ident.title.startswith("Ban hành các giải pháp kỹ thuật")


def test_date_from_front_matter_when_nothing_else_prints_it():
    src = SourceText.from_text("---\ndate: 30/03/2026\nso_hieu: \"91/2026/NĐ-CP\"\n---\n\n"
                               "# Nghị định 91/2026/NĐ-CP\n\n### Điều 1. Phạm vi điều chỉnh\n", "x.md")
    from cchc.graph.extract.identity import read_identity

    ident = read_identity(src, "instrument")
    assert (ident.id, ident.type, ident.issuer, ident.date) == ("91/2026/NĐ-CP", "Nghị định", "Chính phủ",
                                                                "2026-03-30")


def test_plan_and_appendix_identity(extractions):
    appendix = extractions[APPENDIX_2026]
    assert appendix.kind == "appendix"
    assert (appendix.identity.id, appendix.identity.date, appendix.identity.part_of) == \
        ("29/KH-UBND", "2026-01-30", "29/KH-UBND")
    plan = extractions[PLAN_2026_2030]
    assert plan.kind == "narrative"
    assert (plan.identity.type, plan.identity.id) == ("Kế hoạch", None)  # "Số: /KH-UBND": no number yet
    assert plan.identity.title == "Cải cách hành chính nhà nước tỉnh Lạng Sơn giai đoạn 2026-2030"


def test_front_matter_is_not_searched_for_citations():
    ex = _ex("91-2026-nd-cp-summary.md")
    assert min(c.span.line for c in ex.citations) > 15  # the YAML ends at line 15


# ---------------------------------------------------------------- citations in national documents

def test_ocr_damaged_numbers_repaired_surface_kept():
    ex = _ex("238-2026-nd-cp-ocr.md")
    got = {c.id: c for c in ex.citations if c.numbered}
    assert got["15/2012/QH13"].printed == "15/201 2/QI113"
    assert "15/201 2/QI113" in got["15/2012/QH13"].surface
    assert got["54/2014/QH13"].printed == "54/201 49H13"
    assert got["18/2017/QH14"].printed == "18/201 7QHI4"
    assert got["118/2025/QH15"].printed == "118/2025/QH135"
    assert got["09/2022/QH15"].type == "Luật"  # "+tuật sô 09/2022/QH15": the QH code says Luật


def test_abbreviated_decree_completed_and_named_laws_typed():
    ex = _ex("32-2026-tt-bnnmt-repeals.md")
    abbreviated = [c for c in ex.citations if c.printed == "187/2025"]
    assert [c.id for c in abbreviated] == ["187/2025/NĐ-CP", "187/2025/NĐ-CP"]
    law = next(c for c in ex.citations if c.id == "64/2025/QH15")  # "Luật Ban hành VBQPPL 64/2025/QH15"
    assert (law.type, law.issuer) == ("Luật", "Quốc hội")


# ---------------------------------------------------------------- one test per relation kind

def test_based_on_includes_amending_laws_in_the_can_cu_line():
    ex = _ex("97-2026-tt-btc.md")
    assert _relations(ex, "based_on") == [
        "64/2025/QH15", "87/2025/QH15", "108/2025/QH15", "252/2026/NĐ-CP", "48/2024/QH15", "149/2025/QH15",
        "09/2026/QH16", "181/2025/NĐ-CP", "67/2025/QH15", "320/2025/NĐ-CP", "78/2025/NĐ-CP", "79/2025/NĐ-CP",
        "187/2025/NĐ-CP", "29/2025/NĐ-CP", "166/2025/NĐ-CP"]
    assert _relations(ex, "amends") == []  # "được sửa đổi, bổ sung bởi" inside Căn cứ is a report


def test_based_on_from_site_lists_and_rows_but_not_proposals():
    ex = _ex("159-2026-nq-cp.md")
    assert _relations(ex, "based_on") == ["78/2025/NĐ-CP", "187/2025/NĐ-CP", "191/2026/NĐ-CP"]
    tt = next(c for c in ex.citations if c.id == "5584/TTr-BNNMT")
    assert tt.relation is None  # "Theo đề nghị ... tại Tờ trình số ..."


def test_implements_in_a_plan_preamble(extractions):
    ex = extractions[PLAN_2026_2030]
    assert _relations(ex, "implements") == ["76/NQ-CP", "282/QĐ-TTg", "60-NQ/TU"]
    assert "145/KH-UBND" in _relations(ex, "based_on")


def test_amends_from_title_preamble_and_chapter():
    ex = _ex("238-2026-nd-cp-ocr.md")
    assert _relations(ex, "amends") == ["168/2024/NĐ-CP"]
    assert {c.span.line for c in ex.citations if c.relation == "amends"} == {29, 47, 54}


def test_replaces_in_a_plan(extractions):
    ex = extractions[PLAN_2026_2030]
    assert _relations(ex, "replaces") == ["316/KH-UBND"]  # "Kế hoạch này thay thế Kế hoạch số 316/KH-UBND"


def test_repeals_from_title_article_and_lapse():
    assert _relations(_ex("97-2026-tt-btc.md"), "repeals") == ["55/2010/TT-BTC"]
    # "Nghị định số 141/2013/NĐ-CP, ..., Điều 104 và Điều 105 Nghị định số 125/2024/NĐ-CP hết hiệu lực
    # thi hành kể từ ngày Nghị định này có hiệu lực"
    assert _relations(_ex("91-2026-nd-cp-summary.md"), "repeals") == ["141/2013/NĐ-CP", "99/2019/NĐ-CP",
                                                                       "125/2024/NĐ-CP"]


def test_repeal_list_items_and_reported_amendments():
    ex = _ex("32-2026-tt-bnnmt-repeals.md")
    repealed = _relations(ex, "repeals")
    assert repealed[:3] == ["16/2014/TT-BNNPTNT", "28/2015/TT-BNNPTNT", "22/2016/TTLT-BNNPTNT-BTNMT"]
    assert {"74/2004/QĐ-BNN", "40/2006/QĐ-BNN", "19/2013/TT-BNNPTNT", "02/2014/TT-BNNPTNT",
            "06/2015/TT-BNNPTNT"} <= set(repealed)
    # "TT 06/2015/TT-BNNPTNT — sửa đổi khoản 2 Điều 18 Thông tư số 02/2014/TT-BNNPTNT": a report
    assert _relations(ex, "amends") == []


def test_guides_from_a_lead_in_over_a_list():
    ex = _ex("91-2026-nd-cp-summary.md")
    assert _relations(ex, "guides") == ["125/2025/QH15"]
    assert _relations(ex, "based_on") == ["63/2025/QH15", "73/2025/QH15", "43/2019/QH14", "123/2025/QH15",
                                          "125/2025/QH15"]


def test_plain_mention_has_no_relation(extractions):
    ex = extractions[APPENDIX_2026]
    cited = [c for t in ex.tasks for c in t.citations if c.id == "118/2025/NĐ-CP"]
    assert cited and all(c.relation is None for c in cited)


def test_blank_lines_inside_a_pdf_sentence_keep_the_cue():
    ex = extract_file(CORPUS / TANDOAN_2025)
    assert _relations(ex, "based_on")[:3] == ["76/NQ-CP", "60-NQ/TU", "249/KH-UBND"]
    assert _relations(ex, "implements") == ["184/KH-UBND"]


def test_assign_relations_keeps_citations_without_cues_untouched():
    src = SourceText.from_text("Căn cứ Luật Quản lý thuế số 108/2025/QH15;\n\nĐiều 1. Thông tư số 55/2010/TT-BTC "
                               "vẫn được áp dụng.\n", "x.md")
    from cchc.graph.extract.citations import document_lines, find_citations

    out = assign_relations(src, find_citations(document_lines(src), "x.md"))
    assert [(c.id, c.relation) for c in out] == [("108/2025/QH15", "based_on"), ("55/2010/TT-BTC", None)]


# ---------------------------------------------------------------- the command

def test_extract_prints_one_document_record_per_file(capsys):
    files = [str(DOCS / "97-2026-tt-btc.md"), str(CORPUS / APPENDIX_2026)]
    assert main(["extract", *files, "--jsonl"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    docs = [r for r in rows if r["kind"] == "document"]
    assert [(d["doc"], d["id"], d["document_kind"]) for d in docs] == [
        ("97-2026-tt-btc.md", "97/2026/TT-BTC", "instrument"), (APPENDIX_2026, "29/KH-UBND", "appendix")]
    assert {"id", "type", "issuer", "date", "title", "line"} <= docs[0].keys()
    cites = [r for r in rows if r["kind"] == "citation" and r["doc"] == "97-2026-tt-btc.md"]
    assert all("relation" in r for r in cites)


def test_one_bad_file_does_not_hide_the_others(tmp_path, capsys):
    bad = tmp_path / "notes.txt"
    bad.write_text("ghi chú không có bảng\nchỉ là văn bản thường\n", encoding="utf-8")
    code = main(["extract", str(bad), str(DOCS / "159-2026-nq-cp.md"), "--jsonl"])
    out = capsys.readouterr()
    assert code == 2
    assert str(bad) in out.err and len(out.err.strip().splitlines()) == 1
    assert any(json.loads(line)["doc"] == "159-2026-nq-cp.md" for line in out.out.splitlines())


# ---------------------------------------------------------------- units of an instrument

def test_articles_clauses_and_points_are_units_with_their_heading_path():
    ex = _ex("238-2026-nd-cp-ocr.md")
    units = {u.span.line: u for u in ex.units}
    assert (units[53].marker, units[53].is_heading) == ("Chương I", True)
    preamble = [u for u in ex.units if u.text.startswith("Căn cứ")]
    assert [u.span.line for u in preamble] == [34, 35, 37, 42]  # one unit per "Căn cứ" clause
    assert units[37].span.end_line == 40
    ex = _ex("91-2026-nd-cp-summary.md")
    article = next(u for u in ex.units if u.marker == "Điều 1.")
    assert article.text == "Điều 1. Phạm vi điều chỉnh" and article.is_heading
    item = next(u for u in ex.units if u.span.line == 55)
    assert item.heading_path[-1] == "Điều 1. Phạm vi điều chỉnh"
    assert "125/2025/QH15" in item.text
    lapse = next(u for u in ex.units if u.span.line == 69)  # "3. Nghị định số 141/2013/NĐ-CP, ... hết hiệu lực"
    assert (lapse.marker, lapse.heading_path[-1]) == ("3.", "Điều 13. Hiệu lực thi hành")
