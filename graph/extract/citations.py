"""Citations of legal instruments in plan text, and loose references in user queries.

A citation is found from its number outward: the number ("118/2025/NĐ-CP") is
the reliable anchor in PDF-extracted text, while the type word before it may
wrap to the previous line, carry a qualifier ("Kế hoạch hành động số") or be
left behind by a page break.  Types, abbreviations, issuer codes and issuer
names come from `data/instruments.toml`, so the patterns are built from data.
Every citation keeps its line span and its surface, an exact slice of the
joined text, so an answer can always be traced back to the source lines.
`issuer_source` is "text" when the issuer is printed ("của Chính phủ") and
"code" when it is implied by the number's code (CP, TTg, QH15) or by the type
(a Luật is passed by the Quốc hội).

Kept as one module (~440 lines) on purpose: the instrument grammar (types,
numbers, issuers, dates, titles) is one set of patterns built from
`data/instruments.toml`, and every part reads the others' matches.
"""

from __future__ import annotations

import bisect
import datetime
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from cchc.graph.extract.ocr_ids import find_damaged, repair_assembly_code
from cchc.graph.extract.reading import SourceText, fold, squash
from cchc.graph.extract.records import Citation, Span

__all__ = ["InstrumentRef", "canonical_issuer", "code_issuer", "code_type", "document_lines", "find_citations",
           "front_matter_end", "join_numbered", "normalise_id", "parse_reference", "reference_data", "same_number",
           "type_of_word"]

# The repeated appendix-table header: layout, never part of a cell.
TABLE_HEADER_LINES = frozenset({"STT NỘI DUNG SẢN PHẨM", "CƠ QUAN", "CHỦ TRÌ", "PHỐI HỢP", "THỜI GIAN",
                                "THỰC HIỆN", "CƠ QUAN CHỦ TRÌ", "CƠ QUAN PHỐI HỢP", "THỜI GIAN THỰC HIỆN"})
# Old and new tone placement ("uỷ"/"ủy", "hoá"/"hóa") both occur in the corpus.
_TONES = {"ủy": "uỷ", "úy": "uý", "ùy": "uỳ", "ụy": "uỵ", "óa": "oá", "òa": "oà", "ỏa": "oả", "õa": "oã",
          "ọa": "oạ"}
_LOOKALIKES = {"Ð": "Đ", "ð": "đ"}  # Icelandic eth, typed for Đ
_YEAR = r"(?:19|20)\d{2}"
_CODE = r"[A-ZĐ][A-Za-zĐđ0-9]*(?:[-/][A-ZĐ][A-Za-zĐđ0-9]*)*"
# "02  /KH-UBND" has a space before the slash; never around a hyphen ("năm 2021 - UBND ...").
# "66.22/2026/NQ-CP": a resolution numbered within a series
_ID_RE = re.compile(rf"(?<![\w/.\-])(?P<num>\d{{1,5}}(?:\.\d{{1,3}})?[a-zA-Z]?)(?: ?/ ?(?P<year>{_YEAR}))?(?: ?/ ?|-)"
                    rf"(?P<code>{_CODE})(?!\w)")
_DIRECT = re.compile(r" ?(?:số ?:? ?)?", re.I)  # between type word and number
_GAP = re.compile(r"((?: [^\W\d_]+){1,8}) số ?:? ?", re.I)  # "Kế hoạch hành động số"
_LIST_SEP = re.compile(r" ?(?:,|và|, và) (?P<so>số ?:? ?)?", re.I)
_SHARED_SEP = re.compile(r" ?(?:,|và|, và)? ?", re.I)
_SO_BEFORE = re.compile(r"số ?:? ?$", re.I)
_DATE = re.compile(r",? ?(?:ngày ?(?:(\d{1,2}) ?/ ?(\d{1,2}) ?/ ?(\d{4})"
                   r"|(\d{1,2}) tháng (\d{1,2}) năm (\d{4}))|(\d{1,2})/(\d{1,2})/(\d{4})(?!\d))", re.I)
# "NĐ 187/2025": a number and year without the code, completed from the type's `default_code`
_NO_CODE = re.compile(rf"(?<![\w/.\-])(?P<num>\d{{1,5}}) ?/ ?(?P<year>{_YEAR})(?![\w/\-])")
_AMENDING = re.compile(r"sửa đổi, bổ sung(?: một số (?:điều|Điều))?(?: của)? (?:các )?Luật ")
_NAME_YEAR = re.compile(rf"năm {_YEAR}(?!\w)")
_DE_AN = re.compile(r"(?<!\w)Đề án (\d{1,3})(?![\w/-])")


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


