"""A synthetic national corpus: the real documents' rows and units recombined at any size.

    .venv/bin/python bench/synth_corpus.py --tasks 10000 --stats            # what N tasks become
    .venv/bin/python bench/synth_corpus.py --tasks 2000 --write /tmp/plans  # plan files + manifest.toml

Why recombine rather than invent: search and the graph must meet the texts,
agencies, deadlines and citations they will meet in production, and the
embedded corpus is the only real sample there is.  Each synthetic document is
one of the five real documents (a commune plan, or one of the provincial
plans and appendices) re-issued by another province or commune for another
year, so every row is a real row with:

* the issuer's name replaced (34 provinces; communes named per province),
* every year shifted to the document's year (texts, deadlines, plan year),
* a share of the agencies swapped for other registry agencies of the same
  level and kind (communes included), names in the text too,
* each numbered instrument it cites replaced by one drawn from a pool of the
  same code with Zipf skew (a few instruments cited very often, most rarely),
  and a few rows given an extra citation drawn the same way.

The mix follows the national shape: most plans are communes' (3,321 communes
against 34 provinces).  Generation is deterministic in (seed, document
number), so a document can be generated alone (a bench worker, a test) and
streams: nothing holds more than one document's rows.

Search units (`SearchUnit`) are made by the same substitutions applied to the
real documents' units (build_units costs ~1 ms per unit; a substitution ~20
us), extractions (`Extraction`, for the graph store) by applying them to the
real extractions, and plan files by applying them to the real source texts
(line for line, so the records' lines hold in the files).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "corpus"

PROVINCES = (
    "Hà Nội", "Huế", "Lai Châu", "Điện Biên", "Sơn La", "Lạng Sơn", "Quảng Ninh", "Thanh Hóa", "Nghệ An",
    "Hà Tĩnh", "Cao Bằng", "Tuyên Quang", "Lào Cai", "Thái Nguyên", "Phú Thọ", "Bắc Ninh", "Hưng Yên",
    "Hải Phòng", "Ninh Bình", "Quảng Trị", "Đà Nẵng", "Quảng Ngãi", "Gia Lai", "Khánh Hòa", "Lâm Đồng",
    "Đắk Lắk", "Hồ Chí Minh", "Đồng Nai", "Tây Ninh", "Cần Thơ", "Vĩnh Long", "Đồng Tháp", "Cà Mau", "An Giang",
)
_COMMUNE_SYLLABLES = ("Tân", "Bình", "Hòa", "An", "Phú", "Thạnh", "Long", "Đông", "Tây", "Nam", "Bắc", "Minh",
                      "Hưng", "Thuận", "Quang", "Trung", "Hồng", "Văn", "Đức", "Xuân", "Thanh", "Hải", "Sơn", "Lộc",
                      "Phong", "Vĩnh", "Mỹ", "Lạc", "Yên", "Kim", "Định", "Đoàn")
COMMUNES_PER_PROVINCE = 98  # 3,321 communes / 34 provinces
YEARS = tuple(range(2016, 2027))  # about ten years of plans

# Real template documents: the commune plan, and the provincial ones.
COMMUNE_TEMPLATE = "tandoan-2025-cchc.txt"
COMMUNE_SHARE = 0.7  # of documents; the provincial templates share the rest equally
AGENCY_SWAP = 0.35  # chance each agency of a document becomes another of the same level and kind
EXTRA_CITE = 0.08  # chance a row that cites nothing cites a pooled instrument
ZIPF_A = 1.1

# Codes of numbered instruments and the type a row names them by (pool of synthetic numbers per code).
CODE_TYPES = {"NĐ-CP": "Nghị định", "QĐ-TTg": "Quyết định", "NQ-CP": "Nghị quyết", "CT-TTg": "Chỉ thị",
              "KH-UBND": "Kế hoạch", "QĐ-UBND": "Quyết định", "NQ/TU": "Nghị quyết", "TT-BNV": "Thông tư",
              "KL/TW": "Kết luận", "NQ/TW": "Nghị quyết"}
_YEARLY = ("NĐ-CP", "TT-BNV")  # ids printed with their year ("118/2025/NĐ-CP")
_DASHED = ("NQ/TU", "KL/TW", "NQ/TW")  # party ids ("60-NQ/TU")
_ID = re.compile(r"^(\d+)(?:/(\d{4}))?[/-](.+)$")
_YEAR = re.compile(r"(?<!\d)(20[1-3]\d)(?!\d)")


def _code_of(cid: str) -> str | None:
    m = _ID.match(cid)
    return m.group(3) if m and m.group(3) in CODE_TYPES else None


def _make_id(code: str, number: int, year: int) -> str:
    if code in _YEARLY:
        return f"{number}/{year}/{code}"
    if code in _DASHED:
        return f"{number}-{code}"
    return f"{number}/{code}"


@dataclass(frozen=True)
class Template:
    """A real document: its extraction, search units, source text and manifest entry."""

    doc: str
    year: int
    extraction: Any  # Extraction
    units: tuple[Any, ...]  # SearchUnit
    text: str
    info: Any  # DocumentInfo | None
    level: str  # "xã" | "tỉnh"
    place: str  # the issuer's place name printed in the text ("Tân Đoàn", "Lạng Sơn")
    tasks: int


@functools.cache
def templates(corpus_dir: Path = CORPUS) -> dict[str, Template]:
    """The real documents, extracted once per process (about 5 s)."""
    from cchc.graph.corpus import corpus_files, load_manifest
    from cchc.graph.extract.documents import extract_file
    from cchc.search.units import build_units

    manifest = load_manifest(corpus_dir)
    out = {}
    for p in corpus_files(corpus_dir):
        info = manifest.get(p.name)
        ex = extract_file(p, info)
        year = info.start_year if info and info.start_year else int(ex.header.get("year") or 2023)
        commune = p.name == COMMUNE_TEMPLATE
        out[p.name] = Template(p.name, year, ex, tuple(build_units([ex], manifest)), p.read_text("utf-8"), info,
                               "xã" if commune else "tỉnh", "Tân Đoàn" if commune else "Lạng Sơn", len(ex.tasks))
    return out


@dataclass(frozen=True)
class Pool:
    """Instruments by code, most cited first, with Zipf weights: what documents cite."""

    by_code: dict[str, tuple[str, ...]]
    weights: dict[str, np.ndarray]  # cumulative, per code

    @classmethod
    def make(cls, size: int, seed: int, real_ids: list[str]) -> Pool:
        rng = np.random.default_rng([seed, 0xC17E])
        by_code: dict[str, list[str]] = {c: [] for c in CODE_TYPES}
        for cid in real_ids:  # the real instruments lead their code's pool: the famous ones stay famous
            code = _code_of(cid)
            if code and cid not in by_code[code]:
                by_code[code].append(cid)
        per_code = max(20, size // len(CODE_TYPES))
        # Numbers up to 2,500 (a province's yearly output of decisions), more when a code needs more ids than
        # that: ids without a year ("123/QĐ-UBND") would otherwise run out at 1M tasks (5,000 per code).
        top = max(2500, 2 * per_code)
        for code, ids in by_code.items():
            seen = set(ids)
            while len(ids) < per_code:
                cid = _make_id(code, int(rng.integers(1, top)), int(rng.integers(2010, 2027)))
                if cid not in seen:
                    seen.add(cid)
                    ids.append(cid)
        weights = {}
        for code, ids in by_code.items():
            w = 1.0 / np.arange(1, len(ids) + 1) ** ZIPF_A
            weights[code] = np.cumsum(w / w.sum())
        return cls({c: tuple(v) for c, v in by_code.items()}, weights)

    def draw(self, code: str, rng: np.random.Generator) -> str:
        ids = self.by_code[code]
        return ids[min(int(np.searchsorted(self.weights[code], rng.random())), len(ids) - 1)]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self.by_code)


@dataclass(frozen=True)
class SynthDoc:
    """One synthetic document: which real one it re-issues, by whom, when, and the substitutions."""

    number: int
    name: str  # file name
    template: str
    year: int
    place: str
    province: str
    agencies: dict[str, str]  # registry id -> registry id
    cites: dict[str, str]  # template instrument id -> pooled id
    seed: int

    @property
    def delta(self) -> int:
        return self.year - templates()[self.template].year


@functools.cache
def _agency_buckets() -> tuple[dict[str, tuple[str, ...]], dict[str, Any]]:
    """Registry agencies by (level, kind, is_group): who can stand in for whom."""
    from cchc.graph.extract.agencies import load_registry

    reg = load_registry()
    buckets: dict[str, list[str]] = {}
    for a in reg:
        buckets.setdefault(f"{a.level}|{a.kind}|{a.is_group}", []).append(a.id)
    return {k: tuple(v) for k, v in buckets.items()}, {a.id: a for a in reg}


def _slug(text: str) -> str:
    from cchc.graph.extract.reading import fold

    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


class Corpus:
    """A synthetic corpus of about `tasks` tasks, generated document by document from `seed`."""

    def __init__(self, tasks: int, seed: int = 16, corpus_dir: Path = CORPUS) -> None:
        self.tasks, self.seed = tasks, seed
        self.templates = templates(corpus_dir)
        real = [c.id for t in self.templates.values() for c in t.extraction.citations if c.numbered]
        self.pool = Pool.make(max(300, tasks // 20), seed, real)
        names = [n for n in self.templates if n != COMMUNE_TEMPLATE]
        self._province_templates = sorted(names)
        self.plan = list(self._plan())

    def _plan(self) -> Iterator[SynthDoc]:
        total, number = 0, 0
        buckets, agencies = _agency_buckets()
        while total < self.tasks:
            rng = np.random.default_rng([self.seed, number])
            province = PROVINCES[int(rng.integers(len(PROVINCES)))]
            if rng.random() < COMMUNE_SHARE:
                template = COMMUNE_TEMPLATE
                place = f"{_COMMUNE_SYLLABLES[int(rng.integers(32))]} {_COMMUNE_SYLLABLES[int(rng.integers(32))]}"
            else:
                template = self._province_templates[int(rng.integers(len(self._province_templates)))]
                place = province
            t = self.templates[template]
            year = int(YEARS[int(rng.integers(len(YEARS)))])
            used = sorted({a for u in t.units for a in (*u.lead_ids, *u.coop_ids, *u.mention_ids)})
            amap = {}
            for a in used:
                info = agencies.get(a)
                if info is None or rng.random() >= AGENCY_SWAP:
                    continue
                bucket = buckets[f"{info.level}|{info.kind}|{info.is_group}"]
                amap[a] = bucket[int(rng.integers(len(bucket)))]
            cited = sorted({c.id for c in t.extraction.citations if c.numbered})
            cmap = {c: self.pool.draw(code, rng) for c in cited if (code := _code_of(c))}
            kind = "xa" if template == COMMUNE_TEMPLATE else template.split("-", 2)[-1].removesuffix(".txt")
            name = f"{_slug(province)}-{_slug(place) if place != province else 'tinh'}-{year}-{kind}-{number:06d}.txt"
            yield SynthDoc(number, name, template, year, place, province, amap, cmap, int(rng.integers(2**31)))
            total += t.tasks
            number += 1

    # ------------------------------------------------------------------ substitutions

    def substitute(self, d: SynthDoc) -> Callable[[str], str]:
        """The text substitution of a document: cited ids, years, issuer's place, swapped agencies' names."""
        t = self.templates[d.template]
        _, agencies = _agency_buckets()
        names = [(agencies[a].name, agencies[b].name) for a, b in d.agencies.items()
                 if a in agencies and b in agencies and a != b]
        cites = sorted(d.cites.items(), key=lambda kv: -len(kv[0]))
        delta = d.delta

        def sub(text: str) -> str:
            if not text:
                return text
            holes: list[str] = []
            for old, new in cites:  # placeholders first, so the year shift leaves the new ids alone
                if old in text:
                    text = text.replace(old, f"\x00{len(holes)}\x00")
                    holes.append(new)
            for old, new in names:
                if old in text:
                    text = text.replace(old, f"\x00{len(holes)}\x00")
                    holes.append(new)
            if delta:
                text = _YEAR.sub(lambda m: str(int(m.group(1)) + delta), text)
            if t.place in text:
                text = text.replace(t.place, d.place)
            if holes:
                text = re.sub("\x00(\\d+)\x00", lambda m: holes[int(m.group(1))], text)
            return text
        return sub

    def _shift(self, iso: str | None, delta: int) -> str | None:
        if not iso or not delta:
            return iso
        y, m, dd = (int(x) for x in iso.split("-"))
        try:
            return date(y + delta, m, dd).isoformat()
        except ValueError:  # 29 February
            return date(y + delta, m, 28).isoformat()

    def _deadline(self, dl: Any, d: SynthDoc, sub: Callable[[str], str]) -> Any:
        if dl is None:
            return None
        return replace(dl, text=sub(dl.text), start=self._shift(dl.start, d.delta), end=self._shift(dl.end, d.delta))

    # ------------------------------------------------------------------ outputs

    def units(self, d: SynthDoc) -> list[Any]:
        """The document's search units: the template's with the substitutions (and a few extra citations)."""
        t = self.templates[d.template]
        sub = self.substitute(d)
        rng = np.random.default_rng([self.seed, d.number, 1])
        amap, cmap = d.agencies, d.cites
        out = []
        for u in t.units:
            text, index_text = sub(u.text), sub(u.index_text)
            cites = tuple(dict.fromkeys(cmap.get(c, c) for c in u.cites))
            if not cites and not u.is_heading and rng.random() < EXTRA_CITE:
                code = self.pool.codes[int(rng.integers(len(self.pool.codes)))]
                cid = self.pool.draw(code, rng)
                extra = f" (theo {CODE_TYPES[code]} số {cid})"
                text, index_text, cites = text + extra, index_text + extra, (cid,)
            out.append(replace(
                u, key=d.name + u.key[len(t.doc):], doc=d.name, text=text, index_text=index_text,
                heading_path=tuple(sub(h) for h in u.heading_path),
                lead_ids=tuple(amap.get(a, a) for a in u.lead_ids), coop_ids=tuple(amap.get(a, a) for a in u.coop_ids),
                mention_ids=tuple(amap.get(a, a) for a in u.mention_ids),
                deadline=self._deadline(u.deadline, d, sub), timeline=sub(u.timeline) if u.timeline else u.timeline,
                cites=cites, year=(u.year + d.delta) if u.year else u.year, extra={}))
        return out

    def extraction(self, d: SynthDoc) -> Any:
        """The document's Extraction (for the graph store): every record of the template, substituted."""
        from cchc.graph.extract.records import AgencyMention, Citation, Deadline, Span

        t = self.templates[d.template]
        sub = self.substitute(d)

        def walk(v: Any) -> Any:
            if isinstance(v, str):
                return sub(v)
            if isinstance(v, Span):
                return replace(v, doc=d.name)
            if isinstance(v, Deadline):
                return self._deadline(v, d, sub)
            if isinstance(v, AgencyMention):
                return replace(v, text=sub(v.text), agency_id=d.agencies.get(v.agency_id or "", v.agency_id))
            if isinstance(v, Citation):
                new = d.cites.get(v.id)
                c = replace(v, **{f.name: walk(getattr(v, f.name)) for f in dataclasses.fields(v)
                                  if f.name not in ("id", "year", "number", "code", "date")})
                if new:
                    m = _ID.match(new)
                    c = replace(c, id=new, number=m.group(1) if m else c.number, year=m.group(2) if m else None,
                                code=m.group(3) if m else c.code)
                return replace(c, date=self._shift(v.date, d.delta))
            if isinstance(v, tuple):
                return tuple(walk(x) for x in v)
            if isinstance(v, list):
                return [walk(x) for x in v]
            if isinstance(v, dict):
                return {k: walk(x) for k, x in v.items()}
            if dataclasses.is_dataclass(v) and not isinstance(v, type):
                return replace(v, **{f.name: walk(getattr(v, f.name)) for f in dataclasses.fields(v)
                                     if f.init and f.name not in ("kind", "marker", "source", "format")})
            return v

        ex = t.extraction
        header = walk(ex.header)
        if isinstance(ex.header.get("year"), int):
            header["year"] = ex.header["year"] + d.delta
        identity = walk(ex.identity) if ex.identity else None
        if identity is not None:
            identity = replace(identity, doc=d.name, date=self._shift(ex.identity.date, d.delta))
        return replace(ex, doc=d.name, header=header, identity=identity, tasks=walk(ex.tasks),
                       citations=walk(ex.citations), units=walk(ex.units), targets=walk(ex.targets), warnings=[],
                       line_pages=ex.line_pages)

    def info(self, d: SynthDoc) -> Any:
        """The manifest entry a reader would write for it (title, issuer, level, year or period)."""
        from cchc.graph.corpus import DocumentInfo

        t = self.templates[d.template]
        sub = self.substitute(d)
        i = t.info
        period = (i.period[0] + d.delta, i.period[1] + d.delta) if i and i.period else None
        return DocumentInfo(d.name, sub(i.title) if i and i.title else None, i.type if i else None,
                            sub(i.issuer) if i and i.issuer else None, t.level, None if period else d.year, period)

    def source(self, d: SynthDoc) -> str:
        """The document's text: the template's, line for line, substituted."""
        sub = self.substitute(d)
        return "\n".join(sub(line) for line in self.templates[d.template].text.split("\n"))

    def write(self, out: Path, limit: int | None = None) -> list[Path]:
        """Plan files and a manifest.toml under `out` (what `cchc build --corpus out` reads)."""
        out.mkdir(parents=True, exist_ok=True)
        paths, entries = [], []
        for d in self.plan[:limit]:
            p = out / d.name
            p.write_text(self.source(d), "utf-8")
            paths.append(p)
            i = self.info(d)
            lines = ["[[document]]", f"file = {json.dumps(i.file, ensure_ascii=False)}"]
            for k in ("title", "type", "issuer", "level"):
                if getattr(i, k):
                    lines.append(f"{k} = {json.dumps(getattr(i, k), ensure_ascii=False)}")
            lines.append(f"period = [{i.period[0]}, {i.period[1]}]" if i.period else f"year = {i.year}")
            entries.append("\n".join(lines))
        (out / "manifest.toml").write_text("# synthetic corpus (bench/synth_corpus.py)\n\n" + "\n\n".join(entries)
                                           + "\n", "utf-8")
        return paths

    # ------------------------------------------------------------------ whole corpus, streamed

    def iter_units(self) -> Iterator[Any]:
        for d in self.plan:
            yield from self.units(d)

    def iter_extractions(self, limit: int | None = None) -> Iterator[Any]:
        for d in self.plan[:limit]:
            yield self.extraction(d)

    @property
    def task_count(self) -> int:
        return sum(self.templates[d.template].tasks for d in self.plan)

    def titles(self) -> dict[str, str]:
        """Each document's title as the index stores it (what `doc_titles` makes of the manifest and header)."""
        out = {}
        for d in self.plan:
            t = self.templates[d.template]
            sub = self.substitute(d)
            lines = t.extraction.header.get("title_lines") or []
            i = self.info(d)
            parts = [i.title or "", sub(" ".join(lines)), sub(str(t.extraction.header.get("title") or ""))]
            out[d.name] = " ".join(p for p in parts if p)
        return out

    def instruments(self) -> dict[str, dict[str, dict]]:
        """Each document's share of instrument_info: the pooled ids it cites, with their type."""
        out: dict[str, dict[str, dict]] = {}
        for d in self.plan:
            t = self.templates[d.template]
            share: dict[str, dict] = {}
            for c in t.extraction.citations:
                cid = d.cites.get(c.id, c.id)
                share.setdefault(cid, {"type": c.type, "names": []})
            out[d.name] = share
        return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--write", type=Path, metavar="DIR", help="write plan files and manifest.toml here")
    ap.add_argument("--limit", type=int, help="--write: only the first N documents")
    ap.add_argument("--stats", action="store_true", help="print counts and the citation skew")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    corpus = Corpus(args.tasks, args.seed)
    print(f"# {len(corpus.plan)} documents, {corpus.task_count} tasks (plan in {time.perf_counter() - t0:.1f}s)",
          file=sys.stderr)
    if args.write:
        paths = corpus.write(args.write, args.limit)
        print(f"# wrote {len(paths)} files to {args.write}", file=sys.stderr)
    if args.stats:
        t1 = time.perf_counter()
        units, cites, years, leads = 0, Counter(), Counter(), Counter()
        for u in corpus.iter_units():
            units += 1
            cites.update(u.cites)
            years[u.year] += 1
            leads.update(u.lead_ids)
        dt = time.perf_counter() - t1
        top = cites.most_common()
        n = sum(cites.values())
        print(json.dumps({"documents": len(corpus.plan), "tasks": corpus.task_count, "units": units,
                          "units_s": round(dt, 1), "instruments_cited": len(cites), "citations": n,
                          "top10_share": round(sum(c for _, c in top[:10]) / max(n, 1), 3),
                          "cited_once": sum(1 for _, c in top if c == 1), "top5": top[:5],
                          "years": dict(sorted(years.items(), key=lambda kv: kv[0] or 0)),
                          "lead_agencies": len(leads)}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
