"""The vocabulary of legal instruments: types, abbreviations, issuer codes and names, number patterns.

Built from `data/instruments.toml`, so adding an issuer code or a type is a
data change.  Shared by the two readers of instrument names: citations.py
(mentions in document text) and references.py (loose references in user
queries); the underscored names are private to those modules.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from cchc.graph.extract.reading import fold, squash

__all__ = ["canonical_issuer", "code_issuer", "code_type", "reference_data", "type_of_word"]


# Old and new tone placement ("uỷ"/"ủy", "hoá"/"hóa") both occur in the corpus.
_TONES = {"ủy": "uỷ", "úy": "uý", "ùy": "uỳ", "ụy": "uỵ", "óa": "oá", "òa": "oà", "ỏa": "oả", "õa": "oã",
          "ọa": "oạ"}
_YEAR = r"(?:19|20)\d{2}"
_CODE = r"[A-ZĐ][A-Za-zĐđ0-9]*(?:[-/][A-ZĐ][A-Za-zĐđ0-9]*)*"
# "02  /KH-UBND" has a space before the slash; never around a hyphen ("năm 2021 - UBND ...").
# "66.22/2026/NQ-CP": a resolution numbered within a series
_ID_RE = re.compile(rf"(?<![\w/.\-])(?P<num>\d{{1,5}}(?:\.\d{{1,3}})?[a-zA-Z]?)(?: ?/ ?(?P<year>{_YEAR}))?(?: ?/ ?|-)"
                    rf"(?P<code>{_CODE})(?!\w)")


def _alt(words: Sequence[str]) -> str:
    """Regex alternation, longest first, accepting both tone placements."""
    out = []
    for w in sorted(set(words), key=len, reverse=True):
        pat = re.escape(w)
        for new, old in _TONES.items():
            pat = pat.replace(new, f"(?:{new}|{old})")
        out.append(pat)
    return "|".join(out)


def _key(s: str) -> str:
    return fold(s).upper()


def _parts(code: str | None) -> list[str]:
    return [_key(p) for p in re.split(r"[-/\s]+", code or "") if p]


@dataclass(frozen=True)
class _Data:
    """The reference data, indexed."""

    raw: dict[str, Any]
    canonical: dict[str, str] = field(default_factory=dict)  # folded name or abbreviation -> type
    abbrs: dict[str, frozenset[str]] = field(default_factory=dict)  # type -> folded abbreviations
    type_issuer: dict[str, str] = field(default_factory=dict)
    code_issuer: dict[str, str] = field(default_factory=dict)  # folded code -> issuer
    default_code: dict[str, str] = field(default_factory=dict)  # type -> code of every instrument of it


@cache
def _data() -> _Data:
    raw = tomllib.loads((Path(__file__).parent.parent / "data" / "instruments.toml").read_text("utf-8"))
    d = _Data(raw)
    for t in raw["types"]:
        d.canonical[fold(t["name"])] = t["name"]
        d.abbrs[t["name"]] = frozenset(_key(a) for a in t["abbr"])
        for a in t["abbr"]:
            d.canonical.setdefault(fold(a), t["name"])
        if t.get("issuer"):
            d.type_issuer[t["name"]] = t["issuer"]
        if t.get("default_code"):
            d.default_code[t["name"]] = t["default_code"]
    d.code_issuer.update({_key(k): v for k, v in raw["issuer_codes"].items()})
    return d


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    raw = _data().raw
    names = [t["name"] for t in raw["types"]]
    abbrs = [a for t in raw["types"] for a in t["abbr"]]
    iss, dropped, openers = raw["issuers"], _alt(raw["titles"]["dropped"]), _alt(raw["titles"]["openers"])
    ministries = [v for v in raw["issuer_codes"].values() if v.startswith("Bộ ")]
    issuer = (rf"(?:(?:{_alt(iss['ministry_prefixes'])}) )?(?:{_alt(ministries)})|(?:{_alt(iss['local'])})"
              rf"(?: (?:{_alt(iss['levels'])})(?!\w))?|{_alt(iss['bodies'])}")
    return {
        "type": re.compile(rf"(?<!\w)(?:{_alt(names)}|(?-i:{_alt(abbrs)}))(?!\w)", re.I),
        "issuer": re.compile(rf",? ?của (?P<who>(?:{issuer})(?: (?:khóa|khoá) [IVXL]+)?)(?!\w)", re.I),
        "title": re.compile(rf",? ?(?:(?:{dropped}) (?=\S)|(?=(?:{openers}) ))", re.I),
        # a title ends at ";", a sentence end, a colon, a new instrument, or a new "Căn cứ" clause (Markdown
        # copies print the title and the preamble as paragraphs without a final period)
        "title_stop": re.compile(rf";|\.(?: |$)|: |, (?=(?:{_alt(names)}) )| (?=[*_]*Căn cứ\b)"),
        "named": re.compile(rf"(?<!\w)(?:{_alt(raw['named']['types'])})(?= \S)"),
        "name_stop": re.compile(rf"(?:{_alt(raw['named']['stop_words'])})(?!\w)|số \d"),
        "group_issuer": re.compile(rf"(?<!\w)các (?P<type>{_alt(names)}) của (?P<who>{issuer})(?!\w)[^.;]*?: ", re.I),
        "not_type": re.compile(rf"(?:{_alt(raw['not_types']['phrases'])})$", re.I),
    }


def reference_data() -> dict[str, Any]:
    """The parsed `data/instruments.toml`."""
    return _data().raw


def type_of_word(word: str) -> str | None:
    """The canonical type a type word or abbreviation names ("NGHỊ ĐỊNH", "NĐ" -> "Nghị định"), else None."""
    return _data().canonical.get(fold(squash(word)))


def code_type(code: str) -> str | None:
    """The type a number's code names ("TT-BTC" -> Thông tư), or implies ("QH15" -> Luật)."""
    return _code_type(code) or _implied_type(code)


def code_issuer(code: str) -> str | None:
    """The issuer a number's code names ("TT-BTC" -> Bộ Tài chính), None when no part is unambiguous."""
    known = [p for p in _parts(code) if p in _data().code_issuer]
    return _data().code_issuer[known[0]] if known else None


@cache
def _issuer_names() -> dict[str, str]:
    raw = _data().raw
    names = [*raw["issuer_codes"].values(), *raw["issuers"]["bodies"], *_data().type_issuer.values()]
    return {fold(n): n for n in names}


def canonical_issuer(name: str) -> str | None:
    """An issuer as the reference data spells it ("BỘ TÀI CHÍNH" -> "Bộ Tài chính"), None when unknown."""
    return _issuer_names().get(fold(squash(name)))


def _code_type(code: str) -> str | None:
    return _data().canonical.get(fold(re.split(r"[-/]", code)[0]))


def _implied_type(code: str) -> str | None:
    """The type a code implies when no type word is printed ("QH15" -> Luật)."""
    m = re.match(r"[A-ZĐ]+", code)
    return _data().raw.get("code_types", {}).get(m.group()) if m and m.end() == len(code.rstrip("0123456789")) \
        else None


def _type_name(word: str) -> str:
    """The canonical type name for a type word as written ("kế hoạch" -> "Kế hoạch")."""
    return next((t["name"] for t in _data().raw["types"] if t["name"].lower() == word.lower()), word)