def join_numbered(lines: Sequence[tuple[int, str]]) -> tuple[str, list[int]]:
    """Join lines as printed (as `reading.join_lines` does) and map every character to its line.

    The space put between two lines belongs to the later line, so the
    character after a word that ends a line has another line number.
    """
    out: list[str] = []
    owner: list[int] = []
    last2 = ""  # the last two characters joined so far
    for n, raw in lines:
        part = squash(raw)
        if not part:
            continue
        if last2 and not (len(last2) == 2 and last2[1] == "-" and not last2[0].isspace()):
            part = " " + part
        out.append(part)
        owner.extend([n] * len(part))
        last2 = (last2 + part)[-2:]
    return "".join(out), owner


def front_matter_end(src: SourceText) -> int:
    """Line number of the "---" closing a Markdown copy's YAML front matter, 0 when there is none.

    The front matter is the collection's metadata, not the document's text: it is read for the
    identity (identity.py) and never searched for citations.
    """
    if not src.lines or src.lines[0].strip() != "---":
        return 0
    return next((n for n, line in src.numbered(2) if line.strip() == "---"), 0)


def document_lines(src: SourceText) -> list[tuple[int, str]]:
    """A whole document's lines without front matter, blanks, lone page numbers and repeated table headers."""
    return [(n, line) for n, line in src.numbered(front_matter_end(src) + 1)
            if (s := squash(line)) and not re.fullmatch(r"\d{1,3}", s) and s not in TABLE_HEADER_LINES]


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


@dataclass
class _Hit:
    """A citation being assembled; offsets index the joined text, `end` is after date and issuer."""

    start: int
    id_end: int
    end: int
    type: str | None
    id: str
    numbered: bool = True
    number: str | None = None
    year: str | None = None
    code: str | None = None
    date: str | None = None
    issuer: str | None = None
    issuer_source: str | None = None
    title: str | None = None
    title_span: tuple[int, int] = (0, 0)
    printed: str | None = None


def _code_type(code: str) -> str | None:
    return _data().canonical.get(fold(re.split(r"[-/]", code)[0]))


def _type_before(text: str, pos: int, code_type: str | None) -> tuple[str, int, str | None] | None:
    """The type word the number at `pos` belongs to, as (type, start, words between), or None."""
    lo, pats = max(0, pos - 160), _patterns()
    tail = text[lo:pos]
    for m in reversed(list(pats["type"].finditer(tail))):
        word = m.group()
        kind = _data().canonical.get(fold(word))
        if kind is None or (word.islower() and pats["not_type"].search(tail[:m.end()])):
            continue  # "pháp luật số ..." is not a Luật
        if word[0].islower() and code_type not in (None, kind):
            continue  # "theo quy định số 118/2025/NĐ-CP": the code says Nghị định
        if _DIRECT.fullmatch(tail, m.end()):
            return kind, lo + m.start(), None
        gap = _GAP.fullmatch(tail, m.end())
        if gap and code_type in (None, kind):
            return kind, lo + m.start(), gap.group(1).strip()
    return None


def _starts_line(text: str, owner: list[int], i: int) -> bool:
    if i == 0 or owner[i - 1] != owner[i]:
        return True
    return text[i - 1] == " " and (i < 2 or owner[i - 2] != owner[i])


def _dangling_type(text: str, owner: list[int], start: int, kind: str, after: int) -> int | None:
    """A type word ending an earlier line whose number a page break pushed past other cells."""
    for m in reversed(list(_patterns()["type"].finditer(text, max(after, start - 400), start))):
        e = m.end()
        if text[e] == " " and owner[e] != owner[e - 1] and _data().canonical.get(fold(m.group())) == kind:
            return m.start()
    return None


def _read_tail(text: str, hit: _Hit) -> None:
    """Read the date, issuer and title printed after the number."""
    pats, pos = _patterns(), hit.id_end
    m = _DATE.match(text, pos)
    if m:
        d, mo, y = [x for x in m.groups() if x is not None]
        try:
            hit.date = datetime.date(int(y), int(mo), int(d)).isoformat()
        except ValueError:
            hit.date = None
        pos = m.end()
    m = pats["issuer"].match(text, pos)
    if m:
        hit.issuer, hit.issuer_source, pos = m.group("who"), "text", m.end()
    hit.end = pos
    m = pats["title"].match(text, pos)
    # a capitalised opener right after a bare number is usually the next table cell
    if m and m.end() < len(text) and (hit.issuer_source == "text" or not text[m.end()].isupper()):
        a, most = m.end(), _data().raw["titles"]["max_chars"]
        stop = pats["title_stop"].search(text, a, a + most)
        cut = len(text) if len(text) - a <= most else max(a, text.rfind(" ", a, a + most))
        b = stop.start() if stop else cut
        if text[a:b].strip(" ,"):
            hit.title, hit.title_span = text[a:b].strip(" ,"), (a, b)


