"""Structured evidence that two tasks of two plans are the same task: field, lead agency, instruments.

Text similarity alone confuses neighbouring rows of one section (every row of
"Cải cách thể chế" talks about legal documents), so the matcher adds what the
tables state outright: the CCHC field of the section, the lead agency
(equal, or its successor under the 2025 restructuring, read from the agency
registry's dated successions), instruments cited by both, and an instrument
replaced by a newer one on the same subject (HĐND resolution 15/2022 on
training incentives replaced by 42/2025).  Each piece of evidence comes with
the reason a planner reads next to the link.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from cchc.graph.extract.agencies import Registry
from cchc.graph.extract.reading import fold
from cchc.graph.extract.records import Citation, Task
from cchc.ontology import FIELD, field_concept
from cchc.search.carryover.text import expand_abbreviations

__all__ = ["MAX_BONUS", "Evidence", "citation_evidence", "lead_evidence", "task_field"]

_TITLE_STOP = frozenset("ve cua cac va cho trong tai theo viec ban hanh quy dinh so nam ngay".split())

LEAD_SAME, LEAD_SUCCESSOR, LEAD_GROUP = 0.05, 0.06, 0.02
CITE_SHARED, CITE_REPLACED, CITE_CAP = 0.08, 0.08, 0.12
# The most the lead and the instruments can add with the default bonuses: a pair whose text and product
# cannot reach the threshold with it is not worth reading the evidence for.
MAX_BONUS = max(LEAD_SAME, LEAD_SUCCESSOR, LEAD_GROUP) + CITE_CAP


@dataclass(frozen=True)
class Evidence:
    """A score adjustment and the reasons behind it."""

    bonus: float = 0.0
    reasons: tuple[str, ...] = ()


def task_field(task: Task) -> str | None:
    """The CCHC field of a task (concept name, e.g. "thu-tuc-hanh-chinh") from its section title or headings."""
    return _field(task.section_title, task.heading_path)


@functools.lru_cache(maxsize=4096)
def _field(section_title: str | None, heading_path: tuple[str, ...]) -> str | None:
    """Cached: the rows of a section share its titles, and a plan's rows are scored in several plan pairs."""
    for title in (section_title, *reversed(heading_path)):
        concept = field_concept(title)
        if concept is not None:
            return str(concept)[len(str(FIELD)):]
    return None


def _name(registry: Registry, agency_id: str) -> str:
    agency = registry.get(agency_id)
    return agency.name if agency else agency_id


def _succession(registry: Registry, old: str, new: str):
    """The succession relation that best explains old -> new: direct first, then the chain's ends."""
    rels = registry.lineage(old)
    for test in (lambda s: s.predecessor == old and s.successor == new, lambda s: s.successor == new,
                 lambda s: s.predecessor == old):
        found = [s for s in rels if test(s)]
        if found:
            return found[0]
    return None


def lead_evidence(earlier: Task, later: Task, registry: Registry, as_of: str | None,
                  *, same: float = LEAD_SAME, successor: float = LEAD_SUCCESSOR, group: float = LEAD_GROUP) -> Evidence:
    """Lead agencies equal or related by succession; the strongest relation wins.

    A named department (Sở Nội vụ) leading both tasks is real evidence; two
    tasks both led by a set phrase ("Các sở, ban, ngành") only a little.
    """
    before = [a.agency_id for a in earlier.lead_agencies if a.agency_id]
    after = {a.agency_id for a in later.lead_agencies if a.agency_id}
    reasons: list[str] = []
    bonus = 0.0
    for agency_id in dict.fromkeys(before):
        agency = registry.get(agency_id)
        if agency_id in after:
            is_group = bool(agency and agency.is_group)
            bonus = max(bonus, group if is_group else same)
            reasons.append(f"same lead: {_name(registry, agency_id)}")
            continue
        for succ in registry.successors(agency_id, as_of):
            if succ not in after:
                continue
            rel = _succession(registry, agency_id, succ)
            kind = "successor" if rel is None or rel.kind != "split" else "successor by split"
            when = f", {rel.date}" if rel else ""
            succ_agency = registry.get(succ)
            is_group = bool(succ_agency and succ_agency.is_group) or bool(agency and agency.is_group)
            bonus = max(bonus, group if is_group else successor)
            reasons.append(f"lead {_name(registry, agency_id)} → {_name(registry, succ)} ({kind}{when})")
            break
    return Evidence(bonus, tuple(reasons))


def _subject_words(c: Citation) -> set[str]:
    """The words naming what an instrument is about: its title, or the name of an unnumbered one."""
    text = c.title if c.numbered else c.id
    text = expand_abbreviations(text or "")
    words = set(re.findall(r"[a-z]+", fold(text)))
    return words - _TITLE_STOP


def _overlap(old: Citation, new: Citation) -> float:
    a, b = _subject_words(old), _subject_words(new)
    if min(len(a), len(b)) < 3:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _year(c: Citation) -> str | None:
    if c.year:
        return c.year
    m = re.search(r"năm ((?:19|20)\d\d)", c.id if not c.numbered else "")
    return m.group(1) if m else None


def _same_instrument(old: Citation, new: Citation) -> bool:
    """One instrument cited two ways: by name ("Luật Ban hành VBQPPL năm 2025") and by number (64/2025/QH15)."""
    if old.id == new.id or old.type != new.type or old.type is None or (old.numbered and new.numbered):
        return False
    if "sua doi" in fold(f"{old.id} {old.title or ''} {new.id} {new.title or ''}"):
        return False  # an amending law is another instrument
    ya, yb = _year(old), _year(new)
    return (ya is None or yb is None or ya == yb) and _overlap(old, new) >= 0.8


def _replaced(old: Citation, new: Citation) -> bool:
    """`new` plausibly replaces `old`: same type and code, later or unknown year, same subject."""
    if old.id == new.id or old.type != new.type or old.type is None:
        return False
    if old.numbered and new.numbered and old.code != new.code:
        return False
    ya, yb = _year(old), _year(new)
    if ya and yb and yb <= ya:
        return False
    return _overlap(old, new) >= 0.5


def citation_evidence(earlier: Task, later: Task, *, shared: float = CITE_SHARED, replaced: float = CITE_REPLACED,
                      cap: float = CITE_CAP) -> Evidence:
    """Instruments cited by both tasks, and instruments of the earlier task replaced in the later one."""
    reasons: list[str] = []
    bonus = 0.0
    common = [i for i in earlier.cites if i in set(later.cites)]
    for ident in common:
        reasons.append(f"shared citation {ident}")
        bonus += shared
    seen = set(common)
    for old in earlier.citations:
        if old.id in seen:
            continue
        for new in later.citations:
            if new.id in seen:
                continue
            if _same_instrument(old, new):
                reasons.append(f"same instrument {old.id} = {new.id}")
                bonus += shared
            elif _replaced(old, new):
                reasons.append(f"replaced instrument {old.id} → {new.id}")
                bonus += replaced
            else:
                continue
            seen.update((old.id, new.id))
            break
    return Evidence(min(bonus, cap), tuple(reasons))
