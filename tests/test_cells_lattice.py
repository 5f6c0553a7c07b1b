"""The table lattice's shortcuts (graph/extract/cells.py, issue 16: extraction speed) change no number.

`_Lattice.fill` takes costs once per start, reads a page's words once for all its lattices (`_Page`: span
widths carried on word by word, runs of spans that open alike), asks the opening costs once per question
(`head_costs`) and keeps the cheapest way first.  `_relax` below is the plain dynamic program as first written:
every span, every column, every column before, each cost computed from the span's text.  Every lattice built
while extracting the corpus appendices is filled both ways and must hold the same costs and back-pointers.
"""

from __future__ import annotations

import itertools
import random
import unicodedata

import pytest
from cchc.graph.corpus import load_manifest
from cchc.graph.extract import cells
from cchc.graph.extract.documents import extract_file
from cchc.graph.extract.tables import COOP, LEAD, PRODUCT, TIME

from tests.conftest import APPENDIX_2023, APPENDIX_2026, CORPUS


def _skipped(keep: set[int], a: int, b: int) -> float:
    return sum(cells.SKIP_COST[c] for c in range(a + 1, b) if c not in keep)


def _head_cost(column: int, bare: str) -> float:
    """The opening cost as first written: the head patterns matched on the whole text without its bullet."""
    cost = 3.0 if cells._is_lower_start(bare) else 0.0
    agency = cells.AGENCY_HEAD.match(bare)
    if column in (LEAD, COOP):
        cost += -1.0 if agency else 1.5
    elif column == TIME:
        cost += -1.0 if cells.TIME_HEAD.match(bare) else 1.0
    elif column == PRODUCT:
        if agency and not bare.startswith("Các"):
            cost += 1.0
        elif cells.PRODUCT_HEAD.match(bare):
            cost -= 0.5
    return cost


def _open_cost(lat: cells._Lattice, column: int, text: str) -> float:
    if column in lat.carry:
        return lat.seg.wrap_cost(column, lat.carry[column], text)
    return _head_cost(column, cells.BULLET.sub("", text) or text)


def _piece_text(lat: cells._Lattice, k: int, c: int) -> str:
    bj = lat.back[k][c]
    return " ".join(w for _, w in lat.words[bj[0] if bj else 0:k])


def _relax(lat: cells._Lattice, j: int, k: int, c: int, text: str, ties: list[tuple]) -> None:
    """The best way to end a piece words[j:k] in column c, from every column a piece can end in at j.

    `ties` gets the ways that cost less so far than the one kept but round to the same cost with the piece:
    the first is kept, not the cheapest so far (what `fill` must find again for a piece that overflows)."""
    words, best, back, seg = lat.words, lat.best, lat.back, lat.seg
    over = cells.visual_len(text) - seg.layout.widths[c]
    pc = 0.0 if over <= 0 else 3.0 + over
    if j == 0:
        cost = pc + _skipped(lat.keep, -1, c) + _open_cost(lat, c, text)
        if cost < best[k][c]:
            best[k][c], back[k][c] = cost, (0, -1)
        return
    line = lat.lines[words[j][0]]
    first = words[j - 1][0] != words[j][0]
    kept = None  # cost so far of the way this j gave best[k][c]
    for pcol in range(c + 1):
        prev = best[j][pcol]
        if prev == cells._INF or (pcol == c and not first):
            continue
        if pcol == c:
            step = seg.wrap_cost(c, _piece_text(lat, j, pcol), line.text)
            if not line.blank_before:
                step += 2.5
        else:
            step = (_skipped(lat.keep, pcol, c) + _open_cost(lat, c, text)
                    + seg.close_cost(pcol, _piece_text(lat, j, pcol), lat.ahead))
            step += 0.0 if first else seg.split_cost(words[j - 1][1], words[j][1])
        so_far = prev + step
        cost = so_far + pc
        if cost < best[k][c]:
            best[k][c], back[k][c], kept = cost, (j, pcol), so_far
        elif kept is not None and cost == best[k][c] and so_far < kept:
            ties.append((j, k, c, pcol))


