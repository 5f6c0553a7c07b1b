"""Search units: what a search result can be.

A unit is a task row of an appendix, or an item, bullet or paragraph of a
narrative plan, with the document and first line the contract's `/search`
result needs, and the structured facts that query understanding matches on
(agencies with their role, the deadline interval, cited instruments, the CCHC
field of its section).  Narrative tasks are the units at their line, with
their agencies attached, so one passage is never listed twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from typing import Any

from cchc.graph.corpus import DocumentInfo
from cchc.graph.extract.agencies import find_agencies
from cchc.graph.extract.deadlines import parse_deadline
from cchc.graph.extract.reading import fold
from cchc.graph.extract.records import Deadline, Extraction, Task, Unit
from cchc.graph.extract.roles import listed_departments, stated_roles
from cchc.graph.ids import task_ref
from cchc.ontology import field_concept

# Label lines of a criterion block ("- Cơ quan chủ trì tham mưu: Sở KH&ĐT", "- Cơ quan thực hiện: Sở Tài chính; ...").


@dataclass
class SearchUnit:
    key: str  # "<doc>:<section>.<no>" for table rows, "<doc>:L<line>" otherwise
    doc: str
    line: int
    end_line: int
    section: str | None
    no: str | None
    kind: str  # "task" | "unit"
    text: str  # what the user reads
    index_text: str  # what BM25 and the encoder read: the text with its heading path
    heading_path: tuple[str, ...] = ()
    lead_ids: tuple[str, ...] = ()
    coop_ids: tuple[str, ...] = ()
    deadline: Deadline | None = None
    timeline: str | None = None
    mention_ids: tuple[str, ...] = ()  # agencies the text names, whatever their role
    cites: tuple[str, ...] = ()  # instrument ids mentioned inside the unit's span (numbered or named)
    field: str | None = None  # CCHC field concept IRI
    year: int | None = None  # the plan's year
    is_heading: bool = False
    uid: str = ""  # the readable id every answer shows (`cchc.graph.ids`): a narrative task's by its number
    extra: dict[str, Any] = dc_field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.uid or task_ref(self.doc, self.section, self.no, self.line),
            "key": self.key, "doc": self.doc, "line": self.line, "end_line": self.end_line,
            "section": self.section, "no": self.no, "kind": self.kind, "text": self.text,
            "heading_path": list(self.heading_path), "lead": list(self.lead_ids),
            "cooperating": list(self.coop_ids), "mentions": list(self.mention_ids),
            "timeline": self.timeline, "cites": list(self.cites),
            "field": self.field, "year": self.year,
        }


def _task_text(t: Task) -> str:
    parts = [t.content]
    if t.product:
        parts.append(f"Sản phẩm: {t.product}")
    if t.lead:
        parts.append(f"Chủ trì: {'; '.join(t.lead)}")
    if t.cooperating:
        parts.append(f"Phối hợp: {'; '.join(t.cooperating)}")
    if t.timeline:
        parts.append(f"Thời gian: {t.timeline}")
    return ". ".join(parts)


def _field_of(*titles: str | None) -> str | None:
    for title in titles:
        concept = field_concept(title)
        if concept is not None:
            return str(concept)
    return None


def _mentions(ex: Extraction, start: int, end: int) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for c in ex.citations:
        if start <= c.span.line <= end:
            seen.setdefault(c.id, None)
    return tuple(seen)


def _table_unit(ex: Extraction, t: Task, year: int | None) -> SearchUnit:
    text = _task_text(t)
    heading = f"{t.section} {t.section_title}" if t.section_title else ""
    return SearchUnit(
        key=f"{ex.doc}:{t.section}.{t.no}", doc=ex.doc, line=t.span.line, end_line=t.span.end_line,
        section=t.section, no=t.no, kind="task", text=text,
        index_text=f"{t.section_title or ''}. {text}".strip(". "),
        heading_path=(heading,) if heading else (),
        lead_ids=tuple(a.agency_id for a in t.lead_agencies if a.agency_id),
        coop_ids=tuple(a.agency_id for a in t.cooperating_agencies if a.agency_id),
        deadline=t.deadline, timeline=t.timeline,
        cites=tuple(dict.fromkeys((*t.cites, *_mentions(ex, t.span.line, t.span.end_line)))),  # named ones too
        field=_field_of(t.section_title), year=year,
    )


def _narrative_unit(ex: Extraction, u: Unit, task: Task | None, year: int | None) -> SearchUnit:
    path = u.heading_path
    text = u.text
    if task is not None and (task.lead or task.cooperating):
        extra = []
        if task.lead:
            extra.append(f"Chủ trì: {'; '.join(task.lead)}")
        if task.cooperating:
            extra.append(f"Phối hợp: {'; '.join(task.cooperating)}")
        text = f"{text} ({'; '.join(extra)})" if task.span.line == u.span.line else text
    context = " > ".join(p for p in path[-2:])
    return SearchUnit(
        key=f"{ex.doc}:L{u.span.line}", doc=ex.doc, line=u.span.line, end_line=u.span.end_line,
        section=None, no=None, kind="unit", text=text,
        index_text=f"{context}. {text}" if context else text, heading_path=path,
        lead_ids=tuple(a.agency_id for a in task.lead_agencies if a.agency_id) if task else (),
        coop_ids=tuple(a.agency_id for a in task.cooperating_agencies if a.agency_id) if task else (),
        deadline=task.deadline if task else None, timeline=task.timeline if task else None,
        cites=_mentions(ex, u.span.line, u.span.end_line),
        field=_field_of(*reversed(path)), year=year, is_heading=u.is_heading,
    )


# A narrative task's lead, as printed at its end: "(Chủ trì: Các Sở: Y tế, ...; Phối hợp: ...)".
_LEAD_CELL = re.compile(r"\(Chủ trì\s*:\s*([^;)]*)")


def _named_agencies(text: str) -> tuple[str, ...]:
    """Agencies the text names, those of a "các Sở: A, B, C" list included."""
    return tuple(dict.fromkeys((*(m.agency_id for _, _, m in find_agencies(text) if m.agency_id),
                                *listed_departments(text))))


def _plan_year(ex: Extraction, info: DocumentInfo | None) -> int | None:
    """The year a document plans for: the manifest's (first year of a period), else the one its header prints."""
    if info is not None and info.start_year:
        return info.start_year
    year = ex.header.get("year")
    return int(year) if isinstance(year, int) or (isinstance(year, str) and year.isdigit()) else None