_SENTENCE_END = re.compile(r"\.(?: |$)")


def _type_name(word: str) -> str:
    """The canonical type name for a type word as written ("kế hoạch" -> "Kế hoạch")."""
    return next((t["name"] for t in _data().raw["types"] if t["name"].lower() == word.lower()), word)


@dataclass(frozen=True)
class _Number:
    """An instrument number at text[start:end]: as printed, or repaired / completed (`printed` then set)."""

    start: int
    end: int
    id: str
    num: str
    year: str | None
    code: str
    printed: str | None = None
    type: str | None = None  # the type that completed an abbreviated number


def _numbers(text: str) -> list[_Number]:
    """Every instrument number in `text`, OCR damage repaired where unambiguous, in order."""
    out = [_Number(d.start, d.end, d.id, d.num, d.year, d.code, text[d.start:d.end])
           for d in find_damaged(text)]
    taken = [(n.start, n.end) for n in out]
    for m in _ID_RE.finditer(text):
        if any(a < m.end() and m.start() < b for a, b in taken):
            continue
        printed = m.group().replace(" ", "")
        code, year = m.group("code"), m.group("year")
        fixed = repair_assembly_code(code, year)
        if fixed:  # "118/2025/QH135"
            out.append(_Number(m.start(), m.end(), f"{m.group('num')}/{year}/{fixed}", m.group("num"), year, fixed,
                               printed))
        else:
            out.append(_Number(m.start(), m.end(), printed, m.group("num"), year, code))
    for m in _NO_CODE.finditer(text):
        found = _type_before(text, m.start(), None)
        code = _data().default_code.get(found[0]) if found and found[2] is None else None
        if code and not any(n.start < m.end() and m.start() < n.end for n in out):
            out.append(_Number(m.start(), m.end(), f"{m.group('num')}/{m.group('year')}/{code}", m.group("num"),
                               m.group("year"), code, m.group(), found[0]))
    return sorted(out, key=lambda n: n.start)


def _implied_type(code: str) -> str | None:
    """The type a code implies when no type word is printed ("QH15" -> Luật)."""
    m = re.match(r"[A-ZĐ]+", code)
    return _data().raw.get("code_types", {}).get(m.group()) if m and m.end() == len(code.rstrip("0123456789")) \
        else None


def _numbered(text: str, owner: list[int]) -> list[_Hit]:
    hits: list[_Hit] = []
    for m in _numbers(text):
        code = m.code
        code_type = m.type or _code_type(code)
        kind, start, name = code_type, m.start, None
        prev = hits[-1] if hits else None
        found = _type_before(text, start, code_type)
        listed = _LIST_SEP.fullmatch(text, prev.end, start) if prev else None
        if found:
            kind, start, name = found
        elif prev and listed:  # "các Quyết định số 1291/QĐ-TTg, 1292/QĐ-TTg"
            kind, start = prev.type, listed.start("so") if listed.group("so") else start
        else:
            if not code_type and not set(_parts(code)) & _data().code_issuer.keys():
                continue  # "Mẫu số 01/TTHC": not an instrument number
            so = _SO_BEFORE.search(text, max(0, start - 6), start)
            start = so.start() if so else start
            if code_type and _starts_line(text, owner, start):
                start = _dangling_type(text, owner, start, code_type, prev.end if prev else 0) or start
        hit = _Hit(start, m.end, m.end, kind or _implied_type(code), m.id, number=m.num, year=m.year, code=code,
                   printed=m.printed)
        _read_tail(text, hit)
        if name and kind in _data().raw["named"]["types"] and not hit.title:
            hit.title = name  # "Luật Ban hành văn bản quy phạm pháp luật số 64/2025/QH15"
        hits.append(hit)
    for h, nxt in zip(reversed(hits[:-1]), reversed(hits[1:]), strict=True):
        # "Nghị quyết số 18-NQ/TW, Nghị quyết số 19-NQ/TW ngày 25/10/2017 của ...": both dated and issued
        if (h.date is None and h.issuer_source != "text" and h.type == nxt.type
                and _SHARED_SEP.fullmatch(text, h.end, nxt.start)):
            h.date = nxt.date
            if nxt.issuer_source == "text":
                h.issuer, h.issuer_source = nxt.issuer, "text"
    for intro in _patterns()["group_issuer"].finditer(text):
        # "các Kế hoạch của UBND tỉnh về ...: Kế hoạch số 226/KH-UBND ...; Kế hoạch số 195/KH-UBND ...":
        # the listed instruments of that type, up to the sentence's end, share the stated issuer
        end = _SENTENCE_END.search(text, intro.end())
        limit = end.start() if end else len(text)
        kind = _type_name(intro.group("type"))
        for h in hits:
            if intro.end() <= h.start < limit and h.issuer is None and h.type == kind:
                h.issuer, h.issuer_source = intro.group("who"), "text"
    for h in hits:
        if h.issuer is None:
            known = [p for p in _parts(h.code) if p in _data().code_issuer]
            h.issuer = _data().code_issuer[known[0]] if known else _data().type_issuer.get(h.type or "")
            h.issuer_source = "code" if h.issuer else None
    return hits


