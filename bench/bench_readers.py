"""Reader speed: pages per second for each file format, reading alone and reading + extraction.

    .venv/bin/python bench/bench_readers.py [--rounds 3]

Runs in-process on the reader fixtures (tests/fixtures/readers: the 2023 and
2026 appendices as Word and born-digital PDF, two sections of 2023 scanned)
and the corpus .txt of the same appendices.  Word and text files have no
pages of their own; their figure counts the pages of the same table printed
to PDF, so the rates compare like with like.  Also prints the library
comparison behind the PDF reader (pdfplumber's tables vs pypdfium2's bare
text) and the OCR share of a scanned page.  Figures go into bench/readers.md.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from pathlib import Path

import pdfplumber
import pypdfium2 as pdfium
from cchc.graph.extract.documents import extract_document
from cchc.graph.extract.readers import read_document

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "readers"
CORPUS = ROOT / "data" / "corpus"
NAMES = ("langson-2023-cchc-phuluc", "langson-2026-cchc-phuluc")


def _pages(pdf: Path) -> int:
    return len(pdfium.PdfDocument(str(pdf)))


def _time(fn, rounds: int) -> float:
    """Median wall time of fn() over `rounds` runs, after one warm-up run (imports, lexicons)."""
    fn()
    walls = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t)
    return statistics.median(walls)


def _row(label: str, files: list[Path], pages: int, rounds: int) -> None:
    read = _time(lambda: [read_document(f) for f in files], rounds)
    full = _time(lambda: [extract_document(read_document(f)) for f in files], rounds)
    tasks = sum(len(extract_document(read_document(f)).tasks) for f in files)
    print(f"| {label} | {pages} | {tasks} | {pages / read:.1f} | {pages / full:.1f} |")


def _libraries(rounds: int) -> None:
    pdfs = [FIX / f"{n}.pdf" for n in NAMES]
    pages = sum(_pages(p) for p in pdfs)

    def plumber() -> None:
        for p in pdfs:
            with pdfplumber.open(str(p)) as pdf:
                for page in pdf.pages:
                    for t in page.find_tables():
                        t.extract()

    def pdfium_text() -> None:
        for p in pdfs:
            doc = pdfium.PdfDocument(str(p))
            for page in doc:
                page.get_textpage().get_text_range()

    print("\n| library (born-digital PDF) | pages/s |")
    print("|---|---|")
    print(f"| pdfplumber: tables from ruling lines, cell text | {pages / _time(plumber, rounds):.1f} |")
    print(f"| pypdfium2: page text only, no table structure | {pages / _time(pdfium_text, rounds):.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    printed = sum(_pages(FIX / f"{n}.pdf") for n in NAMES)
    print("| reader | pages | tasks | pages/s read | pages/s read + extract |")
    print("|---|---|---|---|---|")
    _row(".txt (corpus text)", [CORPUS / f"{n}.txt" for n in NAMES], printed, args.rounds)
    _row(".docx (Word table)", [FIX / f"{n}.docx" for n in NAMES], printed, args.rounds)
    _row(".pdf (text layer)", [FIX / f"{n}.pdf" for n in NAMES], printed, args.rounds)
    scan = FIX / "langson-2023-cchc-phuluc-scan.pdf"
    _row(".pdf (scan, OCR)", [scan], _pages(scan), 1)
    _libraries(args.rounds)


if __name__ == "__main__":
    main()
