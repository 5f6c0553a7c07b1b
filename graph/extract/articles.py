"""The units of a legal instrument: its chapters, articles (Điều), clauses (khoản) and points (điểm).

A plan is read by its roman-numeral sections and numbered items (narrative.py);
an instrument is cited and searched by article: "khoản 2 Điều 5 Nghị định số
...".  Each article, clause and point becomes one unit whose heading path names
where it sits ("Chương II ..." > "Điều 5. ..." > "2. ..."), so a search hit or a
citation of "Điều 5" can point at it.  The preamble, the site's metadata and
sections of a Markdown copy are paragraphs under their own headings; lines are
the file's lines, so every unit keeps its source span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cchc.graph.extract.citations import front_matter_end
from cchc.graph.extract.reading import SourceText, squash
from cchc.graph.extract.records import Span, Unit

__all__ = ["article_units"]

_MD_HEADING = re.compile(r"^\s*#{1,6}\s*(?P<text>.+?)\s*#*\s*$")
_CHAPTER = re.compile(r"^(?:Chương|CHƯƠNG|Phần|PHẦN)\s+[IVXLC\d]+\b")
_SECTION = re.compile(r"^(?:Mục|MỤC)\s+\d+\b")
_ARTICLE = re.compile(r"^(?:Điều|ĐIỀU)\s+(?P<no>\d+[a-z]?)\s*[.:]")
_CLAUSE = re.compile(r"^(?P<no>\d{1,3}[a-z]?)[.)]\s+\S")
_POINT = re.compile(r"^(?P<no>[a-zđ])\)\s+\S")
_BULLET = re.compile(r"^[-+•*]\s+\S")
_PREAMBLE = re.compile(r"^(?:Căn cứ|Theo đề nghị|Thực hiện|Xét)\b")  # each preamble clause its own paragraph
_MARKUP = re.compile(r"[*_`]+")
_LEVELS = {"part": 1, "chapter": 1, "section": 2, "article": 3, "clause": 4, "point": 5}
_TRIM = 80  # characters of a clause kept in the heading path of its points


@dataclass
class _Open:
    """A unit being read: its kind, first line, marker and lines."""

    kind: str
    line: int
    marker: str
    lines: list[tuple[int, str]] = field(default_factory=list)


def _plain(line: str) -> str:
    return squash(_MARKUP.sub("", line)).strip()


def _classify(raw: str) -> tuple[str, str] | None:
    """(kind, marker) of a line that opens a unit, None for a continuation line."""
    md = _MD_HEADING.match(raw)
    text = _plain(md.group("text") if md else raw)
    if _CHAPTER.match(text):
        return "chapter", text.split()[0] + " " + text.split()[1]
    if _SECTION.match(text):
        return "section", " ".join(text.split()[:2])
    if m := _ARTICLE.match(text):
        return "article", f"Điều {m.group('no')}."
    if m := _CLAUSE.match(text):
        return "clause", f"{m.group('no')}."
    if md:
        return "part", ""  # a site section ("## THÔNG TIN VĂN BẢN", "## CĂN CỨ PHÁP LUẬT")
    if _PREAMBLE.match(text):
        return "paragraph", ""
    stripped = re.sub(r"^[-*]\s+", "", text)
    if m := _POINT.match(stripped):
        return "point", f"{m.group('no')})"
    if _BULLET.match(raw.strip()):
        return "bullet", "-"
    if raw.lstrip().startswith("|"):
        return "table", ""
    return None


def _heading_text(u: _Open) -> str:
    return " ".join(_plain(_MD_HEADING.sub(r"\g<text>", t)) for _, t in u.lines).strip()


def article_units(src: SourceText) -> list[Unit]:
    """The instrument's units in reading order, each with the path of chapter, article and clause above it."""
    out: list[Unit] = []
    path: dict[int, str] = {}  # level -> heading text of the open chapter / article / clause
    cur: _Open | None = None

    def close() -> None:
        nonlocal cur
        if cur is None:
            return
        text = _heading_text(cur)
        if text:
            level = _LEVELS.get(cur.kind, max(path, default=0) + 1)
            heading = cur.kind in ("part", "chapter", "section", "article")
            parents = tuple(v for k, v in sorted(path.items()) if k < level)
            out.append(Unit(Span(src.doc, cur.line, cur.lines[-1][0]), cur.marker, level, parents, text, heading))
            if cur.kind in _LEVELS:
                for k in [k for k in path if k >= level]:
                    del path[k]
                path[level] = text if heading else text[:_TRIM]
        cur = None

    blank = False
    for n, raw in src.numbered(front_matter_end(src) + 1):
        if not raw.strip() or raw.strip() in ("---", "***"):
            blank = True
            continue
        opened = _classify(raw)
        ended = cur is not None and (cur.kind in ("part", "chapter", "section", "article")
                                     or _plain(cur.lines[-1][1]).endswith((".", ";", ":", "!", "?")))
        continues = cur is not None and opened is None and not (blank and ended)
        if cur is not None and cur.kind == "table" and opened == ("table", ""):
            continues = True
        if continues:
            cur.lines.append((n, raw))
        else:
            close()
            kind, marker = opened or ("paragraph", "")
            cur = _Open(kind, n, marker, [(n, raw)])
        blank = False
        if cur.kind in ("part", "chapter", "section", "clause") and _MD_HEADING.match(raw):
            close()  # a Markdown heading is one line; "Chương I" in plain text takes its title line too
    close()
    return out
