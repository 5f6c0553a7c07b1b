"""Running one job on an Oxigraph store and serialising its answer, under the caps (in a worker, or inline).

Serialisation happens where the query runs, so the server process otherwise
only moves bytes.  SELECT answers are written by Oxigraph as it evaluates (a
Python loop over the solutions cost 1-2 ms per 50 rows, more than many
queries here); graphs are collected triple by triple under the cap, then
serialised by Oxigraph.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

import pyoxigraph as ox
from cchc.graph.sparql.limits import BYTES_PER_ROW, RESULTS, AnswerTooBig, Sink, count_rows, too_many
from cchc.graph.sparql.model import Answer, Job, SparqlError
from cchc.graph.sparql.safety import service_refusal

__all__ = ["execute", "serialize_boolean", "serialize_solutions", "serialize_triples"]

_RDF = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD,
        "rdfxml": ox.RdfFormat.RDF_XML}


def serialize_solutions(fmt: str, solutions: ox.QuerySolutions, limit: int, deadline: float | None) -> bytes:
    """SELECT results in one of the W3C result formats; `AnswerTooBig` past `limit` bytes."""
    sink = Sink(limit, deadline)
    solutions.serialize(sink, format=RESULTS[fmt])
    return bytes(sink.data)


def serialize_boolean(fmt: str, value: bool) -> bytes:
    """ASK results: JSON and XML as the W3C formats say; CSV/TSV as one line, true or false."""
    word = "true" if value else "false"
    if fmt == "json":
        return json.dumps({"head": {}, "boolean": value}).encode()
    if fmt == "xml":
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                f"<head/><boolean>{word}</boolean></sparql>\n").encode()
    return f"{word}\n".encode()


def serialize_triples(fmt: str, triples: list[ox.Triple], prefixes: dict[str, str]) -> bytes:
    keep = prefixes if fmt in ("turtle", "rdfxml") else None
    return ox.serialize(triples, format=_RDF[fmt], prefixes=keep)


def dataset_args(job: Job) -> dict[str, Any]:
    """The dataset Oxigraph queries: the union of the named graphs unless the job names graphs."""
    if not job.default_graphs and not job.named_graphs:
        return {"use_default_graph_as_union": True}
    args: dict[str, Any] = {"default_graph": [ox.NamedNode(g) for g in job.default_graphs] or ox.DefaultGraph()}
    if job.named_graphs:
        args["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
    return args


def execute(store: ox.Store, job: Job, prefixes: dict[str, str], deadline: float | None = None,
            known_rows: int | None = None, where: str = "worker") -> Answer:
    """Run one job against an Oxigraph store and serialise the answer (in a worker, or inline).

    `known_rows`: how many solutions the same job gave on the same data (a proven job), so the answer need not
    be read back to count them."""
    t0 = time.perf_counter()
    answer = _evaluate(store, job, prefixes, deadline, known_rows)
    return replace(answer, seconds=time.perf_counter() - t0, where=where)


def _evaluate(store: ox.Store, job: Job, prefixes: dict[str, str], deadline: float | None,
              known_rows: int | None) -> Answer:
    if why := service_refusal(job.query, prefixes):  # Oxigraph's own parser decides, before the query runs
        raise SparqlError("bad_request", why)
    try:
        solutions = store.query(job.query, prefixes=prefixes, **dataset_args(job))
    except SyntaxError as exc:
        raise SparqlError("bad_request", f"SPARQL syntax error: {str(exc).splitlines()[0][:300]}") from None
    except OSError as exc:
        raise SparqlError("failed", f"the query failed: {exc}") from None
    if isinstance(solutions, ox.QueryBoolean):
        if job.results is None:
            raise SparqlError("no_format", "ASK")
        return Answer(serialize_boolean(job.results, bool(solutions)), job.results, "ASK", 1)
    if isinstance(solutions, ox.QuerySolutions):
        if job.results is None:
            raise SparqlError("no_format", "SELECT")
        return _select(job, job.results, solutions, deadline, known_rows)
    if job.graph is None:
        raise SparqlError("no_format", "CONSTRUCT/DESCRIBE")
    triples = []
    for t in solutions:
        triples.append(t)
        n = len(triples)
        if n > job.max_rows:
            raise too_many(job, "triples")
        if deadline is not None and n % 256 == 0 and time.monotonic() > deadline:
            raise SparqlError("timeout", "the query ran past the time limit")
    return Answer(serialize_triples(job.graph, triples, prefixes), job.graph, "GRAPH", len(triples))


def _select(job: Job, fmt: str, solutions: ox.QuerySolutions, deadline: float | None,
            known_rows: int | None) -> Answer:
    try:
        body = serialize_solutions(fmt, solutions, job.max_rows * BYTES_PER_ROW, deadline)
    except AnswerTooBig as cut:  # say "too many rows" when the rows before the cut already are
        if count_rows(fmt, cut.partial, complete=False) > job.max_rows:
            raise too_many(job, "rows") from None
        raise SparqlError("too_large", f"the answer is larger than {job.max_rows * BYTES_PER_ROW // 1024} KiB "
                                       f"(this endpoint's limit); add a LIMIT or select fewer variables") from None
    rows = known_rows if known_rows is not None else count_rows(fmt, body)
    if rows > job.max_rows:
        raise too_many(job, "rows")
    return Answer(body, fmt, "SELECT", rows)
