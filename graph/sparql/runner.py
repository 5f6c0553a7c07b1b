"""Read-only SPARQL over the store, safe to offer to anyone: the engine behind `/sparql`.

Three things make a public endpoint on Oxigraph risky, and this module owns them:

- Oxigraph evaluates a query inside one Rust call that Python cannot
  interrupt, and a cross product with ORDER BY can run for hours.  So queries
  run in a small pool of worker processes, each holding the store's current
  generation open read-only; a worker that overruns the timeout is killed and
  replaced, and the caller gets a timeout error at once.  Each worker also has
  a memory ceiling, so a runaway ORDER BY dies instead of taking the machine.
- `SERVICE` would make the server fetch any URL a caller names (Oxigraph does
  follow it).  A query whose text mentions "service" anywhere is parsed with
  rdflib's SPARQL parser (slow, so only then) and refused when the parse tree
  has a SERVICE pattern, or cannot be parsed at all (we could not prove it
  safe).  Oxigraph reads the keyword only literally (no \\u escapes outside
  strings), so a text without "service" cannot contain one.
- SPARQL Update: the workers open the store read-only anyway; an update is
  recognised by its first keyword after the prologue (the grammar allows
  nothing else there), to say so clearly instead of reporting a syntax error.

Results are capped at `max_rows` solutions (or triples), and a SELECT
answer at `BYTES_PER_ROW` bytes per allowed row: past a cap the caller gets
an error telling them to add a LIMIT, rather than a silently truncated
answer.  Oxigraph writes SELECT answers (SPARQL JSON/XML/CSV/TSV) itself as
it evaluates, into a sink that stops it at the size cap; the rows are then
counted from the bytes.  Graphs (Turtle, N-Triples, JSON-LD, RDF/XML) are
collected triple by triple under the cap, then serialised by Oxigraph.
Serialisation happens where the query runs (a worker, or the server for a proven
job below), so the server process otherwise only moves bytes.

A query a worker has already answered quickly (under `INLINE_SECONDS`) on the
store's current generation runs in the server process the next time: the same
query on the same data does the same work in Oxigraph, so it cannot run away,
and it skips the hand-off to a worker (1-3 ms, more than such a query costs).
Dashboards, notebooks and the API's own pages repeat their queries; a new
query, or any query after the data changed, goes to a worker first.

A `Store` held in memory (no directory the workers could open) is queried in
the caller's thread: the cap still holds, the timeout is only checked between
solutions.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from cchc.graph.rdf import generations as gens

__all__ = ["FORMATS", "Answer", "Format", "SparqlError", "SparqlService", "negotiate", "refusal"]

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 100_000
INLINE_SECONDS = 0.025  # a job a worker answered within this on the current generation may run in the server
DEFAULT_MEMORY_MB = 1024
_VOLATILE = re.compile(r"\b(?:RAND|NOW|UUID|STRUUID|BNODE)\s*\(", re.I)  # answers that change on unchanged data


class SparqlError(ValueError):
    """A query the endpoint will not or could not answer; `kind` names why (bad_request, not_acceptable,
    timeout, too_large, busy, failed)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind, self.detail = kind, detail


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    graph: bool  # True: for CONSTRUCT/DESCRIBE; False: for SELECT/ASK
    aliases: tuple[str, ...] = ()


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("json", "application/sparql-results+json", False, ("application/json",)),
    Format("xml", "application/sparql-results+xml", False, ("application/xml", "text/xml")),
    Format("csv", "text/csv", False),
    Format("tsv", "text/tab-separated-values", False),
    Format("turtle", "text/turtle", True, ("application/turtle", "application/x-turtle")),
    Format("ntriples", "application/n-triples", True),
    Format("jsonld", "application/ld+json", True, ("application/json", "application/x-json+ld")),
    Format("rdfxml", "application/rdf+xml", True, ("application/xml", "text/xml")),
)}
_DEFAULT = {False: FORMATS["json"], True: FORMATS["turtle"]}
_RDF = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD,
        "rdfxml": ox.RdfFormat.RDF_XML}


def _accept_entries(accept: str | None) -> list[tuple[str, float]]:
    entries = []
    for part in (accept or "*/*").split(","):
        bits = [b.strip() for b in part.split(";")]
        if not bits[0]:
            continue
        q = 1.0
        for b in bits[1:]:
            if b.lower().startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        entries.append((bits[0].lower(), q))
    return entries


