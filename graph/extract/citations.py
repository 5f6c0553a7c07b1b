"""Citations of legal instruments in document text, with their line spans.

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

The vocabulary (types, codes, issuers) is in instrument_terms.py; loose
references in user queries are read by references.py.
"""

from __future__ import annotations

import bisect
import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cchc.graph.extract.instrument_terms import (
    _ID_RE,
    _YEAR,
    _code_type,
    _data,
    _implied_type,
    _parts,
    _patterns,
    _type_name,
)
from cchc.graph.extract.ocr_ids import find_damaged, repair_assembly_code
from cchc.graph.extract.reading import SourceText, fold, squash
from cchc.graph.extract.records import Citation, Span

__all__ = ["document_lines", "find_citations", "front_matter_end", "join_numbered"]


# The repeated appendix-table header: layout, never part of a cell.
TABLE_HEADER_LINES = frozenset({"STT NỘI DUNG SẢN PHẨM", "CƠ QUAN", "CHỦ TRÌ", "PHỐI HỢP", "THỜI GIAN",
                                "THỰC HIỆN", "CƠ QUAN CHỦ TRÌ", "CƠ QUAN PHỐI HỢP", "THỜI GIAN THỰC HIỆN"})


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
# "điểm a khoản 2 Điều 3 của", "Điều 104 và Điều 105", "các Điều 5, 6": the articles a citation's number is read with
_ARTICLE_NO = r"\d{1,3}[a-z]?"
_LOCATOR = re.compile(rf"(?:(?:điểm [a-zđ]\d?|khoản \d{{1,2}}[a-z]?)(?:,| và|, và)? )*(?:các )?[ĐđD]iều {_ARTICLE_NO}"
                      rf"(?:(?:,| và|, và) (?:[ĐđD]iều )?{_ARTICLE_NO})*(?: của)? $")
_DE_AN = re.compile(r"(?<!\w)Đề án (\d{1,3})(?![\w/-])")


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


def _articles(m: re.Match[str] | None) -> tuple[str, ...]:
    if m is None:
        return ()
    words = m.group().split("iều ", 1)[1]  # the article numbers follow the first "Điều"
    return tuple(dict.fromkeys(re.findall(_ARTICLE_NO, words)))


def _locator_text(m: re.Match[str] | None) -> str | None:
    return re.sub(r" của $|\s+$", "", m.group()) if m else None


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
        locator = _LOCATOR.search(text, max(0, h.start - 120), h.start)
        out.append(Citation(span=span, id=h.id, type=h.type, issuer=h.issuer, date=h.date, title=h.title,
                            surface=text[h.start:h.id_end], numbered=h.numbered, number=h.number,
                            year=h.year, code=h.code, issuer_source=h.issuer_source, parent=parent,
                            printed=h.printed, articles=_articles(locator), locator=_locator_text(locator)))
    return out
