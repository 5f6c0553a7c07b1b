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

import bisect
import functools
import itertools
import operator
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



def _alternatives(pattern: re.Pattern) -> list[str]:
    """The alternatives of a head pattern above, `^(a|b|...)`: each a literal (or `\\d`), checked here, so a
    text opens with a head exactly when one of them, as many characters long as it prints, begins it."""
    body = pattern.pattern
    assert body.startswith("^(") and body.endswith(")"), body
    alts = body[2:-1].split("|")
    for alt in alts:
        assert not re.search(r"[\\.*+?\[\]{}()^$]", alt.replace("\\d", "0")), alt
    return alts


def _shortest_first(pattern: re.Pattern) -> re.Pattern:
    """`pattern` with its alternatives tried shortest first: its match on a text ends where the shortest head
    that begins the text ends, so every prefix of the text at least that long opens with a head and every
    shorter one does not (heads are literals).  `_Page._heads` reads a line's spans from one word by this."""
    alts = sorted(_alternatives(pattern), key=lambda alt: len(alt.replace("\\d", "0")))
    return re.compile("^(" + "|".join(alts) + ")", pattern.flags)


SHORTEST_HEADS = tuple(_shortest_first(p) for p in (AGENCY_HEAD, TIME_HEAD, PRODUCT_HEAD))
# Whether any head opens a text: one match where most texts need none of the three above.
ANY_HEAD = re.compile("|".join(f"(?{'i' if p.flags & re.IGNORECASE else ''}:{p.pattern})"
                               for p in (AGENCY_HEAD, TIME_HEAD, PRODUCT_HEAD)))
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


def _learn_widths(text: str) -> None:
    """Put every character of `text` in `_CHAR_WIDTHS` (`_base` normalises a character: too slow per use)."""
    for c in set(text).difference(_CHAR_WIDTHS):
        _CHAR_WIDTHS[c] = _TIMES.get(_base(c), 0.5)


@functools.lru_cache(maxsize=65536)
def visual_len(s: str) -> float:
    """Printed width of `s` in units of a lowercase letter (half an em).

    The widths come from a table of the characters seen, added one at a time left to right: the table lattice
    reads every span's width off running sums of a line's characters (`_Page._line`), the same float.  Not
    `sum`, which from Python 3.12 compensates rounding (and left to right is what it does before 3.12)."""
    _learn_widths(s)
    return functools.reduce(operator.add, map(_CHAR_WIDTHS.__getitem__, s), 0.0) * 2


@functools.cache
def compound_words() -> frozenset[str]:
    """Two-syllable Vietnamese words (underthesea's Viet74K lexicon).

    A word broken over two printed lines ("giao xây" / "dựng") is the surest
    sign that the lines belong to the same cell; the lexicon ships with
    underthesea, so no data of our own is needed.
    """
    return frozenset(w for w in (entry.lower() for entry in viet74k()) if w.count(" ") == 1)


def _head_cost(column: int, word: str, lower: float, agency: bool, time: bool, product: bool) -> float:
    """What a piece's opening (without its bullet, `word` its first word) says of its column: a lower-case
    start (`lower`) continues something; an agency head (`agency`) opens the lead and cooperating columns, a
    time head (`time`) the timeline, a product head (`product`) the product (an agency there only as "Các ...")."""
    cost = lower
    if column in (LEAD, COOP):
        cost += -1.0 if agency else 1.5
    elif column == TIME:
        cost += -1.0 if time else 1.0
    elif column == PRODUCT:
        if agency and not word.startswith("Các"):
            cost += 1.0
        elif product:
            cost -= 0.5
    return cost


@functools.lru_cache(maxsize=16384)
def head_costs(word: str, agency: bool, time: bool, product: bool) -> tuple[float, ...]:
    """`_head_cost` in each of the five columns: all that the opening of a piece costs unless its column goes
    on from the page before.  It reads the piece without its bullet only through these four (`head_key`), so
    the table lattice, which asks it of every span of words, asks it once per question."""
    lower = 3.0 if _is_lower_start(word) else 0.0
    return tuple(_head_cost(column, word, lower, agency, time, product) for column in range(5))


def head_key(bare: str) -> tuple[str, bool, bool, bool]:
    """What `head_costs` and `wrap_cost` read of a piece's text without its bullet: its first word and whether
    an agency, a time or a product head opens it."""
    return (bare.partition(" ")[0], AGENCY_HEAD.match(bare) is not None, TIME_HEAD.match(bare) is not None,
            PRODUCT_HEAD.match(bare) is not None)