def _reference_fill(lat: cells._Lattice, ties: list[tuple] | None = None) -> None:
    words, n, ties = lat.words, lat.n, [] if ties is None else ties
    for j in range(n):
        li, end = words[j][0], j
        while end < n and words[end][0] == li:
            end += 1
        for k in range(j + 1, end + 1):
            text = " ".join(w for _, w in words[j:k])
            for c in range(5):
                _relax(lat, j, k, c, text, ties)


def _lattices(name: str, monkeypatch) -> list[tuple]:
    """The arguments of every lattice built while extracting the corpus document `name`."""
    built: list[tuple] = []
    init = cells._Lattice.__init__

    def remember(self, *args):
        init(self, *args)
        built.append(args)

    monkeypatch.setattr(cells._Lattice, "__init__", remember)
    extract_file(CORPUS / name, load_manifest(CORPUS).get(name))
    monkeypatch.setattr(cells._Lattice, "__init__", init)
    return built


@pytest.mark.parametrize("name", [APPENDIX_2023, APPENDIX_2026])
def test_fill_equals_the_plain_dynamic_program(name, monkeypatch):
    built = _lattices(name, monkeypatch)
    assert len(built) > 40
    assert any(args[2] for args in built) and any(args[3] for args in built)  # page breaks: carry and ahead
    for args in built:
        fast, plain = cells._Lattice(*args), cells._Lattice(*args)
        fast.fill()
        _reference_fill(plain)
        assert fast.best == plain.best  # the same floats, not merely close
        assert fast.back == plain.back
        assert fast.best_path(True) == plain.best_path(True)


def test_fill_equals_the_plain_dynamic_program_on_shuffled_pages():
    """Pages of corpus words in random lines, with and without blank lines before them, carried and ahead
    columns and column widths: overflows, heads and rounding ties the two appendices do not hold."""
    rng = random.Random(32)
    words = [*(CORPUS / APPENDIX_2023).read_text("utf-8").split(), "-", "•", "–", "+"]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 14))) for _ in range(400)]
    for _ in range(60):
        layout = cells.Layout() if rng.random() < 0.5 else cells.Layout(
            widths=tuple(round(rng.uniform(6.0, 45.0), 1) for _ in range(5)))
        lines = [cells.Line(n, rng.choice(texts), rng.random() < 0.5) for n in range(rng.randint(1, 6))]
        carry = {c: rng.choice(texts) for c in rng.sample(range(5), rng.randint(0, 2))}
        ahead = {c: rng.choice(texts) for c in rng.sample(range(5), rng.randint(0, 1))}
        args = (cells._Segmenter(layout), cells._Page(lines), carry, ahead, set(carry) | set(ahead))
        fast, plain = cells._Lattice(*args), cells._Lattice(*args)
        fast.fill()
        _reference_fill(plain)
        assert fast.best == plain.best
        assert fast.back == plain.back
        assert fast.best_path(True) == plain.best_path(True)
        assert fast.best_path(False) == plain.best_path(False)


def test_an_overflowing_piece_keeps_the_first_way_that_rounds_to_its_cost():
    """Ways into a column that differ so far by a rounding error may cost the same once an overflowing piece
    is added: the plain program keeps the first, not the cheapest so far; so must `fill` (found by search
    over random pages: words[5:10], a line, in column 1: kept from column 0, not the cheaper wrap of column 1)."""
    lines = [cells.Line(0, "Thường THỜI thức triển thực", True), cells.Line(1, "bộ với với cơ quyết chức", False),
             cells.Line(2, "tuyến", True)]
    carry = {2: "Sở và trả", 1: "khai UBND triển"}
    args = (cells._Segmenter(cells.Layout(widths=(3.8, 7.5, 27.5, 25.3, 4.4))), cells._Page(lines), carry, {},
            set(carry))
    fast, plain, ties = cells._Lattice(*args), cells._Lattice(*args), []
    fast.fill()
    _reference_fill(plain, ties)
    assert (5, 10, 1, 1) in ties and plain.back[10][1] == (5, 0)
    assert fast.best == plain.best
    assert fast.back == plain.back


