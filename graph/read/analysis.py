"""Tables a planner reads: tasks per plan, field, deadline quarter and lead agency; citations; carry-over by field.

The notebooks in `notebooks/` draw these, and nothing else computes them, so
the numbers a reader sees come from one place that tests check against the
store.  Everything is read from the graph store (SPARQL over the named
graphs, or the cached networkx projection), and the results are plain lists,
dicts and dataclasses: no pandas, so a table prints the same in a notebook, a
test or a script.

Lineage: the 2025 restructuring merged departments (Sở TT&TT into Sở KH&CN,
Sở KH&ĐT into Sở Tài chính) and abolished the districts, so comparing who
leads what in 2023 and 2026 only makes sense after mapping each 2023 lead to
the agency holding its duties at the later date (`Registry.current`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import networkx as nx
from cchc.graph.read.projection import projection

if TYPE_CHECKING:
    from cchc.graph.extract.agencies import Registry
    from cchc.graph.rdf.store import Store
    from cchc.graph.read.trace import TraceHit

__all__ = [
    "CITING_RELATIONS", "NO_FIELD", "CarryOverByField", "CitedInstrument", "LeadCount", "TaskRow",
    "carryover_by_field", "chain_groups", "chain_tree", "citation_graph", "deadline_kind", "deadline_quarter",
    "deadline_table", "field_labels", "lead_comparison", "lead_tally", "most_cited", "quarter_label",
    "tally", "task_rows", "tasks_per_document", "tasks_per_field",
]

CITING_RELATIONS = ("cites", "implements", "basedOn", "appendixOf", "replaces", "amends")
NO_FIELD = "(không rõ lĩnh vực)"
_FIELD_NS = "https://w3id.org/cchc/field/"
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10}
_QUARTER = ("I", "II", "III", "IV")

_TASKS = """SELECT ?t ?file ?section ?no ?line ?field ?timeline ?begin ?end ?precision ?recurrence WHERE {
  ?t a cchc:Task ; cchc:partOf/dcterms:source ?file ; cchc:span/cchc:startLine ?line .
  OPTIONAL { ?t cchc:sectionNumber ?section } OPTIONAL { ?t cchc:rowNumber ?no } OPTIONAL { ?t cchc:field ?field }
  OPTIONAL { ?t cchc:deadline ?d .
    OPTIONAL { ?d cchc:timelineText ?timeline } OPTIONAL { ?d time:hasBeginning/time:inXSDDate ?begin }
    OPTIONAL { ?d time:hasEnd/time:inXSDDate ?end } OPTIONAL { ?d cchc:precision ?precision }
    OPTIONAL { ?d cchc:recurrence ?recurrence } } }"""
_LEADS = "SELECT ?t ?id WHERE { ?t a cchc:Task ; cchc:leadAgency/dcterms:identifier ?id }"
_FIELDS = """SELECT ?f ?label (MIN(?section) AS ?first) WHERE {
  ?f skos:inScheme cchc:fields ; skos:prefLabel ?label . FILTER (LANG(?label) = "vi")
  OPTIONAL { ?t cchc:field ?f ; cchc:sourceKind "table" ; cchc:sectionNumber ?section } } GROUP BY ?f ?label"""
_CONTINUES = """SELECT ?later ?earlier ?ld ?ed WHERE {
  ?later cchc:continues ?earlier . ?later cchc:partOf/dcterms:source ?ld . ?earlier cchc:partOf/dcterms:source ?ed }"""
_MENTIONS = "SELECT ?i (COUNT(?c) AS ?n) WHERE { ?c a cchc:Citation ; cchc:mentions ?i } GROUP BY ?i"


def _date(value: object) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def _slug(field_iri: object) -> str | None:
    return str(field_iri)[len(_FIELD_NS):] if field_iri and str(field_iri).startswith(_FIELD_NS) else None


# ---------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class TaskRow:
    """One task as the tallies see it: where it is, its field, its leads (registry ids) and its deadline."""

    iri: str
    doc: str  # file name, as in extraction records
    section: str | None
    no: str | None
    line: int
    field: str | None  # field concept slug ("thu-tuc-hanh-chinh"), None when the task has none
    leads: tuple[str, ...] = ()
    timeline: str | None = None
    begin: date | None = None
    end: date | None = None
    precision: str | None = None  # "day" | "month" | "quarter" | "half" | "year" | "period"
    recurrence: str | None = None  # "continuous" | "yearly" | ...


def task_rows(store: Store) -> list[TaskRow]:
    """Every task of the store, in document and line order."""
    leads: dict[str, list[str]] = defaultdict(list)
    for task, agency in sorted(store.select(_LEADS)):
        leads[task].append(agency)
    rows = {}
    for t, file, section, no, line, fld, timeline, begin, end, precision, recurrence in store.select(_TASKS):
        if t in rows:  # a task with two deadlines or fields would repeat; the first one stands
            continue
        rows[t] = TaskRow(t, file, section, no, int(line), _slug(fld), tuple(dict.fromkeys(leads.get(t, ()))),
                          timeline, _date(begin), _date(end), precision, recurrence)
    return sorted(rows.values(), key=lambda r: (r.doc, r.line))


def tally(rows: Iterable[TaskRow], key: Callable[[TaskRow], Hashable | None]) -> dict[Any, int]:
    """Tasks per key value, largest first (ties in first-seen order); a None key is not counted."""
    counts = Counter(k for r in rows if (k := key(r)) is not None)
    return dict(counts.most_common())


def tasks_per_document(rows: Iterable[TaskRow]) -> dict[str, int]:
    return dict(sorted(Counter(r.doc for r in rows).items()))


def field_labels(store: Store) -> dict[str, str]:
    """Field slug -> Vietnamese label, in the order the appendices number their sections (I, II, ...)."""
    found = []
    for f, label, first in store.select(_FIELDS):
        found.append((_ROMAN.get(str(first or "").upper(), 99), label, _slug(f), label))
    return {slug: label for _, _, slug, label in sorted(found) if slug}


def tasks_per_field(rows: Iterable[TaskRow], fields: Sequence[str]) -> dict[str, dict[str, int]]:
    """{document: {field slug: tasks}} with every field of `fields` present (0 when none); NO_FIELD last."""
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        per = out.setdefault(r.doc, {f: 0 for f in fields})
        key = r.field if r.field in per else NO_FIELD
        per[key] = per.get(key, 0) + 1
    return dict(sorted(out.items()))


# ---------------------------------------------------------------------------- deadlines


def quarter_label(year: int, quarter: int) -> str:
    """"Quý IV/2023": how the plans themselves print a quarter."""
    return f"Quý {_QUARTER[quarter - 1]}/{year}"


def deadline_quarter(row: TaskRow) -> tuple[int, int] | None:
    """(year, quarter) the task is due in: the quarter its deadline interval ends; None when undated."""
    if row.end is None:
        return None
    return row.end.year, (row.end.month - 1) // 3 + 1


def deadline_kind(row: TaskRow) -> str:
    """How firm the deadline is: a recurring task, a whole-year one, or a dated one (day, month, quarter)."""
    if row.end is None:
        return "không có hạn"
    if row.recurrence:
        return "thường xuyên"
    if row.precision in ("year", "period"):
        return "trong năm"
    return "hạn cụ thể"


def deadline_table(rows: Iterable[TaskRow]) -> dict[str, dict[str, int]]:
    """{"Quý I/2026": {"hạn cụ thể": n, "trong năm": n, "thường xuyên": n}} in time order; undated tasks left out."""
    cells: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    for r in rows:
        q = deadline_quarter(r)
        if q is not None:
            cells[q][deadline_kind(r)] += 1
    kinds = ("hạn cụ thể", "trong năm", "thường xuyên")
    return {quarter_label(*q): {k: cells[q][k] for k in kinds} for q in sorted(cells)}


# ---------------------------------------------------------------------------- lead agencies


@dataclass
class LeadCount:
    """Tasks led by an agency (as it is named at `as_of`), with how many came through each predecessor."""

    agency: str
    name: str
    tasks: int = 0
    via: dict[str, int] = field(default_factory=dict)  # predecessor id -> tasks it led under its old name


def lead_tally(rows: Iterable[TaskRow], registry: Registry, *, as_of: str | None = None,
               docs: Iterable[str] | None = None, include_groups: bool = False) -> list[LeadCount]:
    """Tasks per lead agency, each 2023 name mapped to who holds its duties at `as_of`; most tasks first.

    A task counts once per (current) agency even when two of its leads merged into one.
    Group phrases ("Các sở, ban, ngành") are skipped unless `include_groups`.
    """
    wanted = set(docs) if docs is not None else None
    counts: dict[str, LeadCount] = {}
    for r in rows:
        if wanted is not None and r.doc not in wanted:
            continue
        seen: set[str] = set()
        for lead in r.leads:
            agency = registry.get(lead)
            if agency is None or (agency.is_group and not include_groups):
                continue
            for now in registry.current(lead, as_of) if as_of else [lead]:
                entry = counts.setdefault(now, LeadCount(now, (registry.get(now) or agency).name))
                if now not in seen:
                    entry.tasks += 1
                    seen.add(now)
                if now != lead:
                    entry.via[lead] = entry.via.get(lead, 0) + 1
    return sorted(counts.values(), key=lambda c: (-c.tasks, c.name))


def lead_comparison(rows: Sequence[TaskRow], registry: Registry, periods: Mapping[str, Iterable[str]], *,
                    as_of: str, top: int = 10, include_groups: bool = False) -> list[dict[str, Any]]:
    """Side by side, per agency (named as at `as_of`): {"agency", "name", <period>: tasks, "via": {...}}.

    `periods` maps a label ("2023") to its documents; the `top` agencies by total tasks are kept.
    """
    tallies = {p: {c.agency: c for c in lead_tally(rows, registry, as_of=as_of, docs=docs,
                                                   include_groups=include_groups)}
               for p, docs in periods.items()}
    agencies = {a for t in tallies.values() for a in t}
    table = []
    for a in agencies:
        entry: dict[str, Any] = {"agency": a, "name": next(t[a].name for t in tallies.values() if a in t), "via": {}}
        for p, t in tallies.items():
            entry[p] = t[a].tasks if a in t else 0
            for old, n in (t[a].via.items() if a in t else ()):
                entry["via"].setdefault(old, {})[p] = n
        table.append(entry)
    table.sort(key=lambda e: (-sum(e[p] for p in periods), e["name"]))
    return table[:top]


# ---------------------------------------------------------------------------- citations


@dataclass(frozen=True)
class CitedInstrument:
    """An instrument and how widely the corpus cites it."""

    iri: str
    id: str
    type: str | None
    mentions: int  # citation records (each printed mention)
    documents: int  # documents citing it, through the document, a task or a unit of it
    tasks: int  # tasks citing it directly
    cited_by: tuple[str, ...] = ()  # the documents citing it (file names)


def citation_graph(store: Store, *, tasks: bool = True) -> nx.DiGraph:
    """Instruments and what cites them: documents and tasks; instrument-to-instrument links kept.

    Edges point from the citing node to the instrument and carry `relations`
    (cites, implements, basedOn, ...) and `weight` (how many citing nodes an
    edge stands for).  Narrative units are folded into their document (their
    lines are the document's text); with `tasks=False` tasks are folded too,
    so the graph is documents and instruments only.
    """
    p = projection(store)
    g = nx.DiGraph()
    for s, o, rel in p.edges(keys=True):
        if rel not in CITING_RELATIONS or p.nodes[o].get("kind") != "instrument":
            continue
        kind = p.nodes[s].get("kind")
        src = s
        if kind == "unit" or (kind == "task" and not tasks):
            src = next((d for _, d, r in p.out_edges(s, keys=True) if r == "partOf"), None)
        elif kind not in ("task", "document", "instrument"):
            continue
        if src is None:
            continue
        for n in (src, o):
            if n not in g:
                g.add_node(n, **p.nodes[n])
        if g.has_edge(src, o):
            data = g.edges[src, o]
            if rel not in data["relations"]:
                data["relations"].append(rel)
            data["weight"] += 1
        else:
            g.add_edge(src, o, relations=[rel], weight=1)
    return g


def most_cited(store: Store, n: int | None = 10) -> list[CitedInstrument]:
    """Instruments by the number of documents citing them, then mentions, then tasks."""
    p = projection(store)
    mentions = {i: int(c) for i, c in store.select(_MENTIONS)}
    out = []
    for inst, a in p.nodes(data=True):
        if a.get("kind") != "instrument":
            continue
        docs, tasks = set(), set()
        for src, _, rel in p.in_edges(inst, keys=True):
            if rel not in CITING_RELATIONS:
                continue
            s = p.nodes[src]
            if s.get("kind") in ("task", "unit", "document"):
                docs.add(s.get("doc"))
            if s.get("kind") == "task" and rel == "cites":
                tasks.add(src)
        out.append(CitedInstrument(inst, a["id"], a.get("type"), mentions.get(inst, 0), len(docs), len(tasks),
                                   tuple(sorted(docs))))
    out.sort(key=lambda c: (-c.documents, -c.mentions, -c.tasks, c.id))
    return out if n is None else out[:n]


def chain_groups(hits: Iterable[TraceHit]) -> list[dict[str, Any]]:
    """Trace hits grouped by the chain above the task (plan -> ... -> instrument): how many tasks each path brings."""
    groups: dict[tuple, dict[str, Any]] = {}
    for h in hits:
        chain = tuple((s.node, s.relation) for s in h.path[1:])
        g = groups.setdefault((h.link, h.kind, h.path[0].relation, chain), {
            "link": h.link, "kind": h.kind, "relation": h.path[0].relation, "chain": [n for n, _ in chain],
            "relations": [r for _, r in chain[:-1]], "docs": Counter(), "hits": []})
        g["docs"][h.doc] += 1
        g["hits"].append(h)
    return sorted(groups.values(), key=lambda g: (-len(g["hits"]), g["link"]))


def chain_tree(store: Store, hits: Sequence[TraceHit], fields: Mapping[str, str] | None = None) -> nx.DiGraph:
    """The trace as a tree to draw: instrument <- plans/instruments on the way <- task groups (per document, field).

    Edges point from the citing side to the instrument; each node has `kind`,
    `label` and `layer` (0 the instrument), task groups also `count`.
    """
    p = projection(store)
    rows = {r.iri: r for r in task_rows(store)} if fields is not None else {}
    g = nx.DiGraph()
    for h in hits:
        steps = list(h.path)
        depth = len(steps) - 1
        for i, step in enumerate(steps[1:], start=1):
            a = p.nodes[step.node]
            if step.node not in g:
                label = a.get("id") if a.get("kind") == "instrument" else a.get("label")
                g.add_node(step.node, kind=a.get("kind"), label=label, layer=depth - i)
            if i > 1:
                g.add_edge(steps[i - 1].node, step.node, relation=steps[i - 1].relation)
        fld = rows[h.node].field if h.node in rows else None
        group = f"{h.path[1].node}|{h.kind}|{fld}"
        if group not in g:
            what = "nhiệm vụ" if h.kind == "task" else "đoạn văn nhắc trực tiếp" if h.link == "cites" else "đoạn văn"
            name = (fields or {}).get(fld or "", "") if h.kind == "task" else ""
            g.add_node(group, kind=f"{h.kind}s", label=name, what=what, count=0, layer=depth, doc=h.doc)
            g.add_edge(group, h.path[1].node, relation=h.path[0].relation)
        g.nodes[group]["count"] += 1
    return g


# ---------------------------------------------------------------------------- carry-over


@dataclass
class CarryOverByField:
    """One field of a plan pair: earlier tasks continued or dropped, later tasks carried over or new."""

    field: str
    continued: int = 0
    dropped: int = 0
    carried: int = 0
    new: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "continued": self.continued, "dropped": self.dropped, "carried": self.carried,
                "new": self.new}


def carryover_by_field(store: Store, earlier: str, later: str, fields: Sequence[str] = ()) -> list[CarryOverByField]:
    """Per field, from the `cchc:continues` links stored between two plans (document file names).

    An earlier task is continued when a later task of `later` continues it, else
    dropped; a later task is carried when it continues a task of `earlier`, else
    new.  Each task counts under its own field, so a 2023 task continued by a
    2026 task filed elsewhere counts in both fields.  Tasks without a field
    count under NO_FIELD.
    """
    rows = task_rows(store)
    links = [(lt, et) for lt, et, ld, ed in store.select(_CONTINUES) if ld == later and ed == earlier]
    continued = {e for _, e in links}
    carried = {lt for lt, _ in links}
    out = {f: CarryOverByField(f) for f in fields}
    for r in rows:
        if r.doc not in (earlier, later):
            continue
        entry = out.setdefault(r.field or NO_FIELD, CarryOverByField(r.field or NO_FIELD))
        if r.doc == earlier:
            if r.iri in continued:
                entry.continued += 1
            else:
                entry.dropped += 1
        if r.doc == later:
            if r.iri in carried:
                entry.carried += 1
            else:
                entry.new += 1
    return list(out.values())
