"""Response models of the HTTP API: what the OpenAPI document promises, checked on every answer.

The shapes are the ones agreed with the web page (see the module docstring of
`api.py`); fields beyond them are extras readers may ignore.  Models are
lenient on input (they only describe what `cchc.graph.views` returns) and
strict on names, so a renamed field fails the schema tests, not the page.

Kept as one module (~430 lines): it is the API's catalogue of shapes, one small model per
answer, read together with the OpenAPI document; there is no logic to split.
"""

from __future__ import annotations

from dataclasses import fields as dc_fields
from typing import Any, Generic, TypeVar, get_type_hints

from cchc.search.searcher import Result
from pydantic import BaseModel, ConfigDict, Field, create_model

T = TypeVar("T")


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class ErrorBody(_Model):
    """Every error: a short machine code and a message naming the problem."""

    error: str = Field(description="not_found | bad_request | timeout | method_not_allowed | internal | ...")
    detail: str


class Page(_Model, Generic[T]):
    total: int = Field(description="items in the whole list")
    limit: int
    offset: int
    items: list[T]


class Health(_Model):
    status: str
    units: int
    documents: int
    counts: dict[str, int]
    generation: str  # the live data generation, whose products were checked to agree
    carryover_links: int


# ---------------------------------------------------------------- search


def _result_fields() -> dict[str, Any]:
    """The fields of `cchc.search.searcher.Result`, so the API states what search returns, not a copy of it."""
    return {f.name: (hints[f.name], ...) for hints in [get_type_hints(Result)] for f in dc_fields(Result)}


SearchResult = create_model(
    "SearchResult", __base__=_Model, __doc__="One search hit (`cchc.search.searcher.Result`) and its task id.",
    **_result_fields(),
    task=(str | None, Field(description="id of the task this hit belongs to (for /tasks/{id}), else null")),
)


class SearchResponse(_Model):
    query: str
    read_as: str | None = Field(None, description="the query as searched, when its diacritics were restored")
    total: int = Field(description="results the evidence lets through (all pages)")
    offset: int
    results: list[SearchResult]


class _TaskRow(_Model):
    """Where a task is and what it says: the fields every list of tasks shares."""

    task: str
    doc: str
    line: int
    section: str | None
    no: str | None
    content: str


class TaskListRow(_TaskRow):
    id: str = Field(description="the readable id (for /tasks/{id})")
    year: int | None = None


class InstrumentRow(_Model):
    id: str = Field(description="the URL id (for /instruments/{id})")
    identifier: str | None
    label: str | None
    type: str | None
    title: str | None = None
    tasks: int = Field(description="tasks tracing back to it (cited, via a plan, via another instrument)")
    direct: int = Field(description="of those, tasks citing it themselves")
    mentions: int


# ---------------------------------------------------------------- shared pieces


class Ref(_Model):
    id: str
    name: str | None


class Evidence(_Model):
    doc: str
    line: int
    end_line: int


class SourceLine(_Model):
    line: int
    text: str
    page: int | None = Field(None, description="page of the Word or PDF original this line is on")


class Provenance(_Model):
    doc: str
    line: int
    end_line: int
    lines: list[SourceLine] = Field(description="the source file's lines line..end_line (NFC)")
    pages: list[int] | None = Field(None, description="pages of the Word or PDF original the lines are on")


class TaskSummary(_TaskRow):
    agency: str | None = Field(None, description="for inherited tasks: the predecessor that held them")
    relation: str | None = Field(None, description="for inherited tasks: how the duties passed (merge, split, ...)")
    went_to: list[dict[str, Any]] = Field([], description="on agency pages: the later tasks it carries over into")


# ---------------------------------------------------------------- tasks


class DocumentRef(_Model):
    id: str
    title: str | None
    year: int | None


class Deadline(_Model):
    text: str
    start: str | None
    end: str | None
    recurrence: str | None = None
    precision: str | None = None


class FieldRef(_Model):
    id: str
    iri: str
    label: str | None


class ArticleRef(_Model):
    """An article (Điều) of an instrument whose text is in the store, as a citation names it."""

    doc: str
    line: int
    end_line: int
    text: str


class CitationRef(_Model):
    instrument: str = Field(description="instrument id, for /instruments/{id}")
    id: str | None = Field(description="the instrument's id as printed (118/2025/NĐ-CP)")
    label: str | None
    line: int
    end_line: int
    surface: str
    locator: str | None = Field(None, description='the part cited, as printed before the number ("khoản 1 Điều 5")')
    articles: list[ArticleRef] = Field(default_factory=list,
                                       description="the cited articles' units, when the instrument's text is here")


class HistoryLink(_Model):
    from_: str = Field(alias="from")
    score: float
    reasons: list[str]
    link: str | None = None


class HistoryStep(_Model):
    task: dict = Field(description="the task as the carry-over result names it (doc, section, no, line, content, lead)")
    id: str | None = Field(description="its id, for /tasks/{id}")
    key: str
    query: bool = Field(description="true for the task asked about")
    score: float | None
    reasons: list[str]
    links: list[HistoryLink]


