"""A scanned page's table grid from its ruling lines (OpenCV).

Scans come skewed by a degree or two, which breaks any search for long
straight lines, so the page is first turned by the angle that makes its rows
of ink sharpest (the projection profile: lines and text rows line up when
the sum of squared row sums is largest).  The rulings are then what survives
a morphological opening with a long thin kernel, and the cells are the
enclosed white regions between them; a cell's grid column and span come from
the column edges shared by all rows, so a merged section-title cell spans
the columns it covers.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MAX_SKEW = 4.0  # degrees searched either way
EDGE_TOLERANCE = 0.006  # of the page width: edges closer than this are one column edge


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class GridCell:
    box: Box
    row: int
    col: int
    span: int


def binarize(gray: np.ndarray) -> np.ndarray:
    """Ink as 255 on 0, robust to uneven grey paper."""
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15)


def skew_angle(gray: np.ndarray) -> float:
    """The rotation (degrees) that makes the page's ink rows sharpest; coarse then fine on a reduced page."""
    small = cv2.resize(binarize(gray), None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    h, w = small.shape

    def sharpness(a: float) -> float:
        m = cv2.getRotationMatrix2D((w / 2, h / 2), float(a), 1)
        s = cv2.warpAffine(small, m, (w, h)).sum(axis=1, dtype=np.float64)
        return float((s**2).sum())

    coarse = max(np.arange(-MAX_SKEW, MAX_SKEW + 1e-9, 0.5), key=sharpness)
    return float(max(np.arange(coarse - 0.5, coarse + 0.5 + 1e-9, 0.05), key=sharpness))


def deskew(gray: np.ndarray) -> tuple[np.ndarray, float]:
    angle = skew_angle(gray)
    if abs(angle) < 0.05:
        return gray, 0.0
    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1)
    return cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_CUBIC, borderValue=255), angle


def _cluster(values: list[int], tol: float) -> list[float]:
    """Centres of runs of sorted values no more than `tol` apart."""
    out: list[list[int]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= tol:
            out[-1].append(v)
        else:
            out.append([v])
    return [sum(g) / len(g) for g in out]


def _nearest(edges: list[float], v: float) -> int:
    return min(range(len(edges)), key=lambda i: abs(edges[i] - v))


def find_cells(gray: np.ndarray) -> list[GridCell]:
    """The table cells of a deskewed page, in row-major order; [] when the page has no ruled table."""
    bw = binarize(gray)
    h, w = bw.shape
    hor = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(w // 25, 10), 1)))
    ver = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(h // 60, 10))))
    grid = cv2.dilate(hor | ver, np.ones((5, 5), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(255 - grid, connectivity=4)
    boxes = []
    for i in range(1, n):
        x, y, cw, ch, area = (int(v) for v in stats[i])
        # the page around the table is one huge region touching the border; skip it and specks
        if x == 0 or y == 0 or x + cw >= w or y + ch >= h or cw < 0.01 * w or ch < 0.008 * h:
            continue
        if area < 0.6 * cw * ch:
            continue
        boxes.append(Box(x, y, cw, ch))
    if len(boxes) < 2:
        return []
    tol = EDGE_TOLERANCE * w
    starts = _cluster([b.x for b in boxes], tol)  # column starts: every column has a cell starting there
    tops = _cluster([b.y for b in boxes], tol)
    out = []
    for b in boxes:
        span = sum(1 for s in starts if b.x - tol <= s < b.x + b.w - tol)
        out.append(GridCell(b, _nearest(tops, b.y), _nearest(starts, b.x), max(span, 1)))
    return sorted(out, key=lambda c: (c.row, c.col))


def has_ink(crop: np.ndarray) -> bool:
    """Whether a cell crop holds any letter-sized mark; an empty cell read by OCR gives only noise."""
    if crop.size == 0:
        return False
    bw = binarize(cv2.medianBlur(crop, 3))
    n, _, stats, _ = cv2.connectedComponentsWithStats(bw, connectivity=8)
    min_h = max(crop.shape[0] // 40, 8) if crop.shape[0] < 200 else 8
    return any(stats[i][3] >= min_h and stats[i][4] >= 25 for i in range(1, n))


def table_box(cells: list[GridCell]) -> Box | None:
    if not cells:
        return None
    x0 = min(c.box.x for c in cells)
    y0 = min(c.box.y for c in cells)
    x1 = max(c.box.x + c.box.w for c in cells)
    y1 = max(c.box.y + c.box.h for c in cells)
    return Box(x0, y0, x1 - x0, y1 - y0)
