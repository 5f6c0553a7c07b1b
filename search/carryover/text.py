"""Text of a task as the carry-over matcher compares it: year-free, number-free, names brought up to date.

Two plans of the same body restate a recurring task with new numbers: "Kế
hoạch thông tin, tuyên truyền CCHC năm 2023" becomes "... năm 2026", the
instrument it implements changes number, and the 2025 restructuring renames
the agencies in the sentence ("UBND các huyện, thành phố" -> "UBND các xã,
phường").  None of that says the task changed, so before any similarity is
measured the years, dates and instrument numbers are removed, agency names are
replaced by the name of their current successor, and the plans' abbreviations
are spelled out (the 2023 appendix writes "QPPL", the 2026 one "quy phạm pháp
luật").  Lexical similarity is TF-IDF cosine over folded syllables and
syllable bigrams, with IDF taken over the two plans being compared, so words
every row repeats ("triển khai", "thực hiện") weigh little.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Sequence

import numpy as np
from cchc.graph.extract.agencies import Registry
from cchc.graph.extract.reading import fold, nfc
from cchc.search.carryover.tfidf import Terms, tfidf_cosine

__all__ = ["ABBREVIATIONS", "expand_abbreviations", "lexical_matrix", "lexical_terms", "neutralise", "neutraliser"]

# Abbreviations the plans use for the same words they also spell out.  Kept
# here rather than in graph/data because only the matcher needs them.
ABBREVIATIONS: dict[str, str] = {
    "VBQPPL": "văn bản quy phạm pháp luật",
    "QPPL": "quy phạm pháp luật",
    "TTHC": "thủ tục hành chính",
    "CCHC": "cải cách hành chính",
    "CBCCVC": "cán bộ, công chức, viên chức",
    "CBCCV": "cán bộ, công chức, viên chức",
    "NSNN": "ngân sách nhà nước",
    "PAKN": "phản ánh, kiến nghị",
    "VTVL": "vị trí việc làm",
    "KSTTHC": "kiểm soát thủ tục hành chính",
    "DVCTT": "dịch vụ công trực tuyến",
    "HĐND": "hội đồng nhân dân",
    "UBND": "ủy ban nhân dân",
}
_ABBR = re.compile(r"(?<!\w)(" + "|".join(sorted(ABBREVIATIONS, key=len, reverse=True)) + r")(?!\w)")

_INSTRUMENT_ID = re.compile(r"(?:\bsố\s*:?\s*)?(?<![\w/])\d{1,5}[a-zA-Z]?(?:\s?/\s?(?:19|20)\d\d)?(?:\s?/\s?|-)"
                            r"[A-ZĐ]\w*(?:[-/][A-ZĐ]\w*)*")
_DATE = re.compile(r"(?:\bngày\s*)?\d{1,2}\s?/\s?\d{1,2}\s?/\s?(?:19|20)\d\d|\d{1,2}\s?/\s?(?:19|20)\d\d")
_YEARS = re.compile(r"(?<!\d)(?:19|20)\d\d(?:\s*[-–]\s*(?:19|20)\d\d)?(?!\d)")
_NUMBER = re.compile(r"(?<![\w])\d+(?:[.,]\d+)?%?")
_STOP = frozenset(fold(w) for w in (
    "và của các cho có được trong với theo về tại là để những một này đã trên đối nhằm như từ khi "
    "đảm bảo bảo đảm năm ngày số").split())


def neutralise(text: str, registry: Registry | None = None, *, agencies: str = "successor") -> str:
    """The task text without years, dates and instrument numbers; agencies renamed or dropped.

    `agencies="successor"` renames an agency to its current holder when the
    registry has exactly one (a merge, rename or abolition; an agency split
    across several successors keeps its printed name).  `agencies="drop"`
    removes agency names altogether: a row's scope ("các sở, ban, ngành, UBND
    các xã, phường") is compared through the lead agencies, and left in the
    text it makes every row addressed to the same bodies look alike.
    """
    t = nfc(text)
    if registry is not None:
        out, last = [], 0
        for start, end, mention in registry.find(t):
            if mention.agency_id is None:
                continue
            if agencies == "drop":
                out += [t[last:start], " "]
                last = end
                continue
            current = registry.current(mention.agency_id)
            if current != [mention.agency_id] and len(current) == 1:
                successor = registry.get(current[0])
                if successor is not None:
                    out += [t[last:start], successor.name]
                    last = end
        out.append(t[last:])
        t = "".join(out)
    t = _INSTRUMENT_ID.sub(" ", t)
    t = _DATE.sub(" ", t)
    t = _YEARS.sub(" ", t)
    t = re.sub(r"\s+([,;.:)])", r"\1", t)
    t = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", t)
    return " ".join(t.split())


def neutraliser(registry: Registry | None) -> Callable[..., str]:
    """`neutralise` with `registry`, each distinct (text, agencies) once.

    A national corpus re-issues the same rows plan after plan (commune plans
    copy the province's), and agency-name search is the costly part of it.
    """
    @functools.cache
    def run(text: str, agencies: str = "successor") -> str:
        return neutralise(text, registry, agencies=agencies)
    return run


def expand_abbreviations(text: str) -> str:
    """"TTHC" -> "thủ tục hành chính", and the other abbreviations of ABBREVIATIONS."""
    return _ABBR.sub(lambda m: ABBREVIATIONS[m.group(1)], nfc(text))


def lexical_terms(text: str) -> list[str]:
    """Folded content syllables and their bigrams, abbreviations spelled out, numbers dropped."""
    t = expand_abbreviations(text)
    t = _NUMBER.sub(" ", t)
    words = [w for w in re.findall(r"\w+", fold(t)) if w not in _STOP]
    return words + [f"{a}_{b}" for a, b in itertools.pairwise(words)]


def lexical_matrix(left: Sequence[str], right: Sequence[str], *, containment: float = 0.0) -> np.ndarray:
    """TF-IDF cosine of every left text with every right text (IDF over both lists); empty texts score 0.

    With `containment` > 0 the score is at least `containment` times the share
    of the shorter text's TF-IDF mass found in the longer one: a row rewritten
    shorter ("Tổ chức tuyển dụng công chức" for a 2023 row on recruitment,
    IT in exams and promotions) keeps all its words in the old row, which
    cosine alone, diluted by the longer row's other clauses, does not show.
    """
    vocabulary: dict[str, int] = {}
    return tfidf_cosine(Terms.of(map(lexical_terms, left), vocabulary), Terms.of(map(lexical_terms, right), vocabulary),
                        containment=containment)
