"""Questions over a carry-over result: a task's history, an agency's successors, inherited tasks.

A planner looking at a 2026 row wants the row it continues (and what that
one continued), with the score and reasons of each link; a department head
wants the tasks the department leads now that its predecessor led before the
2025 restructuring.  Both are walks over the linked pairs, so they work from
the cached JSON without re-extracting or loading the model.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from cchc.graph.extract.agencies import Registry, load_registry
from cchc.graph.ids import parse_task_ref, stem_of, task_ref
from cchc.search.carryover.model import CarryOverPair, CarryOverResult, TaskRef

_IRI_BASE = "https://w3id.org/cchc/"  # the default base of task IRIs (`cchc.graph.rdf.terms`)

__all__ = ["history", "inherited_tasks", "lineage_tasks", "successor_chain"]


def _resolve(result: CarryOverResult, key: str) -> str:
    """Accept the readable id ("langson-2026-cchc-phuluc/III.9", the one search shows) and the older
    forms ("doc.txt:III.9", "stem/III-9", "doc.txt:L841", the IRI); ValueError naming the task otherwise."""
    if key in result.tasks:
        return key
    ref = parse_task_ref(key, _IRI_BASE)
    if ref is not None:
        for k, t in result.tasks.items():
            if stem_of(t.doc) != ref.stem:
                continue
            if (ref.line is not None and t.line == ref.line) or (
                    ref.section is not None and (t.section, t.no) == (ref.section, ref.no)):
                return k
    raise ValueError(f"unknown task {key!r}: expected <document>/<section>.<no> of a linked plan "
                     "(e.g. langson-2026-cchc-phuluc/III.9)")


def history(result: CarryOverResult, key: str) -> list[dict[str, Any]]:
    """The chain of a task across plans, earliest first: every task it continues or is continued by.

    Each step is {"task": {...}, "links": [{"from": key, "score", "reasons", "link"}], "score", "reasons",
    "query": bool}: `links` are the step's links from earlier steps of the chain, `score`/`reasons` the best
    of them (None/[] for the first step).  The walk follows links backwards from the task and forwards from
    it, never sideways, so a sibling of a split is not part of another sibling's history.
    """
    start = _resolve(result, key)
    into: dict[str, list[CarryOverPair]] = {}
    out_of: dict[str, list[CarryOverPair]] = {}
    for p in result.pairs:
        into.setdefault(p.later.key, []).append(p)
        out_of.setdefault(p.earlier.key, []).append(p)
    members: set[str] = {start}
    edges: set[tuple[str, str]] = set()
    for step, side in ((into, "earlier"), (out_of, "later")):
        queue = deque([start])
        while queue:
            cur = queue.popleft()
            for p in step.get(cur, []):
                nxt = getattr(p, side).key
                edges.add((p.earlier.key, p.later.key))
                if nxt not in members:
                    members.add(nxt)
                    queue.append(nxt)
    order = _doc_order(result)
    steps = []
    for k in sorted(members, key=lambda k: (*order.get(result.tasks[k].doc, (99, 0)), result.tasks[k].doc,
                                            result.tasks[k].line)):
        links = sorted((p for p in into.get(k, []) if (p.earlier.key, k) in edges), key=lambda p: -p.score)
        steps.append({
            "task": result.tasks[k].to_json(), "key": k, "query": k == start,
            "score": links[0].score if links else None, "reasons": list(links[0].reasons) if links else [],
            "links": [{"from": p.earlier.key, "score": p.score, "reasons": list(p.reasons), "link": p.link}
                      for p in links],
        })
    return steps


def _doc_order(result: CarryOverResult) -> dict[str, tuple[int, int]]:
    """Documents from earliest to latest: after every document linked into them, then by first year."""
    docs = {t.doc for t in result.tasks.values()}
    later_of = {(p.pair.earlier, p.pair.later) for p in result.plans}
    rank = {d: 0 for d in docs}
    for _ in range(len(docs)):
        for a, b in later_of:
            rank[b] = max(rank[b], rank[a] + 1)
    plans = result.meta.get("plans", {})

    def start(doc: str) -> int:
        p = plans.get(doc, {})
        return int(p.get("year") or (p.get("period") or [0])[0] or 0)

    return {d: (rank[d], start(d)) for d in docs}


def successor_chain(agency_id: str, registry: Registry | None = None) -> list[dict[str, Any]]:
    """The successions leading out of an agency, transitively, by date: who holds its work now.

    Each item: {"predecessor", "predecessor_name", "successor", "successor_name", "date", "kind", "note"}.
    ValueError for an id the registry does not know.
    """
    reg = registry or load_registry()
    if agency_id not in reg:
        raise ValueError(f"unknown agency id {agency_id!r}")
    reached = {agency_id, *reg.successors(agency_id)}
    rels = [s for s in reg.lineage(agency_id) if s.predecessor in reached]

    def name(i: str) -> str:
        a = reg.get(i)
        return a.name if a else i

    return [{"predecessor": s.predecessor, "predecessor_name": name(s.predecessor), "successor": s.successor,
             "successor_name": name(s.successor), "date": s.date, "kind": s.kind, "note": s.note} for s in rels]


def inherited_tasks(result: CarryOverResult, agency_id: str, registry: Registry | None = None,
                    *, include_same: bool = False) -> list[CarryOverPair]:
    """Links whose later task `agency_id` leads and whose earlier task a predecessor of it led.

    "Which tasks does Sở Khoa học và Công nghệ lead now that Sở Thông tin và
    Truyền thông led before?"  With `include_same`, tasks the agency itself led
    in both plans are listed too.
    """
    reg = registry or load_registry()
    if agency_id not in reg:
        raise ValueError(f"unknown agency id {agency_id!r}")
    before = set(reg.predecessors(agency_id))
    if include_same:
        before.add(agency_id)
    return [p for p in result.pairs
            if agency_id in p.later.lead_ids and before.intersection(i for i in p.earlier.lead_ids if i)]


def lineage_tasks(result: CarryOverResult, agency_id: str, registry: Registry | None = None) -> list[dict[str, Any]]:
    """The tasks the agency and every agency of its lineage lead, each with where it went.

    An abolished department has no task in the newest plan, but its tasks of
    earlier plans did not vanish: "Sở TT&TT" led tasks in 2023 that Sở KH&CN
    leads in 2026.  Each item: {"agency", "agency_name", "task" (TaskRef JSON
    with its readable `id`), "status", "went_to": [later tasks with `id`, `lead`,
    `score`]}.  `status` is "continued" (linked into a later plan), "dropped"
    (in an earlier plan of a linked pair, not continued), or "latest" (in no
    earlier plan of a pair: nothing to continue into yet).
    """
    reg = registry or load_registry()
    if agency_id not in reg:
        raise ValueError(f"unknown agency id {agency_id!r}")
    family = [agency_id, *reg.predecessors(agency_id), *reg.successors(agency_id)]
    family = list(dict.fromkeys(family))
    earlier = {k for plan in result.plans for k in plan.earlier_tasks}
    out_of: dict[str, list[CarryOverPair]] = {}
    for p in result.pairs:
        out_of.setdefault(p.earlier.key, []).append(p)

    def ref(t: TaskRef) -> dict[str, Any]:
        return {**t.to_json(), "id": task_ref(t.doc, t.section, t.no, t.line)}

    items = []
    for key, t in result.tasks.items():
        lead = next((a for a in family if a in t.lead_ids), None)
        if lead is None:
            continue
        went = [{**ref(p.later), "score": round(p.score, 4), "reasons": list(p.reasons)} for p in out_of.get(key, [])]
        status = "continued" if went else "dropped" if key in earlier else "latest"
        agency = reg.get(lead)
        items.append({"agency": lead, "agency_name": agency.name if agency else lead, "task": ref(t),
                      "status": status, "went_to": went})
    items.sort(key=lambda i: (i["task"]["doc"], i["task"]["line"]))
    return items
