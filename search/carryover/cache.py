"""The carry-over result cached in `<data>/carryover.json`, keyed by what it was computed from.

`GET /carryover` and `cchc history` should answer in milliseconds, while
computing the links needs the extraction of the corpus and the encoder.  The
result is therefore stored as JSON with a key: a version of the matcher, the
model id, the threshold, the agency registry's hash and one hash per corpus
file (with its manifest entry).  A matching key is served as is; when only some files changed
(a document replaced, added or removed), only the plan pairs involving them
are recomputed (`update_carryover`), so the links between untouched plans
stay exactly as they were.  The file is written to a temporary name and
renamed, so a reader never sees half a result.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cchc.embeddings.encoder import Encoder
from cchc.graph.corpus import corpus_files, load_manifest
from cchc.graph.extract.agencies import DATA_FILE as AGENCY_REGISTRY
from cchc.graph.extract.documents import extract_file
from cchc.graph.extract.reading import file_sha256
from cchc.graph.extract.records import Extraction
from cchc.search.carryover.compute import DEFAULT_THRESHOLD, compute_carryover, update_carryover
from cchc.search.carryover.model import CarryOverResult

__all__ = ["CACHE_NAME", "CACHE_VERSION", "cache_key", "ensure_carryover", "load_carryover", "save_carryover"]

log = logging.getLogger(__name__)

CACHE_NAME = "carryover.json"
CACHE_VERSION = 2  # bump when scoring, the key or the JSON layout changes


def cache_key(corpus_dir: Path, model_id: str, threshold: float) -> dict[str, Any]:
    """What a cached result must have been computed from to be served.

    A file's manifest entry (its year, type) counts as part of the file: an
    added or removed document changes the manifest, and only the plan pairs
    of the documents whose entry changed need recomputing, not every pair."""
    infos = load_manifest(corpus_dir)
    files = {}
    for p in corpus_files(corpus_dir):
        info = infos.get(p.name)
        entry = hashlib.sha256(repr(info).encode()).hexdigest()[:16] if info is not None else ""
        files[p.name] = f"{file_sha256(p)}+{entry}" if entry else file_sha256(p)
    return {"version": CACHE_VERSION, "model_id": model_id, "threshold": threshold,
            "registry": file_sha256(AGENCY_REGISTRY), "files": files}


def load_carryover(data_dir: Path, key: dict[str, Any] | None = None) -> CarryOverResult | None:
    """The cached result, or None when there is none, it is unreadable, or (given `key`) it is stale."""
    path = Path(data_dir) / CACHE_NAME
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if key is not None and data.get("key") != key:
        return None
    return CarryOverResult.from_json(data["result"])


def save_carryover(result: CarryOverResult, data_dir: Path, key: dict[str, Any]) -> Path:
    """Write `<data>/carryover.json` atomically (temporary file in the same directory, then rename)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / CACHE_NAME
    fd, tmp = tempfile.mkstemp(prefix=".carryover-", suffix=".json", dir=data_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"key": key, "result": result.to_json()}, fh, ensure_ascii=False)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _extract(corpus_dir: Path) -> list[Extraction]:
    manifest = load_manifest(corpus_dir)
    return [extract_file(p, manifest.get(p.name)) for p in corpus_files(corpus_dir)]


def ensure_carryover(corpus_dir: Path, data_dir: Path | None, encoder_factory: Callable[[], Encoder], model_id: str,
                     *, threshold: float = DEFAULT_THRESHOLD,
                     extract: Callable[[], Sequence[Extraction]] | None = None,
                     previous: Path | None = None) -> CarryOverResult:
    """The carry-over of the corpus: from the cache when current, else computed (incrementally if possible).

    `encoder_factory` and `extract` are only called when something must be
    computed, so serving a current cache loads neither the model nor the corpus.
    The result is cached in `data_dir` (None: not saved); the result it starts
    from is read from `previous` when given (a data directory's last
    generation, which must not be written: the new one gets the result).
    """
    corpus_dir = Path(corpus_dir)
    key = cache_key(corpus_dir, model_id, threshold)
    base = Path(previous) if previous is not None else data_dir
    path = base / CACHE_NAME if base is not None else None
    stored: dict[str, Any] | None = None
    try:
        stored = json.loads(path.read_text("utf-8")) if path is not None else None
    except (OSError, ValueError):
        stored = None
    if stored and stored.get("key") == key:
        result = CarryOverResult.from_json(stored["result"])
        if data_dir is not None and base != Path(data_dir):
            save_carryover(result, data_dir, key)
        return result
    extractions = list(extract() if extract else _extract(corpus_dir))
    encoder = encoder_factory()
    infos = load_manifest(corpus_dir)
    old_key = stored.get("key", {}) if stored else {}
    same_basis = all(old_key.get(k) == key[k] for k in ("version", "model_id", "threshold", "registry"))
    if stored and same_basis:
        old_files, new_files = old_key.get("files", {}), key["files"]
        changed = {f for f in {*old_files, *new_files} if old_files.get(f) != new_files.get(f)}
        log.info("carry-over cache: %d changed document(s), recomputing their plan pairs", len(changed))
        result = update_carryover(CarryOverResult.from_json(stored["result"]), extractions, encoder, changed,
                                  infos=infos)
    else:
        log.info("carry-over cache: none usable in %s, computing", base)
        result = compute_carryover(extractions, encoder, threshold=threshold, infos=infos)
    if data_dir is not None:
        save_carryover(result, data_dir, key)
    return result