# A narrative plan's timeline paragraph ("4. Thời gian hoàn thành: Trước ngày 30 tháng 11 năm 2023, các cơ quan ...").
_TIMELINE = re.compile(
    r"^(?:\d+(?:\.\d+)*\.?\s*)?Thời (?:gian|hạn) (?:hoàn thành|thực hiện)\s*:\s*(.+?)(?:[,;]|\.\s|$)", re.I | re.S)
# A narrative sentence that sets its own deadline ("Kế hoạch ... ban hành chậm nhất ngày 30/6/2023").
_OWN_DEADLINE = re.compile(r"\b(?:cham nhat|truoc ngay|han chot|hoan thanh truoc|trong quy|quy (?:i|ii|iii|iv)\b|"
                           r"trong thang|dinh ky hang (?:thang|quy|nam)|dinh ky (?:6|sau) thang)")


# A heading that is only a period label ("- *Giai đoạn 2026-2027:*", "Năm 2026:"): the items under it are due then.
_PERIOD_LABEL = re.compile(r"^[-+*•\s]*(?:giai đoạn|năm|đến năm)\s+\d{4}(?:\s*[-–]\s*\d{4})?\s*[*:.\s]*$", re.I)


def _period_of(heading_path: tuple[str, ...], year: int | None) -> Deadline | None:
    """The window of the nearest heading that is only a period label, when one governs the unit.

    Targets of a five-year plan come in blocks ("- Giai đoạn 2026-2027:" then
    "+ 100% TTHC ..."): each item is to be reached within its block's period,
    so "chỉ tiêu giai đoạn 2026-2027" is a question about them.
    """
    for h in reversed(heading_path):
        if _PERIOD_LABEL.match(h):
            label = h.strip(" -+*•:.")
            label = re.sub(r"[*]", "", label).strip()
            dl = parse_deadline(label, year)
            return replace(dl, text=label) if dl.start is not None and dl.end is not None else None
    return None


# The headings of a plan's objectives: what they list is to be reached within the plan's period.
_OBJECTIVES = re.compile(r"\b(?:muc tieu|chi tieu)\b")


def _objective_window(u: SearchUnit, window: tuple[int, int] | None) -> Deadline | None:
    """A target under the plan's objectives ("II. MỤC TIÊU > 2. Chỉ tiêu cụ thể > - 95% CBCC ...") with no
    period of its own: due by the end of the plan's period (a year plan's year, a five-year plan's five)."""
    if window is None or u.is_heading or not any(_OBJECTIVES.search(fold(h)) for h in u.heading_path):
        return None
    a, b = window
    return _over_years(f"mục tiêu năm {a}" if a == b else f"mục tiêu giai đoạn {a}-{b}", a, b)


