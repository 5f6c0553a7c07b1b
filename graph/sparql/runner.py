"""Read-only SPARQL over the store, safe to offer to anyone: the engine behind `/sparql`, without HTTP.

A caller hands over a query text, the answer formats it wants (by name, see
`model.RESULT_FORMATS` / `GRAPH_FORMATS`) and the dataset; the runner refuses
(`safety`), runs under a deadline and the caps (`limits`) in a worker process
(`workers`) and returns the serialised answer.  Which HTTP media type a format
is, and which status an error is, is the service's business.

A query a worker has already answered quickly (under `INLINE_SECONDS`) on the
store's current generation runs in the server process the next time: the same
query on the same data does the same work in Oxigraph, so it cannot run away,
and it skips the hand-off to a worker (1-3 ms, more than such a query costs).
Only a short query without the word "service" is eligible: one that cannot
hold a SERVICE clause (nothing in it waits on the outside, so it may run on
the event loop) nor overflow the server thread's stack; the deadline is
checked as its answer is written, as in a worker.
Dashboards, notebooks and the API's own pages repeat their queries; a new
query, or any query after the data changed, goes to a worker first.

A `Store` held in memory (no directory the workers could open) is queried in
the caller's thread: the cap still holds, the timeout is only checked between
solutions.  A remote store's queries go to its SPARQL server (`remote.py`).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from typing import Any

import pyoxigraph as ox
from cchc.graph.rdf import generations as gens
from cchc.graph.sparql.evaluate import execute
from cchc.graph.sparql.limits import DEFAULT_MEMORY_MB
from cchc.graph.sparql.model import GRAPH_FORMATS, RESULT_FORMATS, Answer, Job, SparqlError
from cchc.graph.sparql.remote import run_remote
from cchc.graph.sparql.safety import INLINE_MAX_CHARS, mentions_service, refusal
from cchc.graph.sparql.workers import WorkerPool

__all__ = ["INLINE_SECONDS", "SparqlRunner"]

INLINE_SECONDS = 0.025  # a job a worker answered within this on the current generation may run in the server
_VOLATILE = re.compile(r"\b(?:RAND|NOW|UUID|STRUUID|BNODE)\s*\(", re.I)  # answers that change on unchanged data
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


class SparqlRunner:
    """Read-only SPARQL over a `Store`: refuse, run with a deadline and a row cap, serialise.

    `workers` processes (plus one spare) are started on first use; `close()` stops them.
    `run` blocks; `arun` awaits the worker's answer on the event loop (no thread
    hand-off: about half of the fixed cost of a small query over HTTP).
    """

    def __init__(self, store: Any, *, timeout: float = 10.0, max_rows: int = 10_000, workers: int = 2,
                 memory_mb: int | None = DEFAULT_MEMORY_MB, prefixes: dict[str, str] | None = None) -> None:
        from cchc.graph.rdf.terms import prefixes as project_prefixes

        if timeout <= 0 or max_rows <= 0 or workers <= 0:
            raise ValueError("SPARQL timeout, row limit and worker count must be positive")
        self.store, self.timeout, self.max_rows, self.workers = store, timeout, max_rows, workers
        self.memory_mb = memory_mb
        self.prefixes = dict(prefixes if prefixes is not None else project_prefixes(store.iris))
        self.root = store.root
        self.pool = None if self.root is None else WorkerPool(self.root, self.prefixes, workers, memory_mb, timeout)
        self._proven: dict[Job, int] = {}  # job -> rows a worker answered quickly, on generation self._proven_gen
        self._proven_gen: str | None = None

    def start(self) -> None:
        """Start the worker processes now (else the first query does), waiting until they have the store open."""
        if self.pool is not None:
            self.pool.start()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()

    def run(self, query: str, *, results: str | None = "json", graph: str | None = "turtle",
            default_graphs: Sequence[str] = (), named_graphs: Sequence[str] = ()) -> Answer:
        """Answer one query in the named format for its form; SparqlError names what went wrong."""
        job, deadline = self.job(query, results, graph, default_graphs, named_graphs)
        if getattr(self.store, "remote", False):  # a SPARQL server holds the graph: the query goes there
            return run_remote(self.store, job, self.prefixes, deadline)
        if self.pool is None:
            return execute(self.store._ox, job, self.prefixes, deadline, where="server")
        if (rows := self._proven_rows(job)) is not None:
            return self._answer_here(job, deadline, rows)
        self.pool.start()
        gen = gens.current(self.root)
        return self._remember(job, gen, self.pool.dispatch(job, deadline))

    async def arun(self, query: str, *, results: str | None = "json", graph: str | None = "turtle",
                   default_graphs: Sequence[str] = (), named_graphs: Sequence[str] = ()) -> Answer:
        """`run` for an event loop.  Cancelled (the client went away), the worker still busy with the query is
        killed and replaced."""
        job, deadline = self.job(query, results, graph, default_graphs, named_graphs)  # text checks only: cheap
        if getattr(self.store, "remote", False):
            return await asyncio.to_thread(run_remote, self.store, job, self.prefixes, deadline)
        if self.pool is None:  # no workers: a test's in-memory store, of unknown cost, so off the loop
            return await asyncio.to_thread(execute, self.store._ox, job, self.prefixes, deadline, None, "server")
        # A proven job runs on the loop itself: on a thread of its own (a fresh malloc arena) Oxigraph was not
        # measurably faster, and the two wake-ups cost 0.3-0.5 ms a query
        if (rows := self._proven_rows(job)) is not None:
            return self._answer_here(job, deadline, rows)
        if not self.pool.started:
            await asyncio.to_thread(self.pool.start)
        gen = gens.current(self.root)
        return self._remember(job, gen, await self.pool.adispatch(job, deadline))

    def _proven_rows(self, job: Job) -> int | None:
        """How many rows a worker found for `job` when it proved it cheap on the generation this process has
        open, if that generation is still current; None: the job goes to a worker."""
        if len(job.query) > INLINE_MAX_CHARS or mentions_service(job.query):  # see safety.py: the server's stack
            return None
        rows = self._proven.get(job)
        gen = self.store._gen
        if rows is None or gen is None or gen != self._proven_gen or gens.current(self.root) != gen:
            return None
        return rows

    def _answer_here(self, job: Job, deadline: float, rows: int) -> Answer:
        """A proven job, answered in this process."""
        return execute(self.store._ox, job, self.prefixes, deadline, known_rows=rows, where="server")

    def _remember(self, job: Job, gen: str | None, answer: Answer) -> Answer:
        """Note a job a worker answered quickly on generation `gen` (read just before handing it over), unless
        its answer may change without the data changing (RAND, NOW, UUID, BNODE: its size is not proven)."""
        if (answer.seconds < INLINE_SECONDS and gen is not None and gen == self.store._gen
                and not _VOLATILE.search(job.query)):
            if self._proven_gen != gen or len(self._proven) >= 10_000:
                self._proven, self._proven_gen = {}, gen
            self._proven[job] = answer.count
        return answer

    def job(self, query: str, results: str | None, graph: str | None, default_graphs: Sequence[str],
            named_graphs: Sequence[str]) -> tuple[Job, float]:
        """Check the request (refusals, graphs, formats) and make it a job with its deadline."""
        deadline = time.monotonic() + self.timeout
        if not query.strip():
            raise SparqlError("bad_request", "the query is empty")
        why = refusal(query)
        if why:
            raise SparqlError("bad_request", why)
        if results not in (None, *RESULT_FORMATS) or graph not in (None, *GRAPH_FORMATS):
            raise ValueError(f"unknown answer formats {results!r}, {graph!r}")
        for g in (*default_graphs, *named_graphs):
            try:
                ox.NamedNode(g)
            except ValueError:
                raise SparqlError("bad_request", f"not an absolute IRI for a graph: {g!r}") from None
            if not _SCHEME.match(g):
                raise SparqlError("bad_request", f"not an absolute IRI for a graph: {g!r}")
        return Job(query, tuple(default_graphs), tuple(named_graphs), results, graph, self.max_rows), deadline
