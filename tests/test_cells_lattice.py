"""The table lattice's shortcuts (graph/extract/cells.py, issue 16: extraction speed) change no number.

`_Lattice.fill` takes costs once per start, memoises opening costs, keeps the cheapest way first and reads
character widths from a table; `_relax` is the plain dynamic program it replaced.  Every lattice built while
extracting the corpus appendices is filled both ways and must hold the same costs and back-pointers.
"""

from __future__ import annotations

import unicodedata

import pytest
from cchc.graph.corpus import load_manifest
from cchc.graph.extract import cells
from cchc.graph.extract.documents import extract_file

from tests.conftest import APPENDIX_2023, APPENDIX_2026, CORPUS


def _reference_fill(lat: cells._Lattice) -> None:
    words, n = lat.words, lat.n
    for j in range(n):
        li, end = words[j][0], j
        while end < n and words[end][0] == li:
            end += 1
        for k in range(j + 1, end + 1):
            text = lat.span(j, k)
            for c in range(5):
                lat._relax(j, k, c, li, text)


@pytest.mark.parametrize("name", [APPENDIX_2023, APPENDIX_2026])
def test_fill_equals_the_plain_dynamic_program(name, monkeypatch):
    built: list[tuple] = []
    init = cells._Lattice.__init__

    def remember(self, *args):
        init(self, *args)
        built.append(args)

    monkeypatch.setattr(cells._Lattice, "__init__", remember)
    extract_file(CORPUS / name, load_manifest(CORPUS).get(name))
    monkeypatch.setattr(cells._Lattice, "__init__", init)
    assert len(built) > 40
    for args in built:
        fast, plain = cells._Lattice(*args), cells._Lattice(*args)
        fast.fill()
        _reference_fill(plain)
        assert fast.best == plain.best  # the same floats, not merely close
        assert fast.back == plain.back
        assert fast.best_path(True) == plain.best_path(True)


def test_visual_len_sums_the_same_widths_in_the_same_order():
    def reference(s: str) -> float:
        return sum(cells._TIMES.get(cells._base(c), 0.5) for c in s) * 2

    cells.visual_len.cache_clear()
    for path in sorted(CORPUS.glob("*.txt")):
        for line in path.read_text("utf-8").splitlines():
            words = line.split()
            for j in range(min(len(words), 12)):
                text = " ".join(words[j:])
                assert cells.visual_len(text) == reference(text)
    odd = "Đ đ ỹ " + unicodedata.normalize("NFD", "Nghị định") + " ½ – “x”"
    assert cells.visual_len(odd) == reference(odd)


def test_heads_are_literals_no_longer_than_head_len():
    for pattern in (cells.AGENCY_HEAD, cells.TIME_HEAD, cells.PRODUCT_HEAD):
        for alt in pattern.pattern[2:-1].split("|"):
            text = alt.replace("\\d", "7")
            assert len(text) <= cells.HEAD_LEN
            assert pattern.match(text + " tiếp").end() == len(text)  # a literal: matches its own length