@pytest.mark.parametrize("name", [APPENDIX_2023, APPENDIX_2026])
def test_a_page_reads_every_span_as_its_text_does(name, monkeypatch):
    """`_Page` carries widths on word by word and cuts the spans from a word into runs by the shortest heads;
    every span's width and opening question are those of its own text."""
    pages = {id(args[1]): args[1] for args in _lattices(name, monkeypatch)}
    spans = 0
    for page in pages.values():
        for j in range(page.n):
            runs = page.heads[j]
            assert runs[0][0] == 0 and runs[-1][1] == page.ends[j] - j
            assert all(b == a2 for (_, b, _), (a2, _, _) in itertools.pairwise(runs))  # the runs tile the spans
            for a, b, key in runs:
                for i in range(a, b):
                    text = " ".join(w for _, w in page.words[j:j + 1 + i])
                    assert page.widths[j][i] == cells.visual_len(text)
                    assert key == cells.head_key(cells.BULLET.sub("", text) or text)
                    spans += 1
    assert spans > 5000


def test_head_key_runs_with_bullets_and_heads_inside_the_line():
    line = cells.Line(1, "- Sở Nội vụ; Ủy ban nhân dân tỉnh", True)
    page = cells._Page([line, cells.Line(2, "-Thường xuyên Quý I", False), cells.Line(3, "Bộ Tư pháp", True)])
    for j in range(page.n):
        for a, b, key in page.heads[j]:
            for i in range(a, b):
                text = " ".join(w for _, w in page.words[j:j + 1 + i])
                assert key == cells.head_key(cells.BULLET.sub("", text) or text), text
    def runs(word: tuple[int, str]) -> list[tuple]:
        return page.heads[page.words.index(word)]  # word: (line index, word)

    assert runs((0, "-")) == [(0, 1, ("-", False, False, False)),  # a bullet alone is its own text
                              (1, 9, ("Sở", True, False, False))]  # then it takes its space: "Sở" opens an agency
    assert runs((1, "-Thường")) == [(0, 1, ("Thường", False, False, False)), (1, 4, ("Thường", False, True, False))]
    assert runs((2, "Bộ")) == [(0, 1, ("Bộ", False, False, False)),
                               (1, 3, ("Bộ", False, False, True))]  # "Bộ " opens a product


def test_visual_len_sums_the_same_widths_in_the_same_order():
    def reference(s: str) -> float:
        total = 0.0
        for c in s:
            total += cells._TIMES.get(cells._base(c), 0.5)
        return total * 2

    cells.visual_len.cache_clear()
    for path in sorted(CORPUS.glob("*.txt")):
        for line in path.read_text("utf-8").splitlines():
            words = line.split()
            for j in range(min(len(words), 12)):
                text = " ".join(words[j:])
                assert cells.visual_len(text) == reference(text)
    odd = "Đ đ ỹ " + unicodedata.normalize("NFD", "Nghị định") + " ½ – “x”"
    assert cells.visual_len(odd) == reference(odd)


def test_shortest_heads_match_the_heads_by_their_shortest_literal():
    for pattern, shortest in zip((cells.AGENCY_HEAD, cells.TIME_HEAD, cells.PRODUCT_HEAD), cells.SHORTEST_HEADS,
                                 strict=True):
        alts = [alt.replace("\\d", "7") for alt in pattern.pattern[2:-1].split("|")]
        for text in alts:
            assert pattern.match(text + " tiếp").end() == len(text)  # a literal: matches its own length
            longer = text + " tiếp theo"
            size = shortest.match(longer).end()  # the shortest head that opens it
            for cut in range(len(longer) + 1):
                assert bool(pattern.match(longer[:cut])) == (cut >= size), (longer, cut)
                assert cells.ANY_HEAD.match(longer[:cut]) or cut < size


def test_any_head_opens_a_text_when_one_of_the_heads_does():
    heads = (cells.AGENCY_HEAD, cells.TIME_HEAD, cells.PRODUCT_HEAD)
    for path in sorted(CORPUS.glob("*.txt")):
        for line in path.read_text("utf-8").splitlines():
            words = line.split()
            for j in range(len(words)):
                text = " ".join(words[j:])
                assert bool(cells.ANY_HEAD.match(text)) == any(p.match(text) for p in heads), text
