"""A table row's lines split into its five cells, by one dynamic program over the row's words.

Rather than special-casing rows, each row is segmented by one dynamic program
over its words: a *piece* is a run of words of one line given to one column;
columns advance monotonically within a page segment; costs come from the
column widths (a line never exceeds its column; a wrapped line was too full
for the next word), from how cells start (agencies start with an agency head,
timelines with a time word, no cell starts in lower case) and from the layout
(a missing blank line marks a new cell).  The weights are few and global.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from cchc.graph.extract.reading import join_lines
from cchc.graph.extract.tables import CONTENT, COOP, LEAD, PRODUCT, TIME, Line, RawRow
from cchc.graph.extract.wordlist import viet74k

# Words that open an agency cell; a product or content cell rarely starts so.
AGENCY_HEAD = re.compile(
    r"^(Sở|UBND|Ủy ban|Uỷ ban|Văn phòng|Thanh tra|Công an|Các sở|Các cơ quan|Các đơn vị|Đài|Báo|Cổng|"
    r"Ban |Bộ Chỉ huy|Trung tâm|Hội đồng|HĐND|Kho bạc|Cục|Chi cục|Liên đoàn|Tỉnh đoàn|Mặt trận|"
    r"Các huyện|Các xã|Các Sở|Các ban|Các phòng|Phòng|Cơ quan|Viện|Trường)"
)
TIME_HEAD = re.compile(
    r"^(Trong|Thường xuyên|Quý|Tháng|Năm|Trước|Hằng|Hàng|Định kỳ|Khi|Từ|Đến|Giai đoạn|Ngay|Sau|Chậm nhất|"
    r"Kịp thời|Theo|\d)",
    re.IGNORECASE,
)
# Words that cannot end a name: what follows them on the next line belongs to the same cell.
# A timeline that ends in a year is complete unless a separator follows.
CLOSED_TIME = re.compile(r"\d{4}\s*$")
INCOMPLETE_END = (
    "Chủ tịch", "Giám đốc", "Trưởng", "Văn phòng", "Cổng", "Hội đồng", "Ủy ban", "Uỷ ban", "Trung tâm",
    " Sở", " Bộ", " Ban", "Thủ",
)
# Document and result nouns that open a product cell.
PRODUCT_HEAD = re.compile(
    r"^(Kế hoạch|Quyết định|Báo cáo|Văn bản|Chương trình|Hội nghị|Thông báo|Nghị quyết|Tài liệu|Danh mục|"
    r"Hồ sơ|Dữ liệu|Hệ thống|Phần mềm|Các văn bản|Các Quyết định|Các kế hoạch|Quy định|Quy chế|Đề án|"
    r"Cơ sở dữ liệu|Bộ )"
)



def _head_length(*patterns: re.Pattern) -> int:
    """The longest text a head pattern above matches: each is `^(a|b|...)` of literals (and `\\d`), so whether
    a text opens with a head is decided by its first this-many characters (see `_Lattice.fill`)."""
    longest = 0
    for pattern in patterns:
        body = pattern.pattern
        assert body.startswith("^(") and body.endswith(")"), body
        for alt in body[2:-1].split("|"):
            alt = alt.replace("\\d", "0")
            assert not re.search(r"[\\.*+?\[\]{}()^$]", alt), alt  # a literal: as many characters as it has
            longest = max(longest, len(alt))
    return longest


HEAD_LEN = _head_length(AGENCY_HEAD, TIME_HEAD, PRODUCT_HEAD)
# A piece ending in one of these words cannot end its cell: the phrase goes on.
DANGLING = frozenset(
    "của do và theo với các cho về tại trên để được đến từ bằng những trong số ngày thuộc giữa hoặc "
    "việc như là có mà khi nhằm".split()
)
BULLET = re.compile(r"^[-–+•]\s*")


@dataclass(frozen=True)
class Layout:
    """Column widths in characters: the widest line each column prints.

    Uppercase letters print wider than lowercase in the PDF's proportional
    font, which `visual_len` accounts for.
    """

    widths: tuple[float, ...] = (42.8, 19.6, 14.1, 15.9, 14.2)
    wrap_slack: float = 0.8  # below this share of the width, the next word would surely have fitted


@dataclass(frozen=True)
class Cell:
    column: int
    text: str
    parts: tuple[tuple[int, str], ...]  # (line number, printed piece) in reading order

    @property
    def lines(self) -> tuple[int, ...]:
        return tuple(sorted({n for n, _ in self.parts}))


# Advance widths of Times New Roman (in em), the font of these PDFs; diacritics do not change them.
_TIMES = dict(
    zip(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,.;:/-()%&“”\"'",
        [.444, .5, .444, .5, .444, .333, .5, .5, .278, .278, .5, .278, .778, .5, .5, .5, .5, .333, .389,
         .278, .5, .5, .722, .5, .5, .444,
         .722, .667, .667, .722, .611, .556, .722, .722, .333, .389, .722, .611, .889, .722, .722, .556,
         .722, .667, .556, .611, .722, .722, .944, .722, .722, .611]
        + [.5] * 10 + [.25, .25, .25, .278, .278, .278, .333, .333, .333, .833, .778, .444, .444, .408, .18],
        strict=True,
    )
)


def _base(c: str) -> str:
    return "d" if c == "đ" else "D" if c == "Đ" else unicodedata.normalize("NFD", c)[0]


_CHAR_WIDTHS: dict[str, float] = {}  # each character's `_TIMES` width, looked up once


@functools.lru_cache(maxsize=65536)
def visual_len(s: str) -> float:
    """Printed width of `s` in units of a lowercase letter (half an em).

    The widths are summed in the same order as ever (so the same float), from a table of the characters
    seen: the table lattice asks this of every span of words, and `_base` normalises a character each call."""
    for c in set(s).difference(_CHAR_WIDTHS):
        _CHAR_WIDTHS[c] = _TIMES.get(_base(c), 0.5)
    return sum(map(_CHAR_WIDTHS.__getitem__, s)) * 2


@functools.cache
def compound_words() -> frozenset[str]:
    """Two-syllable Vietnamese words (underthesea's Viet74K lexicon).

    A word broken over two printed lines ("giao xây" / "dựng") is the surest
    sign that the lines belong to the same cell; the lexicon ships with
    underthesea, so no data of our own is needed.
    """
    return frozenset(w for w in (entry.lower() for entry in viet74k()) if w.count(" ") == 1)


def _head_cost(column: int, bare: str, lower: float, agency: bool) -> float:
    """What a piece's opening (without its bullet) says of its column: a lower-case start (`lower`) continues
    something; an agency opens the lead and cooperating columns, a time the timeline, a product head the
    product (an agency there only as "Các ...")."""
    cost = lower
    if column in (LEAD, COOP):
        cost += -1.0 if agency else 1.5
    elif column == TIME:
        cost += -1.0 if TIME_HEAD.match(bare) else 1.0
    elif column == PRODUCT:
        if agency and not bare.startswith("Các"):
            cost += 1.0
        elif PRODUCT_HEAD.match(bare):
            cost -= 0.5
    return cost


def _is_lower_start(s: str) -> bool:
    c = s[:1]
    return c.isalpha() and c.islower()


def _cap(word: str) -> bool:
    return word[:1].isupper()


class _Segmenter:
    """The word-level DP over one page segment of one row.

    `carry[c]` is the text of column c's last piece on earlier pages (the cell
    goes on here); `ahead[c]` is the first line of column c's continuation on
    the next page (from a first pass), so a cell broken by a page is judged by
    the same wrap test as a cell broken by a line.
    """

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    def open_cost(self, column: int, text: str, carry: dict[int, str]) -> float:
        """Cost of `text` being the first piece of `column` on this page."""
        if column in carry:
            return self.wrap_cost(column, carry[column], text)
        bare = BULLET.sub("", text) or text
        return _head_cost(column, bare, 3.0 if _is_lower_start(bare) else 0.0, bool(AGENCY_HEAD.match(bare)))

    def open_costs(self, text: str, carry: dict[int, str], memo: dict[tuple, list[float]]) -> list[float]:
        """`open_cost` of `text` in each of the five columns, its tests on the text run once, not once a column
        (the lattice asks this of every span of words: most of a table's extraction time).

        Every test reads the text without its bullet only through its first word and whether it opens with an
        agency, a time or a product head (`wrap_cost` too, for a column carried from the page before), so spans
        that agree on those cost the same: `memo` (one per lattice, whose `carry` is fixed) answers them."""
        bare = BULLET.sub("", text) or text
        key = (bare.partition(" ")[0], AGENCY_HEAD.match(bare) is None, TIME_HEAD.match(bare) is None,
               PRODUCT_HEAD.match(bare) is None)
        hit = memo.get(key)
        if hit is not None:
            return hit
        memo[key] = out = self._open_costs(text, bare, carry)
        return out

    def _open_costs(self, text: str, bare: str, carry: dict[int, str]) -> list[float]:
        lower = 3.0 if _is_lower_start(bare) else 0.0
        agency = bool(AGENCY_HEAD.match(bare))
        out = []
        for column in range(5):
            if column in carry:
                out.append(self.wrap_cost(column, carry[column], text))
                continue
            out.append(_head_cost(column, bare, lower, agency))
        return out

    def close_cost(self, column: int, text: str, ahead: dict[int, str]) -> float:
        """Cost of `text` being the last piece of `column` on this page."""
        if column in ahead:
            return self.wrap_cost(column, text, ahead[column])
        words = text.rsplit(None, 1)  # the last word, as text.split()[-1], without splitting the whole piece
        if words and (words[-1].lower() in DANGLING or words[-1].endswith((",", "-"))):
            return 2.0  # a cell does not end on a preposition, a comma or a hyphen
        return 0.0

    def piece_cost(self, column: int, text: str) -> float:
        over = visual_len(text) - self.layout.widths[column]
        return 0.0 if over <= 0 else 3.0 + over

    def wrap_cost(self, column: int, prev_text: str, next_line: str) -> float:
        """A line continued in the same cell must have been too full for the next word,
        and rarely opens with what opens another kind of cell."""
        width = self.layout.widths[column]
        next_line = BULLET.sub("", next_line) or next_line
        next_word = next_line.split()[0]
        cost = 0.0
        fits = visual_len(prev_text) + visual_len(" " + next_word)
        if fits < self.layout.wrap_slack * width:
            cost += 1.5
        elif fits < width - 1.0:
            cost += 0.7
        prev_words = prev_text.split()
        if prev_words and (prev_words[-1].lower() in DANGLING or prev_text.endswith((",", "-"))):
            cost -= 0.5
        if prev_words and f"{prev_words[-1]} {next_word}".lower().strip(",;.") in compound_words():
            cost -= 1.0  # one word printed over two lines
        if prev_text.endswith(INCOMPLETE_END):
            cost -= 1.5  # a title is followed by its body: "Chủ tịch" / "UBND tỉnh", "Cổng" / "Dịch vụ công"
        elif (
            column in (LEAD, COOP)
            and AGENCY_HEAD.match(next_line)
            and not prev_text.endswith((",", ";", "-"))
        ):
            cost += 1.0  # a second agency in the same cell follows a separator
        if _cap(next_word):
            if column in (CONTENT, PRODUCT, TIME):
                cost += 0.5
                if column != TIME and AGENCY_HEAD.match(next_line):
                    cost += 1.0
            elif not AGENCY_HEAD.match(next_line):
                cost += 1.0
        if column != TIME and TIME_HEAD.match(next_line) and not next_word[0].isdigit():
            cost += 1.0
        if column == TIME and CLOSED_TIME.search(prev_text) and TIME_HEAD.match(next_line):
            cost += 1.5  # "Năm 2023" is a whole timeline; a second "năm 2023" below it ends another cell
        return cost

    @staticmethod
    def split_cost(prev_word: str, word: str) -> float:
        """Cost of two cells meeting in the middle of a printed line."""
        cost = 2.5
        if _cap(prev_word) and _cap(word):
            cost += 2.0  # likely inside a name such as "Bộ Chính trị"
        if prev_word.endswith((".", ";")):
            cost -= 0.5
        return cost

    def segment(
        self, lines: Sequence[Line], carry: dict[int, str], ahead: dict[int, str], filled: set[int],
        last: bool,
    ) -> tuple[float, list[tuple[int, int, str]]]:
        """Assign the words of `lines` to columns: cost and (column, line number, text) pieces in order."""
        words = [(i, w) for i, ln in enumerate(lines) for w in ln.text.split()]  # (line index, word)
        if not words:
            return 0.0, []
        lattice = _Lattice(self, lines, words, carry, ahead, filled | set(ahead))
        lattice.fill()
        return lattice.best_path(last)


_INF = float("inf")


class _Lattice:
    """The dynamic program of one `_Segmenter.segment` call over `words`.

    best[k][c] is the cost of words[:k] with the piece ending at k in column c;
    back[k][c] is where that piece began (word index, previous column).  The
    cost questions repeat many times within one call, so they are memoised here
    (carry and ahead are fixed for the call).
    """

    def __init__(self, seg: _Segmenter, lines: Sequence[Line], words: list[tuple[int, str]],
                 carry: dict[int, str], ahead: dict[int, str], keep: set[int]) -> None:
        self.seg, self.lines, self.words, self.ahead, self.keep = seg, lines, words, ahead, keep
        n = self.n = len(words)
        self.line_first = [j == 0 or words[j][0] != words[j - 1][0] for j in range(n)]
        self.split_at = [0.0 if self.line_first[j] else seg.split_cost(words[j - 1][1], words[j][1])
                         for j in range(n)]
        self.best = [[_INF] * 5 for _ in range(n + 1)]
        self.back: list[list[tuple[int, int] | None]] = [[None] * 5 for _ in range(n + 1)]
        self.skipped = functools.cache(lambda a, b: sum(SKIP_COST[c] for c in range(a + 1, b) if c not in keep))
        self.skip_table = [[self.skipped(a, b) for b in range(5)] for a in range(5)]
        self.carry, self.open_memo = carry, {}
        self.span = functools.cache(lambda a, b: " ".join(w for _, w in words[a:b]))
        self.opening = functools.cache(lambda c, text: seg.open_cost(c, text, carry))
        self.closing = functools.cache(lambda c, text: seg.close_cost(c, text, ahead))
        self.piece = functools.cache(seg.piece_cost)
        self.wrapping = functools.cache(seg.wrap_cost)

    def piece_text(self, k: int, c: int) -> str:
        bj = self.back[k][c]
        return self.span(bj[0] if bj else 0, k)

    def fill(self) -> None:
        """Every piece words[j:k] within one printed line, in every column, from every piece ending at j.

        The costs that depend only on where a piece begins (closing the piece before it, wrapping it) are
        taken once per j, and a span's costs once per span: the same sums in the same order as `_relax`
        (which the first word still uses), a few times fewer calls."""
        words, n, best, back, lines = self.words, self.n, self.best, self.back, self.lines
        widths = self.seg.layout.widths
        open_costs, carry, memo, ahead = self.seg.open_costs, self.carry, self.open_memo, self.ahead
        ends = [n] * n  # ends[j]: where the printed line of word j ends
        for j in range(n - 2, -1, -1):
            ends[j] = ends[j + 1] if words[j + 1][0] == words[j][0] else j + 1
        for j in range(n):
            li, end = words[j][0], ends[j]
            if j == 0:
                for k in range(j + 1, end + 1):
                    text = self.span(j, k)
                    for c in range(5):
                        self._relax(j, k, c, li, text)
                continue
            first = self.line_first[j]
            preds = [(pcol, best[j][pcol]) for pcol in range(5) if best[j][pcol] != _INF]
            # closing a piece reads only its last word, words[j - 1], unless its column goes on over the page
            plain = self.seg.close_cost(-1, words[j - 1][1], {})
            close = {pcol: self.closing(pcol, self.piece_text(j, pcol)) if pcol in ahead else plain
                     for pcol, _ in preds}
            wrap: dict[int, float] = {}
            if first:
                line = lines[li]
                for pcol, _ in preds:
                    step = self.wrapping(pcol, self.piece_text(j, pcol), line.text)
                    if not line.blank_before:
                        step += 2.5  # a missing blank line marks a new cell
                    wrap[pcol] = step
            split, skip = self.split_at[j], self.skip_table
            seen: list[float] | None = None
            # The opening costs read the span without its bullet (BULLET) by its first word and first HEAD_LEN
            # characters: once that word is whole and that many characters follow the bullet, longer spans from
            # j have the same ones.  A bullet alone as a word takes its space with it.
            head = words[j][1]
            bullet = 0 if head[0] not in "-–+•" else 1 if len(head) > 1 else 2
            settled = j + (3 if bullet == 2 else 2)  # the first k whose span holds the first word and a space
            stable = False  # this span's opening costs are every longer span's
            text = ""
            for k in range(j + 1, end + 1):
                text = f"{text} {words[k - 1][1]}" if text else words[k - 1][1]  # = self.span(j, k)
                if not stable:
                    opening = open_costs(text, carry, memo)
                    stable = k >= settled and len(text) - bullet >= HEAD_LEN
                if opening is not seen:  # spans from j mostly share one (memoised) list: their steps too
                    seen = opening
                    # ways[c]: (cost so far + step, column it comes from), in the column order `_relax` tries
                    ways = [[(prev + (wrap[c] if pcol == c else skip[pcol][c] + opening[c] + close[pcol] + split),
                              pcol) for pcol, prev in preds if pcol < c or (pcol == c and first)] for c in range(5)]
                    # `_relax` keeps the first of the cheapest ways (so_far + piece cost, tried in order); rounding
                    # is monotonic, so the cheapest costs the cheapest so_far plus the piece cost
                    active = [(c, min(w)[0], w, widths[c]) for c, w in enumerate(ways) if w]
                width = visual_len(text)
                bk, bak = best[k], back[k]
                for c, low, way, column_width in active:
                    over = width - column_width
                    pc = 0.0 if over <= 0 else 3.0 + over  # _Segmenter.piece_cost
                    cost = low + pc
                    if cost < bk[c]:  # the first way that costs that
                        for so_far, pcol in way:
                            if so_far + pc == cost:
                                bk[c], bak[c] = cost, (j, pcol)
                                break

    def _relax(self, j: int, k: int, c: int, li: int, text: str) -> None:
        """The best way to end a piece words[j:k] in column c, from every column a piece can end in at j."""
        best, back = self.best, self.back
        pc = self.piece(c, text)
        if j == 0:
            cost = pc + self.skipped(-1, c) + self.opening(c, text)
            if cost < best[k][c]:
                best[k][c], back[k][c] = cost, (0, -1)
            return
        for pcol in range(c + 1):
            prev = best[j][pcol]
            if prev == _INF or (pcol == c and not self.line_first[j]):
                continue
            if pcol == c:
                step = self.wrapping(c, self.piece_text(j, pcol), self.lines[li].text)
                if not self.lines[li].blank_before:
                    step += 2.5  # a missing blank line marks a new cell
            else:
                step = (
                    self.skipped(pcol, c)
                    + self.opening(c, text)
                    + self.closing(pcol, self.piece_text(j, pcol))
                )
                step += self.split_at[j]
            cost = prev + step + pc
            if cost < best[k][c]:
                best[k][c], back[k][c] = cost, (j, pcol)

    def best_path(self, last: bool) -> tuple[float, list[tuple[int, int, str]]]:
        n, keep = self.n, self.keep
        final, col = _INF, 0
        for c in range(5):
            tail = sum(SKIP_COST[x] for x in range(c + 1, 5) if x not in keep) * (1.0 if last else 0.5)
            total = self.best[n][c] + tail + self.seg.close_cost(c, self.piece_text(n, c), self.ahead)
            if total < final:
                final, col = total, c
        pieces: list[tuple[int, int, str]] = []
        k, c = n, col
        while k > 0:
            bj = self.back[k][c]
            assert bj is not None
            pieces.append((c, self.lines[self.words[bj[0]][0]].n, self.piece_text(k, c)))
            k, c = bj
        pieces.reverse()
        return final, pieces


# Cost of leaving a column empty for the whole row.
SKIP_COST = (12.0, 3.0, 6.0, 2.0, 6.0)


def _split_pages(row: RawRow) -> list[list[Line]]:
    segments: list[list[Line]] = [[]]
    for ln in row.lines:
        if ln.page_break_before and segments[-1]:
            segments.append([])
        segments[-1].append(ln)
    return segments


def segment_row(row: RawRow, layout: Layout | None = None) -> list[Cell]:
    """Split a row's lines into the five cells, in reading order across page breaks.

    A row broken by a page is segmented page by page; at each break the column
    that goes on first on the next page is chosen by trying each one, so the
    break is judged like a line wrap (the last line before it must have been
    full, a word split over the break joins up).
    """
    seg = _Segmenter(layout or Layout())
    pages = _split_pages(row)
    parts: dict[int, list[tuple[int, str]]] = {c: [] for c in range(5)}
    done: dict[tuple, tuple[float, list[tuple[int, int, str]]]] = {}

    def segment(page: int, carry: dict[int, str], ahead: dict[int, str], last: bool):
        """`seg.segment` of one page, once per question: hypotheses that agree on the page before ask the
        next page the same one, and the next page's own turn asks it again (a page break costs ~12 lattices)."""
        key = (page, tuple(sorted(carry.items())), tuple(sorted(ahead.items())), last)
        if key not in done:
            done[key] = seg.segment(pages[page], carry, ahead, set(carry), last=last)
        return done[key]

    for i in range(len(pages)):
        carry = {c: p[-1][1] for c, p in parts.items() if p}
        last = i == len(pages) - 1
        if last:
            _, pieces = segment(i, carry, {}, True)
        else:
            nxt = pages[i + 1]
            best: tuple[float, list[tuple[int, int, str]]] | None = None
            for c0 in (None, *range(5)):
                ahead = {} if c0 is None else {c0: nxt[0].text}
                cost, cand = segment(i, carry, ahead, False)
                trial = {c: list(p) for c, p in parts.items()}
                for col, n, text in cand:
                    trial[col].append((n, text))
                if c0 is not None and not trial[c0]:
                    continue  # the hypothesis says column c0 goes on, but it holds nothing yet
                carry2 = {c: p[-1][1] for c, p in trial.items() if p}
                cost2, cand2 = segment(i + 1, carry2, {}, i + 1 == len(pages) - 1)
                if c0 is not None and (not cand2 or cand2[0][0] != c0):
                    continue
                if best is None or cost + cost2 < best[0]:
                    best = (cost + cost2, cand)
            assert best is not None
            pieces = best[1]
        for col, n, text in pieces:
            parts[col].append((n, text))
    return [Cell(c, join_lines(t for _, t in parts[c]), tuple(parts[c])) for c in range(5)]