def _pick(entries: list[tuple[str, float]], graph: bool) -> Format | None:
    best: tuple[float, int, Format] | None = None
    candidates = [f for f in FORMATS.values() if f.graph == graph]
    for order, (mt, q) in enumerate(entries):
        if q <= 0:
            continue
        if mt in ("*/*", "*"):
            found = [_DEFAULT[graph]]
        elif mt.endswith("/*"):
            found = [f for f in (_DEFAULT[graph], *candidates) if f.media_type.startswith(mt[:-1])]
        else:
            found = [f for f in candidates if mt == f.media_type or mt in f.aliases]
        if found and (best is None or q > best[0]):
            best = (q, order, found[0])
    return best[2] if best else None


def negotiate(accept: str | None) -> tuple[Format | None, Format | None]:
    """(format for SELECT/ASK, format for CONSTRUCT/DESCRIBE) the Accept header allows; refuses when neither."""
    entries = _accept_entries(accept)
    results, graph = _pick(entries, False), _pick(entries, True)
    if results is None and graph is None:
        offered = ", ".join(f.media_type for f in FORMATS.values())
        raise SparqlError("not_acceptable", f"cannot answer in any of the accepted types ({accept}); "
                                            f"this endpoint offers {offered}")
    return results, graph


# ------------------------------------------------------------------ refusing
_PROLOGUE = r"(?:\s+|#[^\n]*\n?|BASE\s*<[^>]*>|PREFIX\s+[^\s:]*:\s*<[^>]*>)*"
_UPDATE = re.compile(_PROLOGUE + r"(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b", re.I)
_UPDATE_REFUSED = "SPARQL Update is not allowed: this endpoint is read-only (use `cchc add` / `cchc build` to change " \
                  "the data)"


def _has_service(tree: Any) -> bool:
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, CompValue):
            if node.name == "ServiceGraphPattern":
                return True
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)) or type(node).__name__ == "ParseResults":
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
    return False


def refusal(query: str) -> str | None:
    """Why this query text is refused before running it (update, SERVICE, size), or None."""
    if len(query) > MAX_QUERY_CHARS:
        return f"the query is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}"
    if _UPDATE.match(query):
        return _UPDATE_REFUSED
    if "service" not in query.lower():
        return None
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        tree = parseQuery(query)
    except Exception:  # pyparsing's own classes; any failure: not proven safe
        return "the query mentions SERVICE and could not be checked for a SERVICE clause; federated queries " \
               "(SERVICE) are not allowed here"
    if _has_service(tree):
        return "SERVICE (federated query) is not allowed: this endpoint does not fetch other endpoints"
    return None


# ------------------------------------------------------------- serialising
_RESULTS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML, "csv": ox.QueryResultsFormat.CSV,
            "tsv": ox.QueryResultsFormat.TSV}
BYTES_PER_ROW = 2048  # the answer's size cap: this much per allowed row (20 MiB at the default 10,000 rows)


class _AnswerTooBig(Exception):
    def __init__(self, partial: bytes) -> None:
        super().__init__("answer past the size cap")
        self.partial = partial


class _Sink(io.RawIOBase):
    """Where Oxigraph writes a serialised answer, chunk by chunk as it evaluates: a chunk past the size cap or
    the deadline stops the query (the exception comes back out of Oxigraph's serialiser)."""

    def __init__(self, limit: int, deadline: float | None) -> None:
        super().__init__()
        self.data, self.limit, self.deadline = bytearray(), limit, deadline

    def writable(self) -> bool:
        return True

    def write(self, chunk: Any) -> int:
        if len(self.data) + len(chunk) > self.limit:
            raise _AnswerTooBig(bytes(self.data))
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise SparqlError("timeout", "the query ran past the time limit")
        self.data += chunk
        return len(chunk)


def count_rows(fmt: Format, body: bytes, *, complete: bool = True) -> int:
    """How many solutions a serialised SELECT answer holds; of a cut-off answer (`complete=False`), how many it
    holds before the cut.  CSV cannot be parsed back to terms: it is read as CSV."""
    if fmt.name == "csv":
        return max(0, sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8", "ignore")))) - 1)
    n = 0
    try:
        for _ in ox.parse_query_results(body, format=_RESULTS[fmt.name]):
            n += 1
    except SyntaxError:
        if complete:
            raise
    return n


def serialize_solutions(fmt: Format, solutions: ox.QuerySolutions, limit: int, deadline: float | None) -> bytes:
    """SELECT results in one of the W3C result formats, written by Oxigraph as it evaluates (a Python loop
    over the solutions cost 1-2 ms per 50 rows, more than many queries here); `_AnswerTooBig` past `limit` bytes."""
    sink = _Sink(limit, deadline)
    solutions.serialize(sink, format=_RESULTS[fmt.name])
    return bytes(sink.data)


def serialize_boolean(fmt: Format, value: bool) -> bytes:
    """ASK results: JSON and XML as the W3C formats say; CSV/TSV as one line, true or false."""
    word = "true" if value else "false"
    if fmt.name == "json":
        return json.dumps({"head": {}, "boolean": value}).encode()
    if fmt.name == "xml":
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                f"<head/><boolean>{word}</boolean></sparql>\n").encode()
    return f"{word}\n".encode()


