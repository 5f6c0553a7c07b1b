"""A build beyond one process: extraction and passage encoding on a Dask distributed cluster.

Why Dask and not Ray: bench/distributed.md (install size, import time, start-up of a two-worker local cluster,
and the fit for what we run: pure-Python tasks over files and batches of texts).

Only what the caches do not hold goes to the cluster: the client reads each file, looks its extraction up in
`<data>/cache/extractions/` by content (the key `extract_cached` uses) and sends only the bytes of new or changed
documents; passage vectors go through `CachedPassages` over a `ClusterEncoder`, so only texts never encoded reach
the workers.  Workers get bytes, not paths, so a real cluster needs no shared file system: it is named by the
address of its scheduler (`cchc build --cluster tcp://host:8786`, or CCHC_CLUSTER); `--workers N` starts a
LocalCluster of N processes on loopback.  Results equal a single-process build's: the same extraction code runs
on the same bytes, and each worker loads the configured encoder once.

Nothing here is imported unless a cluster is asked for: the single-process build never loads Dask.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from cchc.graph.corpus import DocumentInfo
from cchc.graph.extract.reading import DEFAULT_MAX_SOURCE_BYTES, SourceError, check_source
from cchc.graph.extract.records import Extraction

log = logging.getLogger(__name__)

__all__ = ["BuildCluster", "ClusterEncoder"]


# ---------------------------------------------------------------- what runs on a worker
@dataclass(frozen=True)
class _Failure:
    """A worker's SourceError or ValueError, sent back as data: the client raises it again under the user's path.

    (SourceError's constructor takes the path and the problem, so it does not survive pickling as an
    exception; and the worker's file is a temporary copy whose path means nothing to the user.)"""

    kind: str  # "source" | "value"
    problem: str
    line: int | None = None


_PATH = "\0path\0"  # where a worker's error message named its temporary copy of the file


def _extract_bytes(name: str, data: bytes, info: DocumentInfo | None, max_bytes: int) -> Extraction | _Failure:
    """Extract one document from its bytes, written under its own name into a private temporary folder."""
    from cchc.graph.extract.documents import extract_file

    folder = tempfile.mkdtemp(prefix="cchc-extract-")
    try:
        path = Path(folder) / name
        path.write_bytes(data)
        return extract_file(path, info, max_bytes)
    except SourceError as exc:
        return _Failure("source", exc.problem.replace(str(Path(folder) / name), _PATH), exc.line)
    except ValueError as exc:  # the temporary path is put back as the user's by the client
        return _Failure("value", str(exc).replace(str(Path(folder) / name), _PATH))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_ENCODERS: dict[tuple, Any] = {}  # per worker process: (spec, model dir, runtime, threads) -> loaded encoder
_ENCODERS_LOCK = threading.Lock()


def _worker_encoder(spec: str, model_dir: str, runtime: str, threads: int):
    """The encoder of this worker process, loaded on its first batch and kept for every later one."""
    key = (spec, model_dir, runtime, threads)
    with _ENCODERS_LOCK:  # a worker with several threads loads it once
        enc = _ENCODERS.get(key)
        if enc is None:
            from cchc.embeddings.encoder import make_encoder

            enc = _ENCODERS[key] = make_encoder(spec, Path(model_dir), runtime=runtime, threads=threads)
            log.info("worker %d: encoder %s loaded", os.getpid(), enc.model_id)
    return enc


def _encode_batch(spec: str, model_dir: str, runtime: str, threads: int, texts: list[str], queries: bool
                  ) -> np.ndarray:
    enc = _worker_encoder(spec, model_dir, runtime, threads)
    out = enc.encode_queries(texts) if queries else enc.encode_passages(texts)
    return np.asarray(out, dtype=np.float32)


def _dimension(spec: str, model_dir: str, runtime: str, threads: int) -> int:
    return int(_worker_encoder(spec, model_dir, runtime, threads).dimension)


# ---------------------------------------------------------------- the client side
def _progress(futures: list, desc: str, unit: str, show: bool):
    """Futures as they finish, with a progress bar on stderr when asked (the CLI asks on a terminal or with -v)."""
    from distributed import as_completed

    done = as_completed(futures)
    if not show:
        return done
    from tqdm import tqdm

    return tqdm(done, total=len(futures), desc=desc, unit=unit)


class BuildCluster:
    """A Dask distributed client: a LocalCluster of `workers` processes on loopback, or the scheduler at `address`.

    Used as the build's executor for the two costly steps (`extract`, `encoder`); `close` stops what it started.
    """

    def __init__(self, *, workers: int = 0, address: str = "", timeout: float = 30.0) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - dask is a dependency; a trimmed install may lack it
            raise ImportError("a distributed build needs Dask: pip install 'dask[distributed]'") from exc
        if not workers and not address:
            raise ValueError("a build cluster needs a number of local workers or a scheduler address")
        # Dask logs its own start-up and shutdown at INFO through its own handlers; the CLI is quiet unless -vv.
        logging.getLogger("distributed").setLevel(logging.INFO if log.isEnabledFor(logging.DEBUG) else logging.WARNING)
        self._local = None
        if address:
            self.client = Client(address, timeout=timeout)
            where = address
        else:
            # Processes, one thread each: extraction is pure Python (the GIL), and encoding gets the cores itself.
            self._local = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, silence_logs=logging.ERROR)
            self.client = Client(self._local, timeout=timeout)
            where = f"{workers} local workers"
        self.client.wait_for_workers(workers or 1, timeout=timeout)
        info = self.client.scheduler_info()["workers"]
        self.workers = len(info)
        self.threads = sum(w.get("nthreads", 1) for w in info.values())
        # Encoder threads per task: a local cluster shares this machine's cores; a remote worker uses its own.
        self.encoder_threads = max(1, (os.cpu_count() or 1) // self.workers) if self._local is not None else 0
        log.info("build cluster: %s (%d workers, %d threads)", where, self.workers, self.threads)

    def close(self) -> None:
        self.client.close()
        if self._local is not None:
            self._local.close()

    def __enter__(self) -> BuildCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ extraction
    def extract(self, paths: Sequence[Path], infos: Sequence[DocumentInfo | None], cache_dir: Path | None, *,
                max_bytes: int = DEFAULT_MAX_SOURCE_BYTES, progress: bool = False) -> list[Extraction]:
        """`extract_cached` of every path, in order; the documents the cache lacks are extracted on the workers.

        A file that fails raises the error a single-process build raises (SourceError naming the file, the line
        and the problem), after the other tasks are cancelled; nothing is published by a failed build.
        """
        from cchc.service.application import extraction_cache_entry, read_cached_extraction, write_cached_extraction

        out: list[Extraction | None] = [None] * len(paths)
        entries: list[Path | None] = [None] * len(paths)
        futures, where = [], {}
        for i, (path, info) in enumerate(zip(paths, infos, strict=True)):
            check_source(path, max_bytes)  # a device, pipe or oversized file is refused before it is read
            data = path.read_bytes()
            if cache_dir is not None:
                entries[i] = extraction_cache_entry(data, path.name, info, cache_dir)
                out[i] = read_cached_extraction(entries[i])
                if out[i] is not None:
                    continue
            fut = self.client.submit(_extract_bytes, path.name, data, info, max_bytes, pure=False,
                                     key=f"extract-{i}-{path.name}-{os.urandom(4).hex()}")
            futures.append(fut)
            where[fut.key] = i
        log.info("extraction: %d documents, %d from the cache, %d on the cluster", len(paths),
                 len(paths) - len(futures), len(futures))
        try:
            for fut in _progress(futures, "extracting", "doc", progress):
                i = where[fut.key]
                ex = fut.result()
                if isinstance(ex, _Failure):
                    if ex.kind == "source":
                        raise SourceError(paths[i], ex.problem.replace(_PATH, str(paths[i])), ex.line)
                    raise ValueError(ex.problem.replace(_PATH, str(paths[i])))
                for w in ex.warnings:  # what extract_file logs in a single-process build
                    log.warning(w)
                if entries[i] is not None:
                    write_cached_extraction(entries[i], ex)
                out[i] = ex
        finally:
            self.client.cancel([f for f in futures if not f.done()])
        return [ex for ex in out if ex is not None]

    # ------------------------------------------------------------ encoding
    def encoder(self, spec: str, model_dir: Path, *, runtime: str = "auto", progress: bool = False
                ) -> ClusterEncoder:
        """The configured encoder, run on the workers (each loads it once); see `ClusterEncoder`."""
        from cchc.embeddings.encoder import DEFAULT_MODEL_ID, ensure_default_model, spec_model_id

        if spec_model_id(spec) == DEFAULT_MODEL_ID:  # converted here once, not by every local worker at once
            ensure_default_model(model_dir)
        return ClusterEncoder(self.client, spec, str(model_dir), runtime, self.encoder_threads,
                              workers=self.workers, progress=progress)


class ClusterEncoder:
    """The Encoder protocol (`model_id`, `dimension`, `encode_queries`, `encode_passages`) over the cluster.

    A call is split into batches spread over the workers and put back in order.  Wrapped in `CachedPassages`, it
    is asked only for texts never encoded before.
    """

    def __init__(self, client, spec: str, model_dir: str, runtime: str, threads: int, *, workers: int,
                 progress: bool = False, batch: int = 256) -> None:
        from cchc.embeddings.encoder import spec_model_id

        self._client, self._args = client, (spec, model_dir, runtime, threads)
        self._workers, self._batch = workers, batch
        self.model_id = spec_model_id(spec)
        self.progress = progress
        self._dimension: int | None = None

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = int(self._client.submit(_dimension, *self._args, pure=False).result())
        return self._dimension

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._run(texts, queries=True)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._run(texts, queries=False)

    def _run(self, texts: list[str], *, queries: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        # Enough batches to keep every worker busy to the end (4 a worker), none bigger than `batch` texts; texts
        # of like length together (the model pads a batch to its longest text), put back in order after.
        size = max(32, min(self._batch, math.ceil(len(texts) / (4 * self._workers))))
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        starts = list(range(0, len(texts), size))
        futures = [self._client.submit(_encode_batch, *self._args, [texts[i] for i in order[s:s + size]], queries,
                                       pure=False) for s in starts]
        index = {f.key: n for n, f in enumerate(futures)}
        parts: list[np.ndarray | None] = [None] * len(futures)
        try:
            for fut in _progress(futures, "encoding units", "batch", self.progress and len(futures) > 1):
                parts[index[fut.key]] = fut.result()
        finally:
            self._client.cancel([f for f in futures if not f.done()])
        vecs = np.empty((len(texts), int(parts[0].shape[1])), np.float32)  # type: ignore[union-attr]
        vecs[order] = np.vstack(parts)  # type: ignore[arg-type]
        self._dimension = int(vecs.shape[1])
        return vecs


def open_cluster(workers: int, address: str) -> BuildCluster | None:
    """The cluster the settings ask for (`build_workers`, `cluster`), or None for the single-process build."""
    if not workers and not address:
        return None
    return BuildCluster(workers=workers, address=address)