def _name_end(text: str, pos: int) -> int | None:
    """End of a law's proper name starting at `pos` ("Tiếp cận thông tin"), None when there is none."""
    end = None
    for i, tok in enumerate(re.finditer(r"[^\s,;.:()“”\"]+|\S", text[pos:pos + 200])):
        w, at = tok.group(), pos + tok.start()
        year = _NAME_YEAR.match(text, at)
        if year:
            return year.end()  # "Luật Ban hành VBQPPL năm 2025", "Hiến pháp năm 2013"
        if i == 0 and not (w[0].isupper() and w[0].isalpha()):
            return None
        if i > 0 and (not w[0].isalnum() or _patterns()["name_stop"].match(text, at)
                      or (w[0].isupper() and not w.isupper()) or w.isdigit() or i > 10):
            break
        end = pos + tok.end()
    return end


def _unnumbered(text: str, taken: list[_Hit]) -> list[_Hit]:
    """Named instruments without a number: laws by name, "Đề án 06"."""
    out: list[_Hit] = []
    starts = [h.start for h in taken]  # sorted; surfaces do not overlap

    def free(a: int, b: int) -> bool:  # not inside a numbered citation
        i = bisect.bisect_left(starts, b) - 1
        return i < 0 or taken[i].id_end <= a

    for m in _patterns()["named"].finditer(text):
        if re.search(r"(?:các|những) $", text[max(0, m.start() - 6):m.start()]):
            continue  # generic plural: "các Luật"
        amend = _AMENDING.match(text, m.end() + 1)  # "Luật sửa đổi, bổ sung một số điều của Luật ..."
        end = _name_end(text, amend.end() if amend else m.end() + 1)
        if end and free(m.start(), end) and not (out and out[-1].id_end > m.start()):
            kind = _data().canonical[fold(m.group())]
            out.append(_Hit(m.start(), end, end, kind, text[m.start():end], numbered=False,
                            issuer=_data().type_issuer.get(kind), issuer_source="code"))
    out += [_Hit(m.start(), m.end(), m.end(), "Đề án", m.group(), numbered=False)
            for m in _DE_AN.finditer(text) if free(m.start(), m.end())]
    return out


def find_citations(lines: Sequence[tuple[int, str]], doc: str) -> list[Citation]:
    """Every mention of a legal instrument in `lines`: (line number, text) pairs in reading order.

    Pass one cell's lines, a paragraph, or `document_lines(src)` for a whole
    document.  Numbered mentions inside another citation's title get `parent`.
    """
    text, owner = join_numbered(lines)
    if not text:
        return []
    hits = _numbered(text, owner)
    hits = sorted(hits + _unnumbered(text, hits), key=lambda h: h.start)
    out, open_titles = [], []  # titles of earlier citations that may still hold this one
    for h in hits:
        open_titles = [p for p in open_titles if p.title_span[1] > h.start]
        holders = [p for p in open_titles if p.title_span[0] <= h.start]
        parent = max(holders, key=lambda p: p.title_span[0]).id if holders else None
        if h.title_span[1]:
            open_titles.append(h)
        line = max(1, owner[h.start])
        span = Span(doc, line, max(line, owner[h.id_end - 1]))
        out.append(Citation(span=span, id=h.id, type=h.type, issuer=h.issuer, date=h.date, title=h.title,
                            surface=text[h.start:h.id_end], numbered=h.numbered, number=h.number,
                            year=h.year, code=h.code, issuer_source=h.issuer_source, parent=parent,
                            printed=h.printed))
    return out


