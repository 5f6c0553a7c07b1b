"""A document's own identity: its number, type, issuer, date of issue and title.

Each field is read from the most trustworthy place that prints it: the
document's own header ("Số: 97/2026/TT-BTC", the organ above "CỘNG HÒA XÃ HỘI
CHỦ NGHĨA VIỆT NAM", the type word line with the title under it, "Hà Nội, ngày
06 tháng 7 năm 2026"), then the metadata a public collection adds to its
Markdown copies (a "THÔNG TIN VĂN BẢN" table or list, YAML front matter), then
the site's heading ("# Thông tư 97/2026/TT-BTC"), and last what the number's
code implies (TT-BTC: a Thông tư of the Bộ Tài chính).  Copies differ in what
they keep, so every field falls back independently, and `sources` says where
each one came from.  Labels and keys are reference data (data/instruments.toml).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

from cchc.graph.corpus import DocumentInfo
from cchc.graph.extract.citations import find_citations, front_matter_end
from cchc.graph.extract.instrument_terms import canonical_issuer, code_issuer, code_type, reference_data, type_of_word
from cchc.graph.extract.reading import SourceText, fold, squash
from cchc.graph.extract.records import Identity
from cchc.graph.extract.references import normalise_id

__all__ = ["Identity", "read_identity"]

_MARKUP = re.compile(r"[*_#>`]+")
_REPUBLIC = re.compile(r"CỘNG HÒA XÃ HỘI CHỦ NGHĨA|CỘNG HOÀ XÃ HỘI CHỦ NGHĨA", re.I)
_NUMBER_LINE = re.compile(r"^(?:(?:Luật|Bộ luật|Pháp lệnh|Nghị quyết)\s+số\s*:|Số\b\s*:?)\s*(?=\S)", re.I)
# "Hà Nội, ngày 06 tháng 7 năm 2026", also after the number on the same line ("Số: ... — Hà Nội, ngày ...")
_PLACE_DATE = re.compile(r"(?:^|(?<=[\s—–-]))\w[^\d,;:|—–]{1,40},\s*ngày\s*(\d{1,2})\s*"
                         r"(?:tháng\s*(\d{1,2})\s*năm\s*(\d{4})|[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4}))")
_BODY_START = re.compile(r"^(?:Căn cứ|Thực hiện|Điều 1\b|Chương I\b|I\.\s)", re.I)
_TITLE_STOP = re.compile(r"^(?:Căn cứ|Theo đề nghị|Thực hiện|Điều \d|Số\s*:|---|\||#)", re.I)
_LOCAL_ORGAN = re.compile(r"(ỦY BAN NHÂN DÂN|UỶ BAN NHÂN DÂN|UBND|HỘI ĐỒNG NHÂN DÂN|HĐND)\s+"
                          r"(TỈNH|THÀNH PHỐ|HUYỆN|QUẬN|THỊ XÃ|XÃ|PHƯỜNG|THỊ TRẤN)\s+(\S.{0,40})")
_PASSED = re.compile(r"thông qua ngày\s*(\d{1,2})\s*tháng\s*(\d{1,2})\s*năm\s*((?:19|20)\d\d)", re.I)
_VV = re.compile(r"^V/v\.?\s*(.+)$", re.I)
_TABLE_ROW = re.compile(r"^\|([^|]+)\|([^|]+)\|")
_LIST_FIELD = re.compile(r"^[-*+]\s+([^:]{2,40}):\s*(.*)$")
_YAML_FIELD = re.compile(r"^([A-Za-z][\w-]*)\s*:\s*(.*)$")
_SECTION = re.compile(r"^#{1,4}\s*(.+)$")


def _plain(line: str) -> str:
    return squash(_MARKUP.sub(" ", line)).strip(" :")


def _key(label: str) -> str:
    return " ".join(fold(_plain(label)).replace("-", " ").replace("_", " ").split())


def _iso(text: str | None) -> str | None:
    """An ISO date from "2026-06-26", "30/03/2026", "20/6/2026 (cùng ngày ký)" or "ngày 06 tháng 7 năm 2026"."""
    if not text:
        return None
    text = squash(text)
    m = re.search(r"((?:19|20)\d\d)-(\d{1,2})-(\d{1,2})", text)
    if m:
        y, mo, d = m.groups()
    else:
        m = re.search(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*((?:19|20)\d\d)", text) or \
            re.search(r"(\d{1,2})\s*tháng\s*(\d{1,2})\s*năm\s*((?:19|20)\d\d)", text, re.I)
        if not m:
            return None
        d, mo, y = m.groups()
    try:
        return datetime.date(int(y), int(mo), int(d)).isoformat()
    except ValueError:
        return None


def _front_matter(src: SourceText, end: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for _, line in src.numbered(2, end - 1) if end else ():
        m = _YAML_FIELD.match(line)
        if m and m.group(2).strip():
            out.setdefault(_key(m.group(1)), m.group(2).strip().strip("\"'"))
    return out


def _metadata(src: SourceText, start: int) -> dict[str, tuple[int, str]]:
    """A site's metadata rows: folded label -> (line, value), first occurrence."""
    out: dict[str, tuple[int, str]] = {}
    for n, line in src.numbered(start):
        s = line.strip()
        m = _TABLE_ROW.match(s) or _LIST_FIELD.match(_MARKUP.sub("", s).strip() if s[:1] in "-*+" else "")
        if m and _plain(m.group(2)) and not set(_plain(m.group(2))) <= set("-—: "):
            out.setdefault(_key(m.group(1)), (n, _plain(m.group(2))))
    return out


