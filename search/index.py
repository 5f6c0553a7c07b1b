"""Building and opening the search indexes of a data directory.

Layout under `<data>/search/`: `units.jsonl` (the units), `bm25/` (bm25s), `titles/` (bm25s, the titles),
`vectors/` (FAISS + manifest with the model id), `docs.json` (titles),
`restore.json` (syllable counts for putting diacritics back on queries),
`instruments.json` (each cited id's type and the names it is known by) and
`instruments_by_doc.json` (each document's share of it), and `units/` (issue 16: the units
as memory-mapped columns and inverted lists, and the HNSW over distinct vectors; search/unitstore.py,
search/ann.py), which `open_searcher` reads instead of the JSONL when present.  The whole directory
is built beside the old one and swapped in by rename, so an interrupted build
leaves the previous index usable; `update_search_index` changes a few
documents the same way, encoding only their units.  A data directory writes
each index into a new generation (`out=`), so the live one is never renamed.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from cchc.embeddings.encoder import Encoder
from cchc.embeddings.index import ModelMismatch, VectorIndex
from cchc.graph.corpus import DocumentInfo
from cchc.graph.extract.reading import file_sha256
from cchc.graph.extract.records import Extraction
from cchc.search.ann import build_ann
from cchc.search.bm25 import BM25Index
from cchc.search.candidates import open_columnar
from cchc.search.restore import Restorer
from cchc.search.searcher import Searcher
from cchc.search.structured import Tracer
from cchc.search.units import SearchUnit, build_units
from cchc.search.unitstore import UnitStore, write_unit_store

log = logging.getLogger(__name__)

DOC_INSTRUMENTS = "instruments_by_doc.json"


def doc_titles(extractions: Sequence[Extraction], infos: dict[str, DocumentInfo]) -> dict[str, str]:
    """What each document is called: the manifest title and the title lines it prints."""
    out = {}
    for ex in extractions:
        info = infos.get(ex.doc)
        lines = ex.header.get("title_lines") or []
        parts = [info.title if info and info.title else "", " ".join(lines), str(ex.header.get("title") or "")]
        out[ex.doc] = " ".join(p for p in parts if p)
    return out


def instrument_info(extractions: Sequence[Extraction]) -> dict[str, dict]:
    """Each cited id's type as extracted, and the names a numbered instrument is called by.

    A law is named by its title ("Luật Ban hành văn bản quy phạm pháp luật
    số 64/2025/QH15"), so a user naming the law finds the rows that cite
    only its number.  Titles that describe ("về thực hiện ...") are not names.
    """
    return merge_instrument_info(_doc_instruments(ex) for ex in extractions)


def _doc_instruments(ex: Extraction) -> dict[str, dict]:
    """One document's share of `instrument_info`, kept per document so an add or remove needs no re-extraction."""
    out: dict[str, dict] = {}
    for c in ex.citations:
        info = out.setdefault(c.id, {"type": c.type, "names": []})
        info["type"] = info["type"] or c.type
        title = (c.title or "").strip(" .,;")
        if c.numbered and c.type and title and not title.lower().startswith("về "):
            name = f"{c.type} {title}"
            if name not in info["names"]:
                info["names"].append(name)
    return out


def merge_instrument_info(per_doc: Iterable[dict[str, dict]]) -> dict[str, dict]:
    """Documents' shares merged in order: the first type seen, every name once in order of first use."""
    out: dict[str, dict] = {}
    for part in per_doc:
        for iid, info in part.items():
            have = out.setdefault(iid, {"type": info["type"], "names": []})
            have["type"] = have["type"] or info["type"]
            have["names"].extend(n for n in info["names"] if n not in have["names"])
    return out


@dataclass
class IndexParts:
    """What a search directory holds, in memory: units in corpus order, their vectors, per-document shares."""

    units: list[SearchUnit]
    vectors: np.ndarray | None  # one row per unit, same order; None without an encoder
    model_id: str | None
    titles: dict[str, str]
    instruments: dict[str, dict[str, dict]]  # doc -> its share of instrument_info


def _write(parts: IndexParts, search_dir: Path) -> Path:
    """Write every index file into `<search>.building`, then swap it in by rename (the old one stays until then)."""
    tmp = search_dir.with_name(search_dir.name + ".building")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    units = parts.units
    Searcher.save_units(units, tmp)
    keys, texts = [u.key for u in units], [u.index_text for u in units]
    BM25Index.build(keys, texts).save(tmp / "bm25")
    Restorer.build(texts).save(tmp / "restore.json")
    ann: dict = {}
    if parts.vectors is not None and parts.model_id is not None:
        # Issue 16: one flat vector per unit (read by memory map; what candidates are scored with and what an
        # update reads back), and the ANN over distinct vectors beside the unit store (search/ann.py).
        VectorIndex.from_vectors(parts.vectors, keys, parts.model_id, hnsw_threshold=2**62).save(tmp / "vectors")
        (tmp / "units").mkdir()
        ann = build_ann(parts.vectors, tmp / "units")
    docs = list(dict.fromkeys([*(u.doc for u in units), *parts.instruments]))
    _dump(tmp / "docs.json", parts.titles)
    _dump(tmp / "instruments.json", merge_instrument_info(parts.instruments[d] for d in docs if d in parts.instruments))
    _dump(tmp / DOC_INSTRUMENTS, parts.instruments)
    write_unit_store(units, tmp, model_id=parts.model_id if parts.vectors is not None else None,  # issue 16
                     dimension=int(parts.vectors.shape[1]) if parts.vectors is not None else None,
                     extra={**ann, "bm25_keys_sha256": file_sha256(tmp / "bm25" / "keys.json")})
    if parts.titles:  # saved, so opening the index needs no bm25s
        BM25Index.build(sorted(parts.titles), [parts.titles[d] for d in sorted(parts.titles)]).save(tmp / "titles")
    old = search_dir.with_name(search_dir.name + ".old")
    if search_dir.exists():
        if old.exists():
            shutil.rmtree(old)
        os.replace(search_dir, old)
    os.replace(tmp, search_dir)
    if old.exists():
        shutil.rmtree(old)
    log.info("search index: %d units in %s", len(units), search_dir)
    return search_dir


def write_index(parts: IndexParts, search_dir: Path) -> Path:
    """Write an index from parts already in memory (a bench's synthetic units, or a build elsewhere)."""
    return _write(parts, search_dir)


def _dump(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")


def _encode(encoder: Encoder | None, units: Sequence[SearchUnit], progress: bool) -> np.ndarray | None:
    if encoder is None:
        return None
    return VectorIndex.encode(encoder, [u.index_text for u in units], progress=progress)


def build_search_index(
    extractions: Sequence[Extraction], infos: dict[str, DocumentInfo], search_dir: Path,
    encoder: Encoder | None, *, progress: bool = False,
) -> Path:
    """Write units, BM25 and (with an encoder) vectors for the given documents."""
    t0 = time.perf_counter()
    units = build_units(extractions, infos)
    t1 = time.perf_counter()
    parts = IndexParts(units, _encode(encoder, units, progress), encoder.model_id if encoder else None,
                       doc_titles(extractions, infos), {ex.doc: _doc_instruments(ex) for ex in extractions})
    t2 = time.perf_counter()
    out = _write(parts, search_dir)
    log.info("search index phases: units %.1fs, encoding %.1fs, writing (BM25, vectors, unit store) %.1fs",
             t1 - t0, t2 - t1, time.perf_counter() - t2)
    return out


def update_search_index(
    search_dir: Path, add: Sequence[Extraction], remove: Iterable[str], infos: dict[str, DocumentInfo],
    encoder: Encoder | None, *, progress: bool = False, out: Path | None = None,
) -> Path:
    """Replace or add the documents of `add` and drop those of `remove`, encoding only the new units.

    The result equals a build from scratch over the new set of documents (units
    in corpus order: by file name, then line), but the other documents' units
    and vectors are read back from the index, so its cost grows with the change.
    With `out`, the changed index is written there and `search_dir` is left as
    it was (a data directory's new generation: the live index is never touched).
    """
    old = read_parts(search_dir)
    if encoder is not None and old.model_id not in (None, encoder.model_id):
        raise ModelMismatch(f"{search_dir}: built with {old.model_id}, not {encoder.model_id}; run `cchc build`")
    gone = set(remove) | {ex.doc for ex in add}
    fresh = build_units(add, infos)
    if fresh and old.vectors is not None and encoder is None:
        raise ValueError(f"{search_dir}: new units need the encoder the index was built with ({old.model_id})")
    kept = [i for i, u in enumerate(old.units) if u.doc not in gone]
    units = [old.units[i] for i in kept] + fresh
    vectors = None
    if old.vectors is not None:
        new_vecs = _encode(encoder, fresh, progress) if fresh else old.vectors[:0]
        vectors = np.vstack([old.vectors[kept], new_vecs])
    order = sorted(range(len(units)), key=lambda i: units[i].doc)  # stable: line order within a document
    titles = {d: t for d, t in old.titles.items() if d not in gone} | doc_titles(add, infos)
    instruments = {d: v for d, v in old.instruments.items() if d not in gone}
    instruments.update({ex.doc: _doc_instruments(ex) for ex in add})
    parts = IndexParts([units[i] for i in order], vectors[order] if vectors is not None else None,
                       encoder.model_id if encoder else old.model_id, titles, instruments)
    return _write(parts, out or search_dir)


def read_parts(search_dir: Path) -> IndexParts:
    """A built search directory back in memory (units, vectors, per-document shares), to change a few documents."""
    if not (search_dir / "units.jsonl").exists():
        raise FileNotFoundError(f"{search_dir}: no search index; run `cchc build` first")
    units = Searcher.load_units(search_dir)
    vectors, model_id = None, None
    if (search_dir / "vectors").exists():
        index = VectorIndex.load(search_dir / "vectors")
        vectors, model_id = index.vectors(), index.model_id
    titles = json.loads((search_dir / "docs.json").read_text("utf-8"))
    per_doc = search_dir / DOC_INSTRUMENTS
    if not per_doc.exists():
        raise FileNotFoundError(f"{search_dir}: an index from before per-document instruments; run `cchc build`")
    return IndexParts(units, vectors, model_id, titles, json.loads(per_doc.read_text("utf-8")))


def open_searcher(search_dir: Path, encoder: Encoder | None = None, tracer: Tracer | None = None) -> Searcher:
    """The searcher over a built index; dense scoring only when vectors and an encoder are both there."""
    if not (search_dir / "units.jsonl").exists():
        raise FileNotFoundError(f"{search_dir}: no search index; run `cchc build` first")
    if UnitStore.exists(search_dir):  # issue 16: columns by memory map, the candidate query path
        return open_columnar(search_dir, encoder, tracer)
    units = Searcher.load_units(search_dir)
    bm25 = BM25Index.load(search_dir / "bm25")
    vectors = VectorIndex.load(search_dir / "vectors") if (search_dir / "vectors").exists() else None
    titles = json.loads((search_dir / "docs.json").read_text("utf-8"))
    restore = search_dir / "restore.json"  # an index built before restoration existed: count the units now
    restorer = Restorer.load(restore) if restore.exists() else Restorer.build(u.index_text for u in units)
    info = search_dir / "instruments.json"
    instruments = json.loads(info.read_text("utf-8")) if info.exists() else {}
    title_index = BM25Index.load(search_dir / "titles") if (search_dir / "titles").exists() else None
    return Searcher(units, bm25, vectors if encoder else None, encoder if vectors else None, tracer,
                    doc_titles=titles, restorer=restorer, instruments=instruments, title_index=title_index)
