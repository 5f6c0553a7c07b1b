"""The runner's vocabulary: the job a caller hands over, the answer it gets back, and the error it may get."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GRAPH_FORMATS", "RESULT_FORMATS", "Answer", "Job", "SparqlError"]

RESULT_FORMATS = ("json", "xml", "csv", "tsv")  # SELECT / ASK answers: the W3C result formats
GRAPH_FORMATS = ("turtle", "ntriples", "jsonld", "rdfxml")  # CONSTRUCT / DESCRIBE answers


class SparqlError(ValueError):
    """A query the runner will not or could not answer; `kind` names why (bad_request, too_large, timeout, busy,
    failed, or no_format: the caller asked for no format for this query's form, `detail` then names the form)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind, self.detail = kind, detail


@dataclass(frozen=True)
class Answer:
    """A query's serialised answer: body bytes, their format name, the query form and how many rows/triples."""

    body: bytes
    format: str  # one of RESULT_FORMATS or GRAPH_FORMATS
    form: str  # SELECT, ASK or GRAPH (CONSTRUCT/DESCRIBE)
    count: int
    seconds: float = 0.0  # evaluation and serialisation alone (in the worker): the rest is hand-off overhead
    where: str = "worker"  # "worker" process, or "server": this process (a proven job, or a store without workers)


@dataclass(frozen=True)
class Job:
    """One query as a worker runs it; hashable, so a job proven cheap can be recognised when it comes again."""

    query: str
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    results: str | None  # format names, None when the caller wants no answer of that kind
    graph: str | None
    max_rows: int
