"""Scanned PDF pages: rendered, deskewed, the table grid found, each cell read by Tesseract (Vietnamese).

Each cell is cropped inside its rulings and read on its own (page layout
analysis across a ruled table mixes the columns); the text around the table
is read from the page with the table blanked out.  One Tesseract process per
page reads all of that page's crops from a list file, so the model loads once
per page, and pages run in parallel, one per core.  Every cell keeps
Tesseract's mean word confidence, so a doubtful cell is flagged downstream
instead of trusted.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
from cchc.graph.extract.readers.grid import GridCell, deskew, find_cells, has_ink, table_box
from cchc.graph.extract.readers.model import Block, Cell, Paragraph, Row
from cchc.graph.extract.reading import SourceError
from tqdm import tqdm

log = logging.getLogger(__name__)

INSTALL_HINT = "apt-get install tesseract-ocr tesseract-ocr-vie"
OCR_DPI = 300  # Tesseract reads best with capitals ~30 px high; scans are often 150-200 dpi
INSET = 6  # pixels trimmed inside a cell's box so no ruling is read as a letter
PAD = 20  # white margin put back around a crop: Tesseract misreads letters that touch the image edge


def tesseract(path: Path) -> str:
    """The Tesseract executable, checked to have the Vietnamese model; else SourceError saying what to install."""
    exe = shutil.which("tesseract")
    if exe is None:
        raise SourceError(path, f"scanned PDF (no text layer) needs OCR, but Tesseract is not installed: "
                                f"{INSTALL_HINT}")
    langs = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, check=False).stdout.split()
    if "vie" not in langs:
        raise SourceError(path, "scanned PDF (no text layer) needs Tesseract's Vietnamese model: "
                                "apt-get install tesseract-ocr-vie")
    return exe


class OcrError(RuntimeError):
    """Tesseract exited with an error; the message is its last line."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(lines[0][:200])


@dataclass(frozen=True)
class OcrLine:
    top: int
    words: tuple[tuple[str, float], ...]  # (word, confidence 0-100)

    @property
    def text(self) -> str:
        return " ".join(w for w, _ in self.words)


def _confidence(lines: list[OcrLine]) -> float | None:
    confs = [c for ln in lines for w, c in ln.words if w.strip()]
    return round(sum(confs) / len(confs), 1) if confs else None


def _parse_tsv(tsv: str, images: int) -> list[list[OcrLine]]:
    """Lines of each input image from Tesseract's TSV (page_num counts the images of the list file)."""
    words: dict[int, dict[tuple[str, str, str], list[tuple[int, str, float]]]] = defaultdict(dict)
    for row in tsv.splitlines()[1:]:
        f = row.split("\t")
        if len(f) < 12 or f[0] != "5" or not f[11].strip():
            continue
        words[int(f[1]) - 1].setdefault((f[2], f[3], f[4]), []).append((int(f[7]), f[11], float(f[10])))
    out: list[list[OcrLine]] = []
    for i in range(images):
        lines = [OcrLine(min(t for t, _, _ in ws), tuple((w, c) for _, w, c in ws)) for ws in words[i].values()]
        out.append(sorted(lines, key=lambda ln: ln.top))
    return out


def _run(exe: str, images: list[np.ndarray]) -> list[list[OcrLine]]:
    with tempfile.TemporaryDirectory(prefix="cchc-ocr-") as tmp:
        names = []
        for i, img in enumerate(images):
            name = os.path.join(tmp, f"{i:04d}.png")
            cv2.imwrite(name, img)
            names.append(name)
        listing = os.path.join(tmp, "images.txt")
        Path(listing).write_text("\n".join(names) + "\n", encoding="utf-8")
        env = dict(os.environ, OMP_THREAD_LIMIT="1")  # pages run in parallel; one thread each
        res = subprocess.run([exe, listing, "stdout", "-l", "vie", "--psm", "6", "--dpi", str(OCR_DPI), "tsv"],
                             capture_output=True, text=True, env=env, check=False)
    if res.returncode != 0:
        raise OcrError(res.stderr.strip().splitlines()[-1:] or ["no message"])
    return _parse_tsv(res.stdout, len(images))