def _next_facts(next_line: str) -> tuple[str, float, bool, bool, bool, bool]:
    """What `wrap_from` reads of the line that goes on: without its bullet, its first word, that word's width
    with the space before it, whether an agency or a time head opens it, whether the word is capitalised and
    whether it starts with a digit.  A row's lattices ask of a few lines many times (`_Segmenter.next_facts`)."""
    bare = BULLET.sub("", next_line) or next_line
    word = bare.split(None, 1)[0]
    return (word, visual_len(" " + word), AGENCY_HEAD.match(bare) is not None, TIME_HEAD.match(bare) is not None,
            _cap(word), word[0].isdigit())


def _joint(last_word: str, next_word: str) -> tuple[bool | None, bool]:
    """What `wrap_from` reads of the last word of the piece before a line break and the first word after it
    (without its bullet): whether the last leaves the phrase open (None: there is no last word), and whether
    the two are one word printed over two lines."""
    if not last_word:
        return None, False
    return last_word.lower() in DANGLING, f"{last_word} {next_word}".lower().strip(",;.") in compound_words()


def _end_cost(word: str) -> float:
    """Cost of a cell ending on `word` (its last): it does not end on a preposition, a comma or a hyphen."""
    return 2.0 if word.lower() in DANGLING or word.endswith((",", "-")) else 0.0


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
    the same wrap test as a cell broken by a line.  One per row, which keeps
    what its lattices' wrap costs read of each line break (`joint`).
    """

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.next_facts = functools.cache(_next_facts)
        self._joints: dict[tuple[str, str], tuple] = {}

    def close_cost(self, column: int, text: str, ahead: dict[int, str]) -> float:
        """Cost of `text` being the last piece of `column` on this page."""
        if column in ahead:
            return self.wrap_cost(column, text, ahead[column])
        words = text.rsplit(None, 1)  # the last word, as text.split()[-1], without splitting the whole piece
        return _end_cost(words[-1]) if words else 0.0

    def wrap_cost(self, column: int, prev_text: str, next_line: str, prev_width: float | None = None) -> float:
        """A line continued in the same cell must have been too full for the next word,
        and rarely opens with what opens another kind of cell.  `prev_width` is `visual_len(prev_text)` when
        the caller has it (the lattice has every span's)."""
        prev_words = prev_text.rsplit(None, 1)  # its last word is all that is read of it as words
        return self.wrap_from(column, prev_text, visual_len(prev_text) if prev_width is None else prev_width,
                              self.joint(prev_words[-1] if prev_words else "", next_line))

    def joint(self, last_word: str, next_line: str) -> tuple:
        """What `wrap_from` reads of a line break from a piece ending in `last_word` ("" for none) to
        `next_line`: the pieces of several columns that end at one word ask it once (`_joint`, kept per row)."""
        key = (last_word, next_line)
        hit = self._joints.get(key)
        if hit is None:
            next_word, *facts = self.next_facts(next_line)
            hit = self._joints[key] = (*facts, *_joint(last_word, next_word))
        return hit

    def wrap_from(self, column: int, prev_text: str, prev_width: float, joint: tuple) -> float:
        """`wrap_cost` of `prev_text` (`prev_width` wide) going on in `next_line` as `joint` reads them."""
        width = self.layout.widths[column]
        next_width, agency, time, cap, digit, dangling, compound = joint
        cost = 0.0
        fits = prev_width + next_width
        if fits < self.layout.wrap_slack * width:
            cost += 1.5
        elif fits < width - 1.0:
            cost += 0.7
        if dangling is not None and (dangling or prev_text.endswith((",", "-"))):
            cost -= 0.5
        if compound:
            cost -= 1.0  # one word printed over two lines
        if prev_text.endswith(INCOMPLETE_END):
            cost -= 1.5  # a title is followed by its body: "Chủ tịch" / "UBND tỉnh", "Cổng" / "Dịch vụ công"
        elif column in (LEAD, COOP) and agency and not prev_text.endswith((",", ";", "-")):
            cost += 1.0  # a second agency in the same cell follows a separator
        if cap:
            if column in (CONTENT, PRODUCT, TIME):
                cost += 0.5
                if column != TIME and agency:
                    cost += 1.0
            elif not agency:
                cost += 1.0
        if column != TIME and time and not digit:
            cost += 1.0
        if column == TIME and time and CLOSED_TIME.search(prev_text):
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
        self, page: _Page, carry: dict[int, str], ahead: dict[int, str], filled: set[int], last: bool,
    ) -> tuple[float, list[tuple[int, int, str]]]:
        """Assign the words of `page` to columns: cost and (column, line number, text) pieces in order."""
        if not page.words:
            return 0.0, []
        lattice = _Lattice(self, page, carry, ahead, filled | set(ahead))
        lattice.fill()
        return lattice.best_path(last)


