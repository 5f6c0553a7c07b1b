"""A data directory's generations: graph, search index, sources and carry-over published as one.

Layout of `<data>/` (the store's root is the data directory itself, see
`cchc.graph.rdf.store` and `generations`)::

    CURRENT            the live generation's name ("g000007"): the one commit point, replaced by rename
    LOCK               held (flock) by the one writer (build, add, remove)
    g000007/
      oxigraph/        the graph (RocksDB)
      manifest.json    the graph's manifest: documents, derived (carry-over) graphs, counts
      search/          units, BM25, vectors, titles, restoration counts, instruments
      sources/         the documents this state was built from (the live corpus) and their manifest.toml
      carryover.json   the carry-over result, keyed by what it was computed from
    g000006/           the previous generation, kept for readers that still have it open
    cache/, models/    content-addressed caches shared by every generation (passage vectors, the model)

Why one directory per state: `cchc build`, `add` and `remove` used to publish
the store, the index, the sources and the carry-over one after the other, so
a kill between two of them left a live store without the carry-over triples
that `/carryover` still listed.  Now a writer fills a new generation (the
store's `stage()`), `check_generation` verifies that its products agree, and
only then is `CURRENT` replaced: a reader sees the old state or the new one.
A killed writer leaves an unpublished generation, deleted by the next writer
or by `clean` at the next start.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from cchc.graph.corpus import MANIFEST
from cchc.graph.rdf import generations as gens
from cchc.ontology import IRIs

__all__ = ["CARRYOVER", "SEARCH", "SOURCES", "GenerationError", "Summary", "check_generation", "clean",
           "link_sources", "source_files"]

log = logging.getLogger(__name__)

SEARCH, SOURCES, CARRYOVER = "search", "sources", "carryover.json"
# what a data directory held before generations; deleted once a generation is live (a build migrates them)
LEGACY = ("store", "search", "search.building", "search.old", "sources", "sources.building", "sources.old")


class GenerationError(RuntimeError):
    """A data generation whose products disagree, or that is missing: never published, and /health's 503."""


@dataclass(frozen=True)
class Summary:
    """What a checked generation holds, for /health and the build's report."""

    generation: str
    documents: int
    units: int
    sources: int
    carryover_graphs: int
    carryover_links: int

    def to_json(self) -> dict[str, int | str]:
        return asdict(self)


def source_files(path: Path) -> list[str]:
    """The documents of a sources directory (its manifest and temporary files are not documents)."""
    try:
        return sorted(p.name for p in path.iterdir() if p.is_file() and p.name != MANIFEST
                      and not p.name.startswith("."))
    except FileNotFoundError:
        return []


def link_sources(previous: Path | None, target: Path, *, drop: Iterable[str] = (), add: Iterable[Path] = (),
                 manifest: Path | None = None) -> None:
    """Fill a new generation's sources: the previous ones hard-linked (a published file is never written again,
    so sharing its inode is safe and costs nothing), less `drop`, plus copies of `add` and of `manifest`."""
    target.mkdir(parents=True, exist_ok=True)
    dropped = set(drop)
    added = list(add)
    replaced = {p.name for p in added} | ({MANIFEST} if manifest is not None else set())
    if previous is not None and previous.is_dir():
        for p in previous.iterdir():
            if p.is_file() and not p.name.startswith(".") and p.name not in dropped | replaced:
                try:
                    os.link(p, target / p.name)
                except OSError:  # another file system, or links not allowed: a copy is as good
                    shutil.copy2(p, target / p.name)
    for p in [*added, *([manifest] if manifest is not None and manifest.is_file() else [])]:
        shutil.copy2(p, target / p.name)


