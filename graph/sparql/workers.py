"""The worker processes that run queries: each holds the store's current generation open read-only.

Oxigraph evaluates a query inside one Rust call that Python cannot
interrupt, and a cross product with ORDER BY can run for hours.  So queries
run in a small pool of worker processes; a worker that overruns the timeout
is killed and replaced (a spare, started ahead, takes its place at once), and
the caller gets a timeout error at once.  Each worker also has a memory
ceiling, so a runaway ORDER BY dies instead of taking the machine.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

import pyoxigraph as ox
from cchc.graph.rdf import generations as gens
from cchc.graph.sparql.evaluate import execute
from cchc.graph.sparql.model import Answer, Job, SparqlError
from cchc.graph.sparql.safety import QUERY_STACK_MB

__all__ = ["WorkerPool", "worker_main"]

log = logging.getLogger(__name__)


def open_current(root: Path) -> tuple[str, ox.Store]:
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


def worker_main(fd: int) -> None:
    """A worker process: open the live generation read-only, answer jobs until the socket closes.

    Started as `python -c ...` rather than through multiprocessing, so it never
    re-imports the server's main module (a script or notebook without a
    `__main__` guard would start servers recursively).  Jobs run on a thread
    with a `QUERY_STACK_MB` stack: Oxigraph's parser recurses, and a deep or
    long query that would overflow the main thread's 8 MiB stays an answer.
    """
    conn = Connection(fd)
    parent, root, prefixes, memory_mb = conn.recv()
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if memory_mb:
        import resource

        limit = (memory_mb + QUERY_STACK_MB) * 1024 * 1024  # the query thread's stack counts as data
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    threading.stack_size(QUERY_STACK_MB * 1024 * 1024)
    serving = threading.Thread(target=_serve, args=(conn, Path(root), prefixes), name="cchc-sparql-query")
    serving.start()
    serving.join()


def _serve(conn: Connection, path: Path, prefixes: dict[str, str]) -> None:
    try:
        gen, store = open_current(path)
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
                gen, store = open_current(path)
            conn.send(("ok", execute(store, job, prefixes)))
        except SparqlError as exc:
            conn.send(("error", exc.kind, exc.detail))
        except MemoryError:
            conn.send(("error", "too_large", "the query needs more memory than a SPARQL worker may use"))
        except Exception as exc:
            conn.send(("error", "failed", f"the query failed: {type(exc).__name__}: {exc}"))


_BOOT = "import sys; from cchc.graph.sparql.workers import worker_main; worker_main(int(sys.argv[1]))"


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


class WorkerPool:
    """`workers` processes (plus one spare) over the store at `root`, started by `start()`; `close()` stops them.

    Thread-safe: each job takes an idle worker (waiting for one within its own
    deadline, else a `busy` error).  Idle workers are taken last-in first-out,
    so at low load one worker, with warm caches, answers everything.
    """

    def __init__(self, root: Path, prefixes: dict[str, str], workers: int, memory_mb: int | None,
                 timeout: float) -> None:
        self.root, self.prefixes, self.workers, self.memory_mb = root, prefixes, workers, memory_mb
        self.timeout = timeout  # for the messages only: each call brings its own deadline
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._spare: queue.Queue[_Worker] = queue.Queue()  # one started worker that replaces a killed one
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self.started = False
        self._closed = False

    def start(self) -> None:
        """Start the worker processes now (else the first query does), waiting until they have the store open."""
        with self._lock:
            if self.started:
                return
            fresh = [self._spawn() for _ in range(self.workers + 1)]
            for w in fresh:
                w.wait_ready(60)
            for w in fresh[:-1]:
                self._idle.put(w)
            self._spare.put(fresh[-1])
            self.started = True

    def _spawn(self) -> _Worker:
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

    # ------------------------------------------------------------ jobs
    def dispatch(self, job: Job, deadline: float) -> Answer:
        """Run `job` on a worker, blocking until its answer or the deadline."""
        for _ in range(3):  # a worker found dead is replaced and the job tried on another
            w = self._take(deadline)
            if not self._send(w, job):
                continue
            if not w.conn.poll(max(0.0, deadline - time.monotonic())):
                self._retire(w)
                raise self.timeout_error()
            return self._receive(w)
        raise SparqlError("failed", "SPARQL workers keep failing; see the server log")

    async def adispatch(self, job: Job, deadline: float) -> Answer:
        """`dispatch` for an event loop: the loop waits for the worker's socket instead of a thread waiting for it.

        Cancelled (the client went away), the worker still busy with the query is killed and replaced.
        """
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
                raise self.timeout_error() from None
            except asyncio.CancelledError:
                self._retire(w)
                raise
            finally:
                loop.remove_reader(fd)
            return self._receive(w)
        raise SparqlError("failed", "SPARQL workers keep failing; see the server log")

    def _take(self, deadline: float) -> _Worker:
        """An idle worker, waiting for one until the deadline."""
        try:
            return self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise SparqlError("busy", f"all {self.workers} SPARQL workers stayed busy for the whole "
                                      f"{self.timeout:g}s time limit; try again later") from None

    def _send(self, w: _Worker, job: Job) -> bool:
        """Hand `job` to `w`; False (and `w` replaced) when its pipe is broken."""
        try:
            w.conn.send(job)
        except OSError:
            self._retire(w)
            return False
        return True

    def timeout_error(self) -> SparqlError:
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
            if code == -11:  # SIGSEGV: the parser's recursion past even the query thread's stack
                raise SparqlError("bad_request", "the query is too deeply nested or too long for the SPARQL "
                                                 "parser; simplify it") from None
            raise SparqlError("failed", f"the SPARQL worker running the query died (exit code {code})") from None
        self._idle.put(w)
        if msg[0] == "ok":
            return msg[1]
        raise SparqlError(msg[1], msg[2])