def _field(table: dict[str, Any], name: str) -> Any:
    for label in reference_data()["identity"][name]:
        if label in table:
            return table[label]
    return None


def _first_number(doc: str, n: int, text: str) -> tuple[str, str | None] | None:
    """(id, type as printed before it) of the first numbered citation in one line of text."""
    cites = [c for c in find_citations([(n, text)], doc) if c.numbered]
    return (cites[0].id, cites[0].type) if cites else None


@dataclass
class _Head:
    """What the document's own header prints."""

    number: tuple[int, str, str | None] | None = None  # (line, id, type) from "Số: ..."
    organ: str | None = None
    type: str | None = None
    title: str | None = None
    date: str | None = None
    type_line: int | None = None


def _organ(lines: list[tuple[int, str]], i: int) -> str | None:
    """The issuing organ printed left of (or above) the "CỘNG HÒA ..." line at index i."""
    text = lines[i][1]
    before = _plain(_REPUBLIC.split(text)[0])
    candidates = [before] if before else [_plain(t) for _, t in reversed(lines[max(0, i - 3):i])]
    for cand in candidates:
        for part in (cand, *re.split(r"\s{2,}|\s-\s|\|", cand)):
            name = canonical_issuer(part) or _local_organ(part)
            if name:
                return name
    return None


def _local_organ(text: str) -> str | None:
    """"ỦY BAN NHÂN DÂN TỈNH LẠNG SƠN" -> "Ủy ban nhân dân tỉnh Lạng Sơn": a local organ as it is written."""
    m = _LOCAL_ORGAN.fullmatch(text.strip(" *_"))
    if not m or not text.isupper():
        return None
    body, level, place = (m.group(i) or "" for i in (1, 2, 3))
    body = body.capitalize() if not body.isascii() or len(body) > 5 else body  # "UBND", "HĐND" stay
    return f"{body} {level.lower()} {place.title()}".strip()


def _read_head(src: SourceText, start: int) -> _Head:
    head = _Head()
    lines = [(n, t) for n, t in src.numbered(start) if t.strip()]
    for i, (n, raw) in enumerate(lines):
        text = _plain(raw)
        if _BODY_START.match(text):
            break
        if head.organ is None and _REPUBLIC.search(raw):
            head.organ = _organ(lines, i)
        if head.number is None and not raw.lstrip().startswith("#") and _NUMBER_LINE.match(text):
            found = _first_number(src.doc, n, text)
            head.number = (n, found[0], found[1]) if found else (n, "", None)
        if head.date is None:
            m = next((m for m in _PLACE_DATE.finditer(text) if m.group()[0].isupper()), None)
            head.date = _iso(m.group()) if m else None
        vv = _VV.match(text)
        if vv and head.type is None:
            head.type, head.title, head.type_line = "Công văn", vv.group(1), n
        if head.title is None and (kind := type_of_word(text)) and text.upper() == text and len(text) < 40:
            if head.type is None:  # a site may repeat the type word as its heading: the first gives the type,
                head.type, head.type_line = kind, n
            if kind == head.type:  # the one with the trích yếu under it gives the title
                head.title = _title_after(lines, i + 1, src)
    return head


def _title_after(lines: list[tuple[int, str]], i: int, src: SourceText) -> str | None:
    """The trích yếu under the type word: the next lines up to a blank line or the body."""
    parts: list[str] = []
    prev = lines[i - 1][0]
    for n, raw in lines[i:i + 8]:
        text = _plain(raw)
        # a blank line ends the title unless the next line goes on with the sentence ("... quyền hạn" / "và cơ cấu")
        if _TITLE_STOP.match(raw.strip()) or _TITLE_STOP.match(text) or (parts and n > prev + 1
                                                                          and not text[:1].islower()):
            break
        if not text or set(text) <= set("-—_ "):
            break
        parts.append(text)
        prev = n
    return " ".join(parts) or None


def _heading_title(src: SourceText, start: int) -> tuple[int, str, str | None, str | None] | None:
    """The site heading "# Thông tư 97/2026/TT-BTC": (line, id, type, the bold or capitals line under it)."""
    lines = [(n, t) for n, t in src.numbered(start) if t.strip()]
    for i, (n, raw) in enumerate(lines):
        if not raw.startswith("#"):
            continue
        found = _first_number(src.doc, n, _plain(raw))
        if not found:
            continue
        title = None
        if i + 1 < len(lines):
            nxt = lines[i + 1][1].strip()
            text = _plain(nxt)
            if text and not nxt.startswith(("#", "|", "---", "-")) and (nxt.startswith("**") or text.isupper()):
                title = text
        return n, found[0], found[1], title
    return None


