"""The search units as columns on disk: what a query reads without a Python object per unit.

Why: loading units as objects from JSONL costs, at 1.19M units, 32 s and
5.6 KB a unit, and every query then walked them in Python (issue 16).  Here
the index writer adds `<search>/units/` beside `units.jsonl`:

* fixed-width columns as `.npy` files, opened by memory map (pages are shared
  between server processes and only what a query touches is read): the
  document, year, field, heading flag, deadline window and the window its
  text names (as day ordinals), and 64-bit hashes of the keys, sorted;
* inverted lists in CSR form (`<name>.indptr.npy` / `<name>.indices.npy`, one
  row per vocabulary entry, unit numbers ascending): lead, cooperating and
  mentioned agencies, cited instruments, fields, plan years, documents and
  deadline years (a window spread over every year it touches; open-ended
  windows in one list of their own);
* the byte offset of each unit's line in `units.jsonl`, so the few units a
  page shows are parsed from the same file the old reader reads, lazily.

`UnitStore` is a read-only `Sequence[SearchUnit]`; `write_unit_store` builds
the directory from units in index order.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mmap
import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import overload

import numpy as np
from cchc.graph.extract.deadlines import parse_time_expression
from cchc.graph.extract.records import Deadline
from cchc.search.units import SearchUnit

log = logging.getLogger(__name__)

DIRNAME = "units"
VERSION = 1
DAY_MIN = date.min.toordinal()  # what `structured._time_score` reads a missing start as
DAY_MAX = date.max.toordinal()
OPEN = "open"  # the deadline-year list of windows without both ends (or longer than SPAN_YEARS)
SPAN_YEARS = 30
POSTINGS = ("lead", "coop", "mention", "cites", "field", "year", "doc", "dlyear")
# flags column bits
HAS_DEADLINE = 1  # a deadline with a start or an end
STANDING = 2  # recurrence "continuous"
HAS_START = 4
HAS_END = 8
STATED = 16  # a deadline record, dated or not: an event ("Ngay sau khi có quyết định ...") is a stated time too
OWN_TIME = 32  # the unit states its time (a row's cell, its own sentence): not only its plan's period
RECURRING = 64  # a schedule ("định kỳ hằng quý", "hằng năm"), not a standing duty ("thường xuyên")


def key_hash(keys: Iterable[str]) -> np.ndarray:
    """64-bit hashes of unit keys (blake2b): how a traced key finds its unit without a dict of every key."""
    return np.fromiter((int.from_bytes(hashlib.blake2b(k.encode("utf-8"), digest_size=8).digest(), "little")
                        for k in keys), dtype=np.uint64)


def _years(start: int, end: int) -> set[int] | None:
    """The years a window of day ordinals touches; None when it lacks an end or spans more than SPAN_YEARS."""
    if not (start and end):
        return None
    a, b = date.fromordinal(start).year, date.fromordinal(end).year
    return set(range(a, b + 1)) if 0 <= b - a <= SPAN_YEARS else None


def _ordinal(iso: str | None) -> int:
    return date.fromisoformat(iso).toordinal() if iso else 0


class _Postings:
    """Inverted lists under construction: value -> unit numbers, in unit order."""

    def __init__(self) -> None:
        self.lists: dict[str, list[int]] = {}

    def add(self, value: str, unit: int) -> None:
        rows = self.lists.setdefault(value, [])
        if not rows or rows[-1] != unit:
            rows.append(unit)

    def save(self, path: Path, name: str) -> list[str]:
        vocab = sorted(self.lists)
        sizes = np.array([len(self.lists[v]) for v in vocab], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        indices = np.fromiter((i for v in vocab for i in self.lists[v]), dtype=np.int32, count=int(indptr[-1]))
        np.save(path / f"{name}.indptr.npy", indptr)
        np.save(path / f"{name}.indices.npy", indices)
        return vocab


def write_unit_store(units: Sequence[SearchUnit], search_dir: Path, *, model_id: str | None = None,
                     dimension: int | None = None, extra: dict | None = None) -> Path:
    """Columns, inverted lists and line offsets of `units` (already saved as `search_dir/units.jsonl`)."""
    out = search_dir / DIRNAME
    out.mkdir(parents=True, exist_ok=True)
    n = len(units)
    docs: dict[str, int] = {}
    fields: dict[str, int] = {}
    doc = np.empty(n, dtype=np.int32)
    year = np.zeros(n, dtype=np.int16)
    field = np.full(n, -1, dtype=np.int16)
    heading = np.zeros(n, dtype=np.uint8)
    flags = np.zeros(n, dtype=np.uint8)
    cols = {name: np.zeros(n, dtype=np.int32) for name in ("dl_start", "dl_end", "in_start", "in_end")}
    post = {name: _Postings() for name in POSTINGS}
    inner_of: dict[str, tuple[int, int]] = {}  # the window a deadline's text names, parsed once per text
    times: dict[tuple[int, ...], int] = {}  # (flags, dl_start, dl_end, in_start, in_end, year) -> its row
    time_row = np.zeros(n, dtype=np.int32)
    for i, u in enumerate(units):
        doc[i] = docs.setdefault(u.doc, len(docs))
        post["doc"].add(u.doc, i)
        if u.year is not None:
            year[i] = u.year
            post["year"].add(str(u.year), i)
        if u.field is not None:
            field[i] = fields.setdefault(u.field, len(fields))
            post["field"].add(u.field, i)
        heading[i] = u.is_heading
        for name, ids in (("lead", u.lead_ids), ("coop", u.coop_ids), ("mention", u.mention_ids), ("cites", u.cites)):
            for a in ids:
                post[name].add(a, i)
        dl = u.deadline
        if dl is None:
            time_row[i] = times.setdefault((0, 0, 0, 0, 0, int(year[i])), len(times))
            continue
        flags[i] = STATED | (OWN_TIME if u.timeline is not None else 0) \
            | (RECURRING if dl.recurrence not in (None, "continuous") else 0)
        if dl.start is None and dl.end is None:
            time_row[i] = times.setdefault((int(flags[i]), 0, 0, 0, 0, int(year[i])), len(times))
            continue
        s, e = _ordinal(dl.start), _ordinal(dl.end)
        flags[i] |= HAS_DEADLINE | (STANDING if dl.recurrence == "continuous" else 0) | (HAS_START if s else 0) \
            | (HAS_END if e else 0)
        cols["dl_start"][i], cols["dl_end"][i] = s, e
        if dl.text not in inner_of:
            w = parse_time_expression(dl.text)
            inner_of[dl.text] = (w[0].toordinal() if w and w[0] else 0, w[1].toordinal() if w and w[1] else 0)
        cols["in_start"][i], cols["in_end"][i] = inner_of[dl.text]
        years = _years(s, e)
        inner = inner_of[dl.text]
        inner_years = _years(*inner) if inner[0] and inner[1] else set()
        if years is None or inner_years is None:  # open-ended or decades long: asked by every period
            post["dlyear"].add(OPEN, i)
        for y in sorted((years or set()) | (inner_years or set())):
            post["dlyear"].add(str(y), i)
        time_row[i] = times.setdefault((int(flags[i]), s, e, *inner, int(year[i])), len(times))
    table = np.array(list(times) or np.zeros((0, 6)), dtype=np.int32).reshape(-1, 6)
    for name, arr in (("doc", doc), ("year", year), ("field", field), ("heading", heading), ("flags", flags),
                      *cols.items(), ("time_row", time_row), ("times", table)):
        np.save(out / f"{name}.npy", arr)
    hashes = key_hash(u.key for u in units)
    order = np.argsort(hashes, kind="stable").astype(np.int32)
    if len(np.unique(hashes)) != n:
        raise ValueError("two unit keys share a 64-bit hash; the unit store cannot tell them apart")
    np.save(out / "key_hash.npy", hashes[order])
    np.save(out / "key_order.npy", order)
    vocab = {name: post[name].save(out, name) for name in POSTINGS}
    jsonl = search_dir / "units.jsonl"
    raw = np.fromfile(jsonl, dtype=np.uint8)
    ends = np.flatnonzero(raw == 10) + 1
    if len(ends) != n:
        raise ValueError(f"{jsonl}: {len(ends)} lines for {n} units")
    np.save(out / "offsets.npy", np.concatenate([[0], ends]).astype(np.int64))
    manifest = {"version": VERSION, "count": n, "docs": list(docs), "fields": list(fields), "vocab": vocab,
                "jsonl_size": int(raw.size), "model_id": model_id, "dimension": dimension, **(extra or {})}
    tmp = out / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    os.replace(tmp, out / "manifest.json")
    log.info("unit store: %d units, %d documents in %s", n, len(docs), out)
    return out


class UnitStore(Sequence[SearchUnit]):
    """The units of a built index, by memory map: columns and inverted lists for queries, objects on demand."""

    def __init__(self, search_dir: Path) -> None:
        self.path = search_dir / DIRNAME
        self.manifest = json.loads((self.path / "manifest.json").read_text("utf-8"))
        if self.manifest.get("version") != VERSION:
            raise ValueError(f"{self.path}: unit store version {self.manifest.get('version')}; run `cchc build`")
        self.n = int(self.manifest["count"])
        jsonl = search_dir / "units.jsonl"
        if jsonl.stat().st_size != self.manifest["jsonl_size"]:
            raise ValueError(f"{search_dir}: units.jsonl and the unit store disagree; rebuild the search index")
        with jsonl.open("rb") as fh:
            self._jsonl = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if self.n else b""
        load = self._load
        self.doc, self.year, self.field, self.heading, self.flags = (
            load(x) for x in ("doc", "year", "field", "heading", "flags"))
        self.dl_start, self.dl_end, self.in_start, self.in_end = (
            load(x) for x in ("dl_start", "dl_end", "in_start", "in_end"))
        # Each unit's row in the table of distinct (flags, dl_start, dl_end, in_start, in_end, year): a few hundred
        # rows for millions of units, so a period is scored per row (absent from stores written before)
        timed = (self.path / "time_row.npy").exists()
        self.time_row = load("time_row") if timed else None
        self.times = np.load(self.path / "times.npy") if timed else None
        self._key_hash, self._key_order, self._offsets = load("key_hash"), load("key_order"), load("offsets")
        self.docs: list[str] = self.manifest["docs"]
        self.fields: list[str] = self.manifest["fields"]
        self._vocab = {name: {v: i for i, v in enumerate(self.manifest["vocab"][name])} for name in POSTINGS}
        self._post = {name: (load(f"{name}.indptr"), load(f"{name}.indices")) for name in POSTINGS}

    def _load(self, name: str) -> np.ndarray:
        return np.load(self.path / f"{name}.npy", mmap_mode="r")

    @classmethod
    def exists(cls, search_dir: Path) -> bool:
        return (search_dir / DIRNAME / "manifest.json").exists()

    # ------------------------------------------------------------ Sequence
    def __len__(self) -> int:
        return self.n

    @overload
    def __getitem__(self, i: int) -> SearchUnit: ...

    @overload
    def __getitem__(self, i: slice) -> list[SearchUnit]: ...

    def __getitem__(self, i: int | slice) -> SearchUnit | list[SearchUnit]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.n))]
        i = int(i)
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(i)
        return unit_from_row(json.loads(self._jsonl[int(self._offsets[i]):int(self._offsets[i + 1])]))

    def __iter__(self) -> Iterator[SearchUnit]:
        for i in range(self.n):
            yield self[i]

    @property
    def keys(self) -> _Keys:
        """The units' keys in index order, read on demand (what `BM25Index.keys` and `VectorIndex.keys` hold)."""
        return _Keys(self)

    # ------------------------------------------------------------ look-ups
    def vocabulary(self, name: str) -> list[str]:
        return self.manifest["vocab"][name]

    def postings(self, name: str, value: str) -> np.ndarray:
        """Unit numbers (ascending) whose `name` holds `value`; empty when none."""
        row = self._vocab[name].get(value)
        if row is None:
            return np.zeros(0, dtype=np.int32)
        indptr, indices = self._post[name]
        return indices[int(indptr[row]):int(indptr[row + 1])]

    def union(self, name: str, values: Iterable[str]) -> np.ndarray:
        parts = [self.postings(name, v) for v in values]
        parts = [p for p in parts if len(p)]
        if not parts:
            return np.zeros(0, dtype=np.int32)
        if len(parts) == 1:
            return parts[0]
        if sum(len(p) for p in parts) > 4096:  # long lists: a mask over the units, not a sort
            mask = np.zeros(self.n, dtype=bool)
            for p in parts:
                mask[p] = True
            return np.flatnonzero(mask).astype(np.int32)
        return np.unique(np.concatenate(parts))

    def index_of_keys(self, keys: Sequence[str]) -> np.ndarray:
        """Unit numbers of `keys` (-1 for a key not in the index)."""
        if not keys:
            return np.zeros(0, dtype=np.int64)
        h = key_hash(keys)
        pos = np.searchsorted(self._key_hash, h)
        pos = np.minimum(pos, max(self.n - 1, 0))
        found = self._key_hash[pos] == h if self.n else np.zeros(len(h), bool)
        return np.where(found, self._key_order[pos] if self.n else -1, -1).astype(np.int64)

    def deadline_candidates(self, start: date | None, end: date | None) -> np.ndarray:
        """Units whose deadline window, or the window its text names, may meet [start, end] (a superset)."""
        vocab = self.vocabulary("dlyear")
        lo = start.year if start else -10**9
        hi = end.year if end else 10**9
        wanted = [v for v in vocab if v == OPEN or lo <= int(v) <= hi]
        return self.union("dlyear", wanted)

    def undated_candidates(self, start: date | None, end: date | None, stated_only: bool = False) -> np.ndarray:
        """Units with no dated deadline, not headings, whose plan year meets [start, end]: what a mixed question
        scores as its plan's business for the year (`structured.plan_year_score`); `stated_only`: only those
        whose timeline is an event rather than none."""
        lo = start.year if start else -10**9
        hi = end.year if end else 10**9
        idx = self.union("year", [v for v in self.vocabulary("year") if lo <= int(v) <= hi]).astype(np.int64)
        flags, heading = np.asarray(self.flags[idx]), np.asarray(self.heading[idx])
        keep = ((flags & HAS_DEADLINE) == 0) & (heading == 0)
        if stated_only:
            keep &= (flags & STATED) > 0
        return idx[keep]


def unit_from_row(r: dict) -> SearchUnit:
    """A unit from its `units.jsonl` row (the layout `Searcher.save_units` writes)."""
    return SearchUnit(
        key=r["key"], doc=r["doc"], line=r["line"], end_line=r["end_line"], section=r["section"],
        no=r["no"], kind=r["kind"], text=r["text"], index_text=r["index_text"],
        heading_path=tuple(r["heading_path"]), lead_ids=tuple(r["lead_ids"]),
        coop_ids=tuple(r["coop_ids"]), mention_ids=tuple(r.get("mention_ids", ())),
        deadline=Deadline(**r["deadline"]) if r["deadline"] else None,
        timeline=r["timeline"], cites=tuple(r["cites"]), field=r["field"], year=r["year"],
        is_heading=r["is_heading"], uid=r.get("uid") or "")


class _Keys(Sequence[str]):
    def __init__(self, store: UnitStore) -> None:
        self._store = store

    def __len__(self) -> int:
        return self._store.n

    def __getitem__(self, i):  # type: ignore[no-untyped-def,override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self._store[i].key

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or len(other) != len(self):
            return False
        return all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]