_INF = float("inf")
_NEVER = 1 << 30  # a length no span reaches: no head opens it
_BULLETS = "-–+•"  # what BULLET strips


class _Page:
    """One page segment of a row as words, and what the lattice reads of the words alone.

    At a page break the page is segmented under about twelve hypotheses (carry and ahead), each a lattice,
    all reading this: words[j] is (line index, word); ends[j] where the printed line of word j ends;
    widths[j][i] the printed width (`visual_len`) of words[j:j + 1 + i]; heads[j] the runs of those spans
    that ask `head_costs` the same question, as (a, b, key) for the spans ending at j + 1 + a .. j + b.
    """

    def __init__(self, lines: Sequence[Line]) -> None:
        self.lines = lines
        words = self.words = [(i, w) for i, ln in enumerate(lines) for w in ln.text.split()]
        n = self.n = len(words)
        self.line_first = [j == 0 or words[j][0] != words[j - 1][0] for j in range(n)]
        self.split_at = [0.0 if self.line_first[j] else _Segmenter.split_cost(words[j - 1][1], words[j][1])
                         for j in range(n)]
        self.end_cost = [_end_cost(w) for _, w in words]  # closing a piece whose last word is words[j]
        self.ends: list[int] = []
        # each word's offsets in its printed line as the words joined by single spaces (the spans' text)
        self.starts: list[int] = []
        self.stops: list[int] = []
        self.texts: dict[int, str] = {}  # each line's words joined
        self.widths: list[list[float]] = []
        self.heads: list[list[tuple[int, int, tuple[str, bool, bool, bool]]]] = []
        for li, ln in enumerate(lines):
            line = ln.text.split()
            if line:
                self._line(li, line)

    def _line(self, li: int, line: list[str]) -> None:
        """The offsets, span widths and opening runs of the words of line `li`."""
        text = self.texts[li] = " ".join(line)
        _learn_widths(text)
        chars = list(map(_CHAR_WIDTHS.__getitem__, text))
        first = len(self.stops)
        end = first + len(line)
        starts, stops = self.starts, self.stops
        for w in line:
            starts.append(stops[-1] + 1 if len(stops) > first else 0)
            stops.append(starts[-1] + len(w))
        for j in range(first, end):
            self.ends.append(end)
            # `visual_len` of words[j:k] for k = j + 1 .. end: the running sum of the character widths of the
            # line's rest from word j, read where each span ends (the same additions in the same order)
            base = starts[j]
            totals = list(itertools.accumulate(chars[base:]))
            self.widths.append([totals[stop - base - 1] * 2 for stop in stops[j:end]])
            self.heads.append(self._heads(j, end, text))

    def text(self, a: int, b: int) -> str:
        """words[a:b] joined by single spaces: a piece, cut from its line's text."""
        li = self.words[a][0]
        if self.words[b - 1][0] == li:
            return self.texts[li][self.starts[a]:self.stops[b - 1]]
        return " ".join(w for _, w in self.words[a:b])

    def _heads(self, j: int, end: int, line: str) -> list[tuple[int, int, tuple[str, bool, bool, bool]]]:
        """The spans words[j:k], k = j + 1 .. end (where the line ends), in runs that ask `head_costs` the same
        question.

        It reads a span without its bullet (`BULLET`) by its first word and whether an agency, a time or a
        product head opens it.  Heads are literals, so a span opens with one once its bare text is as long as
        the shortest head that opens the bare text of the line's rest from j (`SHORTEST_HEADS`): those three
        lengths cut the spans into runs."""
        head, stops, base = self.words[j][1], self.stops, self.starts[j]
        out: list[tuple[int, int, tuple[str, bool, bool, bool]]] = []
        start = 0  # the first span the runs below cover
        if head[0] not in _BULLETS:
            cut = 0  # characters of a span before its bare text: the bullet and the space it takes
        elif len(head) > 1:
            cut = 1
        else:  # a bullet alone as a word is its own bare text; with more words it takes its space
            out.append((0, 1, head_key(head)))
            if end == j + 1:
                return out
            start, cut = 1, 2
        rest = line[base + cut:]
        word = rest.partition(" ")[0]
        if ANY_HEAD.match(rest) is None:  # most words: no head opens any span from them
            out.append((start, end - j, (word, False, False, False)))
            return out
        shortest = [m.end() if m else _NEVER for m in (p.match(rest) for p in SHORTEST_HEADS)]
        # the bare text of the span ending at j + 1 + i is stops[j + i] - base - cut long
        cuts = {bisect.bisect_left(stops, base + cut + size, j + start, end) - j for size in shortest}
        bounds = sorted({start, end - j} | {i for i in cuts if start < i < end - j})
        for a, b in itertools.pairwise(bounds):
            size = stops[j + a] - base - cut
            out.append((a, b, (word, size >= shortest[0], size >= shortest[1], size >= shortest[2])))
        return out