def _summary(src: SourceText, start: int) -> str | None:
    """The first sentence of a site's "TRÍCH YẾU" section, without a leading type word."""
    lines = list(src.numbered(start))
    for i, (_, raw) in enumerate(lines):
        m = _SECTION.match(raw.strip())
        if m and _key(m.group(1)) == "trich yeu":
            for _, nxt in lines[i + 1:i + 6]:
                text = _plain(nxt)
                if text:
                    first = re.split(r"\.(?:\s|$)", text)[0]
                    words = first.split(" ", 2)
                    for k in (2, 1):
                        if len(words) > k and type_of_word(" ".join(words[:k])):
                            return " ".join(words[k:])
                    return first
    return None


def _title_from_name(name: str | None, ident: str | None) -> str | None:
    """A collection's title field minus the leading "Nghị định 91/2026/NĐ-CP - "."""
    if not name:
        return None
    name = squash(name)
    if ident:
        at = normalise_id(name).find(normalise_id(ident))
        if at >= 0:
            # the folded form keeps offsets where spaces are not dropped: find the printed id instead
            m = re.search(re.escape(ident).replace("/", r"\s*/\s*"), name)
            if m:
                name = name[m.end():]
    name = name.strip(" -–—:")
    if name.startswith("của ") and ": " in name:  # "của Ủy ban Thường vụ Quốc hội: Điều chỉnh ..."
        name = name.split(": ", 1)[1]
    return name or None


def _first_line(src: SourceText, start: int, ident: str | None, fallback: int) -> int:
    if ident:
        want = normalise_id(ident)
        for n, line in src.numbered(start):
            if want in normalise_id(line):
                return n
    return fallback


def read_identity(src: SourceText, kind: str, header: dict[str, Any] | None = None,
                  info: DocumentInfo | None = None) -> Identity:
    """The identity of one document of `kind` ("instrument", "plan" or "appendix")."""
    fm_end = front_matter_end(src)
    start = fm_end + 1
    yaml, meta, head = _front_matter(src, fm_end), _metadata(src, start), _read_head(src, start)
    heading = _heading_title(src, start)
    sources: dict[str, str] = {}

    def pick(name: str, *options: tuple[str, Any]) -> Any:
        for where, value in options:
            if value:
                sources[name] = where
                return value
        return None

    meta_value = {k: (v[1] if v else None) for k in ("number", "type", "issuer", "date", "title")
                  for v in [_field(meta, k)]}
    parent = (header or {}).get("parent_plan") if kind == "appendix" else None
    yaml_number = _first_number(src.doc, 1, _field(yaml, "number") or "")
    title_number = _first_number(src.doc, 1, _field(yaml, "title") or "")
    ident = pick("id", ("header", head.number[1] if head.number else None),
                 ("metadata", (_first_number(src.doc, 1, meta_value["number"] or "") or (None,))[0]),
                 ("front-matter", yaml_number[0] if yaml_number else None),
                 ("heading", heading[1] if heading else None),
                 ("front-matter title", title_number[0] if title_number else None),
                 ("appendix header", parent["id"] if parent else None))
    printed_type = next((t for found in (head.number and head.number[1:], heading and heading[1:3]) if found
                         for t in [found[1]] if found[0] == ident and t), None)
    typ = pick("type", ("header", head.type), ("metadata", type_of_word(meta_value["type"] or "")),
               ("front-matter", type_of_word(_field(yaml, "type") or "")), ("number", printed_type),
               ("manifest", info.type if info else None), ("appendix", "Phụ lục" if kind == "appendix" else None),
               ("code", code_type(ident.split("/")[-1]) if ident else None))
    code = re.split(r"\d+/", ident)[-1] if ident else ""
    issuer = pick("issuer", ("header", head.organ),
                  ("metadata", meta_value["issuer"]), ("front-matter", _field(yaml, "issuer")),
                  ("manifest", info.issuer if info else None),
                  ("appendix header", parent.get("issuer") if parent else None),
                  ("code", code_issuer(code) if ident else None),
                  ("type", reference_data_issuer(typ)))
    passed = next((m for _, line in src.numbered(start) if (m := _PASSED.search(line))), None)
    date = pick("date", ("appendix header", parent.get("date") if parent else None),  # dated by its plan
                ("header", head.date), ("metadata", _iso(meta_value["date"])),
                ("passed", _iso(passed.group()) if passed else None),
                ("front-matter", _iso(_field(yaml, "date"))))
    title = pick("title", ("header", head.title), ("heading", heading[3] if heading else None),
                 ("metadata", meta_value["title"]), ("summary", _summary(src, start)),
                 ("front-matter", _title_from_name(_field(yaml, "title"), ident)),
                 ("manifest", info.title if info else None))
    line = _first_line(src, start, ident, head.type_line or start)
    return Identity(src.doc, ident, typ, issuer, date, title, line, kind, sources,
                    part_of=parent["id"] if parent else None)


def reference_data_issuer(typ: str | None) -> str | None:
    """Who issues every instrument of a type (a Nghị định: the Chính phủ), from the reference data."""
    return next((t.get("issuer") for t in reference_data()["types"] if t["name"] == typ), None)
