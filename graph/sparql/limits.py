"""The caps on an answer: rows (or triples), bytes, and the memory a worker may use.

Past a cap the caller gets an error telling them to add a LIMIT, rather than a
silently truncated answer.  Oxigraph writes SELECT answers itself as it
evaluates, into a `Sink` that stops it at the size cap or the deadline; the
rows are then counted from the bytes.
"""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import pyoxigraph as ox
from cchc.graph.sparql.model import Job, SparqlError

__all__ = ["BYTES_PER_ROW", "DEFAULT_MEMORY_MB", "RESULTS", "AnswerTooBig", "Sink", "count_rows", "too_many"]

BYTES_PER_ROW = 2048  # the answer's size cap: this much per allowed row (20 MiB at the default 10,000 rows)
DEFAULT_MEMORY_MB = 1024  # a worker's data segment ceiling: a runaway ORDER BY dies instead of the machine
RESULTS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML, "csv": ox.QueryResultsFormat.CSV,
           "tsv": ox.QueryResultsFormat.TSV}


class AnswerTooBig(Exception):
    def __init__(self, partial: bytes) -> None:
        super().__init__("answer past the size cap")
        self.partial = partial


class Sink(io.RawIOBase):
    """Where Oxigraph writes a serialised answer, chunk by chunk as it evaluates: a chunk past the size cap or
    the deadline stops the query (the exception comes back out of Oxigraph's serialiser)."""

    def __init__(self, limit: int, deadline: float | None) -> None:
        super().__init__()
        self.data, self.limit, self.deadline = bytearray(), limit, deadline

    def writable(self) -> bool:
        return True

    def write(self, chunk: Any) -> int:
        if len(self.data) + len(chunk) > self.limit:
            raise AnswerTooBig(bytes(self.data))
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise SparqlError("timeout", "the query ran past the time limit")
        self.data += chunk
        return len(chunk)


def count_rows(fmt: str, body: bytes, *, complete: bool = True) -> int:
    """How many solutions a serialised SELECT answer holds; of a cut-off answer (`complete=False`), how many it
    holds before the cut.  CSV cannot be parsed back to terms: it is read as CSV."""
    if fmt == "csv":
        return max(0, sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8", "ignore")))) - 1)
    n = 0
    try:
        for _ in ox.parse_query_results(body, format=RESULTS[fmt]):
            n += 1
    except SyntaxError:
        if complete:
            raise
    return n


def too_many(job: Job, what: str) -> SparqlError:
    return SparqlError("too_large", f"the query returns more than {job.max_rows} {what} (this endpoint's limit); "
                                    f"add a LIMIT or narrow the pattern")
