"""A throw-away Virtuoso server for tests, CI and benchmarks: `virtuoso-t` in a directory of its own.

The remote-store tests and `bench/bench_remote_sparql.py` need the same real SPARQL 1.1 server
(Debian's `virtuoso-opensource`), started on free ports with its own
`virtuoso.ini` and stopped after.  Writes go to the authenticated endpoint
`/sparql-auth` (HTTP digest, the `dba` account); queries to the public
`/sparql`.  Not part of the package: a user points `--store-url` at their own server.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["VIRTUOSO", "Virtuoso", "VirtuosoError", "free_port"]

log = logging.getLogger(__name__)

VIRTUOSO = "virtuoso-t"  # Debian: apt-get install virtuoso-opensource
_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = {sql}
DisableUnixSocket = 1
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., {d}
NumberOfBuffers = 20000
MaxDirtyBuffers = 15000
MaxQueryMem = 512M
ThreadsPerQuery = 2
VADInstallDir = /usr/share/virtuoso-opensource-7/vad/

[HTTPServer]
ServerPort = {http}
ServerRoot = /var/lib/virtuoso-opensource-7/vsp
ServerThreads = 10
MaxKeepAlives = 10
KeepAliveTimeout = 10
Charset = UTF-8
EnabledGzipContent = 0

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryCostEstimationTime = 400
MaxQueryExecutionTime = {max_seconds}
"""


class VirtuosoError(RuntimeError):
    """The server could not be started (missing binary, did not answer in time)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Virtuoso:
    """One `virtuoso-t +foreground` process over `directory`, listening on loopback ports picked at start."""

    directory: Path
    http_port: int = 0
    sql_port: int = 0
    process: subprocess.Popen | None = None
    user: str = "dba"
    password: str = "dba"  # the default of a new database; the server listens on loopback only

    @property
    def query_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/sparql"

    @property
    def update_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/sparql-auth"

    @property
    def graph_store_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/sparql-graph-crud-auth"

    @classmethod
    def available(cls) -> bool:
        return shutil.which(VIRTUOSO) is not None

    def start(self, *, wait: float = 60.0, max_seconds: int = 60) -> Virtuoso:
        binary = shutil.which(VIRTUOSO)
        if binary is None:
            raise VirtuosoError(f"{VIRTUOSO} not found: install Debian's virtuoso-opensource")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.http_port, self.sql_port = free_port(), free_port()
        ini = self.directory / "virtuoso.ini"
        ini.write_text(_INI.format(d=self.directory, sql=self.sql_port, http=self.http_port,
                                   max_seconds=max_seconds), "utf-8")
        out = (self.directory / "stdout.log").open("wb")
        self.process = subprocess.Popen([binary, "+foreground", "+configfile", str(ini)], cwd=self.directory,
                                        stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        t0 = time.monotonic()
        while time.monotonic() - t0 < wait:
            if self.process.poll() is not None:
                raise VirtuosoError(f"{VIRTUOSO} exited with {self.process.returncode}: {self.log_tail()}")
            try:
                r = httpx.get(self.query_url, params={"query": "ASK {}"}, timeout=2.0)
                if r.status_code == 200:
                    log.info("virtuoso up on %s in %.1fs", self.query_url, time.monotonic() - t0)
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        self.stop()
        raise VirtuosoError(f"{VIRTUOSO} did not answer on {self.query_url} within {wait:.0f}s: {self.log_tail()}")

    def log_tail(self, n: int = 1500) -> str:
        try:
            return (self.directory / "virtuoso.log").read_text("utf-8", "replace")[-n:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Terminate the server process this object started (and only it)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def __enter__(self) -> Virtuoso:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
