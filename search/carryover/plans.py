"""Which plans continue which: the plan pairs the carry-over matcher links.

Tasks continue only between plans of one line of planning, so pairs are
chosen from what the documents are, not from how alike their texts are:

* ``successive``: two general CCHC plans of the same issuing body and level,
  each with the nearest earlier one of the same span (the 2023 appendix ->
  the 2026 appendix; a 2021-2025 plan -> a 2026-2030 plan);
* ``period``: a period plan of a body -> that body's annual plans for a year
  inside the period (the 2026-2030 plan -> the 2026 appendix);
* ``implements``: a higher-level plan -> a lower-level plan that cites it as
  the plan it carries out (a provincial plan -> a commune plan); a plan
  number borne by several plans (every province has a "Kế hoạch số
  12/KH-UBND") names the one of the citing plan's own place, or none.

`from` is always the earlier or umbrella plan.  Thematic plans (the 2023
PAPI/SIPAS/PAR INDEX plan: a one-off plan to raise three indices, its title
says nothing of cải cách hành chính) start no line of their own.  The Tân
Đoàn 2025 commune plan is issued by another body at another level and carries
out the province's 2025 plan (Kế hoạch 184/KH-UBND), which is not in the
corpus; it reuses wording of the 2023 provincial appendix, but that is a
template, not the same body continuing its task, so it is not linked by
default (any pair can still be computed on request).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePath

from cchc.graph.corpus import DocumentInfo
from cchc.graph.extract.reading import fold
from cchc.graph.extract.records import Extraction

__all__ = ["PlanInfo", "PlanPair", "describe_plans", "plan_pairs"]

_LEVELS = {"trung ương": 0, "tỉnh": 1, "huyện": 2, "xã": 3}
_PERIOD = re.compile(r"giai đoạn\s*((?:19|20)\d\d)\s*[-–]\s*((?:19|20)\d\d)", re.I)
_YEAR = re.compile(r"năm\s+((?:19|20)\d\d)", re.I)


@dataclass(frozen=True)
class PlanInfo:
    """What the pairing needs to know about one document."""

    doc: str
    issuer: str | None
    level: str | None
    year: int | None  # the year an annual plan is for
    period: tuple[int, int] | None  # the years a period plan covers
    general: bool  # a general CCHC plan (not a thematic one)
    plan_ids: frozenset[str]  # numbers the plan is cited by (an appendix: the plan it is attached to)
    cites: frozenset[str]
    # folded: the issuer as the manifest and the header print it, the place of signing, and the issuers and
    # titles of what it cites ("Kế hoạch số 184/KH-UBND ... của UBND tỉnh về cải cách hành chính tỉnh Lạng Sơn")
    where: str = ""

    @property
    def start(self) -> int:
        return self.year or (self.period[0] if self.period else 0)


@dataclass(frozen=True)
class PlanPair:
    """Two documents whose tasks are matched; `earlier` is the `from` side."""

    earlier: str
    later: str
    relation: str  # "successive" | "period" | "implements" | "requested"

    @property
    def key(self) -> str:
        """Names the pair's named graph and cache entry: "<earlier-stem>--<later-stem>"."""
        return f"{PurePath(self.earlier).stem}--{PurePath(self.later).stem}"

    def to_json(self) -> dict[str, str]:
        return {"from": self.earlier, "to": self.later, "relation": self.relation, "key": self.key}


def _title(ex: Extraction, info: DocumentInfo | None) -> str:
    """The manifest title (a reader's name for the plan), else the title the document prints."""
    if info and info.title:
        return info.title
    return str(ex.header.get("title") or "") or " ".join(ex.header.get("title_lines") or [])


def describe_plan(ex: Extraction, info: DocumentInfo | None) -> PlanInfo:
    """A document as a plan: the manifest first, then what its header prints."""
    title = _title(ex, info)
    period = info.period if info and info.period else None
    year = info.year if info and info.year else None
    if period is None and year is None:
        m = _PERIOD.search(title)
        if m:
            period = (int(m.group(1)), int(m.group(2)))
        else:
            m = _YEAR.search(title)
            header_year = ex.header.get("year")
            year = int(m.group(1)) if m else int(header_year) if str(header_year or "").isdigit() else None
    parent = ex.header.get("parent_plan") or {}
    plan_ids = {parent["id"]} if parent.get("id") else set()
    number = str(ex.header.get("number") or "")
    m = re.search(r"\d+[/-]\S+", number)
    if m:
        plan_ids.add(m.group())
    return PlanInfo(
        doc=ex.doc,
        issuer=info.issuer if info else None,
        level=info.level if info else None,
        year=year,
        period=period,
        general=not title or "cai cach hanh chinh" in fold(title),
        plan_ids=frozenset(plan_ids),
        cites=frozenset(c.id for c in ex.citations if c.numbered),
        where=fold(" ".join(str(x) for x in (info.issuer if info else None, ex.header.get("issuer"),
                                             ex.header.get("place"), *(t for c in ex.citations
                                                                      for t in (c.issuer, c.title))) if x)),
    )


