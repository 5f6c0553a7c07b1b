"""Readers: corpus tables as Word, born-digital PDF and scanned PDF, scored against the dev gold.

The fixtures (tests/fixtures/readers, made by make_fixtures.py) lay the rows
of the 2023 and 2026 appendices out as a real Word table, print it to PDF
with LibreOffice, and scan two sections of it (150 dpi grey, skewed, noisy).
The scorer is the shared one; its gold names the .txt, so predictions are
renamed to it and the gold is cut to the sections a fixture holds.

Without Tesseract the OCR tests skip, unless CCHC_REQUIRE_OCR=1 (CI) makes that a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from cchc.graph.extract.documents import extract_file
from cchc.graph.extract.readers import READERS, read_document
from cchc.graph.extract.readers.model import LOW_CONFIDENCE
from cchc.graph.extract.reading import read_source
from cchc.service.cli import main

from .conftest import APPENDIX_2023, APPENDIX_2026, CORPUS, SHARED, TANDOAN_2025

FIXTURES = Path(__file__).parent / "fixtures" / "readers"
WORD_2023 = FIXTURES / "langson-2023-cchc-phuluc.docx"
PDF_2023 = FIXTURES / "langson-2023-cchc-phuluc.pdf"
SCAN_2023 = FIXTURES / "langson-2023-cchc-phuluc-scan.pdf"  # sections I and II only
SCORE = SHARED / "tools" / "score.py"


def _need_ocr() -> None:
    if shutil.which("tesseract") is None:
        reason = "tesseract not installed (apt-get install tesseract-ocr tesseract-ocr-vie)"
        if os.environ.get("CCHC_REQUIRE_OCR") == "1":
            pytest.fail(f"{reason}, and CCHC_REQUIRE_OCR=1 requires the OCR tests to run")
        pytest.skip(reason)


def _extract_jsonl(path: Path, capsys) -> list[dict]:
    assert main(["extract", str(path), "--jsonl"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def _score(records: list[dict], as_doc: str, tmp_path: Path, sections: set[str] | None = None) -> dict[str, float]:
    """score.py extraction on `records` renamed to `as_doc`, against the gold rows of the given sections."""
    gold_dir = tmp_path / "gold"
    gold_dir.mkdir()
    gold = [json.loads(line) for line in (SHARED / "dev-gold" / "tasks.jsonl").read_text("utf-8").splitlines()]
    gold = [g for g in gold if g["doc"] == as_doc and (sections is None or g["section"] in sections)]
    assert gold, "no gold rows for this fixture"
    (gold_dir / "tasks.jsonl").write_text("".join(json.dumps(g, ensure_ascii=False) + "\n" for g in gold), "utf-8")
    pred = tmp_path / "pred.jsonl"
    pred.write_text("".join(json.dumps({**r, "doc": as_doc}, ensure_ascii=False) + "\n" for r in records), "utf-8")
    out = subprocess.run([sys.executable, str(SCORE), "extraction", "--gold", str(gold_dir), "--pred", str(pred)],
                         capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("SCORE "))
    return {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}


@pytest.fixture(scope="module")
def scan_records() -> list[dict]:
    _need_ocr()
    out = subprocess.run([sys.executable, "-m", "cchc.service.cli", "extract", str(SCAN_2023), "--jsonl"],
                         capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def test_word_table_scores_against_gold(capsys, tmp_path):
    recs = _extract_jsonl(WORD_2023, capsys)
    s = _score(recs, APPENDIX_2023, tmp_path)
    assert s["task_f1"] >= 0.99, s
    for field in ("key_acc", "content_sim", "product_sim", "lead_f1", "coop_f1", "timeline_acc"):
        assert s[field] >= 0.99, (field, s)


def test_born_digital_pdf_scores_against_gold(capsys, tmp_path):
    recs = _extract_jsonl(PDF_2023, capsys)
    s = _score(recs, APPENDIX_2023, tmp_path)
    assert s["task_f1"] >= 0.98, s
    for field in ("key_acc", "content_sim", "lead_f1", "coop_f1", "timeline_acc"):
        assert s[field] >= 0.98, (field, s)
    tasks = [r for r in recs if r["kind"] == "task"]
    assert all(r["doc"] == PDF_2023.name and r["page"] >= 1 for r in tasks)
    assert not any("ocr_confidence" in r for r in tasks), "a text layer is not OCR"


def test_scan_scores_against_gold(scan_records, tmp_path):
    s = _score(scan_records, APPENDIX_2023, tmp_path, sections={"I", "II"})
    assert s["task_f1"] >= 0.9, s
    for field in ("lead_f1", "coop_f1", "timeline_acc"):
        assert s[field] >= 0.85, (field, s)


def test_scan_rows_carry_confidence_and_doubtful_cells_are_flagged(scan_records):
    tasks = [r for r in scan_records if r["kind"] == "task"]
    assert tasks and all(r["page"] in (1, 2, 3) for r in tasks)
    for r in tasks:
        assert 0 <= r["ocr_confidence"] <= 100
        assert r["low_confidence"] == bool(r["low_confidence_cells"])
        if r["ocr_confidence"] < LOW_CONFIDENCE:
            assert r["low_confidence"], r  # the least confident cell is below the bar: it is named
    assert any(r["low_confidence"] for r in tasks), "a noisy 150 dpi scan has doubtful cells"


@pytest.mark.parametrize("suffix", [".docx", ".pdf"])
def test_2026_table_reads_as_the_text_path_does(suffix):
    """Every field of every row of the 2026 appendix, from Word or PDF, equals the .txt extraction."""
    def key(t):
        return (t.section, t.no, t.content, t.product, t.lead, t.cooperating, t.timeline, tuple(t.cites),
                t.deadline)

    text = extract_file(CORPUS / APPENDIX_2026)
    other = extract_file(FIXTURES / APPENDIX_2026.replace(".txt", suffix))
    assert [key(t) for t in other.tasks] == [key(t) for t in text.tasks]
    assert [(c.id, c.date, c.issuer) for c in other.citations] == [(c.id, c.date, c.issuer) for c in text.citations]
    assert other.header["parent_plan"]["id"] == "29/KH-UBND" and other.header["year"] == 2026


def test_word_table_with_two_row_header_and_column_numbers(tmp_path):
    """"CƠ QUAN THỰC HIỆN" spanning "CHỦ TRÌ" | "PHỐI HỢP", the other cells merged down, a "(1) ... (6)" row."""
    sys.path.insert(0, str(FIXTURES))
    try:
        import make_fixtures
    finally:
        sys.path.remove(str(FIXTURES))
    head, rows = make_fixtures.table_of(CORPUS / APPENDIX_2026)
    path = tmp_path / APPENDIX_2026.replace(".txt", ".docx")
    make_fixtures.write_docx(head, rows, path, two_row_header=True)
    text = extract_file(CORPUS / APPENDIX_2026)
    word = extract_file(path)
    assert [(t.section, t.no, t.content, t.lead, t.cooperating, t.timeline) for t in word.tasks] == [
        (t.section, t.no, t.content, t.lead, t.cooperating, t.timeline) for t in text.tasks]


def test_pdf_row_broken_by_a_page_is_joined_and_the_header_not_repeated():
    doc = read_document(PDF_2023)
    ex = extract_file(PDF_2023)
    broken = [t for t in ex.tasks if doc.page_of(t.span.end_line) != t.page]
    assert broken, "the fixture breaks rows over pages"
    text = {(t.section, t.no): t.content for t in extract_file(CORPUS / APPENDIX_2023).tasks}
    assert all(t.content == text[(t.section, t.no)] for t in broken)
    assert not any("NỘI DUNG" in t.content or "STT" in t.content for t in ex.tasks)
    assert doc.pages and doc.pages > 2 and doc.format == "pdf"


def test_line_and_page_point_at_the_readers_text():
    doc = read_document(PDF_2023)
    for t in extract_file(PDF_2023).tasks:
        assert doc.text.line(t.span.line) == t.no  # the STT cell's line
        assert doc.page_of(t.span.line) == t.page


def test_text_reader_is_todays_reading():
    for name in (APPENDIX_2023, TANDOAN_2025):
        doc = read_document(CORPUS / name)
        assert doc.format == "text" and doc.text == read_source(CORPUS / name)


def test_word_plan_paragraphs_read_as_the_text_does(tmp_path):
    """A narrative plan typed into Word (one paragraph per printed line) extracts as its text does."""
    from docx import Document

    src = read_source(CORPUS / TANDOAN_2025)
    d = Document()
    for line in src.lines:
        if line.strip():
            d.add_paragraph(line.strip())
    path = tmp_path / TANDOAN_2025.replace(".txt", ".docx")
    d.save(str(path))
    a, b = extract_file(CORPUS / TANDOAN_2025), extract_file(path)
    assert [(u.marker, u.text) for u in b.units] == [(u.marker, u.text) for u in a.units]
    assert [(t.content, t.lead, t.timeline) for t in b.tasks] == [(t.content, t.lead, t.timeline) for t in a.tasks]
    assert [c.id for c in b.citations] == [c.id for c in a.citations]


def test_word_list_numbers_are_printed(tmp_path):
    from docx import Document

    d = Document()
    d.add_paragraph("KẾ HOẠCH CẢI CÁCH HÀNH CHÍNH")
    for text in ("Mục đích", "Yêu cầu", "Nhiệm vụ"):
        d.add_paragraph(text, style="List Number")
    d.add_paragraph("Sở Nội vụ chủ trì", style="List Bullet")
    path = tmp_path / "plan.docx"
    d.save(str(path))
    assert read_document(path).text.lines == (
        "KẾ HOẠCH CẢI CÁCH HÀNH CHÍNH", "1. Mục đích", "2. Yêu cầu", "3. Nhiệm vụ", "- Sở Nội vụ chủ trì")


# ------------------------------------------------------------------ bad input: one line, exit 2, no stdout


def _fails(args: list[str], capsys) -> str:
    assert main(["extract", *args, "--jsonl"]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    lines = out.err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_unknown_suffix_names_the_readable_ones(tmp_path, capsys):
    path = tmp_path / "plan.odt"
    path.write_bytes(b"PK\x03\x04")
    err = _fails([str(path)], capsys)
    assert str(path) in err and all(s in err for s in READERS)


def test_corrupt_docx(tmp_path, capsys):
    bad = tmp_path / "plan.docx"
    bad.write_bytes(WORD_2023.read_bytes()[:5000])  # cut short: the zip's directory is gone
    err = _fails([str(bad)], capsys)  # (with other files, theirs are still printed: tests/test_cli_extract.py)
    assert str(bad) in err and "not a readable Word document" in err


def test_text_renamed_docx(tmp_path, capsys):
    bad = tmp_path / "plan.docx"
    bad.write_text((CORPUS / APPENDIX_2023).read_text("utf-8"), "utf-8")
    assert "not a readable Word document" in _fails([str(bad)], capsys)


def test_corrupt_pdf(tmp_path, capsys):
    bad = tmp_path / "plan.pdf"
    bad.write_bytes(PDF_2023.read_bytes()[:3000])
    err = _fails([str(bad)], capsys)
    assert str(bad) in err and "not a readable PDF" in err


def test_encrypted_pdf(capsys):
    err = _fails([str(FIXTURES / "encrypted.pdf")], capsys)
    assert "encrypted.pdf" in err and "encrypted PDF" in err


def test_pdf_without_pages(tmp_path, capsys):
    empty = tmp_path / "empty.pdf"
    pdfium.PdfDocument.new().save(str(empty))
    err = _fails([str(empty)], capsys)
    assert str(empty) in err and "no pages" in err


def test_scan_without_tesseract_says_what_to_install(tmp_path):
    bare = tmp_path / "bin"
    bare.mkdir()
    env = dict(os.environ, PATH=str(bare))
    res = subprocess.run([sys.executable, "-m", "cchc.service.cli", "extract", str(SCAN_2023), "--jsonl"],
                         capture_output=True, text=True, env=env)
    assert res.returncode == 2 and res.stdout == ""
    err = res.stderr.strip().splitlines()
    assert len(err) == 1 and SCAN_2023.name in err[0]
    assert "apt-get install tesseract-ocr tesseract-ocr-vie" in err[0]


def test_task_page_shows_the_pdf_page_of_its_source_lines() -> None:
    """The web page and /tasks/{id} show a PDF task's lines with the page of the original they are on."""
    from cchc.graph.rdf.store import Store
    from cchc.graph.read.views import GraphViews

    st = Store(None)
    ex = extract_file(PDF_2023)
    st.add_document(ex)
    views = GraphViews(st, FIXTURES)
    late = max(ex.tasks, key=lambda t: t.span.line)  # a row far into the table: not on the first page
    task = views.task(views.task_at(PDF_2023.name, late.span.line))
    prov = task["provenance"]
    pages = [r["page"] for r in prov["lines"]]
    assert pages and set(pages) == set(prov["pages"]) and min(pages) > 1
    assert all(ex.page_of(r["line"]) == r["page"] for r in prov["lines"])
