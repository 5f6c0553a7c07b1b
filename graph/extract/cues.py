"""What the citing document does with each instrument it cites, read from the words around the citation.

A document states its relations to other instruments in a few fixed turns of
phrase: its basis in the preamble ("Căn cứ Luật ... số 64/2025/QH15 được sửa
đổi, bổ sung bởi Luật số 87/2025/QH15;" - both are its basis), what it carries
out ("Thực hiện Nghị quyết số 76/NQ-CP ..."), and in its title and articles
what it amends, replaces, repeals or details ("Sửa đổi, bổ sung một số điều
của Nghị định số 168/2024/NĐ-CP", "Bãi bỏ toàn bộ Thông tư số 55/2010/TT-BTC",
"Nghị định số 141/2013/NĐ-CP ... hết hiệu lực kể từ ngày Nghị định này có
hiệu lực", "quy định chi tiết ... Luật ... số 125/2025/QH15").  Only what the
document says about itself counts: a cue must open its clause (or follow "...
ban hành Nghị định"), so a cited instrument's own title ("Nghị định số 79/2025
... được sửa đổi, bổ sung bởi ...", "TT 06/2015 — sửa đổi ... Thông tư số
02/2014") is a report, not a relation.  Copies from public collections add a
"CĂN CỨ PHÁP LÝ" list or metadata row: its instruments are the basis, and an
article headed "Bãi bỏ ..." over a numbered list repeals the instrument each
item opens with.  Cue words are matched on folded text (no diacritics), which
also reads OCR damage such as "Sửa đổi, bỗ sung".
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from cchc.graph.extract.citations import front_matter_end, join_numbered
from cchc.graph.extract.instrument_terms import reference_data
from cchc.graph.extract.reading import SourceText, fold
from cchc.graph.extract.records import Citation

__all__ = ["RELATIONS", "assign_relations"]

RELATIONS = ("based_on", "implements", "amends", "replaces", "repeals", "guides")

_TYPES = r"(?:nghi dinh|nghi quyet|thong tu(?: lien tich)?|quyet dinh|luat|bo luat|phap lenh|chi thi|ke hoach|van ban)"
# what may stand between a clause's start and a cue the document states about itself
_OPENER = re.compile(rf"\s*(?:[-+•*]\s*|\d+[.)]\s*|[a-zđ]\)\s*)?(?:dieu \d+[a-z]?\.?\s*)?"
                     rf"(?:[^;:]{{0,80}}?\bban hanh\s+)?(?:{_TYPES}(?:\s+nay)?\s+)?")
_PREFIX_CUES = (
    (re.compile(r"sua\s+do[iì]|bo\s+sung\s+mot\s+so"), "amends"),
    (re.compile(r"thay\s+the\b(?!\s+cum\s+tu)"), "replaces"),
    (re.compile(r"bai\s+bo\b"), "repeals"),
    (re.compile(r"quy\s+dinh\s+chi\s+tiet|huong\s+dan\s+thi\s+hanh|huong\s+dan\b"), "guides"),
)
_BASIS = re.compile(r"\s*(?:[-+•*]\s*)?can\s+cu\b(?!\s+phap)")
_IMPLEMENTS = re.compile(r"\s*(?:(?:de|nham)\s+)?(?:tiep\s+tuc\s+)?(?:thuc\s+hien|trien\s+khai)\b")
_OTHER_OPENER = re.compile(r"\s*(?:theo\s+de\s+nghi|xet\b|tren\s+co\s+so|bao\s+cao\s+so|to\s+trinh\s+so)")
# "... hết hiệu lực (thi hành) kể từ ngày [văn bản này] có hiệu lực", "... bị bãi bỏ"
_LAPSE = re.compile(r"het\s+hieu\s+luc(?:\s+thi\s+hanh)?\b[^;]*?\b(?:nay|ke\s+tu\s+ngay)\b|bi\s+bai\s+bo\b(?!\s+boi)")
_SELF = re.compile(rf"\b{_TYPES}\b")  # "Nghị định (này) quy định chi tiết ...": the document speaks of itself
_PASSIVE = re.compile(r"(?:duoc|da|bi)\s+$")
_BY = re.compile(r"\b(?:boi|tai)\s+$")  # "... được sửa đổi, bổ sung bởi Nghị định số ...": the amender, reported
_BLOCK_START = re.compile(r"^\s*(?:[*_]*(?:Căn cứ|Theo đề nghị|Thực hiện|Điều \d)|[-+•]\s|\d+[.)]\s|[a-zđ]\)\s|#|\|)",
                          re.I)
_HEADING = re.compile(r"^\s*(?:#{1,6}\s*(?P<md>.*)|(?P<art>Điều\s+\d+[a-z]?\..*)|(?P<ch>Chương\s+[IVXL]+\b.*))$")
_LIST_ITEM = re.compile(r"^\s*(?:[-+•]|\d+[.)]|[a-zđ]\))\s")
_LIST_LABEL = re.compile(r"^(\s*)[-+•*]\s+[*_]*([^:*_]{2,40})[*_]*:[*_]*\s*(.*)$")
_TABLE_ROW = re.compile(r"^\s*\|([^|]*)\|(.*)\|\s*$")
_BODY = re.compile(r"^[\s#*_]*(?:Điều 1\b|Chương I\b|I\.\s)")


def _fold(text: str) -> str:
    """fold() one character at a time, so offsets in the folded text are offsets in `text`."""
    out = []
    for ch in text:
        f = fold(ch)
        out.append(f[0] if f else " ")
    return "".join(out)


@dataclass
class _Block:
    """A run of lines read as one text: a paragraph, a list item, a heading, a table row."""

    lines: list[tuple[int, str]]
    scope: str | None = None  # relation forced on every citation (a "Căn cứ pháp lý" list or row)
    plain: bool = False  # a metadata row with no relation: no cue is read in it
    heading: bool = False


def _label_relation(label: str) -> str | None:
    """The relation a site's metadata label states ("Căn cứ pháp lý", "Văn bản bị bãi bỏ"), None for others.

    "Bị bãi bỏ bởi" names what repeals this document, and a site's "Thay thế" is ambiguous: neither counts.
    """
    f = _fold(label.strip(" *_:")).lower()
    if "boi" in f.split():
        return None
    if "can cu" in f:
        return "based_on"
    if "bai bo" in f:
        return "repeals"
    return None


def _blocks(src: SourceText) -> Iterator[_Block]:
    """The document's blocks after any front matter, with the scopes site sections and labels set."""
    section: str | None = None  # relation of a site section ("## CĂN CỨ PHÁP LUẬT")
    label: tuple[int, str] | None = None  # (indent, relation) of a "- **Căn cứ pháp lý:**" list
    cur: _Block | None = None
    for n, raw in src.numbered(front_matter_end(src) + 1):
        if not raw.strip() or raw.strip() == "---":
            if raw.strip() == "---":
                section = None
            if cur and (raw.strip() or cur.heading or cur.scope or cur.plain
                        or cur.lines[-1][1].rstrip(" *_").endswith((";", ".", ":"))):
                yield cur  # a blank line inside a sentence (PDF text) does not end the block
                cur = None
            continue
        head, row, lab = _HEADING.match(raw), _TABLE_ROW.match(raw), _LIST_LABEL.match(raw)
        indent = len(raw) - len(raw.lstrip())
        if label and (indent <= label[0] or not _LIST_ITEM.match(raw)):
            label = None
        if head and head.group("md") is not None:
            section = "based_on" if "can cu phap" in _fold(head.group("md")).lower() else None
        if cur and not (head or row or lab or _BLOCK_START.match(raw)):
            cur.lines.append((n, raw))
            continue
        if cur:
            yield cur
        cur = _Block([(n, raw)], heading=bool(head))
        if row:
            rel = _label_relation(row.group(1))
            cur.scope, cur.plain = rel, len(row.group(1)) < 60 and not rel
        elif lab and (rel := _label_relation(lab.group(2))):
            cur.scope, label = rel, (indent, rel)
        elif label:
            cur.scope = label[1]
        elif section and not head:
            cur.scope = section
        if head:
            yield cur
            cur = None
    if cur:
        yield cur