def describe_plans(extractions: Iterable[Extraction], infos: Mapping[str, DocumentInfo]) -> dict[str, PlanInfo]:
    return {ex.doc: describe_plan(ex, infos.get(ex.doc)) for ex in extractions}


_ORGAN = re.compile(r"^(?:uy ban nhan dan|ubnd|hoi dong nhan dan|hdnd)\s+(?:tinh|thanh pho|huyen|quan|thi xa|xa|"
                    r"phuong|thi tran)?\s*")


def _place(plan: PlanInfo) -> str:
    """The place an issuer governs ("UBND tỉnh Lạng Sơn" -> "lang son"), folded; "" when it names none."""
    return _ORGAN.sub("", fold(plan.issuer or "").strip()).strip()


def _umbrellas(later: PlanInfo, candidates: list[PlanInfo]) -> list[PlanInfo]:
    """Which of the higher plans bearing a number `later` cites it carries out.

    A bare plan number ("Kế hoạch số 12/KH-UBND") is reused by every province and every year: one candidate is
    taken at its word, as before; among several, those of the place `later` is issued in (its issuer, header,
    place of signing, or what it cites names it), then the latest not after `later`.  Several, and none of its
    place: the number does not say which, and no pair is made (a commune plan is not every province's)."""
    if len(candidates) <= 1:
        return candidates
    local = [p for p in candidates if _place(p) and _place(p) in later.where]
    if not local:
        return []
    before = [p for p in local if not later.start or p.start <= later.start] or local
    latest = max(p.start for p in before)
    return [p for p in before if p.start == latest]


def _body(plan: PlanInfo) -> tuple[str, str]:
    """Who plans a line of planning: the issuer (folded: the manifest and headers differ in diacritics) and level."""
    return fold(plan.issuer or ""), plan.level or ""


def _successive_and_period(group: list[PlanInfo]) -> dict[tuple[str, str], str]:
    """Within one body's general plans: each annual plan after the nearest earlier year's and inside the period
    plans covering it; each period plan after the nearest earlier period.  Annual plans are indexed by year and
    period plans by the years they cover, so a body's plans are paired in about linear time."""
    years = sorted({p.year for p in group if p.year})
    by_year: dict[int, list[PlanInfo]] = {}
    covering: dict[int, list[PlanInfo]] = {}
    periods = [p for p in group if p.period]
    for p in group:
        if p.year:
            by_year.setdefault(p.year, []).append(p)
        if p.period:
            for y in range(p.period[0], p.period[1] + 1):
                covering.setdefault(y, []).append(p)
    out: dict[tuple[str, str], str] = {}
    for later in group:
        if later.year:
            k = bisect.bisect_left(years, later.year)
            if k:
                for p in by_year[years[k - 1]]:
                    out[(p.doc, later.doc)] = "successive"
            for p in covering.get(later.year, ()):
                if p.doc != later.doc:
                    out[(p.doc, later.doc)] = "period"
        elif later.period:
            prior = [p for p in periods if p.period and p.period[1] < later.period[0]]
            if prior:
                last = max(p.period or (0, 0) for p in prior)
                for p in prior:
                    if p.period == last:
                        out[(p.doc, later.doc)] = "successive"
    return out


def plan_pairs(plans: Mapping[str, PlanInfo]) -> list[PlanPair]:
    """The plan pairs to link, by the rules of the module docstring, in a stable order.

    A pair found by two rules keeps the last of successive, period, implements."""
    general = [p for p in plans.values() if p.general and p.start]
    bodies: dict[tuple[str, str], list[PlanInfo]] = {}
    for p in general:
        bodies.setdefault(_body(p), []).append(p)
    relation: dict[tuple[str, str], str] = {}
    for group in bodies.values():
        relation.update(_successive_and_period(group))
    cited_as: dict[str, list[PlanInfo]] = {}  # a plan number -> the general plans it names
    for p in general:
        for plan_id in p.plan_ids:
            cited_as.setdefault(plan_id, []).append(p)
    for later in plans.values():
        level = _LEVELS.get(later.level or "", -1)
        for cited in later.cites:
            higher = [p for p in cited_as.get(cited, ()) if _LEVELS.get(p.level or "", 9) < level]
            for earlier in _umbrellas(later, higher):
                relation[(earlier.doc, later.doc)] = "implements"
    pairs = [PlanPair(a, b, r) for (a, b), r in relation.items()]
    return sorted(pairs, key=lambda p: (plans[p.earlier].start, plans[p.later].start, p.earlier, p.later))