def serialize_triples(fmt: Format, triples: list[ox.Triple], prefixes: dict[str, str]) -> bytes:
    keep = prefixes if fmt.name in ("turtle", "rdfxml") else None
    return ox.serialize(triples, format=_RDF[fmt.name], prefixes=keep)


# ---------------------------------------------------------------- running
@dataclass(frozen=True)
class Answer:
    """A query's serialised answer: body bytes, their media type, the query form and how many rows/triples."""

    body: bytes
    media_type: str
    form: str  # SELECT, ASK or GRAPH (CONSTRUCT/DESCRIBE)
    count: int
    seconds: float = 0.0  # evaluation and serialisation alone (in the worker): the rest is hand-off overhead
    where: str = "worker"  # "worker" process, or "server": this process (a proven job, or a store without workers)


@dataclass(frozen=True)
class _Job:
    query: str
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    results: str | None  # format names, None when the Accept header excludes that kind
    graph: str | None
    max_rows: int


def _dataset_args(job: _Job) -> dict[str, Any]:
    if not job.default_graphs and not job.named_graphs:
        return {"use_default_graph_as_union": True}
    args: dict[str, Any] = {"default_graph": [ox.NamedNode(g) for g in job.default_graphs] or ox.DefaultGraph()}
    if job.named_graphs:
        args["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
    return args


def _too_many(job: _Job, what: str) -> SparqlError:
    return SparqlError("too_large", f"the query returns more than {job.max_rows} {what} (this endpoint's limit); "
                                    f"add a LIMIT or narrow the pattern")


def _execute(store: ox.Store, job: _Job, prefixes: dict[str, str], deadline: float | None = None,
             known_rows: int | None = None, where: str = "worker") -> Answer:
    """Run one job against an Oxigraph store and serialise the answer (in a worker, or inline).

    `known_rows`: how many solutions the same job gave on the same data (a proven job), so the answer need not
    be read back to count them."""
    t0 = time.perf_counter()
    answer = _evaluate(store, job, prefixes, deadline, known_rows)
    return replace(answer, seconds=time.perf_counter() - t0, where=where)


def _evaluate(store: ox.Store, job: _Job, prefixes: dict[str, str], deadline: float | None,
              known_rows: int | None) -> Answer:
    try:
        solutions = store.query(job.query, prefixes=prefixes, **_dataset_args(job))
    except SyntaxError as exc:
        raise SparqlError("bad_request", f"SPARQL syntax error: {str(exc).splitlines()[0][:300]}") from None
    except OSError as exc:
        raise SparqlError("failed", f"the query failed: {exc}") from None

    def check(n: int, what: str) -> None:
        if n > job.max_rows:
            raise _too_many(job, what)
        if deadline is not None and n % 256 == 0 and time.monotonic() > deadline:
            raise SparqlError("timeout", "the query ran past the time limit")

    kind_missing = "the accepted media types do not include one for {} results; use {}"
    if isinstance(solutions, ox.QueryBoolean):
        if job.results is None:
            raise SparqlError("not_acceptable", kind_missing.format("ASK", "application/sparql-results+json"))
        fmt = FORMATS[job.results]
        return Answer(serialize_boolean(fmt, bool(solutions)), fmt.media_type, "ASK", 1)
    if isinstance(solutions, ox.QuerySolutions):
        if job.results is None:
            raise SparqlError("not_acceptable", kind_missing.format("SELECT", "application/sparql-results+json, "
                                                                              "application/sparql-results+xml, "
                                                                              "text/csv or text/tab-separated-values"))
        fmt = FORMATS[job.results]
        try:
            body = serialize_solutions(fmt, solutions, job.max_rows * BYTES_PER_ROW, deadline)
        except _AnswerTooBig as cut:  # say "too many rows" when the rows before the cut already are
            if count_rows(fmt, cut.partial, complete=False) > job.max_rows:
                raise _too_many(job, "rows") from None
            raise SparqlError("too_large", f"the answer is larger than {job.max_rows * BYTES_PER_ROW // 1024} KiB "
                                           f"(this endpoint's limit); add a LIMIT or select fewer variables") from None
        rows = known_rows if known_rows is not None else count_rows(fmt, body)
        if rows > job.max_rows:
            raise _too_many(job, "rows")
        return Answer(body, fmt.media_type, "SELECT", rows)
    if job.graph is None:
        raise SparqlError("not_acceptable", kind_missing.format("CONSTRUCT/DESCRIBE", "text/turtle, "
                                                                                      "application/n-triples or "
                                                                                      "application/ld+json"))
    fmt = FORMATS[job.graph]
    triples = []
    for t in solutions:
        triples.append(t)
        check(len(triples), "triples")
    return Answer(serialize_triples(fmt, triples, prefixes), fmt.media_type, "GRAPH", len(triples))


def _open_current(root: Path) -> tuple[str, ox.Store]:
    gen = gens.current(root)
    if gen is None:
        raise SparqlError("failed", f"{root}: no graph store here; run `cchc build` first")
    return gen, ox.Store.read_only(str(root / gen / "oxigraph"))


def _watch_parent(parent: int) -> None:
    """Exit when the server process is gone, even in the middle of a query (the query releases the GIL)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


def _worker_main(fd: int) -> None:
    """A worker process: open the live generation read-only, answer jobs until the socket closes.

    Started as `python -c ...` rather than through multiprocessing, so it never
    re-imports the server's main module (a script or notebook without a
    `__main__` guard would start servers recursively).
    """
    conn = Connection(fd)
    parent, root, prefixes, memory_mb = conn.recv()
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if memory_mb:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    path = Path(root)
    try:
        gen, store = _open_current(path)
    except Exception as exc:  # reported to the parent, which logs it
        conn.send(("error", "failed", f"cannot open the store: {exc}"))
        return
    conn.send(("ready",))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            if gens.current(path) not in (None, gen):  # a writer published a newer generation
                gen, store = _open_current(path)
            conn.send(("ok", _execute(store, job, prefixes)))
        except SparqlError as exc:
            conn.send(("error", exc.kind, exc.detail))
        except MemoryError:
            conn.send(("error", "too_large", "the query needs more memory than a SPARQL worker may use"))
        except Exception as exc:
            conn.send(("error", "failed", f"the query failed: {type(exc).__name__}: {exc}"))


_BOOT = "import sys; from cchc.graph.sparql.runner import _worker_main; _worker_main(int(sys.argv[1]))"


class _Worker:
    def __init__(self, root: Path, prefixes: dict[str, str], memory_mb: int | None) -> None:
        ours, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen([sys.executable, "-c", _BOOT, str(theirs.fileno())],
                                            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL)
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        self.conn.send((os.getpid(), str(root), prefixes, memory_mb))

    def wait_ready(self, timeout: float) -> None:
        if not self.conn.poll(timeout):
            self.kill()
            raise SparqlError("failed", f"a SPARQL worker did not start within {timeout:.0f}s")
        try:
            msg = self.conn.recv()
        except EOFError:
            msg = ("error", "failed", "a SPARQL worker died while starting")
        if msg[0] != "ready":
            self.kill()
            raise SparqlError(msg[1], msg[2])

    def exit_code(self, wait: float) -> int | None:
        try:
            return self.process.wait(wait)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        self.process.kill()
        self.exit_code(5)
        self.conn.close()


class SparqlService:
    """Read-only SPARQL over a `Store`: refuse, run with a deadline and a row cap, serialise.

    `workers` processes (plus one spare) are started on first use; `close()` stops them.
    Thread-safe: each call takes an idle worker (waiting for one within its
    own deadline, else a `busy` error). `run` blocks; `arun` awaits the worker's
    answer on the event loop (no thread hand-off: about half of the fixed cost of
    a small query over HTTP). Idle workers are taken last-in first-out, so at low
    load one worker, with warm caches, answers everything.
    """

    def __init__(self, store: Any, *, timeout: float = 10.0, max_rows: int = 10_000, workers: int = 2,
                 memory_mb: int | None = DEFAULT_MEMORY_MB, prefixes: dict[str, str] | None = None) -> None:
        from cchc.graph.rdf.terms import prefixes as project_prefixes

        if timeout <= 0 or max_rows <= 0 or workers <= 0:
            raise ValueError("SPARQL timeout, row limit and worker count must be positive")
        self.store, self.timeout, self.max_rows, self.workers = store, timeout, max_rows, workers
        self.memory_mb = memory_mb
        self.prefixes = dict(prefixes if prefixes is not None else project_prefixes(store.iris))
        self.root: Path | None = store.root
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._spare: queue.Queue[_Worker] = queue.Queue()  # one started worker that replaces a killed one
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._proven: dict[_Job, int] = {}  # job -> rows a worker answered quickly, on generation self._proven_gen
        self._proven_gen: str | None = None
        self._started = False
        self._closed = False

    # ------------------------------------------------------------ the pool
    def start(self) -> None:
        """Start the worker processes now (else the first query does), waiting until they have the store open."""
        with self._lock:
            if self._started or self.root is None:
                return
            fresh = [self._spawn() for _ in range(self.workers + 1)]
            for w in fresh:
                w.wait_ready(60)
            for w in fresh[:-1]:
                self._idle.put(w)
            self._spare.put(fresh[-1])
            self._started = True

    def _spawn(self) -> _Worker:
        assert self.root is not None
        w = _Worker(self.root, self.prefixes, self.memory_mb)
        self._all.add(w)
        return w

    def _retire(self, w: _Worker) -> None:
        """Kill a worker (overran, died, or broke its pipe); the spare takes its place at once, and a new
        spare starts in the background (a start takes about a second, longer on a busy machine)."""
        w.process.kill()  # reaped below: a big worker takes a moment to exit, the caller need not wait
        self._all.discard(w)
        try:
            self._idle.put(self._spare.get_nowait())
            target = self._spare
        except queue.Empty:  # the spare is already in use: the new worker goes straight to work
            target = self._idle

        def replace() -> None:
            w.kill()
            if self._closed:
                return
            try:
                fresh = self._spawn()
                fresh.wait_ready(60)
            except (SparqlError, OSError) as exc:
                log.error("could not replace a SPARQL worker: %s", exc)
                return
            if self._closed:
                fresh.kill()
            else:
                target.put(fresh)

        threading.Thread(target=replace, name="cchc-sparql-respawn", daemon=True).start()

    def close(self) -> None:
        self._closed = True
        for w in list(self._all):
            w.kill()
        self._all.clear()

    # ------------------------------------------------------------ queries
    def run(self, query: str, accept: str | None = None, *, default_graphs: Sequence[str] = (),
            named_graphs: Sequence[str] = ()) -> Answer:
        """Answer one query as the Accept header asks; SparqlError names what went wrong."""
        job, deadline = self._job(query, accept, default_graphs, named_graphs)
        if self.root is None:
            return _execute(self.store._ox, job, self.prefixes, deadline, where="server")
        if (rows := self._proven_rows(job)) is not None:
            return self._answer_here(job, deadline, rows)
        self.start()
        gen = gens.current(self.root)
        return self._remember(job, gen, self._dispatch(job, deadline))

    async def arun(self, query: str, accept: str | None = None, *, default_graphs: Sequence[str] = (),
                   named_graphs: Sequence[str] = ()) -> Answer:
        """`run` for an event loop: the loop waits for the worker's socket instead of a thread waiting for it.

        Cancelled (the client went away), the worker still busy with the query is killed and replaced.
        """
        if "service" in query.lower():  # the SERVICE check parses the query with rdflib: slow, off the loop
            job, deadline = await asyncio.to_thread(self._job, query, accept, default_graphs, named_graphs)
        else:
            job, deadline = self._job(query, accept, default_graphs, named_graphs)
        if self.root is None:  # no workers: a test's in-memory store, of unknown cost, so off the loop
            return await asyncio.to_thread(_execute, self.store._ox, job, self.prefixes, deadline, None, "server")
        # A proven job runs on the loop itself: on a thread of its own (a fresh malloc arena) Oxigraph was not
        # measurably faster, and the two wake-ups cost 0.3-0.5 ms a query
        if (rows := self._proven_rows(job)) is not None:
            return self._answer_here(job, deadline, rows)
        if not self._started:
            await asyncio.to_thread(self.start)
        gen = gens.current(self.root)
        loop = asyncio.get_running_loop()
        for _ in range(3):
            try:
                w = self._idle.get_nowait()
            except queue.Empty:
                w = await asyncio.to_thread(self._take, deadline)
            if not self._send(w, job):
                continue
            readable = loop.create_future()
            fd = w.conn.fileno()
            loop.add_reader(fd, lambda f=readable: f.done() or f.set_result(None))
            try:
                await asyncio.wait_for(readable, max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                self._retire(w)
                raise self._timeout() from None
            except asyncio.CancelledError:
                self._retire(w)
                raise
            finally:
                loop.remove_reader(fd)
            return self._remember(job, gen, self._receive(w))
        raise SparqlError("failed", "SPARQL workers keep failing; see the server log")

    def _proven_rows(self, job: _Job) -> int | None:
        """How many rows a worker found for `job` when it proved it cheap on the generation this process has
        open, if that generation is still current; None: the job goes to a worker."""
        rows = self._proven.get(job)
        gen = self.store._gen
        if rows is None or gen is None or gen != self._proven_gen or gens.current(self.root) != gen:
            return None
        return rows

    def _answer_here(self, job: _Job, deadline: float, rows: int) -> Answer:
        """A proven job, answered in this process."""
        return _execute(self.store._ox, job, self.prefixes, deadline, known_rows=rows, where="server")

    def _remember(self, job: _Job, gen: str | None, answer: Answer) -> Answer:
        """Note a job a worker answered quickly on generation `gen` (read just before handing it over), unless
        its answer may change without the data changing (RAND, NOW, UUID, BNODE: its size is not proven)."""
        if (answer.seconds < INLINE_SECONDS and gen is not None and gen == self.store._gen
                and not _VOLATILE.search(job.query)):
            if self._proven_gen != gen or len(self._proven) >= 10_000:
                self._proven, self._proven_gen = {}, gen
            self._proven[job] = answer.count
        return answer

    def _job(self, query: str, accept: str | None, default_graphs: Sequence[str],
             named_graphs: Sequence[str]) -> tuple[_Job, float]:
        """Check the request (refusals, graphs, Accept) and make it a job with its deadline."""
        deadline = time.monotonic() + self.timeout
        if not query.strip():
            raise SparqlError("bad_request", "the query is empty")
        why = refusal(query)
        if why:
            raise SparqlError("bad_request", why)
        results, graph = negotiate(accept)
        for g in (*default_graphs, *named_graphs):
            try:
                ox.NamedNode(g)
            except ValueError:
                raise SparqlError("bad_request", f"not an absolute IRI for a graph: {g!r}") from None
            if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", g):
                raise SparqlError("bad_request", f"not an absolute IRI for a graph: {g!r}")
        job = _Job(query, tuple(default_graphs), tuple(named_graphs), results and results.name,
                   graph and graph.name, self.max_rows)
        return job, deadline

    def _dispatch(self, job: _Job, deadline: float) -> Answer:
        for _ in range(3):  # a worker found dead is replaced and the job tried on another
            w = self._take(deadline)
            if not self._send(w, job):
                continue
            if not w.conn.poll(max(0.0, deadline - time.monotonic())):
                self._retire(w)
                raise self._timeout()
            return self._receive(w)
        raise SparqlError("failed", "SPARQL workers keep failing; see the server log")

    def _take(self, deadline: float) -> _Worker:
        """An idle worker, waiting for one until the deadline."""
        try:
            return self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise SparqlError("busy", f"all {self.workers} SPARQL workers stayed busy for the whole "
                                      f"{self.timeout:g}s time limit; try again later") from None

    def _send(self, w: _Worker, job: _Job) -> bool:
        """Hand `job` to `w`; False (and `w` replaced) when its pipe is broken."""
        try:
            w.conn.send(job)
        except OSError:
            self._retire(w)
            return False
        return True

    def _timeout(self) -> SparqlError:
        return SparqlError("timeout", f"the query ran past the {self.timeout:g}s time limit and was stopped; "
                                      f"narrow it or add a LIMIT")

    def _receive(self, w: _Worker) -> Answer:
        """The answer `w` has ready; `w` goes back to the idle workers (or is replaced if it died)."""
        try:
            msg = w.conn.recv()
        except (EOFError, OSError):
            code = w.exit_code(1)
            self._retire(w)
            if code == -6:  # SIGABRT: Rust aborts when an allocation fails under the memory ceiling
                raise SparqlError("too_large", "the query was stopped: it needed more memory than a SPARQL "
                                               "worker may use; narrow it or add a LIMIT") from None
            raise SparqlError("failed", f"the SPARQL worker running the query died (exit code {code})") from None
        self._idle.put(w)
        if msg[0] == "ok":
            return msg[1]
        raise SparqlError(msg[1], msg[2])