def normalise_id(s: str) -> str:
    """An instrument id for comparison: case and Đ/D folded, spaces dropped ("118/2025/ND-CP")."""
    return fold(s).upper().replace(" ", "")


def same_number(a: str, b: str) -> bool:
    """Whether two ids name one instrument: equal, or equal but for a year printed in one only.

    A non-normative resolution prints "14/NQ-CP" in its header while collections file it as
    "14/2026/NQ-CP"; two different years never match.
    """
    ma, mb = (_ID_RE.fullmatch(squash(x)) for x in (a, b))
    if not (ma and mb):
        return normalise_id(a) == normalise_id(b)
    if (ma.group("year") and mb.group("year")) and ma.group("year") != mb.group("year"):
        return False
    return (ma.group("num").lstrip("0"), normalise_id(ma.group("code"))) == \
        (mb.group("num").lstrip("0"), normalise_id(mb.group("code")))


@dataclass(frozen=True)
class InstrumentRef:
    """An instrument named in a user query ("NĐ 118", "nghi dinh 118/2025", "ND-CP 118").

    `start`/`end` are offsets of the reference in the query.  A missing year or
    code is a wildcard in `matches`.
    """

    type: str | None
    number: str
    year: str | None
    code: str | None
    start: int
    end: int

    def matches(self, citation_id: str, citation_type: str | None = None) -> bool:
        """Whether a citation id (and type, when known) is the instrument this reference names."""
        m = _ID_RE.fullmatch(_key(squash(citation_id)))
        if not m or m.group("num").lstrip("0") != self.number.upper().lstrip("0"):
            return False
        if self.year and m.group("year") and self.year != m.group("year"):
            return False
        parts = set(_parts(m.group("code")))
        if self.code and not set(_parts(self.code)) <= parts:
            return False
        if self.type is None:
            return True
        if citation_type:
            return fold(citation_type) == fold(self.type)
        abbrs = _data().abbrs.get(self.type, frozenset())  # "NĐ 118" needs an NĐ code
        return not abbrs or bool(abbrs & parts)


@cache
def _query_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Patterns over a folded query: type then number, code then number, bare number with code or year."""
    kind = rf"(?<![a-z0-9])(?P<type>{_alt(list(_data().canonical))})(?![a-z])".replace(r"\ ", r"\s+")
    code = r"[a-z][a-z0-9]*(?:[-/][a-z][a-z0-9]*)*"
    ref = (rf"(?P<num>\d{{1,5}}[a-z]?)(?!\d)(?:\s*/\s*(?P<year>{_YEAR}))?(?:\s*[/-]\s*(?P<code>{code}))?"
           rf"(?:\s+nam\s+(?P<year2>{_YEAR}))?(?![a-z0-9])")
    return (re.compile(rf"{kind}\s*(?:so\s*:?\s*)?{ref}"),
            re.compile(rf"(?<![a-z0-9/])(?P<code>[a-z]+[-/]{code})\s+(?:so\s+)?(?P<num>\d{{1,5}})(?![0-9/])"),
            re.compile(rf"(?<![a-z0-9/.-]){ref}"))


def parse_reference(query: str) -> list[InstrumentRef]:
    """Instrument references in a loose user query, in order; [] when there is none.

    The query is folded (lower case, no diacritics, Đ -> D) one character at a
    time, so offsets in the folded text map back onto the query.
    """
    folded, where = [], []
    for i, ch in enumerate(query):
        f = fold(_LOOKALIKES.get(ch, ch))
        folded.append(f)
        where.extend([i] * len(f))
    text, found = "".join(folded), []
    typed, code_first, bare = _query_patterns()

    def add(m: re.Match[str], kind: str | None, year: str | None) -> None:
        a, b = where[m.start()], where[m.end() - 1] + 1
        if not any(r.start < b and a < r.end for r in found):
            code = query[where[m.start("code")]:where[m.end("code") - 1] + 1] if m.group("code") else None
            code = code.replace(" ", "") if code else None
            found.append(InstrumentRef(kind or _code_type(code or ""), m.group("num"), year, code, a, b))

    for m in typed.finditer(text):
        add(m, _data().canonical.get(m.group("type")), m.group("year") or m.group("year2"))
    for m in code_first.finditer(text):
        add(m, None, None)
    for m in bare.finditer(text):
        if m.group("code") or m.group("year"):
            add(m, None, m.group("year") or m.group("year2"))
    return sorted(found, key=lambda r: r.start)
