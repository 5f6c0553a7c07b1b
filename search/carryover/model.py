"""The carry-over result: linked task pairs, per-plan-pair classification, and its JSON form.

The JSON form is what `GET /carryover` serves (contract §3: `pairs` with
`from`/`to` = {doc, section, no} and `score`; `from` is the earlier task) plus
what a reader needs without re-extracting: reasons, lines, the classification
of every plan pair, and the tasks' text and leads for history and lineage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cchc.graph.extract.records import Task
from cchc.search.carryover.plans import PlanPair

__all__ = ["CarryOverPair", "CarryOverResult", "PlanResult", "TaskRef", "task_key"]


def task_key(doc: str, section: str | None, no: str | None, line: int | None = None) -> str:
    """"<doc>:<section>.<no>" (the scorer's key), else "<doc>:L<line>" for tasks without STT."""
    if section and no:
        return f"{doc}:{section}.{no}"
    return f"{doc}:L{line}"


@dataclass(frozen=True)
class TaskRef:
    """A task as the result names it: where it is, what it says, who leads it."""

    doc: str
    section: str | None
    no: str | None
    line: int
    end_line: int
    content: str
    lead: tuple[str, ...] = ()
    lead_ids: tuple[str | None, ...] = ()

    @property
    def key(self) -> str:
        return task_key(self.doc, self.section, self.no, self.line)

    @classmethod
    def of(cls, task: Task) -> TaskRef:
        return cls(task.span.doc, task.section, task.no, task.span.line, task.span.end_line, task.content,
                   tuple(task.lead), tuple(a.agency_id for a in task.lead_agencies))

    def ref_json(self) -> dict[str, Any]:
        """The contract's task reference: doc, section, no, plus the line span."""
        return {"doc": self.doc, "section": self.section, "no": self.no, "line": self.line,
                "end_line": self.end_line}

    def to_json(self) -> dict[str, Any]:
        return {**self.ref_json(), "content": self.content, "lead": list(self.lead), "lead_ids": list(self.lead_ids)}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> TaskRef:
        return cls(d["doc"], d.get("section"), d.get("no"), int(d["line"]), int(d.get("end_line", d["line"])),
                   d.get("content", ""), tuple(d.get("lead", ())), tuple(d.get("lead_ids", ())))


@dataclass(frozen=True)
class CarryOverPair:
    """The later task continues the earlier one, with the score and the reasons of the match."""

    earlier: TaskRef
    later: TaskRef
    score: float
    reasons: tuple[str, ...]
    plan: str  # PlanPair.key
    link: str = "one-to-one"  # "one-to-one" | "split" | "merge"

    def to_json(self) -> dict[str, Any]:
        return {"from": self.earlier.ref_json(), "to": self.later.ref_json(), "score": round(self.score, 4),
                "reasons": list(self.reasons), "link": self.link, "plan": self.plan}


@dataclass
class PlanResult:
    """One plan pair: its links and which tasks continued, were dropped, or are new."""

    pair: PlanPair
    pairs: list[CarryOverPair]
    earlier_tasks: list[str]  # task keys, in document order
    later_tasks: list[str]

    @property
    def continued(self) -> list[str]:
        linked = {p.earlier.key for p in self.pairs}
        return [k for k in self.earlier_tasks if k in linked]

    @property
    def dropped(self) -> list[str]:
        linked = {p.earlier.key for p in self.pairs}
        return [k for k in self.earlier_tasks if k not in linked]

    @property
    def carried(self) -> list[str]:
        """Later tasks that continue an earlier one."""
        linked = {p.later.key for p in self.pairs}
        return [k for k in self.later_tasks if k in linked]

    @property
    def new(self) -> list[str]:
        linked = {p.later.key for p in self.pairs}
        return [k for k in self.later_tasks if k not in linked]

    def counts(self) -> dict[str, int]:
        return {"earlier": len(self.earlier_tasks), "later": len(self.later_tasks), "pairs": len(self.pairs),
                "continued": len(self.continued), "dropped": len(self.dropped), "carried": len(self.carried),
                "new": len(self.new)}

    def to_json(self) -> dict[str, Any]:
        return {**self.pair.to_json(), "counts": self.counts(), "continued": self.continued,
                "dropped": self.dropped, "new": self.new, "earlier_tasks": self.earlier_tasks,
                "later_tasks": self.later_tasks, "pairs": [p.to_json() for p in self.pairs]}


@dataclass
class CarryOverResult:
    """Every plan pair's links; `tasks` holds every task of the linked plans by key."""

    plans: list[PlanResult]
    tasks: dict[str, TaskRef]
    model_id: str = ""
    threshold: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def pairs(self) -> list[CarryOverPair]:
        return [p for plan in self.plans for p in plan.pairs]

    def plan(self, earlier: str, later: str) -> PlanResult:
        """The result for one plan pair (document names); KeyError when it was not computed."""
        for p in self.plans:
            if p.pair.earlier == earlier and p.pair.later == later:
                return p
        raise KeyError(f"no carry-over computed from {earlier} to {later}")

    def contract_json(self) -> dict[str, Any]:
        """`GET /carryover`: {"pairs": [{"from", "to", "score", "reasons", ...}]}."""
        return {"pairs": [p.to_json() for p in self.pairs],
                "plans": [{**p.pair.to_json(), "counts": p.counts()} for p in self.plans]}

    def to_json(self) -> dict[str, Any]:
        return {"model_id": self.model_id, "threshold": self.threshold, "meta": self.meta,
                "plans": [p.to_json() for p in self.plans],
                "tasks": {k: t.to_json() for k, t in self.tasks.items()}}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CarryOverResult:
        tasks = {k: TaskRef.from_json(t) for k, t in d.get("tasks", {}).items()}

        def ref(r: dict[str, Any]) -> TaskRef:
            return tasks.get(task_key(r["doc"], r.get("section"), r.get("no"), r.get("line"))) or TaskRef.from_json(r)

        plans = []
        for p in d.get("plans", []):
            pair = PlanPair(p["from"], p["to"], p["relation"])
            links = [CarryOverPair(ref(x["from"]), ref(x["to"]), float(x["score"]), tuple(x.get("reasons", ())),
                                   x.get("plan", pair.key), x.get("link", "one-to-one")) for x in p.get("pairs", [])]
            plans.append(PlanResult(pair, links, list(p.get("earlier_tasks", [])), list(p.get("later_tasks", []))))
        return cls(plans, tasks, d.get("model_id", ""), float(d.get("threshold", 0.0)), dict(d.get("meta", {})))