class TaskDetail(_Model):
    id: str
    iri: str
    doc: str
    document: DocumentRef
    section: str | None
    section_title: str | None
    no: str | None
    content: str
    product: str | None
    timeline: str | None
    heading_path: str | None
    source_kind: str | None
    lead: list[Ref]
    cooperating: list[Ref]
    lead_text: str | None
    cooperating_text: str | None
    deadline: Deadline | None
    fields: list[FieldRef]
    citations: list[CitationRef]
    provenance: Provenance
    history: list[HistoryStep]


class TaskHistory(_Model):
    task: str
    history: list[HistoryStep]


# ---------------------------------------------------------------- instruments


class Conflict(_Model):
    field: str
    values: list[str]


class NodeRelation(_Model):
    relation: str
    direction: str = Field(description="out: this instrument -> other; in: other -> this instrument")
    kind: str
    id: str
    label: str | None
    evidence: Evidence | None


class Mention(_Model):
    doc: str
    line: int
    end_line: int
    text: str
    task: str | None


class PathStep(_Model):
    kind: str
    id: str
    label: str | None
    relation: str | None
    evidence: Evidence | None


class TracedTask(_Model):
    task: str
    doc: str
    line: int
    end_line: int
    section: str | None
    no: str | None
    content: str
    link: str = Field(description="cites | via-plan | via-instrument")
    why: str
    path: list[PathStep]


class InstrumentDetail(_Model):
    id: str
    iri: str
    identifier: str
    label: str
    type: str | None
    rdf_class: str | None
    number: str | None
    symbol: str | None
    year: int | None
    issuer: Ref | None
    date: str | None
    title: str | None
    conflicts: list[Conflict]
    relations: list[NodeRelation]
    mentions: Page[Mention]
    tasks: Page[TracedTask]


# ---------------------------------------------------------------- agencies


class AgencyLink(_Model):
    id: str
    name: str
    relation: str
    date: str
    note: str | None


class SuccessionStep(_Model):
    predecessor: str
    successor: str
    relation: str
    date: str
    note: str | None


class RoleYears(_Model):
    lead: dict[str, list[TaskSummary]]
    cooperating: dict[str, list[TaskSummary]]


class RoleTotals(_Model):
    lead: dict[str, int]
    cooperating: dict[str, int]


class AgencyDetail(_Model):
    id: str
    iri: str
    name: str
    aliases: list[str]
    kind: str | None
    level: str | None
    group: bool
    predecessors: list[AgencyLink]
    successors: list[AgencyLink]
    lineage: list[SuccessionStep]
    tasks: RoleYears = Field(description="its own tasks by the plan's year; each year's list paged by limit/offset")
    totals: RoleTotals
    inherited: RoleYears = Field(description="tasks its predecessors led or joined, by year (same paging)")
    inherited_totals: RoleTotals
    limit: int
    offset: int


class AgencyRow(_Model):
    id: str
    name: str
    kind: str | None
    level: str | None
    group: bool
    lead: int
    cooperating: int


class FieldRow(_Model):
    id: str
    iri: str
    label: str | None
    tasks: int


# ---------------------------------------------------------------- documents


class DocumentRow(_Model):
    id: str
    file: str
    iri: str
    title: str | None
    rdf_class: str | None
    type: str | None
    issuer: str | None
    level: str | None
    year: int | None
    period: list[int] | None
    tasks: int


class DocumentRelation(_Model):
    relation: str
    instrument: str
    label: str | None
    evidence: Evidence | None


class DocumentDetail(DocumentRow):
    """A document row with its counts, relations and (instead of their number) a page of its tasks."""

    kind: str | None
    sha256: str | None
    counts: dict[str, int]
    relations: list[DocumentRelation]
    tasks: Page[TaskSummary]


# ---------------------------------------------------------------- carry-over


class CarryOverTask(_Model):
    doc: str
    section: str | None
    no: str | None
    line: int | None = None
    end_line: int | None = None
    id: str | None = Field(None, description="the task's readable id (for /tasks/{id})")
    content: str | None = None
    lead: list[str] = []
    lead_ids: list[str] = []
    field: str | None = Field(None, description="CCHC field id (see /fields)")


class CarryOverLink(_Model):
    from_: CarryOverTask = Field(alias="from", description="the earlier task")
    to: CarryOverTask
    score: float
    reasons: list[str] = []
    link: str | None = None
    plan: str | None = None


class CarryOverPlan(_Model):
    from_: str = Field(alias="from")
    to: str
    relation: str | None = None
    key: str | None = None
    counts: dict[str, int] = {}
    continued: list[CarryOverTask] = Field([], description="earlier tasks that continue in the later plan")
    dropped: list[CarryOverTask] = Field([], description="earlier tasks the later plan does not continue")
    new: list[CarryOverTask] = Field([], description="later tasks that continue none of the earlier plan")
    shown: dict[str, int] = Field({}, description="how many of each list the filters kept")


class CarryOverResponse(_Model):
    pairs: list[CarryOverLink]
    plans: list[CarryOverPlan]
    total: int = Field(0, description="pairs after the filters (all pages)")
    offset: int = 0