@functools.cache
def _skip_table(keep: tuple[int, ...]) -> dict[int, list[float]]:
    """skip[a][b]: the cost of leaving the columns between a and b empty (a = -1: before the first piece),
    but those in `keep`."""
    return {a: [sum(SKIP_COST[c] for c in range(a + 1, b) if c not in keep) for b in range(5)]
            for a in range(-1, 5)}


class _Lattice:
    """The dynamic program of one `_Segmenter.segment` call over a page's words.

    best[k][c] is the cost of words[:k] with the piece ending at k in column c;
    back[k][c] is where that piece began (word index, previous column).  What
    depends on the words alone is the page's (`_Page`); the opening costs under
    this call's carry are memoised here.
    """

    def __init__(self, seg: _Segmenter, page: _Page, carry: dict[int, str], ahead: dict[int, str],
                 keep: set[int]) -> None:
        self.seg, self.page, self.carry, self.ahead, self.keep = seg, page, carry, ahead, keep
        self.lines, self.words, n = page.lines, page.words, page.n
        self.n = n
        self.best = [[_INF] * 5 for _ in range(n + 1)]
        self.back: list[list[tuple[int, int] | None]] = [[None] * 5 for _ in range(n + 1)]
        self.skip = _skip_table(tuple(sorted(keep)))
        self.open_memo: dict[tuple[str, bool, bool, bool], tuple[float, ...]] = {}
        self.span = page.text

    def piece_text(self, k: int, c: int) -> str:
        bj = self.back[k][c]
        return self.span(bj[0] if bj else 0, k)

    def opening(self, j: int, a: int, key: tuple[str, bool, bool, bool]) -> tuple[float, ...]:
        """The cost of words[j:j + 1 + a] opening each column, whose bare text reads as `key` (`head_key`), when
        columns go on from the page before (`carry`): `head_costs`, but such a column judged as a line wrap."""
        hit = self.open_memo.get(key)
        if hit is None:  # `wrap_cost` reads the next line as `head_costs` does: by its key
            costs = list(head_costs(*key))
            text = self.span(j, j + 1 + a)
            for column, prev in self.carry.items():
                costs[column] = self.seg.wrap_cost(column, prev, text)
            hit = self.open_memo[key] = tuple(costs)
        return hit

    def fill(self) -> None:
        """Every piece words[j:k] within one printed line, in every column, from every piece ending at j.

        The plain dynamic program takes, for each piece and column, the cheapest of the ways into it (`_relax`
        in tests/test_cells_lattice.py); this takes the same sums in the same order with the work shared: the
        costs that depend only on where a piece begins (closing the piece before it, wrapping it) once per j;
        the page's runs of spans from j that open alike (`_Page.heads`), and for each the ways into a column
        once; and per column the spans that fit it all cost the cheapest way, the ones that do not that plus
        their overflow (widths grow with the span)."""
        page, best, back, ahead, seg, carry = self.page, self.best, self.back, self.ahead, self.seg, self.carry
        cws, skip, lines, words, first_over = seg.layout.widths, self.skip, self.lines, self.words, bisect.bisect_right
        line_first, split_at, end_cost, spans_widths, heads = (
            page.line_first, page.split_at, page.end_cost, page.widths, page.heads)
        self._fill_first()
        for j in range(1, self.n):
            first, bj = line_first[j], best[j]
            # closing a piece reads only its last word, words[j - 1], unless its column goes on over the page
            close = [end_cost[j - 1]] * 5
            for pcol, after in ahead.items():
                if bj[pcol] != _INF:
                    b0 = back[j][pcol][0]  # the piece words[b0:j] goes on over the page
                    close[pcol] = seg.wrap_cost(pcol, self.span(b0, j), after, spans_widths[b0][j - 1 - b0])
            froms = [(pcol, prev, skip[pcol], close[pcol]) for pcol, prev in enumerate(bj) if prev != _INF]
            wrap = [0.0] * 5
            if first:
                line = lines[words[j][0]]
                joint = seg.joint(words[j - 1][1], line.text)  # every piece before ends in words[j - 1]
                for pcol, *_ in froms:
                    b0 = back[j][pcol][0]  # the piece words[b0:j] ends the line before
                    step = seg.wrap_from(pcol, self.span(b0, j), spans_widths[b0][j - 1 - b0], joint)
                    if not line.blank_before:
                        step += 2.5  # a missing blank line marks a new cell
                    wrap[pcol] = step
            split, widths = split_at[j], spans_widths[j]  # widths[i]: of the piece ending at j + 1 + i
            for a, b, key in heads[j]:
                opening = self.opening(j, a, key) if carry else head_costs(*key)
                for c in range(0 if first else 1, 5):  # mid-line, a piece follows one in a column before
                    oc = opening[c]
                    # the ways into column c, in the order `_relax` tries them (the columns before, then the
                    # same column's wrap): the cheapest cost so far (`low`) and the first way to it (`pfit`)
                    low, pfit, near = _INF, -1, _INF  # near: the cheapest so far of the ways before pfit
                    for pcol, prev, row, closing in froms:
                        if pcol >= c:
                            break
                        so_far = prev + (row[c] + oc + closing + split)
                        if so_far < low:
                            near, low, pfit = low, so_far, pcol
                    if first and bj[c] != _INF:
                        so_far = bj[c] + wrap[c]
                        if so_far < low:
                            near, low, pfit = low, so_far, c
                    if pfit < 0:
                        continue
                    # `_relax` keeps the first of the cheapest ways (so far + piece cost); rounding is monotonic,
                    # so the cheapest costs `low` plus the piece cost, and a piece that fits costs nothing: then
                    # it is the first cheapest way
                    cw = cws[c]
                    fit = first_over(widths, cw, a, b)
                    if fit > a:
                        cost, jp = low + 0.0, (j, pfit)
                        for k in range(j + 1 + a, j + 1 + fit):
                            if cost < best[k][c]:
                                best[k][c], back[k][c] = cost, jp
                    for i in range(fit, b):
                        pc = 3.0 + (widths[i] - cw)  # the piece overflows its column
                        cost = low + pc
                        bk = best[j + 1 + i]
                        if cost < bk[c]:
                            # the first way that costs that: `pfit`, or one before it that rounds to the same
                            # (none can when the cheapest of them does not)
                            pcol = pfit
                            if near + pc == cost:
                                for pcol, prev, row, closing in froms:
                                    if pcol >= pfit or prev + (row[c] + oc + closing + split) + pc == cost:
                                        break
                                pcol = min(pcol, pfit)
                            bk[c], back[j + 1 + i][c] = cost, (j, pcol)

    def _fill_first(self) -> None:
        """The pieces from the first word, summed as the plain program sums them: the piece cost first (no way
        comes before it), then the columns it skips, then its opening."""
        best, back, cws, skip = self.best, self.back, self.seg.layout.widths, self.skip[-1]
        widths = self.page.widths[0]
        for a, b, key in self.page.heads[0]:
            opening = self.opening(0, a, key) if self.carry else head_costs(*key)
            for k in range(1 + a, 1 + b):
                width, bk, bak = widths[k - 1], best[k], back[k]
                for c in range(5):
                    over = width - cws[c]
                    cost = (0.0 if over <= 0 else 3.0 + over) + skip[c] + opening[c]
                    if cost < bk[c]:
                        bk[c], bak[c] = cost, (0, -1)

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
    words: dict[int, _Page] = {}  # each page's words, read once for all its lattices
    parts: dict[int, list[tuple[int, str]]] = {c: [] for c in range(5)}
    done: dict[tuple, tuple[float, list[tuple[int, int, str]]]] = {}

    def segment(page: int, carry: dict[int, str], ahead: dict[int, str], last: bool):
        """`seg.segment` of one page, once per question: hypotheses that agree on the page before ask the
        next page the same one, and the next page's own turn asks it again (a page break costs ~12 lattices)."""
        key = (page, tuple(sorted(carry.items())), tuple(sorted(ahead.items())), last)
        if key not in done:
            if page not in words:
                words[page] = _Page(pages[page])
            done[key] = seg.segment(words[page], carry, ahead, set(carry), last=last)
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