@dataclass
class OcrPage:
    """One scanned page read: its table cells with text and confidence, and the lines around the table."""

    page: int
    cells: list[tuple[GridCell, tuple[str, ...], float | None]]
    lines: list[tuple[int, str, float | None]]  # (top, text, confidence) outside the table

    def blocks(self, table_no: int, prev_cols: int | None) -> tuple[list[Block], int, int | None]:
        """Blocks in reading order, numbering the table as in the text-layer reader (pdf.py)."""
        by_row: dict[int, list[Cell]] = defaultdict(list)
        tops: dict[int, int] = {}
        for gc, parts, conf in self.cells:
            by_row[gc.row].append(Cell(parts, gc.col, gc.span, conf))
            tops[gc.row] = min(tops.get(gc.row, gc.box.y), gc.box.y)
        items: list[tuple[int, list[Block]]] = [(top, [Paragraph(text, self.page, conf)])
                                                for top, text, conf in self.lines]
        if by_row:
            ncols = max(c.col + c.span for cs in by_row.values() for c in cs)
            first_top = min((top for top, _, _ in self.lines), default=None)
            table_top = min(tops.values())
            continues = (first_top is None or table_top < first_top) and prev_cols == ncols and table_no > 0
            number = table_no - 1 if continues else table_no
            rows: list[Block] = [Row(tuple(sorted(by_row[r], key=lambda c: c.col)), self.page, number)
                                 for r in sorted(by_row)]
            items.append((table_top, rows))
            table_no, prev_cols = number + 1, ncols
        items.sort(key=lambda it: it[0])
        return [b for _, bs in items for b in bs], table_no, prev_cols


def _read_page(exe: str, page_no: int, gray: np.ndarray) -> OcrPage:
    gray, angle = deskew(gray)
    cells = find_cells(gray)
    log.debug("page %d: skew %.2f°, %d cells", page_no, angle, len(cells))
    outside = gray.copy()
    box = table_box(cells)
    if box is not None:
        outside[box.y: box.y + box.h, box.x: box.x + box.w] = 255
    crops = [gray[c.box.y + INSET: c.box.y + c.box.h - INSET, c.box.x + INSET: c.box.x + c.box.w - INSET]
             for c in cells]
    inked = [i for i, crop in enumerate(crops) if has_ink(crop)]
    padded = [cv2.copyMakeBorder(crops[i], PAD, PAD, PAD, PAD, cv2.BORDER_CONSTANT, value=255) for i in inked]
    read = _run(exe, [outside, *padded])
    lines = [(ln.top, ln.text, _confidence([ln])) for ln in read[0]]
    found = dict(zip(inked, read[1:], strict=True))
    texts = []
    for i, gc in enumerate(cells):
        lns = found.get(i, [])
        texts.append((gc, tuple(ln.text for ln in lns), _confidence(lns)))
    return OcrPage(page_no, texts, lines)


def _render(page: pdfium.PdfPage) -> np.ndarray:
    arr = page.render(scale=OCR_DPI / 72, grayscale=True).to_numpy()
    return arr[:, :, 0] if arr.ndim == 3 else arr


def ocr_pages(path: Path, pdf: pdfium.PdfDocument, numbers: list[int]) -> dict[int, OcrPage]:
    """OCR the given 1-based pages of an open PDF."""
    exe = tesseract(path)
    out: dict[int, OcrPage] = {}
    workers = max(1, min(os.cpu_count() or 1, len(numbers)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # pdfium is not thread-safe: render here, OCR in the pool (Tesseract runs as its own process)
        futures = {n: pool.submit(_read_page, exe, n, _render(pdf[n - 1])) for n in numbers}
        for n, fut in tqdm(futures.items(), desc=f"OCR {path.name}", unit="page", disable=None):
            try:
                out[n] = fut.result()
            except OcrError as exc:
                raise SourceError(path, f"page {n}: Tesseract failed: {exc}") from None
    return out
