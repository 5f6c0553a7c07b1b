"""`/sparql` over a remote store: the query goes to the SPARQL server, under the same refusals and caps.

The server is another engine, so what Oxigraph's parser decides locally is
decided more strictly here: the query must be plain SPARQL 1.1 that Oxigraph
parses (no Virtuoso `DEFINE` pragmas, whose `get:soft` makes the server
fetch URLs), and its text may not contain "service" anywhere (the two
engines may read escapes differently; a query about the word is refused, a
small price).  Updates are refused before this (`safety.refusal`).  The query
is sent with the live graphs as its dataset unless the caller names graphs,
with the time left before the deadline as the HTTP timeout (the server's own
limit, e.g. Virtuoso's `MaxQueryExecutionTime`, stops its work).  The answer
comes back as SPARQL JSON or Turtle, at most the size cap, and is written
in the caller's format by Oxigraph under the row cap, as a local answer is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pyoxigraph as ox
from cchc.graph.sparql.evaluate import serialize_boolean, serialize_solutions, serialize_triples
from cchc.graph.sparql.limits import BYTES_PER_ROW, AnswerTooBig, count_rows, too_many
from cchc.graph.sparql.model import Answer, Job, SparqlError
from cchc.graph.sparql.safety import QUERY_STACK_MB, mentions_service

__all__ = ["run_remote"]

_XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"


_STACK_LOCK = threading.Lock()


def _on_big_stack(fn: Callable[[], str]) -> str:
    """Run `fn` on a thread with `QUERY_STACK_MB` of stack: Oxigraph's parser recurses (see safety.py), and a long
    query must stay an error, not a crash of the server."""
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(fn())
        except BaseException as exc:
            out.append(exc)

    with _STACK_LOCK:
        old = threading.stack_size(QUERY_STACK_MB * 1024 * 1024)
        try:
            thread = threading.Thread(target=run, name="cchc-sparql-parse")
            thread.start()
        finally:
            threading.stack_size(old)
    thread.join()
    if isinstance(out[0], BaseException):
        raise out[0]
    return out[0]


def _form(query: str, prefixes: dict[str, str]) -> str:
    """SELECT, ASK or GRAPH, as Oxigraph's parser reads the query (on an empty store: nothing to evaluate)."""
    if mentions_service(query):
        raise SparqlError("bad_request", "SERVICE (federated query) is not allowed: a query sent to the remote "
                                         "SPARQL server may not contain the word \"service\" at all")
    try:
        result = ox.Store().query(query, prefixes=prefixes)
    except SyntaxError as exc:
        raise SparqlError("bad_request", f"SPARQL syntax error: {str(exc).splitlines()[0][:300]}") from None
    if isinstance(result, ox.QueryBoolean):
        return "ASK"
    return "SELECT" if isinstance(result, ox.QuerySolutions) else "GRAPH"


def _fetch(store: Any, job: Job, prefixes: dict[str, str], deadline: float, accept: str, cap: int) -> bytes:
    left = deadline - time.monotonic()
    if left <= 0:
        raise SparqlError("timeout", "the query ran past the time limit")
    text = "".join(f"PREFIX {k}: <{v}>\n" for k, v in prefixes.items()) + job.query
    graphs = list(job.default_graphs) if (job.default_graphs or job.named_graphs) else None
    named = list(job.named_graphs) if (job.default_graphs or job.named_graphs) else None
    try:
        body = store.request(text, graphs, named=named, accept=accept, timeout=left).content
    except httpx.TimeoutException:
        raise SparqlError("timeout", "the SPARQL server did not answer within the time limit") from None
    except ValueError as exc:  # RemoteError: the server refused or failed
        raise SparqlError("failed", str(exc)) from None
    if len(body) > cap:
        raise AnswerTooBig(body[:cap])
    return body


def run_remote(store: Any, job: Job, prefixes: dict[str, str], deadline: float) -> Answer:
    """Answer one job through the remote store's server (see the module's docstring)."""
    t0 = time.perf_counter()
    form = _on_big_stack(lambda: _form(job.query, prefixes))
    if (form in ("SELECT", "ASK") and job.results is None) or (form == "GRAPH" and job.graph is None):
        raise SparqlError("no_format", "CONSTRUCT/DESCRIBE" if form == "GRAPH" else form)
    cap = job.max_rows * BYTES_PER_ROW
    try:
        if form == "GRAPH":
            body = _fetch(store, job, prefixes, deadline, "text/turtle", 4 * cap)
            triples = list(ox.parse(body, format=ox.RdfFormat.TURTLE))
            if len(triples) > job.max_rows:
                raise too_many(job, "triples")
            answer = Answer(serialize_triples(job.graph, triples, prefixes), job.graph, "GRAPH",  # type: ignore[arg-type]
                            len(triples))
        else:
            body = _fetch(store, job, prefixes, deadline, "application/sparql-results+json", 4 * cap)
            results = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
            if isinstance(results, ox.QueryBoolean):
                answer = Answer(serialize_boolean(job.results, bool(results)), job.results, "ASK", 1)  # type: ignore[arg-type]
            else:
                out = serialize_solutions(job.results, results, cap, deadline)  # type: ignore[arg-type]
                rows = count_rows(job.results, out)  # type: ignore[arg-type]
                if rows > job.max_rows:
                    raise too_many(job, "rows")
                answer = Answer(out, job.results, "SELECT", rows)  # type: ignore[arg-type]
    except AnswerTooBig:
        raise SparqlError("too_large", f"the answer is larger than {cap // 1024} KiB (this endpoint's limit); add a "
                                       f"LIMIT or select fewer variables") from None
    return Answer(answer.body, answer.format, answer.form, answer.count, time.perf_counter() - t0, "remote")
