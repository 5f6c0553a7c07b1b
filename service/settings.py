"""One settings object, built by the CLI or the app, never read by library code.

Values come from, in order of precedence: command-line flags, `CCHC_*`
environment variables, defaults.  Unsafe values are refused at start-up.
"""

from __future__ import annotations

import os
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from cchc.graph.corpus import default_corpus_dir

DEFAULT_BASE_IRI = "https://w3id.org/cchc/"


def _default_data_dir() -> Path:
    return default_corpus_dir().parent.parent / "var"


MAX_SOURCE_HELP = "largest source file read, in MiB (default 64, or CCHC_MAX_SOURCE_MB)"


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = field(default_factory=default_corpus_dir)
    data_dir: Path = field(default_factory=_default_data_dir)
    base_iri: str = DEFAULT_BASE_IRI
    model: str = "e5-small"
    # how the default model runs: "auto"/"onnx" = ONNX Runtime without torch; "torch" = sentence-transformers
    encoder_runtime: str = "auto"
    host: str = "127.0.0.1"
    # `cchc search` asks this running `cchc serve` (e.g. http://127.0.0.1:8765) instead of opening the indexes
    search_server: str = ""
    port: int = 8765
    sparql_timeout: float = 10.0  # seconds a /sparql query may run before its worker is killed
    sparql_max_rows: int = 10000  # solutions (or triples) a /sparql answer may hold; SELECT: 2 KiB a row
    sparql_workers: int = 2  # worker processes running /sparql queries
    max_k: int = 100
    # encoder intra-op threads (ONNX Runtime or torch) while serving: one query is a small forward pass, and more
    # threads spin-wait under load (bench/http.md: 130-670 ms CPU per search with 2, ~55 ms with 1); 0 = all cores
    serve_threads: int = 1
    # server processes: each holds the model and indexes (~300 MB) and its own SPARQL workers; N = CPUs for throughput
    serve_workers: int = 1
    page_size: int = 50  # API lists: items per page when the caller gives no `limit`
    max_page_size: int = 500  # API lists: the largest `limit` accepted
    request_timeout: float = 30.0  # seconds an API request may compute before it answers 503 "timeout"
    log_level: str = "WARNING"
    # Host names the server answers for, comma-separated ("*": any); empty: the loopback names when bound to
    # loopback (no DNS rebinding), else any (set it when serving behind a proxy under a public name)
    trusted_hosts: str = ""
    header_timeout: float = 10.0  # seconds a client has to send a request's headers before it is disconnected
    # largest source file `cchc extract` / `build` / `add` read (MiB): /dev/zero or a 10 GB dump is refused, not read
    max_source_mb: int = 64
    # The graph in a SPARQL 1.1 server instead of the data directory (graph/rdf/remote.py): its query endpoint,
    # its update endpoint (default: the same URL), its Graph Store Protocol endpoint (optional: faster uploads) and
    # credentials for writes (digest or basic auth). The search index, sources and carry-over stay in data_dir.
    store_url: str = ""
    store_update_url: str = ""
    store_graph_url: str = ""
    store_user: str = ""
    store_password: str = ""
    store_auth: str = "digest"
    # `cchc build` / `add` on Dask (service/cluster.py): N local worker processes, or a scheduler's address
    # (tcp://host:8786); 0 and "" = the single-process build, which never imports Dask
    build_workers: int = 0
    cluster: str = ""

    def __post_init__(self) -> None:
        if self.encoder_runtime not in ("auto", "onnx", "torch"):
            raise ValueError(f"encoder runtime must be auto, onnx or torch: {self.encoder_runtime!r}")
        if not self.base_iri.startswith(("http://", "https://")) or not self.base_iri.endswith(("/", "#")):
            raise ValueError(f"base IRI must be an http(s) IRI ending in / or #: {self.base_iri!r}")
        if not 0 < self.sparql_timeout <= 300:
            raise ValueError(f"SPARQL timeout must be in (0, 300] seconds: {self.sparql_timeout}")
        if not 0 < self.sparql_max_rows <= 10_000_000 or not 0 < self.sparql_workers <= 64:
            raise ValueError(f"SPARQL row limit must be in (0, 10000000] and workers in (0, 64]: "
                             f"{self.sparql_max_rows}, {self.sparql_workers}")
        if not 0 < self.page_size <= self.max_page_size or not 0 < self.request_timeout <= 600:
            raise ValueError(f"page size must be in (0, max_page_size={self.max_page_size}] and the request "
                             f"timeout in (0, 600] seconds: {self.page_size}, {self.request_timeout}")
        if not 0 < self.serve_workers <= 64:
            raise ValueError(f"server worker processes must be in (0, 64]: {self.serve_workers}")
        if not 0 < self.header_timeout <= 300 or not 0 < self.max_source_mb <= 4096:
            raise ValueError(f"header timeout must be in (0, 300] seconds and the source size limit in (0, 4096] "
                             f"MiB: {self.header_timeout}, {self.max_source_mb}")
        if self.search_server and not self.search_server.startswith(("http://", "https://")):
            raise ValueError(f"search server must be an http(s) URL: {self.search_server!r}")
        for name in ("store_url", "store_update_url", "store_graph_url"):
            url = getattr(self, name)
            if url and not url.startswith(("http://", "https://")):
                raise ValueError(f"{name.replace('_', ' ')} must be an http(s) URL: {url!r}")
        if (self.store_update_url or self.store_graph_url) and not self.store_url:
            raise ValueError("a SPARQL update or graph store URL needs the query URL too (CCHC_STORE_URL)")
        if self.store_auth not in ("digest", "basic"):
            raise ValueError(f"store auth must be digest or basic: {self.store_auth!r}")
        if not 0 <= self.build_workers <= 256:
            raise ValueError(f"build workers must be in [0, 256]: {self.build_workers}")
        if self.cluster and not self.cluster.startswith(("tcp://", "tls://", "inproc://", "ucx://", "ws://",
                                                         "wss://")):
            raise ValueError(f"cluster must be a Dask scheduler address such as tcp://host:8786: {self.cluster!r}")
        if self.cluster and self.build_workers:
            raise ValueError("give either build workers (a local cluster) or a cluster address, not both")
        if not 0 < self.port < 65536:
            raise ValueError(f"port out of range: {self.port}")

    @property
    def max_source_bytes(self) -> int:
        return self.max_source_mb << 20

    def to_env(self) -> dict[str, str]:
        """These settings as the CCHC_* variables `from_env` reads back (for server processes started by uvicorn)."""
        return {f"CCHC_{f.name.upper()}": str(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then CCHC_* variables, then the given overrides (flags); None means unset."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"CCHC_{f.name.upper()}")
            if raw is None:
                continue
            default = f.default_factory() if f.default_factory is not MISSING else f.default  # type: ignore[misc]
            if isinstance(default, Path):
                values[f.name] = Path(raw)
            elif isinstance(default, bool):
                values[f.name] = raw.lower() in ("1", "true", "yes")
            elif isinstance(default, int):
                values[f.name] = int(raw)
            elif isinstance(default, float):
                values[f.name] = float(raw)
            else:
                values[f.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)
