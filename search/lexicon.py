"""Abbreviations and synonyms: one query form finds the other.

The plans print "VBQPPL" in one row and "văn bản quy phạm pháp luật" in the
next; users type either, or a loanword ("online") for the plans' own word.
The table lives in `data/synonyms.toml`.  `expansions` gives the other forms
of what a query says (added to the BM25 and encoder queries); `name_key` is
the form-independent key named instruments are matched on.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from cchc.graph.extract.reading import fold, nfc

DATA_FILE = Path(__file__).with_name("data") / "synonyms.toml"
_SHORT = 3  # keys this short must be typed in capitals: "AI" is artificial intelligence, "ai" is "who"


@dataclass(frozen=True)
class _Entry:
    pattern: re.Pattern[str]  # matches the phrase in folded (or, for short keys, case-kept folded) text
    case_sensitive: bool
    others: tuple[str, ...]  # what to add when the phrase is found


def _phrase_pattern(phrase: str, case_sensitive: bool) -> re.Pattern[str]:
    words = re.findall(r"\w+", fold(phrase) if not case_sensitive else _fold_keep_case(phrase))
    return re.compile(r"(?<![\w/-])" + r"[\s,.\-–&]+".join(map(re.escape, words)) + r"(?![\w/-])")


def _fold_keep_case(text: str) -> str:
    return "".join(f.upper() if c.isupper() else f for c, f in ((c, fold(c)) for c in nfc(text)))


@functools.cache
def _table() -> tuple[tuple[_Entry, ...], tuple[tuple[re.Pattern[str], bool, str], ...]]:
    data = tomllib.loads(DATA_FILE.read_text("utf-8"))
    entries: list[_Entry] = []
    keys: list[tuple[re.Pattern[str], bool, str]] = []
    for abbr, long in data.get("abbreviations", {}).items():
        short = len(abbr) <= _SHORT
        entries.append(_Entry(_phrase_pattern(abbr, short), short, (long,)))
        entries.append(_Entry(_phrase_pattern(long, False), False, (abbr,)))
        keys.append((_phrase_pattern(abbr, short), short, " ".join(re.findall(r"\w+", fold(long)))))
    for phrase, targets in data.get("synonyms", {}).items():
        short = len(phrase) <= _SHORT
        entries.append(_Entry(_phrase_pattern(phrase, short), short, tuple(targets)))
    return tuple(entries), tuple(keys)


def expansions(text: str) -> list[str]:
    """The other forms of the abbreviations, long forms and synonyms `text` contains (each once)."""
    folded, cased = fold(text), _fold_keep_case(text)
    out: list[str] = []
    for e in _table()[0]:
        if e.pattern.search(cased if e.case_sensitive else folded):
            for o in e.others:
                if o not in out and not _phrase_pattern(o, False).search(folded):
                    out.append(o)
    return out


def alternatives(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each abbreviation, long form or synonym phrase `text` contains (folded, as found), with its other forms.

    What `expansions` adds, kept beside the words it stands for: evidence that a unit answers counts a
    concept once, whichever form the unit prints (`Searcher.coverage_by_text`)."""
    folded, cased = fold(text), _fold_keep_case(text)
    out: list[tuple[str, tuple[str, ...]]] = []
    for e in _table()[0]:
        m = e.pattern.search(cased if e.case_sensitive else folded)
        if m is None:
            continue
        others = tuple(o for o in e.others if not _phrase_pattern(o, False).search(folded))
        if others:
            out.append((m.group(0).lower(), others))
    return out


def expand(text: str) -> str:
    """`text` followed by its expansions: what BM25 and the encoder read."""
    extra = expansions(text)
    return f"{text} ({'; '.join(extra)})" if extra else text


@functools.lru_cache(maxsize=4096)  # the corpus's names are keyed again for every query
def name_key(name: str) -> str:
    """A name folded, without punctuation, with abbreviations spelled out ("luat ban hanh van ban quy ...")."""
    text = _fold_keep_case(name)
    for case_sensitive in (True, False):  # capitals-only keys first, then the rest on lower case
        text = text if case_sensitive else text.lower()
        for pattern, sensitive, long in _table()[1]:
            if sensitive == case_sensitive:
                text = pattern.sub(long, text)
    return " ".join(re.findall(r"\w+", text.lower()))