def _clauses(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    for i, ch in enumerate(text):
        if ch == ";" or (ch == "." and (i + 1 == len(text) or (text[i + 1] == " " and text[i + 2:i + 3].isupper()))):
            yield start, i
            start = i + 1
    if start < len(text):
        yield start, len(text)


def _place(text: str, cites: Sequence[Citation]) -> list[tuple[int, Citation]]:
    out, pos = [], 0
    for c in cites:
        at = text.find(c.surface, pos)
        if at >= 0:
            out.append((at, c))
            pos = at + 1
    return out


class _Reader:
    """Walks the blocks in order, carrying a preamble cue over the clauses that continue its list."""

    def __init__(self, preamble_end: int) -> None:
        self.preamble_end = preamble_end
        self.carry: str | None = None  # "based_on" / "implements" of the last preamble cue
        self.heading_cue: str | None = None  # cue of an article heading ("Điều 1. Bãi bỏ ..."), for its list items
        self.lead_cue: str | None = None  # cue of a "...:" lead-in, for the list items right under it
        self.out: dict[int, str] = {}
        self.unfinished = False  # the last block ended mid-clause (PDF text with blank lines inside a sentence)
        self.scope_off = False  # a basis list went on to what is not the basis ("Trên cơ sở ...", "Theo đề nghị ...")

    def block(self, b: _Block, cites: list[Citation]) -> None:
        text, _ = join_numbered(b.lines)
        folded = _fold(text).lower()
        placed = _place(text, cites)
        if b.heading:
            self.carry, self.lead_cue = None, None
            self.heading_cue = self._lead_cue(re.sub(r"^[#\s]*", "", folded))
        if b.scope:
            if _OTHER_OPENER.match(re.sub(r"^[\s\-+•*]*", "", folded)):
                self.scope_off = True  # "- Trên cơ sở xem xét các Tờ trình ...": the basis list has ended
            if not (b.scope == "based_on" and self.scope_off):
                for _, c in placed:
                    self.out[id(c)] = b.scope
            return
        self.scope_off = False
        if b.plain:
            return
        cue = self.lead_cue or self.heading_cue
        if cue and not b.heading and _LIST_ITEM.match(b.lines[0][1]):
            first = next(((at, c) for at, c in placed if c.parent is None), None)
            if first and first[0] <= 40:
                self.out[id(first[1])] = cue
        elif not b.heading:
            self.lead_cue = None
        go_on = self.unfinished and not b.heading and not _BLOCK_START.match(b.lines[0][1])
        for k, (a, z) in enumerate(_clauses(text)):
            self.clause(folded, a, z, [(at, c) for at, c in placed if a <= at < z], b.lines[0][0], go_on and k == 0)
        self.unfinished = not text.rstrip(" *_").endswith((";", ".", ":"))
        if text.rstrip(" *_").endswith(":") and not b.heading:
            self.lead_cue = self._lead_cue(folded)

    @staticmethod
    def _lead_cue(folded: str) -> str | None:
        for rx, rel in _PREFIX_CUES:
            m = rx.search(folded)
            if m and _OPENER.fullmatch(folded, 0, m.start()):
                return rel
        return None

    def clause(self, folded: str, a: int, z: int, placed: list[tuple[int, Citation]], line: int,
               go_on: bool = False) -> None:
        lead = a + len(folded[a:z]) - len(folded[a:z].lstrip(" ,*_"))
        in_preamble = line < self.preamble_end
        if go_on:
            pass  # the clause of the block before goes on: its cue still holds
        elif in_preamble and _BASIS.match(folded, lead):
            self.carry = "based_on"
        elif in_preamble and _IMPLEMENTS.match(folded, lead):
            self.carry = "implements"
        elif not (placed and re.fullmatch(r"[\s,*_]*(?:va\s+)?", folded[lead:placed[0][0]])) or \
                _OTHER_OPENER.match(folded, lead):
            self.carry = None
        if self.carry and in_preamble:
            for _, c in placed:
                self.out[id(c)] = self.carry
            return
        top = [(at, c) for at, c in placed if c.parent is None]
        for rx, rel in _PREFIX_CUES:
            for m in rx.finditer(folded, lead, z):
                if _PASSIVE.search(folded, max(lead, m.start() - 8), m.start()):
                    continue
                if not _OPENER.fullmatch(folded, lead, m.start()):
                    continue
                if rel == "guides" and not (in_preamble or _SELF.search(folded, lead, m.start())):
                    continue  # "a) Hướng dẫn thực hiện Quyết định số ..." in a list of duties is no relation
                for at, c in top:
                    if at >= m.end() and not _BY.search(folded, max(lead, at - 12), at):
                        self.out.setdefault(id(c), rel)
        lapse = None if in_preamble else _LAPSE.search(folded, lead, z)
        if lapse:
            for at, c in top:
                if at < lapse.start():
                    self.out.setdefault(id(c), "repeals")


def _preamble_end(src: SourceText) -> int:
    start = front_matter_end(src) + 1
    return next((n for n, line in src.numbered(start) if _BODY.match(line)), len(src.lines) + 1)


def assign_relations(src: SourceText, citations: Sequence[Citation]) -> list[Citation]:
    """`citations` (of the whole of `src`) with `relation` set where the text states one."""
    by_line: dict[int, list[Citation]] = {}
    for c in citations:
        by_line.setdefault(c.span.line, []).append(c)
    reader = _Reader(_preamble_end(src))
    for b in _blocks(src):
        cites = [c for n, _ in b.lines for c in by_line.get(n, ())]
        reader.block(b, cites)
    # only numbered instruments are related: a law named without its number is a mention of a name;
    # a proposal or report ("Tờ trình số ...") is never the basis
    skip = set(reference_data()["relations"]["not_basis_types"])
    return [replace(c, relation=rel) if (rel := reader.out.get(id(c))) and c.numbered
            and not (rel == "based_on" and c.type in skip) else c for c in citations]