def _over_years(text: str, first: int, last: int) -> Deadline:
    """A window of whole years, as a plan's objectives and its undated business have."""
    return Deadline(text=text, start=f"{first}-01-01", end=f"{last}-12-31",
                    precision="year" if first == last else "period")


def _narrative_deadlines(units: list[SearchUnit], windows: Mapping[str, tuple[int, int]] | None = None) -> None:
    """Deadlines narrative units state rather than a task row: what the plan's timeline paragraph governs.

    The extractor gives the NHIỆM VỤ section's tasks the deadline of its
    "Thời gian hoàn thành: ..." paragraph; the paragraph itself answers
    "hạn chót hoàn thành ..." questions best, so it takes its deadline too.
    (Giving it also to the section's label lines and criterion titles was
    tried: they then crowd pure date questions, bench/search_eval.md.) A unit
    whose own sentence sets a deadline ("ban hành chậm nhất ngày 30/6/2023",
    "báo cáo ... Quý III") takes that one; an item under a period label
    ("- Giai đoạn 2026-2027:") takes that period. Table rows keep their own cells.
    """
    for u in units:
        if u.kind != "unit" or u.deadline is not None:
            continue
        if m := _TIMELINE.match(u.text):
            dl = parse_deadline(m.group(1), u.year)
            if dl.start is None and dl.end is None:
                continue
            u.deadline, u.timeline = dl, dl.text
        elif cue := _OWN_DEADLINE.search(fold(u.text)):
            dl = parse_deadline(u.text, u.year)
            w = (windows or {}).get(u.doc)
            if dl.recurrence and w is not None and w[0] < w[1]:  # "báo cáo định kỳ hằng quý" in a five-year plan
                span = _over_years(dl.text, w[0], w[1])
                dl = replace(dl, start=span.start, end=span.end, precision=span.precision)
            if dl.start is not None or dl.end is not None:
                shown = u.text[cue.start():].split(". ")[0].rstrip(" .")  # the sentence from its cue on
                u.deadline = replace(dl, text=shown if len(shown) <= 80 else shown[:79] + "…")
                u.timeline = u.deadline.text
        elif (dl := (None if u.is_heading else _period_of(u.heading_path, u.year))
              or _objective_window(u, (windows or {}).get(u.doc))) is not None:
            u.deadline, u.timeline = dl, dl.text
    for u in units:  # what a multi-year plan sets without a date is its business for the whole period
        w = (windows or {}).get(u.doc)
        if u.deadline is None and not u.is_heading and u.section is None and w is not None and w[0] < w[1]:
            u.deadline = _over_years(f"trong giai đoạn {w[0]}-{w[1]} của kế hoạch", w[0], w[1])


def build_units(extractions: Iterable[Extraction], infos: Mapping[str, DocumentInfo] | None = None
                ) -> list[SearchUnit]:
    """Every searchable unit of the given documents, in document and line order."""
    out: list[SearchUnit] = []
    extractions_list = list(extractions)
    for ex in extractions_list:
        year = _plan_year(ex, (infos or {}).get(ex.doc))
        if ex.kind == "appendix":
            out.extend(_table_unit(ex, t, year) for t in ex.tasks)
            continue
        # A narrative task covers the unit that starts its block and possibly the items under it.
        tasks = sorted(ex.tasks, key=lambda t: t.span.line)
        for u in ex.units:
            owner = None
            for t in tasks:
                if t.span.line <= u.span.line <= t.span.end_line:
                    owner = t
            unit = _narrative_unit(ex, u, owner, year)
            if owner is not None and owner.span.line == u.span.line:  # the task's own line: its number
                unit.uid = task_ref(ex.doc, owner.section, owner.no, u.span.line)
            out.append(unit)
    for u in out:
        u.uid = u.uid or task_ref(u.doc, u.section, u.no, u.line)
        u.mention_ids = _named_agencies(u.text)
        if u.kind == "unit" and not u.lead_ids and not u.coop_ids:
            u.lead_ids, u.coop_ids = stated_roles(u.text, u.heading_path, u.is_heading)
        elif u.kind == "unit" and (lead := _LEAD_CELL.search(u.text)) and (listed := listed_departments(lead[1])):
            # "(Chủ trì: Các Sở: Y tế, Giáo dục và Đào tạo, ...)": the task read the first name only
            u.lead_ids = tuple(dict.fromkeys((*u.lead_ids, *listed)))
    windows = {}
    for ex in extractions_list:
        info = (infos or {}).get(ex.doc)
        if info is not None and info.period:
            windows[ex.doc] = (int(info.period[0]), int(info.period[1]))
        elif (y := _plan_year(ex, info)) is not None:
            windows[ex.doc] = (y, y)
    _narrative_deadlines(out, windows)
    return out