def _carryover_names(path: Path, iris: IRIs) -> tuple[set[str], int]:
    """The carry-over graph names the generation's carryover.json calls for, and its number of links."""
    from cchc.graph.rdf.continuity import carryover_graph_name

    try:
        data = json.loads((path / CARRYOVER).read_text("utf-8"))
        pairs = [pair for plan in data["result"]["plans"] for pair in plan["pairs"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GenerationError(f"{path.name}: the carry-over file is unreadable ({exc})") from None
    names = {str(carryover_graph_name(iris, p["from"]["doc"], p["to"]["doc"])) for p in pairs}
    return names, len(pairs)


def check_generation(path: Path, iris: IRIs, *, deep: bool = False) -> Summary:
    """Verify that a generation's products agree, or raise GenerationError naming the first disagreement.

    Documents in the graph == documents of the search index == files in
    sources; the derived graphs of the graph == the carry-over file's plan
    pairs; the units file readable and (deep) as many vectors as units, every
    document's and carry-over graph present in the database, and as many
    `cchc:continues` triples as carry-over links.  `deep` opens the database, so
    it is for the writer before publishing; /health runs the cheap part on each
    new generation (files of a published generation never change).
    """
    name = path.name
    try:
        manifest = json.loads((path / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise GenerationError(f"{name}: the graph's manifest is unreadable ({exc})") from None
    docs = sorted(d["file"] for d in manifest.get("documents", {}).values())
    search = path / SEARCH
    try:
        titles = sorted(json.loads((search / "docs.json").read_text("utf-8")))
        with (search / "units.jsonl").open(encoding="utf-8") as fh:
            keys = [json.loads(line)["key"] for line in fh]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GenerationError(f"{name}: the search index is unreadable ({exc})") from None
    sources = source_files(path / SOURCES)
    if not docs == titles == sources:
        raise GenerationError(f"{name}: {len(docs)} documents in the graph, {len(titles)} in the search index, "
                              f"{len(sources)} in sources; they differ in "
                              f"{sorted(set(docs) ^ set(titles) | set(docs) ^ set(sources))[:5]}")
    expected, links = _carryover_names(path, iris)
    derived = set(manifest.get("derived", {}))
    if derived != expected:
        raise GenerationError(f"{name}: the graph holds {len(derived)} carry-over graphs, the carry-over file "
                              f"{len(expected)}; they differ in {sorted(derived ^ expected)[:3]}")
    if deep:
        _check_database(path, manifest, iris, expected, links, keys)
    return Summary(name, len(docs), len(keys), len(sources), len(expected), links)


def _check_database(path: Path, manifest: dict, iris: IRIs, expected: set[str], links: int,
                    keys: list[str]) -> None:
    import pyoxigraph as ox
    from cchc.embeddings.index import VectorIndex
    from cchc.graph.rdf.terms import prefixes
    from cchc.graph.read.readindex import READ_DIR

    name = path.name
    vectors = VectorIndex.manifest(path / SEARCH / "vectors")
    if vectors is not None and vectors["keys"] != keys:
        raise GenerationError(f"{name}: {len(vectors['keys'])} vectors for {len(keys)} search units")
    try:  # the projection saved with the graph (graph/read/readindex.py) must be this graph's
        read = json.loads((path / READ_DIR / "manifest.json").read_text("utf-8"))["counts"]
    except (OSError, ValueError, KeyError) as exc:
        raise GenerationError(f"{name}: the graph's read index is unreadable ({exc})") from None
    counts = manifest.get("counts", {})
    if (read["task"], read["unit"]) != (counts.get("tasks"), counts.get("units")):
        raise GenerationError(f"{name}: the read index has {read['task']} tasks and {read['unit']} units, the graph "
                              f"{counts.get('tasks')} and {counts.get('units')}")
    st = ox.Store.read_only(str(path / "oxigraph"))
    try:
        graphs = {g.value for g in st.named_graphs() if isinstance(g, ox.NamedNode)}
        wanted = {d["graph"] for d in manifest["documents"].values()} | expected
        if missing := sorted(wanted - graphs):
            raise GenerationError(f"{name}: {len(missing)} graphs the manifest names are not in the store, "
                                  f"e.g. {missing[0]}")
        query = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?later cchc:continues ?earlier } }"
        count = next(iter(st.query(query, prefixes=prefixes(iris))))[0]  # type: ignore[arg-type,index]
        if int(count.value) != links:
            raise GenerationError(f"{name}: {count.value} carry-over links in the graph, {links} in the file")
    finally:
        del st


def clean(data_dir: Path) -> bool:
    """Delete what dead writers left (unpublished generations, temporary files, in the caches too) and, once a
    generation is live, the layout from before generations; nothing while a writer holds the lock (the writer
    would be the only one making temporary files).  True when it could look."""
    if not gens.clean(data_dir):
        return False
    temporary = [*data_dir.glob(".carryover-*.json"), *(data_dir / "cache").rglob("*.tmp"),
                 *(data_dir / "cache").rglob("*.tmp.npz")]  # a killed writer's half-written files
    for p in temporary:
        p.unlink(missing_ok=True)
    for legacy in LEGACY:
        p = data_dir / legacy
        if p.is_dir():
            log.info("removing %s: the data directory now keeps it inside its generations", p)
            shutil.rmtree(p, ignore_errors=True)
    return True
