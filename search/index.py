"""Building and opening the search indexes of a data directory.

Layout under `<data>/search/`: `units.jsonl` (the units), `bm25/` (bm25s), `titles/` (bm25s, the titles),
`vectors/` (FAISS + manifest with the model id), `docs.json` (titles),
`restore.json` (syllable counts for putting diacritics back on queries),
`instruments.json` (each cited id's type and the names it is known by).  The
whole directory is built beside the old one and swapped in by rename, so an
interrupted build leaves the previous index usable.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from cchc.embeddings.encoder import Encoder
from cchc.embeddings.index import VectorIndex
from cchc.graph.corpus import DocumentInfo
from cchc.graph.extract.records import Extraction
from cchc.search.bm25 import BM25Index
from cchc.search.restore import Restorer
from cchc.search.searcher import Searcher
from cchc.search.structured import Tracer
from cchc.search.units import build_units

log = logging.getLogger(__name__)


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
    out: dict[str, dict] = {}
    for ex in extractions:
        for c in ex.citations:
            info = out.setdefault(c.id, {"type": c.type, "names": []})
            info["type"] = info["type"] or c.type
            title = (c.title or "").strip(" .,;")
            if c.numbered and c.type and title and not title.lower().startswith("về "):
                name = f"{c.type} {title}"
                if name not in info["names"]:
                    info["names"].append(name)
    return out


def build_search_index(
    extractions: Sequence[Extraction], infos: dict[str, DocumentInfo], search_dir: Path,
    encoder: Encoder | None, *, progress: bool = False,
) -> Path:
    """Write units, BM25 and (with an encoder) vectors for the given documents."""
    units = build_units(extractions, infos)
    tmp = search_dir.with_name(search_dir.name + ".building")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    Searcher.save_units(units, tmp)
    keys, texts = [u.key for u in units], [u.index_text for u in units]
    BM25Index.build(keys, texts).save(tmp / "bm25")
    Restorer.build(texts).save(tmp / "restore.json")
    if encoder is not None:
        VectorIndex.build(encoder, keys, texts, progress=progress).save(tmp / "vectors")
    titles = doc_titles(extractions, infos)
    (tmp / "docs.json").write_text(json.dumps(titles, ensure_ascii=False), "utf-8")
    if titles:  # saved, so opening the index needs no bm25s
        BM25Index.build(sorted(titles), [titles[d] for d in sorted(titles)]).save(tmp / "titles")
    (tmp / "instruments.json").write_text(json.dumps(instrument_info(extractions), ensure_ascii=False), "utf-8")
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


def open_searcher(search_dir: Path, encoder: Encoder | None = None, tracer: Tracer | None = None) -> Searcher:
    """The searcher over a built index; dense scoring only when vectors and an encoder are both there."""
    if not (search_dir / "units.jsonl").exists():
        raise FileNotFoundError(f"{search_dir}: no search index; run `cchc build` first")
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
