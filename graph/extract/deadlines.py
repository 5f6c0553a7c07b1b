"""Timeline cells ("Quý II, III/2026", "Thường xuyên") as structured time.

Search filters tasks by period ("nhiệm vụ quý I/2026") and the graph links
2023 tasks to their 2026 successors by time, so a timeline must become an
interval.  The grammar covers the forms printed in the corpus; anything else
keeps its text and gets no dates: an unknown form is reported, never guessed.

Matching runs on folded text (no diacritics, lower case), so the same grammar
reads a user's "quy 1/2026" or "nam 2026".
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from cchc.graph.extract.agencies import fold_offsets
from cchc.graph.extract.reading import fold, squash
from cchc.graph.extract.records import Deadline

__all__ = ["overlaps", "parse_deadline", "parse_time_expression"]

_Y = r"((?:19|20)\d\d)(?!\d)"
_M = r"(?:0?[1-9]|1[0-2])(?!\d)"
_Q = r"(?:iv|iii|ii|i|[1-4])(?![a-z0-9])"
_LIST = r"\s*(?:,|va|-|–)\s*"
_YEAR_SEP = r"\s*(?:/|-|nam)\s*"

# One alternative per form; leftmost match wins and, at one position, the
# earlier alternative (so "6 tháng đầu năm 2026" is a half, not "năm 2026").
_GRAMMAR = re.compile(
    rf"""(?<![a-z0-9])(?:
      (?P<before>truoc|cham\s+nhat|han\s+chot|den)\s+(?:ngay\s+)?
          (?P<bd>\d{{1,2}})(?:\s*/\s*|\s+thang\s+)(?P<bm>\d{{1,2}})(?:\s*/\s*|\s+nam\s+){_Y}
    | ngay\s+(?P<dd>\d{{1,2}})(?:\s*/\s*|\s+thang\s+)(?P<dm>\d{{1,2}})(?:\s*/\s*|\s+nam\s+){_Y}
    | (?:giai\s+doan\s+|ky\s+)?(?P<ry1>(?:19|20)\d\d)\s*[-–]\s*(?P<ry2>(?:19|20)\d\d)(?!\d)
    | (?:6\s+thang|sau\s+thang|nua)\s+(?P<half>dau|cuoi)(?:\s+nam)?(?:\s+(?P<hy>(?:19|20)\d\d)(?!\d))?
    | (?:quy\s+|q)(?P<qs>{_Q}(?:{_LIST}(?:quy\s+)?{_Q})*)(?:(?:{_YEAR_SEP}|\s+){_Y})?
    | thang\s+(?P<ms>{_M}(?:{_LIST}(?:thang\s+)?{_M})*)(?:{_YEAR_SEP}{_Y})?
    | (?:trong\s+|ca\s+)?nam\s+(?P<yy>(?:19|20)\d\d)(?!\d)
    | (?P<inyear>trong\s+nam|ca\s+nam)(?![a-z0-9]|\s+(?:19|20)\d\d)
    )""",
    re.VERBOSE,
)
# After a list that stopped early ("quý II, V/2026") the match is a fragment.
_BROKEN_LIST = re.compile(r"\s*(?:,|-|–|/)\s*[a-z0-9]")
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_RECURRENCE = (
    (re.compile(r"thuong\s+xuyen|lien\s+tuc"), "continuous"),
    (re.compile(r"hang\s+quy|moi\s+quy"), "quarterly"),
    (re.compile(r"hang\s+thang|moi\s+thang"), "monthly"),
    (re.compile(r"hang\s+nam|moi\s+nam|cac\s+nam\s+tiep\s+theo|nhung\s+nam\s+tiep\s+theo"), "yearly"),
)


def recurrence_of(folded: str) -> str | None:
    """The recurrence a folded text names ("hằng quý" -> "quarterly", "thường xuyên" -> "continuous"), if any."""
    return next((r for rx, r in _RECURRENCE if rx.search(folded)), None)


_OPEN_END = re.compile(r"cac\s+nam\s+tiep\s+theo|nhung\s+nam\s+tiep\s+theo")
_PRECISION_ORDER = ("day", "month", "quarter", "half", "year", "period")

# (start, end, precision, (s, e) in the folded text); start None = open before.
_Expr = tuple[date | None, date, str, tuple[int, int]]


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _year_of(m: re.Match[str]) -> int | None:
    """The year printed inside the match, whichever alternative captured it."""
    for g in m.groups()[::-1]:
        if g and re.fullmatch(r"(?:19|20)\d\d", g):
            return int(g)
    return None


def _interpret(m: re.Match[str], year: int | None) -> _Expr | None:
    """Dates of one grammar match; None when impossible (day 31/2) or yearless."""
    g = m.groupdict()
    span = m.span()
    try:
        if g["before"]:
            return None, date(_year_of(m) or 0, int(g["bm"]), int(g["bd"])), "day", span
        if g["dd"]:
            day = date(_year_of(m) or 0, int(g["dm"]), int(g["dd"]))
            return day, day, "day", span
    except ValueError:
        return None
    if g["ry1"]:
        y1, y2 = int(g["ry1"]), int(g["ry2"])
        if not 0 <= y2 - y1 <= 30:
            return None
        return date(y1, 1, 1), date(y2, 12, 31), "period", span
    own = _year_of(m)
    year = own or year
    if g["qs"] is not None or g["ms"] is not None:
        rest = m.string[m.end():]
        if own is None and _BROKEN_LIST.match(rest):
            return None
    if year is None:
        return None
    if g["half"]:
        if g["half"] == "dau":
            return date(year, 1, 1), date(year, 6, 30), "half", span
        return date(year, 7, 1), date(year, 12, 31), "half", span
    if g["qs"] is not None:
        qs = [_ROMAN.get(q) or int(q) for q in re.findall(r"iv|iii|ii|i|[1-4]", g["qs"])]
        return date(year, 3 * min(qs) - 2, 1), _month_end(year, 3 * max(qs)), "quarter", span
    if g["ms"] is not None:
        ms = [int(x) for x in re.findall(r"\d+", g["ms"])]
        return date(year, min(ms), 1), _month_end(year, max(ms)), "month", span
    return date(year, 1, 1), date(year, 12, 31), "year", span


def _scan(folded: str, default_year: int | None) -> list[_Expr]:
    """Every dated expression in folded text.

    A yearless expression ("Quý II", "6 tháng cuối năm", "Trong năm") takes
    the one year printed elsewhere in the text, else `default_year`.
    """
    matches = list(_GRAMMAR.finditer(folded))
    printed = {y for y in (_year_of(m) for m in matches) if y}
    fallback = printed.pop() if len(printed) == 1 else default_year
    return [e for e in (_interpret(m, fallback) for m in matches) if e]


def parse_deadline(text: str, default_year: int | None = None) -> Deadline:
    """A timeline cell as a Deadline; never raises.

    `default_year` is the plan year: it dates yearless forms and standing
    duties ("Thường xuyên" = continuous over that year).  Event-triggered
    cells ("Khi được cơ quan có thẩm quyền giao …") and unknown or invalid
    forms ("Quý V/2026", "tháng 13/2026") keep only their text.
    """
    try:
        return _parse(text, default_year)
    except Exception:  # a parser bug must not break extraction: keep the text
        return Deadline(text=squash(text) if isinstance(text, str) else "")


def _parse(text: str, default_year: int | None) -> Deadline:
    shown = squash(text) if isinstance(text, str) else ""
    folded = " ".join(fold(shown).split())
    recurrence = recurrence_of(folded)
    exprs = _scan(folded, default_year)
    if not exprs:
        if recurrence and default_year:
            return Deadline(shown, date(default_year, 1, 1).isoformat(),
                            date(default_year, 12, 31).isoformat(), recurrence, "year")
        return Deadline(shown, recurrence=recurrence)
    starts = [e[0] for e in exprs]
    start = None if None in starts else min(s for s in starts if s)
    end: date | None = max(e[1] for e in exprs)
    precisions = {e[2] for e in exprs}
    precision = max(precisions, key=_PRECISION_ORDER.index)
    if _OPEN_END.search(folded):
        end = None  # "Trong năm 2023 và các năm tiếp theo"
    elif recurrence == "continuous" and precision in ("day", "month", "quarter", "half"):
        # "Kế hoạch ban hành trong tháng 01/2023; thực hiện thường xuyên":
        # the duty runs on to the end of that year.
        end, precision = date(end.year, 12, 31), "year"
    return Deadline(shown, start.isoformat() if start else None, end.isoformat() if end else None,
                    recurrence, precision)


def _as_date(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def overlaps(deadline: Deadline, start: date | str | None, end: date | str | None) -> bool:
    """Whether a task's deadline shares a day with [start, end].

    None bounds are open.  An undated deadline (no start, no end) overlaps
    nothing: a period filter cannot claim a task whose time is unknown.
    """
    if deadline.start is None and deadline.end is None:
        return False
    d_start = _as_date(deadline.start) or date.min
    d_end = _as_date(deadline.end) or date.max
    q_start = _as_date(start) or date.min
    q_end = _as_date(end) or date.max
    return d_start <= q_end and q_start <= d_end


def parse_time_expression(query: str, default_year: int | None = None
                          ) -> tuple[date | None, date | None, tuple[int, int]] | None:
    """The first dated expression in a free query, as (start, end, span in `query`).

    Same grammar as the cells, diacritic- and case-insensitive ("quy 1/2026",
    "nam 2026", "tháng 3/2023", "trước ngày 30/6/2026" → start None).  None
    when the query names no datable time.
    """
    try:
        folded, offsets = fold_offsets(query)
        exprs = _scan(folded, default_year)
    except Exception:
        return None
    if not exprs:
        return None
    start, end, _, (s, e) = exprs[0]
    while s < e - 1 and folded[e - 1].isspace():
        e -= 1
    return start, end, (offsets[s], offsets[e - 1] + 1)
