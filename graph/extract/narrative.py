"""Narrative plans: header, heading tree, paragraph units and the tasks they state.

Plans come in two shapes: PDF-extracted text wrapped every ~80 characters with a
blank line after each physical line, and one paragraph per long line.  Blank
lines therefore never end a paragraph; a unit starts at a marker ("I.", "1.2.",
"(1)", "a)", "-", "+", "*"), at an all-caps heading, or where the previous line
ends a sentence (or stops short of the wrap width) and the next starts with a
capital.  A unit keeps the line its marker is on: search anchors answers there.

Tasks come from the "NHIỆM VỤ, GIẢI PHÁP" section.  The PAPI plan's blocks
("Cơ quan chủ trì tham mưu:" / "Cơ quan thực hiện:" / "Nhiệm vụ, giải pháp:")
give lead and cooperating agencies; elsewhere the lead is the agency an item
names as its subject, else the one "TỔ CHỨC THỰC HIỆN" makes chủ trì (or tham
mưu) of the item's reform area.

Kept as one module (~430 lines) on purpose: unit boundaries, the heading tree
and the task rules read the same lines and markers; split, each half would
re-derive them.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from cchc.graph.extract.reading import SourceText, fold, join_lines, squash
from cchc.graph.extract.records import Span, Task, Unit

__all__ = ["MAX_UNIT_CHARS", "NarrativeResult", "extract_narrative", "line_of_offset", "page_noise_lines",
           "split_agencies"]

MAX_UNIT_CHARS = 1200  # longer units are cut at sentence ends so search hits stay focused
_PATH_CHARS = 200  # ancestor texts in heading_path are cut to this length

_ROMAN = re.compile(r"^((?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3}))(?:\.\s+(?=\S)|\s*[-–]\s+(?=[^\W\d_a-zđ]))")
_DEC = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.\s+(?=\S)")
_PAREN = re.compile(r"^\(?(\d{1,2})\)\s*(?=\S)")
_LETTER = re.compile(r"^([a-zđ])[.)]\s+(?=\S)")
_BULLET = re.compile(r"^([-–+•●▪\uf0b7\uf0a7])\s*(?=\S)|^(\*)\s+(?=\S)")  # \uf0b7: Symbol-font bullet
_BULLETS = dict.fromkeys("-–", "dash") | {"+": "plus"} | dict.fromkeys("*•●▪\uf0b7\uf0a7", "star")
_RANKS = {"dash": 8, "plus": 9, "star": 10}
# Words a wrapped line can end on but a heading cannot ("... theo Thông tư số 04/2012/TT-BNV và").
_GLUE = frozenset("và của theo với các những cho trong về tại để đến từ hoặc là được có số ngày năm tháng "
                  "thuộc trên dưới bằng qua do nhằm khi như hay mà giữa sau trước".split())
_NOISE = re.compile(r"^\s*(?:[-–]?\s*\d{1,3}\s*[-–]?|https?://\S+|Trang\s+\d+(?:\s*/\s*\d+)?)?\s*$")
_TERMINAL = re.compile(r"[.!?:…][\"”’)\]]*$")
_ENDS_SENTENCE = re.compile(r"[.;!?…][\"”’)\]]*$")
_BODY_OPENING = re.compile(r"^(?:Căn cứ|Thực hiện|Triển khai|Năm \d{4}|Để |Nhằm|Theo |Trên cơ sở)")
_PLACE_DATE = re.compile(r"^(?P<place>[^,\d]{2,40}),\s*ngày\b")
_DATE = re.compile(r"ngày\s*(\d{1,2})?\s*tháng\s*(\d{1,2})?\s*năm\s*(\d{4})")
_DOC_TYPE = re.compile(r"^(KẾ HOẠCH|QUYẾT ĐỊNH|CHƯƠNG TRÌNH|BÁO CÁO|CHỈ THỊ|ĐỀ ÁN)\b")
_MOTTO = re.compile(r"^(?:CỘNG HÒA|CỘNG HOÀ|Độc lập)")
_CLOSING = re.compile(r"^(?:Nơi nhận\s*:?|(?:TM|KT|TL|Q)\.\s+\S|(?:PHÓ )?CHỦ TỊCH$)")
# Agency heads that start a new agency after "," (the dev-gold convention).
_HEAD = (r"(?:UBND|Ủy ban|Uỷ ban|Sở|Văn phòng|Thanh tra|Đài|Báo|Cổng|Công an|Cục|Kho bạc|Bưu điện|"
         r"Hiệp [Hh]ội|Trung tâm|Phòng|Hội đồng|[Cc]ác (?:[Ss]ở|cơ quan))\b")
_SPLIT = re.compile(r",\s+(?=" + _HEAD + r")|\s+và\s+(?=Sở\b)")
_SUBJECT = re.compile(r"^(?:[Cc]ác\s+)?(?:" + _HEAD + r"|Ban(?! hành)\b|Tổ(?! chức)\b|Trường\b|Bộ\b)")
_VERB = re.compile(r"\s(?:chủ trì|chịu trách nhiệm|có trách nhiệm|thực hiện|tăng cường|chỉ đạo|hướng dẫn|"
                   r"phối hợp|tiếp tục|tham mưu|thường xuyên|triển khai|tập trung|cập nhật|kiểm tra|nâng cao|"
                   r"làm đầu mối|theo chức năng|theo dõi|giao|tổ chức|xây dựng|rà soát|đôn đốc|quyết liệt|"
                   r"căn cứ|là cơ quan|được giao|cần|phải)\b|:\s+(?=[a-zđ])")
_GIVEN = re.compile(r"\bgiao\s+(" + _HEAD + r"[^,;.:]*?)\s+chủ trì")
_LABEL_LEAD = re.compile(r"^Cơ quan chủ trì(?:\s+tham mưu)?\s*:\s*", re.I)
_LABEL_COOP = re.compile(r"^Cơ quan (?:thực hiện|phối hợp)\s*:\s*", re.I)
_LABEL_TASKS = re.compile(r"^Nhiệm vụ,?\s*giải pháp\s*:\s*", re.I)
_TIMELINE = re.compile(r"^Thời gian (?:hoàn thành|thực hiện)\s*:\s*(.+?)(?:[,;.]|$)")
# Reform areas (folded text) linking a NHIỆM VỤ heading to the agency TỔ CHỨC THỰC HIỆN puts in charge.
_AREAS = {"chi_dao": r"chi dao,? dieu hanh", "the_che": r"cai cach the che",
          "tthc": r"cai cach (?:thu tuc hanh chinh|tthc)|kiem soat thu tuc",
          "bo_may": r"(?:to chuc|cai cach) bo may", "cong_vu": r"che do cong vu",
          "tai_chinh": r"tai chinh cong", "cq_so": r"chinh quyen (?:dien tu|so)"}


@dataclass
class NarrativeResult:
    """Units, tasks and header of one narrative plan, plus what could not be read cleanly."""

    units: list[Unit] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    header: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Node:
    kind: str  # "roman", "caps", "dec1".."dec4", "paren", "letter", "dash", "plus", "star", "para"
    rank: float  # nesting order used when a marker kind is not open yet
    marker: str
    lines: list[tuple[int, str]]  # (line number, squashed text)
    parent: int = -1
    children: list[int] = field(default_factory=list)
    heading: bool = False

    @property
    def text(self) -> str:
        return join_lines(s for _, s in self.lines)

    @property
    def body(self) -> str:
        return self.text[len(self.marker):].strip()


def page_noise_lines(src: SourceText) -> set[int]:
    """Lines with no plan text: blank, lone page numbers, bare link URLs left by the PDF export.

    For narrative documents only: in appendix tables a lone number is usually a row's STT.
    """
    return {n for n, line in src.numbered() if _NOISE.match(line)}


def split_agencies(text: str) -> tuple[str, ...]:
    """Agencies as printed, split on ";" always and on "," only before a new agency head.

    Set phrases ("Các sở, ban, ngành", "UBND các huyện, thành phố") stay whole because
    nothing after their commas is an agency head.
    """
    parts = (p.strip(" .,:") for part in squash(text).split(";") for p in _SPLIT.split(part))
    return tuple(p for p in parts if p)


def _marker(s: str) -> tuple[str, str, float] | None:
    """(marker as printed, kind, rank) when the line starts an item, bullet or all-caps heading."""
    if (m := _ROMAN.match(s)) and m.group(1):
        return s[:m.end()].strip(), "roman", 1
    if m := _DEC.match(s):
        depth = m.group(1).count(".") + 1
        return m.group(1) + ".", f"dec{depth}", 1 + depth
    if m := _PAREN.match(s):
        return s[:m.end()].strip(), "paren", 6
    if m := _LETTER.match(s):
        return s[:m.end()].strip(), "letter", 7
    if m := _BULLET.match(s):
        kind = _BULLETS[m.group(1) or m.group(2)]
        return m.group(1) or m.group(2), kind, _RANKS[kind]
    return ("", "caps", 0) if _is_caps(s) else None


def _is_numbered(kind: str) -> bool:
    return kind in ("roman", "caps", "paren", "letter") or kind.startswith("dec")


def _is_caps(s: str) -> bool:
    letters = [c for c in s if c.isalpha()]
    return len(letters) >= 6 and len(s.split()) >= 2 and len(s) <= 120 and all(c.isupper() for c in letters)


def _parse_header(src: SourceText, noise: set[int]) -> tuple[dict[str, Any], int]:
    """Read the first lines (number, place/date, issuer, document type, title) up to the body."""
    header: dict[str, Any] = {}
    title: list[str] = []
    body = len(src.lines) + 1
    for n, line in src.numbered():
        s = squash(line)
        if n in noise or _MOTTO.match(s):
            continue
        if _BODY_OPENING.match(s) or ((mk := _marker(s)) and mk[1] != "caps"):
            body = n
            break
        if re.match(r"^Số\s*:", s):
            header["number"] = s
        elif (pd := _PLACE_DATE.match(s)) and len(s) < 80:
            header["place_date"], header["place"] = s, pd.group("place").strip()
            if d := _DATE.search(s):
                day, month, header["year"] = d.groups()
                header["date"] = f"{d[3]}-{int(month):02d}-{int(day):02d}" if day and month else None
        elif m := _DOC_TYPE.match(s):
            header["doc_type"] = m.group(1)
            title += [s[m.end():].strip()] if s[m.end():].strip() else []
        elif _is_caps(s) and "doc_type" not in header:
            header["issuer"] = join_lines([header.get("issuer", ""), s])
        elif "doc_type" in header and len(title) < 4 and len(s) < 200:
            title.append(s)
        else:
            body = n
            break
    if title:
        header["title"] = join_lines(title)
    return header, body


def _parse_closing(src: SourceText, start: int, noise: set[int]) -> dict[str, Any]:
    """Signature lines ("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH") and signer: kept out of the units."""
    lines = [squash(src.line(n)) for n in range(start, len(src.lines) + 1) if n not in noise]
    signature = [s for s in lines if (_CLOSING.match(s) or _is_caps(s)) and not s.startswith("Nơi nhận")]
    signer = lines[-1] if signature and lines[-1] not in signature and len(lines[-1].split()) <= 6 else None
    return {"closing_line": start, "signature": signature, "signer": signer}


def _starts_new(node: _Node, s: str, width: float) -> bool:
    """Whether an unmarked line starts a new paragraph instead of continuing `node`."""
    first = s.lstrip("“\"‘'([")[:1]
    if not first.isalpha() or first.islower():
        return False
    if width > 120:  # one paragraph per line: only a lower-case start continues it
        return True
    prev, word = node.lines[-1][1], re.sub(r"\W", "", s.split()[0])
    if _TERMINAL.search(prev) and s.startswith("("):  # "(Chi tiết ... kèm theo)" notes stand alone
        return True
    if _TERMINAL.search(prev) or (prev.endswith(")") and node.text.startswith("(")):
        # a sentence that ends right at the wrap width usually goes on in the same item
        return not (len(prev) >= 0.9 * width and prev.endswith(".") and node.kind != "para")
    if len(prev) < 0.7 * width:  # the previous line stopped short of the wrap width: a title ended
        return True
    if len(word) > 1 and word.isupper():  # an acronym (CCHC, UBND) continues the sentence
        return False
    last = prev.split()[-1]
    if last[:1].isupper() or last[:1].isdigit() or last.lower() in _GLUE:  # "xã Tân"+"Đoàn", "và"+"Thông tư"
        return False
    return _is_numbered(node.kind) and not re.search(r"[.;:!?]", node.body) and len(node.body) <= 250


def _blocks(src: SourceText, start: int, end: int, noise: set[int]) -> list[_Node]:
    """Group the body lines start..end into marked items and paragraphs."""
    content = [(n, squash(src.line(n))) for n in range(start, end + 1) if n not in noise]
    lengths = sorted(len(s) for _, s in content) or [80]
    width = float(lengths[int(0.8 * (len(lengths) - 1))])  # PDF wrap width; long for one-line paragraphs
    nodes: list[_Node] = []
    for n, s in content:
        if mk := _marker(s):
            nodes.append(_Node(mk[1], mk[2], mk[0], [(n, s)]))
        elif not nodes or _starts_new(nodes[-1], s, width):
            nodes.append(_Node("para", 99, "", [(n, s)]))
        else:
            nodes[-1].lines.append((n, s))
    return nodes


def _holds_paragraph(node: _Node) -> bool:
    """A paragraph after `node` belongs to it when `node` reads as a heading or an intro ending in ':'."""
    if node.kind in ("roman", "caps"):
        return True
    if node.kind.startswith("dec"):
        return not _ENDS_SENTENCE.search(node.text)
    return node.text.endswith(":")


def _build_tree(nodes: list[_Node]) -> None:
    """Parent links: a marker kind already open is a sibling; otherwise nest, popping deeper ranks."""
    stack: list[int] = []
    for i, node in enumerate(nodes):
        if node.kind == "para":
            while stack and not _holds_paragraph(nodes[stack[-1]]):
                stack.pop()
        else:
            same = [k for k, j in enumerate(stack) if nodes[j].kind == node.kind]
            del stack[same[-1] if same else len(stack):]
            while stack and nodes[stack[-1]].rank >= node.rank:
                stack.pop()
        node.parent = stack[-1] if stack else -1
        if stack:
            nodes[stack[-1]].children.append(i)
        if node.kind != "para":
            stack.append(i)
    for node in nodes:
        body = node.body
        node.heading = node.kind in ("roman", "caps") or bool(
            node.children and (not body.endswith(".") or len(body) <= 120))


def _ancestors(nodes: list[_Node], i: int) -> list[int]:
    chain: list[int] = []
    while (i := nodes[i].parent) >= 0:
        chain.append(i)
    return chain[::-1]


def _path(nodes: list[_Node], chain: list[int]) -> tuple[str, ...]:
    short = [nodes[a].text for a in chain]
    return tuple(t if len(t) <= _PATH_CHARS else t[:_PATH_CHARS].rsplit(" ", 1)[0] + "…" for t in short)


def _chunks(text: str) -> list[tuple[int, str]]:
    """Cut a long text at sentence ends (else at ';', else at a space) into pieces of MAX_UNIT_CHARS."""
    cuts = [m.end() for m in re.finditer(r"[.!?…][\"”)]?\s+(?=[\"“(]?[^\W_a-zđ])|;\s+", text)]
    out, start = [], 0
    while len(text) - start > MAX_UNIT_CHARS:
        limit = start + MAX_UNIT_CHARS
        best = max((c for c in cuts if start + MAX_UNIT_CHARS // 3 < c <= limit), default=None)
        best = best or text.rfind(" ", start + 1, limit) + 1 or limit
        out.append((start, text[start:best].strip()))
        start = best
    return [*out, (start, text[start:].strip())]


def _join_offsets(lines: list[tuple[int, str]]) -> tuple[str, list[int], list[int]]:
    """`join_lines` of (line, text) pairs, with the offset where each line starts and its number."""
    text, offsets = "", []
    for _, part in lines:
        glue = "" if not text or (text.endswith("-") and len(text) > 1 and not text[-2].isspace()) else " "
        offsets.append(len(text) + len(glue))
        text += glue + part
    return text, offsets, [n for n, _ in lines]


def line_of_offset(src: SourceText, unit: Unit, offset: int, noise: set[int] | None = None) -> int:
    """Physical line holding character `offset` of `unit.text`, so records inside a unit get exact spans."""
    noise = page_noise_lines(src) if noise is None else noise
    span = range(unit.span.line, unit.span.end_line + 1)
    text, offsets, numbers = _join_offsets([(n, squash(src.line(n))) for n in span if n not in noise])
    pos = max(text.find(unit.text), 0) + offset
    return numbers[bisect.bisect_right(offsets, pos) - 1] if numbers else unit.span.line


def _units(doc: str, nodes: list[_Node], warnings: list[str]) -> list[Unit]:
    units: list[Unit] = []
    for i, node in enumerate(nodes):
        path = _path(nodes, _ancestors(nodes, i))
        text, offsets, numbers = _join_offsets(node.lines)
        pieces = _chunks(text) if len(text) > MAX_UNIT_CHARS else [(0, text)]
        if len(pieces) > 1:
            warnings.append(f"{doc}:{numbers[0]}: unit of {len(text)} chars split into {len(pieces)}")
        for k, (off, piece) in enumerate(pieces):
            first = numbers[bisect.bisect_right(offsets, off) - 1]
            last = numbers[bisect.bisect_right(offsets, off + len(piece) - 1) - 1]
            units.append(Unit(Span(doc, first, last), node.marker if k == 0 else "", len(path) + 1, path,
                              piece, node.heading and k == 0))
    return units


def _stated_lead(body: str) -> tuple[str, ...]:
    """The agencies an item names as its subject ("Sở Tư pháp chủ trì ...", "Lĩnh vực X: Sở Y chủ trì")."""
    if m := _GIVEN.search(body):
        return split_agencies(m.group(1))
    for cand in [body, body.split(": ", 1)[-1]]:
        if _SUBJECT.match(cand) and (v := _VERB.search(cand, 3)) and v.start() <= 200:
            return split_agencies(cand[: v.start()])
    return ()


def _area(text: str) -> str:
    folded = fold(text)
    return next((area for area, pattern in _AREAS.items() if re.search(pattern, folded)), "")


def _area_leads(nodes: list[_Node], section: int) -> dict[str, list[str]]:
    """Reform area -> agencies that TỔ CHỨC THỰC HIỆN makes chủ trì (or tham mưu) of it."""
    leads: dict[str, list[str]] = {}
    for item in (nodes[j] for j in nodes[section].children):
        name = re.sub(r"^Đề nghị\s+", "", item.body.split(":", 1)[0]).strip(" .")
        texts = item.body.split(":", 1)[1:] + [nodes[c].body for c in item.children]
        for folded in map(fold, texts):
            if folded.startswith("phoi hop") or not re.search(r"chu tri|^(?:to chuc )?tham muu", folded):
                continue
            for area, pattern in _AREAS.items():
                if re.search(pattern, folded) and name not in leads.setdefault(area, []):
                    leads[area].append(name)
    return leads


def _block_agencies(nodes: list[_Node], block: int, label: re.Pattern[str]) -> tuple[str, ...]:
    kids = (nodes[c].body for c in nodes[block].children)
    return next((split_agencies(label.sub("", k)) for k in kids if label.match(k)), ())


def _tasks(doc: str, nodes: list[_Node]) -> list[Task]:
    """One task per actionable item under a NHIỆM VỤ section (see the module docstring for leads)."""
    romans = [i for i, n in enumerate(nodes) if n.kind == "roman"]
    tcth = [i for i in romans if "to chuc thuc hien" in fold(nodes[i].body)]
    area_leads = _area_leads(nodes, tcth[0]) if tcth else {}
    found: list[tuple[int, str, Task]] = []
    for sec in (i for i in romans if "nhiem vu" in fold(nodes[i].body)):
        members = [i for i in range(sec + 1, len(nodes)) if sec in _ancestors(nodes, i)]
        blocks = {nodes[i].parent for i in members if _LABEL_LEAD.match(nodes[i].body)}
        timeline = next((m.group(1) for i in members if (m := _TIMELINE.match(nodes[i].body))), None)
        for i in members:
            node, chain, body = nodes[i], _ancestors(nodes, i), nodes[i].body
            block = next((a for a in reversed(chain) if a in blocks), None)
            if node.heading or body.startswith("(") or body.endswith(":") or _TIMELINE.match(body):
                continue
            if block is None and blocks and node.kind == "para":
                continue  # criterion titles and comments between the blocks
            if block is not None:
                if not (node.parent == block and _LABEL_TASKS.match(body)) and not any(
                        _LABEL_TASKS.match(nodes[a].body) for a in chain):
                    continue  # the block's own labels ("Cơ quan chủ trì ...")
                body = _LABEL_TASKS.sub("", body)
                # A bullet that names its own lead ("Sở Tư pháp chủ trì ...") is that agency's, not the block's.
                own = _stated_lead(body)
                lead = own or _block_agencies(nodes, block, _LABEL_LEAD)
                coop = _block_agencies(nodes, block, _LABEL_COOP)
                if own:  # the bullet's own lead is not also one of the block's cooperating agencies
                    coop = tuple(c for c in coop if fold(c) not in {fold(x) for x in own})
            else:
                topic = _area(nodes[chain[1]].body) if len(chain) > 1 else ""
                lead, coop = _stated_lead(body) or tuple(area_leads.get(topic, ())), ()
            found.append((i, _number_path(nodes, [*chain, i]), Task(
                span=Span(doc, node.lines[0][0], node.lines[-1][0]), section=nodes[sec].marker.rstrip(".-– "),
                section_title=nodes[sec].body, no=None, content=body, product=None, lead=lead,
                cooperating=coop, timeline=timeline, heading_path=_path(nodes, chain), source="narrative")))
    counts = Counter((t.section, base) for _, base, t in found)
    seen: Counter[tuple[str | None, str]] = Counter()
    tasks = []
    for i, base, t in found:  # `no`: the printed number path, with an ordinal when items share it
        key = (t.section, base)
        seen[key] += 1
        own = counts[key] == 1 and _is_numbered(nodes[i].kind) and base
        tasks.append(replace(t, no=base if own else ".".join(p for p in (base, str(seen[key])) if p)))
    return tasks


def _number_path(nodes: list[_Node], chain: list[int]) -> str:
    """The printed numbering down to an item: "1.2.3", "1.2.3.(1)", "3.1.a"."""
    parts: list[str] = []
    for node in (nodes[i] for i in chain):
        if node.kind.startswith("dec"):
            parts = [node.marker.rstrip(".")]
        elif node.kind in ("paren", "letter"):
            parts.append(node.marker.rstrip(".)") if node.kind == "letter" else "(" + node.marker.strip("()") + ")")
    return ".".join(parts)


def extract_narrative(src: SourceText) -> NarrativeResult:
    """Header, units (one per item, bullet or paragraph) and tasks of a narrative plan."""
    noise = page_noise_lines(src)
    header, start = _parse_header(src, noise)
    end = next((n for n in range(start, len(src.lines) + 1)
                if n not in noise and _CLOSING.match(squash(src.line(n)))), len(src.lines) + 1)
    if end <= len(src.lines):
        header.update(_parse_closing(src, end, noise))
    last = max((n for n in range(start, end) if n not in noise), default=start - 1)
    header["body_lines"] = [start, last]  # first and last line covered by units (last < first: no body)
    result = NarrativeResult(header=header)
    if not header.get("doc_type"):
        # Not a defect of the reading: the Tân Đoàn plan starts straight with "Căn cứ ...".
        header["notes"] = ["no document type/title line before the body"]
    nodes = _blocks(src, start, last, noise)
    _build_tree(nodes)
    result.units = _units(src.doc, nodes, result.warnings)
    result.tasks = _tasks(src.doc, nodes)
    if not any(n.kind == "roman" and "nhiem vu" in fold(n.body) for n in nodes):
        result.warnings.append(f"{src.doc}: no NHIỆM VỤ section, so no narrative tasks")
    return result
