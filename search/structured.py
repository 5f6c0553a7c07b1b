"""Structured match of each unit against a parsed query, with the reasons.

Scores are in [0, 1] per constraint and averaged over the constraints the
query has; each match says why ("cites 118/2025/NĐ-CP", "lead: Sở Nội vụ",
"deadline Trong tháng 3/2023 within 2023-03", "field: chuyển đổi số").
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from cchc.graph.extract.agencies import load_registry
from cchc.graph.extract.deadlines import parse_time_expression
from cchc.search.query import ParsedQuery
from cchc.search.units import SearchUnit


@dataclass(frozen=True)
class Link:
    """Why a unit traces back to an instrument (from the graph's trace)."""

    key: str
    kind: str  # "cites" | "via-plan" | "via-instrument"
    why: str


Tracer = Callable[[str], Sequence[Link]]

_KIND_SCORE = {"cites": 1.0, "via-instrument": 0.75, "via-plan": 0.6}


def _agency_name(agency_id: str) -> str:
    a = load_registry().get(agency_id)
    return a.name if a else agency_id


def _related(agency_id: str) -> dict[str, str]:
    """The agency, its lineage and the groups it belongs to or stands for: {id: how it relates}.

    A task given to "UBND cấp huyện, cấp xã" is a task of the district
    committees, and one given to "UBND các huyện" is a task of each district.
    """
    reg = load_registry()
    name = _agency_name(agency_id)
    out = {agency_id: ""}
    for s in reg.successors(agency_id):
        out.setdefault(s, f"successor of {name}")
    for p in reg.predecessors(agency_id):
        out.setdefault(p, f"predecessor of {name}")
    for g in reg.groups(agency_id):
        out.setdefault(g, f"a group including {name}")
    for m in reg.members(agency_id):
        out.setdefault(m, f"one of {name}")
    return out


def _successor_since(agency_id: str) -> dict[str, int]:
    """The year each successor of agency_id took its work over: a plan written before then names that body as
    what it was (the communes of a 2023 plan are not yet the abolished district's successors)."""
    reg = load_registry()
    later = set(reg.successors(agency_id))
    since: dict[str, int] = {}
    for s in reg.lineage(agency_id):
        if s.successor in later:
            since[s.successor] = min(since.get(s.successor, 9999), int(s.date[:4]))
    return since


def _relatives(agencies: Sequence[str]) -> tuple[dict[str, str], dict[str, int]]:
    """`_related` over the agencies a query names, and the year from which each successor counts as one.

    An agency the query names is itself, whatever it is to another it names ("Sở Tài chính (đã hợp nhất Sở
    KH&ĐT) ...": Sở KH&ĐT's rows are asked for in full, not as Sở Tài chính's predecessor's)."""
    related: dict[str, str] = dict.fromkeys(agencies, "")
    since: dict[str, int] = {}
    for a in agencies:
        for k, v in _related(a).items():
            related.setdefault(k, v)
        for k, y in _successor_since(a).items():
            if related.get(k, "").startswith("successor"):
                since[k] = min(since.get(k, 9999), y)
    return related, since


# Every query with a period re-reads the deadline text of each unit that straddles it; the texts are few.
_named_window = functools.lru_cache(maxsize=8192)(parse_time_expression)


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _days(a: date, b: date) -> int:
    return (b - a).days + 1


def _window_score(ds: date, de: date, qs: date, qe: date, standing: bool, dated: bool) -> tuple[float, str]:
    """How well a window [ds, de] answers a period [qs, qe]: inside, partly inside (by its share), or not.

    An open-ended window ("trước ngày ..." without a start, `dated` false) has no measurable share: half.
    """
    if qs <= ds and de <= qe:
        return (0.5, "within the period") if standing else (1.0, "within the period")
    if ds <= qe and qs <= de:
        share = _days(max(ds, qs), min(de, qe)) / _days(ds, de) if dated else 0.5
        return max(0.6 * share * (0.5 if standing else 1.0), 0.02), f"overlaps the period ({share:.0%})"
    return 0.0, ""


def plan_year_score(year: int, start: date | None, end: date | None) -> float:
    """`_time_score` of a passage with no date of its own in the plan of `year`, in a mixed question: the plan's
    business over its year, scored as a standing duty over that year (what the plan sets it will do then)."""
    return _window_score(date(year, 1, 1), date(year, 12, 31), start or date.min, end or date.max, True, True)[0]


def _time_score(u: SearchUnit, start: date | None, end: date | None, plan_start: bool = False,
                undated: bool = False) -> tuple[float, str]:
    dl = u.deadline
    if dl is None or (dl.start is None and dl.end is None):
        # A mixed question ("thời hạn kiện toàn bộ phận một cửa năm 2023"): a row whose timeline is an event
        # ("Ngay sau khi có quyết định ...") is still the plan's work for its year; without this, the dated rows
        # of that year outrank the passage on the topic. So is a one-year plan's passage that states no time
        # (`undated`), unless the question asks when: a passage stating no time does not answer that.
        if plan_start and u.year and not u.is_heading and (dl is not None or undated):
            s = plan_year_score(u.year, start, end)
            if s:
                shown = f"deadline {dl.text}" if dl is not None and dl.text else "no date"
                return s, f"{shown}: in the plan of {u.year}, within the period"
        return 0.0, ""
    ds, de = _d(dl.start) or date.min, _d(dl.end) or date.max
    if plan_start and dl.start is None and u.year and date(u.year, 1, 1) <= de:
        ds = date(u.year, 1, 1)  # "Trước ngày 30/11/2023" in the 2023 plan: from the plan's start
    qs, qe = start or date.min, end or date.max
    standing = dl.recurrence == "continuous"
    if qs <= ds and de <= qe:
        if standing:
            return 0.5, f"deadline {dl.text} (standing duty) within the period"
        return 1.0, f"deadline {dl.text} within the period"
    # A compound timeline ("Kế hoạch ban hành trong tháng 01/2023; thực hiện thường xuyên") names its own date.
    inner = _named_window(dl.text)
    if inner and inner[0] and inner[1] and qs <= inner[0] and inner[1] <= qe:
        return 0.9, f"deadline {dl.text} names a date within the period"
    # "Chậm nhất ngày 30/6/2023" falls due in the second quarter: "nhiệm vụ nào đến hạn quý II/2023" asks for it,
    # though the work may start before the quarter (the plan's start, or no start at all).
    if dl.start is None and dl.end is not None and not standing and qs <= de <= qe:
        return 0.9, f"deadline {dl.text} falls due within the period"
    # Partly inside: by the share of the task's window that falls in the period, so "Quý II, III/2026"
    # (half in Q2) ranks above "Thường xuyên" (a quarter of the year, and a standing duty).
    score, how = _window_score(ds, de, qs, qe, standing, bool(dl.start and dl.end))
    return (score, f"deadline {dl.text} {how}") if score else (0.0, "")


# An agency question's structured score of a unit: 1 where the agency has the role asked (lead when none is);
# the other role when the question asks one ("Sở X phối hợp ...") and when it asks none ("Sở X phải làm gì");
# times `relation_factor` when the unit names a group including it or its predecessor/successor, not it.
AGENCY_ROLE_ASKED_OTHER = 0.35
AGENCY_OTHER_ROLE = 0.5
AGENCY_RELATED = 0.9
AGENCY_UNDATED_RELATED = 0.45  # below AGENCY_OTHER_ROLE: the body named, in any role, first


def relation_factor(how: str, dated: bool) -> float:
    """The share of an agency's score a unit gets for naming a relative of it (`_related`'s `how`).

    `dated`: the question names a period.  Without one, the body named outranks its relatives in any role
    ("UBND huyện Chi Lăng phải làm gì": the lines naming the district before its successors' and groups');
    with one, a relative is the body of that time ("Sở TT&TT chủ trì ... năm 2026": Sở KH&CN's tasks)."""
    if not how:
        return 1.0
    return AGENCY_RELATED if dated else AGENCY_UNDATED_RELATED


def _recurs(u: SearchUnit) -> bool:
    """A schedule: what "báo cáo định kỳ khi nào" asks for (`unitstore.RECURRING`)."""
    return u.deadline is not None and u.deadline.recurrence not in (None, "continuous")


def structured_scores(
    q: ParsedQuery, units: Sequence[SearchUnit], instrument_links: dict[str, Link], *, plan_start: bool = False,
) -> tuple[np.ndarray, list[list[str]], np.ndarray]:
    """Per-unit structured score in [0, 1], the reasons, and which units state a time of their own within the
    question's window (all false without one; `fusion.combine`'s `untimed` is its negation): a five-year plan's
    passage that sets no time inherits the plan's period, which does not answer "khi nào"; a question asking
    for a schedule ("định kỳ") wants one.

    `plan_start`: an open-ended deadline ("trước ngày ...") runs from the start of its plan's year, and a passage
    with no date is its plan's business over the plan's year (`plan_year_score`). Used when the time only lifts
    a topic's passages (a mixed question); a date-only question keeps the stricter reading, so the rows dated
    inside the period lead (measured in bench/search_eval.md).
    """
    n = len(units)
    total = np.zeros(n, dtype=np.float32)
    weight = 0.0
    why: list[list[str]] = [[] for _ in range(n)]
    timed = np.zeros(n, dtype=bool)
    if q.instruments or q.named:
        weight += 1.0
        for i, u in enumerate(units):
            link = instrument_links.get(u.key)
            if link:
                total[i] += _KIND_SCORE.get(link.kind, 0.5)
                why[i].append(link.why)
    if q.agencies:
        weight += 1.0
        related, since = _relatives(q.agencies)
        main_role = q.role or "lead"
        for i, u in enumerate(units):
            best, reason = 0.0, ""
            for role, ids in (("lead", u.lead_ids), ("cooperating", u.coop_ids)):
                for a in ids:
                    if a not in related or (u.year and u.year < since.get(a, 0)):
                        continue
                    s = 1.0 if role == main_role else (AGENCY_ROLE_ASKED_OTHER if q.role else AGENCY_OTHER_ROLE)
                    s *= relation_factor(related[a], q.window is not None)
                    if s > best:
                        note = f" ({related[a]})" if related[a] else ""
                        best, reason = s, f"{role}: {_agency_name(a)}{note}"
            if not best:
                named = [a for a in u.mention_ids if a in related and not (u.year and u.year < since.get(a, 0))]
                if named:
                    best, reason = 0.4, f"mentions {_agency_name(named[0])}"
            if best:
                total[i] += best
                why[i].append(reason)
    if q.window:
        start, end = q.window
        # "Sở X ... năm 2026": the year names the plan; "hạn ban hành kế hoạch của các cơ quan ... năm 2023" asks
        # for a deadline, agency or not.
        deadline_query = q.year is None or not q.agencies or q.asks_when
        if deadline_query:
            weight += 1.0
            for i, u in enumerate(units):
                s, reason = _time_score(u, start, end, plan_start, plan_start and not q.asks_when)
                if s:
                    total[i] += s
                    timed[i] = u.timeline is not None and (not q.recurring or _recurs(u))
                    why[i].append(reason)
        if q.year is not None:  # a year also names the plan: "nhiệm vụ năm 2023"
            for i, u in enumerate(units):
                if u.year is not None and u.year != q.year:
                    total[i] *= 0.5
                elif u.year == q.year:
                    why[i].append(f"plan of {q.year}")
    if q.fields:
        weight += 0.5
        for i, u in enumerate(units):
            if u.field in q.fields:
                total[i] += 0.5
                why[i].append(f"field: {u.field.rsplit('/', 1)[-1]}")
    if weight:
        total /= weight
    return total, why, timed
