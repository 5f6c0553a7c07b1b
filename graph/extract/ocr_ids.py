"""Instrument numbers damaged by OCR, repaired only when one reading is possible.

Scanned decrees come through OCR with the number's parts broken: a space in
the year ("15/201 2/QI113"), the slash before the code lost ("66/2026NĐ-CP",
"18/201 7QHI4"), or the National Assembly code misread ("QI113", "9H13",
"QH135", "OH15").  A law's code names the legislature that passed it, and a
legislature sits for known years, so the year decides which code was meant; a
repair is made only when exactly one legislature fits both the year and the
digits that survived.  The caller keeps the printed surface: only the id is
repaired.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DamagedId", "find_damaged", "repair_assembly_code"]

# Years each legislature (khóa) sat; the boundary years belong to two.
_LEGISLATURES = {11: (2002, 2007), 12: (2007, 2011), 13: (2011, 2016), 14: (2016, 2021), 15: (2021, 2026),
                 16: (2026, 2031)}
_QH_LIKE = r"[QO9][HI1l]{1,2}[0-9Il]{1,3}"
# "15/201 2/QI113", "54/201 49H13", "18/201 7QHI4": a year split by a space, slash lost or not
_SPLIT_YEAR = re.compile(rf"(?<![\w/.\-])(?P<num>\d{{1,5}}) ?/ ?(?P<y1>(?:19|20)\d) (?P<y2>\d)(?: ?/ ?)?"
                         rf"(?P<code>{_QH_LIKE})(?!\w)")
# "66/2026NĐ-CP": the slash between year and code lost
_GLUED_CODE = re.compile(r"(?<![\w/.\-])(?P<num>\d{1,5}) ?/ ?(?P<year>(?:19|20)\d{2})"
                         r"(?P<code>[A-ZĐ][A-Za-zĐđ]*-[A-ZĐ][A-Za-zĐđ0-9]*(?:[-/][A-ZĐ][A-Za-zĐđ0-9]*)*)(?!\w)")


@dataclass(frozen=True)
class DamagedId:
    """A damaged number at text[start:end], with the id it was repaired to."""

    start: int
    end: int
    num: str
    year: str
    code: str

    @property
    def id(self) -> str:
        return f"{self.num}/{self.year}/{self.code}"


def repair_assembly_code(code: str, year: str | None) -> str | None:
    """The National Assembly code ("QH13") a damaged one stands for, None when it is fine or ambiguous.

    The digits that survive ("QI113" -> 1113) must contain the legislature's
    number in order, and the legislature must have sat in `year`.
    """
    if not year or not re.fullmatch(_QH_LIKE, code):
        return None
    if re.fullmatch(r"QH1[1-6]", code) and _sat(int(code[2:]), int(year)):
        return None  # printed correctly
    digits = re.sub(r"[Il]", "1", code[1:]).replace("O", "0")
    digits = re.sub(r"\D", "", digits)
    fits = [n for n in _LEGISLATURES if _sat(n, int(year)) and _subsequence(str(n), digits)]
    return f"QH{fits[0]}" if len(fits) == 1 else None


def _sat(n: int, year: int) -> bool:
    a, b = _LEGISLATURES[n]
    return a <= year <= b


def _subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def find_damaged(text: str) -> list[DamagedId]:
    """Damaged numbers in `text` whose repair is unambiguous, in order."""
    out = []
    for m in _SPLIT_YEAR.finditer(text):
        year = m.group("y1") + m.group("y2")
        code = repair_assembly_code(m.group("code"), year)
        if code:
            out.append(DamagedId(m.start(), m.end(), m.group("num"), year, code))
    for m in _GLUED_CODE.finditer(text):
        if not any(d.start <= m.start() < d.end for d in out):
            out.append(DamagedId(m.start(), m.end(), m.group("num"), m.group("year"), m.group("code")))
    return sorted(out, key=lambda d: d.start)
