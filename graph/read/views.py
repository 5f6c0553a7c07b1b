"""Read-side views of the graph: what a page about one task, instrument, agency or document shows.

The HTTP API, the CLI and notebooks all want the same answers ("this task,
its agencies, deadline, citations and the source lines it came from"), so
they are computed here, over the `Store` alone, with no server: structure
(which tasks a document or agency has, where a task starts) comes from the
read index (the projection saved with each generation), per-item detail from a few SPARQL queries on
Oxigraph, and the text of the source lines from the corpus file itself (the
store keeps line numbers, not lines).

Ids: a task's is the readable one of `cchc.graph.ids` (`langson-2026-cchc-phuluc/III.9`,
narrative `langson-2026-2030-cchc/III.1.1`), and its older forms (`stem/III-9`, `file.txt:III.9`,
`stem/L113`, the IRI) resolve to it; instrument `118-2025-nd-cp` (or as printed, or loosely:
"NĐ 118"), agency `so-kh-cn` (or its name), document `langson-2026-cchc-phuluc`.
Unknown ids raise `NotFound`; every list is returned as a `page`.

Kept as one module (~460 lines): the task, instrument, agency and document views share one
index of the store (ids, documents, years) and the source-line cache; the listings already live
in listings.py.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cchc.graph.corpus import DocumentInfo
from cchc.graph.extract.agencies import Registry, load_registry
from cchc.graph.extract.readers import read_document
from cchc.graph.extract.reading import SourceError, SourceText
from cchc.graph.ids import parse_task_ref, task_ref
from cchc.graph.read.common import DOC_RELATIONS as _DOC_RELATIONS
from cchc.graph.read.common import PREFIXES as _PREFIXES
from cchc.graph.read.common import NotFound, evidence, page
from cchc.graph.read.listings import ListingViews
from cchc.graph.read.readindex import read_index
from cchc.graph.read.trace import TraceHit, resolve_instruments, trace, trace_counts
from cchc.ontology import slug

if TYPE_CHECKING:
    from cchc.graph.rdf.store import Store

__all__ = ["GraphViews", "NotFound", "page"]

_CCHC = "https://w3id.org/cchc/ontology#"
_ELI = "http://data.europa.eu/eli/ontology#"
_INSTRUMENT_RELATIONS = ("implements", "basedOn", "replaces", "amends", "repeals", "guides")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")


def _iri_ref(value: str) -> str:
    """A SPARQL IRI reference; callers pass IRIs of the index, never raw URL text, and this refuses the rest."""
    if any(c in value for c in '<>"{}|\\^`\n\r\t '):
        raise NotFound(f"not a valid id: {value!r}")
    return f"<{value}>"


@dataclass(frozen=True)
class _Task:
    iri: str
    id: str
    file: str
    stem: str
    line: int
    end_line: int
    section: str | None
    no: str | None
    content: str
    source: str | None

    def summary(self) -> dict[str, Any]:
        return {"task": self.id, "doc": self.file, "line": self.line, "section": self.section, "no": self.no,
                "content": self.content}


@dataclass
class _Index:
    """What lists and look-ups need, derived once per store version."""

    tasks: dict[str, _Task]  # task IRI -> row
    by_id: dict[str, _Task]  # readable id, and the IRI tail, -> row
    by_doc: dict[str, list[_Task]]  # document stem -> tasks in line order
    docs: dict[str, dict[str, Any]]  # stem -> {"iri", "file", "title", "class"}
    by_file: dict[str, str]  # file name -> stem
    agency_tasks: dict[str, dict[str, list[_Task]]]  # agency IRI -> {"lead": [...], "cooperating": [...]}
    doc_by_iri: dict[str, str]  # document IRI -> stem


class GraphViews(ListingViews):
    """Task, instrument, agency and document views over one store (and the corpus it was built from).

    `documents` is the corpus manifest (what the texts do not say: type, issuer, level, year);
    `corpus_dir` is where the source lines are read from.
    """

    def __init__(self, store: Store, corpus_dir: Path | None = None,
                 documents: Mapping[str, DocumentInfo] | None = None, registry: Registry | None = None) -> None:
        self.store = store
        self.iris = store.iris
        self.corpus_dir = Path(corpus_dir) if corpus_dir is not None else None
        self.info = dict(documents or {})
        self.registry = registry or load_registry()
        self._index: tuple[int, _Index] | None = None
        self._files: tuple[int, dict[str, str]] | None = None
        self._sources: dict[str, tuple[float, int, tuple[SourceText | None, tuple[int | None, ...]]]] = {}

    # ---------------------------------------------------------------- ids
    def _prefix(self, kind: str) -> str:
        return f"{self.iris.base}{kind}/"

    def task_id(self, iri: str) -> str:
        """The readable id of a task IRI (`cchc.graph.ids`), the IRI tail for an IRI the index does not hold."""
        t = self.index.tasks.get(iri)
        return t.id if t is not None else iri[len(self._prefix("task")):]

    def instrument_id(self, iri: str) -> str:
        return iri[len(self._prefix("instrument")):]

    def agency_id(self, iri: str) -> str:
        return iri[len(self._prefix("agency")):]

    def node_ref(self, iri: str) -> dict[str, str]:
        """{"kind", "id"} of a node IRI as the API names it (task, instrument, agency, document)."""
        for kind, prefix in (("task", "task"), ("instrument", "instrument"), ("agency", "agency"),
                             ("document", "doc")):
            if iri.startswith(self._prefix(prefix)):
                tail = iri[len(self._prefix(prefix)):]
                if kind == "task":
                    tail = self.task_id(iri)  # the readable id, as everywhere else
                if kind == "document":
                    tail = self.index.doc_by_iri.get(iri, tail)
                return {"kind": kind, "id": tail}
        return {"kind": "other", "id": iri}

    # ---------------------------------------------------------------- index
    @property
    def index(self) -> _Index:
        if self._index is None or self._index[0] != self.store.version:
            self._index = (self.store.version, self._build_index())
        return self._index[1]

    def _build_index(self) -> _Index:
        g = read_index(self.store)
        docs: dict[str, dict[str, Any]] = {}
        doc_of_file: dict[str, str] = {}
        for n, a in g.of_kind("document"):
            docs[a["stem"]] = {"iri": n, "file": a["doc"], "title": a.get("label") if a.get("label") != a["stem"]
                               else None, "class": a.get("type")}
            doc_of_file[a["doc"]] = a["stem"]
        tasks: dict[str, _Task] = {}
        by_doc: dict[str, list[_Task]] = defaultdict(list)
        for n, a in g.of_kind("task"):
            t = tasks[n] = self._make_task(n, a, doc_of_file)
            by_doc[t.stem].append(t)
        for rows in by_doc.values():
            rows.sort(key=lambda t: t.line)
        agency_tasks: dict[str, dict[str, list[_Task]]] = defaultdict(lambda: {"lead": [], "cooperating": []})
        for agency, _ in g.of_kind("agency"):
            for s, _, rel, _ in g.in_edges(agency):
                if rel in ("leadAgency", "cooperatingAgency") and s in tasks:
                    agency_tasks[agency]["lead" if rel == "leadAgency" else "cooperating"].append(tasks[s])
        for roles in agency_tasks.values():
            for rows in roles.values():
                rows.sort(key=lambda t: (t.file, t.line))
        by_id = {n[len(self._prefix("task")):]: t for n, t in tasks.items()}  # the IRI tails: older URLs
        by_id.update({t.id: t for t in tasks.values()})
        return _Index(tasks, by_id, dict(by_doc), docs, doc_of_file, dict(agency_tasks),
                      {d["iri"]: stem for stem, d in docs.items()})

    def _make_task(self, iri: str, a: Mapping[str, Any], doc_of_file: Mapping[str, str]) -> _Task:
        stem = doc_of_file.get(a["doc"], Path(a["doc"]).stem)
        # a repeated section/STT: its IRI names the line, and so does its id
        by_line = iri[len(self._prefix("task")):] == f"{stem}/L{a['line']}"
        return _Task(iri, task_ref(stem, None if by_line else a.get("section"), a.get("no"), a["line"]),
                     a["doc"], stem, a["line"], a["end_line"], a.get("section"), a.get("no"),
                     a["content"], a.get("source"))

    @property
    def _doc_of_file(self) -> dict[str, str]:
        """File name -> document stem, from the document nodes alone (cheap at any size), per store version."""
        version = self.store.version
        if self._files is None or self._files[0] != version:
            self._files = (version, {a["doc"]: a["stem"] for _, a in read_index(self.store).of_kind("document")})
        return self._files[1]

    def year_of(self, stem: str) -> int | None:
        """The year a document plans for: the manifest's year (or first year of its period), else its title's."""
        doc = self.index.docs.get(stem)
        info = self.info.get(doc["file"]) if doc else None
        if info and info.start_year:
            return info.start_year
        m = _YEAR.search((doc or {}).get("title") or "")
        return int(m.group(1)) if m else None

    def task_at(self, doc: str, line: int) -> str | None:
        """The id of the task a search hit at (doc file, line) belongs to: starting there, else containing it.

        Read from the index's columns, not from the views' index of every task: every search result asks,
        and the first search after a start must not wait for that index at national size."""
        g = read_index(self.store)
        n = g.task_at(doc, line)
        return None if n is None else self._make_task(g.iri(n), g.row(n), self._doc_of_file).id

    # ---------------------------------------------------------------- source lines
    def source(self, doc: str) -> SourceText | None:
        """The corpus file's text (NFC, line map; for Word and PDF the reader's text), re-read when the file
        changes; None when it is not there."""
        return self._read(doc)[0]

    def _read(self, doc: str) -> tuple[SourceText | None, tuple[int | None, ...]]:
        """The file's text and, for Word and PDF, the page of each of its lines (cached by mtime and size)."""
        if self.corpus_dir is None:
            return None, ()
        path = self.corpus_dir / Path(doc).name
        try:
            st = path.stat()
        except OSError:
            return None, ()
        hit = self._sources.get(doc)
        if hit is None or hit[:2] != (st.st_mtime, st.st_size):
            try:  # Word and PDF show the reader's text, whose lines their records count
                read = read_document(path)
                found: tuple[SourceText | None, tuple[int | None, ...]] = (read.text, tuple(read.line_pages))
            except SourceError:
                found = (None, ())
            hit = self._sources[doc] = (st.st_mtime, st.st_size, found)
        return hit[2]

    def source_lines(self, doc: str, line: int, end_line: int) -> list[dict[str, Any]]:
        """[{"line", "text"}] of lines line..end_line of a corpus file (empty when the file is gone); Word and
        PDF lines also say on which `page` of the original they are, as a reader of the paper would look."""
        src, pages = self._read(doc)
        if src is None:
            return []
        end = min(end_line, len(src.lines))
        if line > end:
            return []
        rows: list[dict[str, Any]] = [{"line": n, "text": text} for n, text in src.numbered(max(1, line), end)]
        for r in rows:
            if r["line"] <= len(pages) and pages[r["line"] - 1] is not None:
                r["page"] = pages[r["line"] - 1]
        return rows

    def provenance(self, doc: str, line: int, end_line: int) -> dict[str, Any]:
        lines = self.source_lines(doc, line, end_line)
        out: dict[str, Any] = {"doc": doc, "line": line, "end_line": end_line, "lines": lines}
        pages = sorted({r["page"] for r in lines if "page" in r})
        if pages:
            out["pages"] = pages
        return out

    # ---------------------------------------------------------------- tasks
    def _task(self, task_id: str) -> _Task:
        t = self.index.by_id.get(task_id.strip().strip("/")) or self._task_by_ref(task_id)
        if t is None:
            raise NotFound(f"no task {task_id!r}: expected <document>/<section>.<no> or <document>/L<line>, "
                           "e.g. langson-2026-cchc-phuluc/III.9")
        return t

    def _task_by_ref(self, text: str) -> _Task | None:
        """A task named in an older or looser form: `file.txt:III.9`, `stem/III-9`, the IRI, `stem/L113`
        (the task starting on that line, else the one containing it)."""
        ref = parse_task_ref(text, self.iris.base)
        if ref is None:
            return None
        rows = self.index.by_doc.get(ref.stem, [])
        if ref.line is not None:
            return next((t for t in rows if t.line == ref.line), None) or next(
                (t for t in rows if t.line <= ref.line <= t.end_line), None)
        return next((t for t in rows if t.section == ref.section and t.no == ref.no), None)

    def canonical_task_id(self, task_id: str) -> str:
        """The readable id of a task named in any accepted form (NotFound when none)."""
        return self._task(task_id).id

    def task(self, task_id: str) -> dict[str, Any]:
        """Everything about one task, with the text of the source lines it came from."""
        t = self._task(task_id)
        node = _iri_ref(t.iri)
        props: dict[str, list[Any]] = defaultdict(list)
        for p, o in self.store.select(f"SELECT ?p ?o WHERE {{ {node} ?p ?o }}"):
            if p.startswith(_CCHC):
                props[p[len(_CCHC):]].append(o)

        def one(name: str) -> Any:
            return props[name][0] if props.get(name) else None

        agencies: dict[str, list[dict[str, Any]]] = {"leadAgency": [], "cooperatingAgency": []}
        for rel, a, name in self.store.select(_PREFIXES + f"""SELECT ?rel ?a ?name WHERE {{
              VALUES ?rel {{ cchc:leadAgency cchc:cooperatingAgency }} {node} ?rel ?a .
              OPTIONAL {{ ?a skos:prefLabel ?name }} }}"""):
            agencies[rel[len(_CCHC):]].append({"id": self.agency_id(a), "name": name})
        deadline = None
        for text, start, end, rec, prec in self.store.select(_PREFIXES + f"""SELECT ?text ?start ?end ?rec ?prec
              WHERE {{ {node} cchc:deadline ?d . ?d cchc:timelineText ?text .
              OPTIONAL {{ ?d time:hasBeginning/time:inXSDDate ?start }}
              OPTIONAL {{ ?d time:hasEnd/time:inXSDDate ?end }}
              OPTIONAL {{ ?d cchc:recurrence ?rec }} OPTIONAL {{ ?d cchc:precision ?prec }} }} LIMIT 1"""):
            deadline = {"text": text, "start": start, "end": end, "recurrence": rec, "precision": prec}
        fields = [{"id": f.rsplit("/", 1)[-1], "iri": f, "label": label} for f, label in self.store.select(
            _PREFIXES + f"""SELECT ?f ?label WHERE {{ {node} cchc:field ?f .
              OPTIONAL {{ ?f skos:prefLabel ?label FILTER (lang(?label) = "vi") }} }} ORDER BY ?f""")]
        citations = [{"instrument": self.instrument_id(i), "id": ident, "label": label or ident, "line": line,
                      "end_line": end, "surface": surface, "locator": locator,
                      "articles": self._articles(c)}
                     for c, i, ident, label, line, end, surface, locator in sorted(self.store.select(
                         _PREFIXES + f"""SELECT ?c ?i ?id ?label ?line ?end ?surface ?locator WHERE {{
              ?c cchc:citedBy {node} ; cchc:mentions ?i ; cchc:span ?s ; cchc:surface ?surface .
              ?s cchc:startLine ?line ; cchc:endLine ?end .
              OPTIONAL {{ ?c cchc:locator ?locator }}
              OPTIONAL {{ ?i dcterms:identifier ?id }} OPTIONAL {{ ?i rdfs:label ?label }} }}"""),
                         key=lambda r: (r[4], r[1]))]
        doc = self.index.docs.get(t.stem, {})
        return {
            "id": t.id, "iri": t.iri, "doc": t.file,
            "document": {"id": t.stem, "title": doc.get("title"), "year": self.year_of(t.stem)},
            "section": t.section, "section_title": one("sectionTitle"), "no": t.no, "content": t.content,
            "product": one("product"), "timeline": one("timelineText"), "heading_path": one("headingPath"),
            "source_kind": t.source,
            "lead": agencies["leadAgency"], "cooperating": agencies["cooperatingAgency"],
            "lead_text": one("leadText"), "cooperating_text": one("cooperatingText"),
            "deadline": deadline, "fields": fields, "citations": citations,
            "provenance": self.provenance(t.file, t.line, t.end_line),
        }

    def _articles(self, citation: str) -> list[dict[str, Any]]:
        """The article units a citation names ("Điều 5 Nghị định ..."), when the instrument's text is here."""
        rows = self.store.select(_PREFIXES + f"""SELECT ?file ?line ?end ?text WHERE {{
              {_iri_ref(citation)} cchc:citesArticle ?u . ?u cchc:content ?text ; cchc:span ?s .
              ?s cchc:startLine ?line ; cchc:endLine ?end ; cchc:inDocument/dcterms:source ?file }}""")
        return [{"doc": file, "line": line, "end_line": end, "text": text} for file, line, end, text in sorted(rows)]

    def task_summary(self, task_id: str) -> dict[str, Any]:
        return self._task(task_id).summary()

    # ---------------------------------------------------------------- instruments
    def _instrument_iri(self, instrument_id: str) -> str:
        """The instrument an id names: its IRI tail ("118-2025-nd-cp"), the id as printed ("118/2025/NĐ-CP"),
        or loosely as `cchc trace` reads it ("NĐ 118", "nghi dinh 118/2025") when that names one instrument."""
        g = read_index(self.store)
        for cand in (instrument_id, _safe_slug(instrument_id)):
            iri = self._prefix("instrument") + cand if cand else ""
            if iri and g.kind(iri) == "instrument":
                return iri
        found = resolve_instruments(self.store, instrument_id) if instrument_id.strip() else []
        if len(found) == 1:
            return found[0]
        if found:
            names = ", ".join(str(g.nodes[n].get("id")) for n in found[:10])
            raise NotFound(f"{instrument_id!r} names {len(found)} instruments ({names}): give its number and year")
        raise NotFound(f"no instrument {instrument_id!r}: use its id as the graph names it (e.g. 118-2025-nd-cp), "
                       "as printed (118/2025/NĐ-CP) or as people write it (NĐ 118)")

    def canonical_instrument_id(self, instrument_id: str) -> str:
        """The URL id of an instrument named in any accepted form (NotFound when none or several)."""
        return self.instrument_id(self._instrument_iri(instrument_id))

    def instrument(self, instrument_id: str, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """An instrument's merged metadata, conflicts, mentions and the tasks that trace back to it (with paths)."""
        iri = self._instrument_iri(instrument_id)
        g = read_index(self.store)
        attrs = g.nodes[iri]
        props: dict[str, list[Any]] = defaultdict(list)
        for p, o in self.store.select(f"SELECT ?p ?o WHERE {{ GRAPH <{self.store.names.instruments}> "
                                      f"{{ <{iri}> ?p ?o }} }}"):
            props[p].append(o)

        def vals(ns: str, name: str) -> list[Any]:
            return sorted(props.get(ns + name, []), key=str)

        def one(ns: str, name: str) -> Any:
            v = vals(ns, name)
            return v[0] if len(v) == 1 else None

        issuer = None
        for agent in vals(_ELI, "passed_by"):
            names = [n for (n,) in self.store.select(_PREFIXES + f"SELECT ?n WHERE {{ <{agent}> skos:prefLabel ?n }}")]
            issuer = {"id": self.agency_id(agent), "name": names[0] if names else None}
        ident = attrs["id"]
        types = vals(_CCHC, "statedType")
        conflicts = [{"field": name, "values": v} for name, v in (
            ("type", types), ("issuer", vals(_CCHC, "statedIssuer")), ("date", vals(_CCHC, "statedDate")),
            ("title", vals(_CCHC, "statedTitle"))) if len(v) > 1]
        date = one(_ELI, "date_document")
        m = _YEAR.search(ident)
        year = int(m.group(1)) if m else (int(date[:4]) if date else None)
        mentions = [{"doc": file, "line": line, "end_line": end, "text": surface,
                     "task": self.task_id(by) if by in self.index.tasks else None}
                    for file, line, end, surface, by in sorted(set(self.store.select(_PREFIXES + f"""
              SELECT ?file ?line ?end ?surface ?by WHERE {{ ?c cchc:mentions <{iri}> ; cchc:span ?s ;
              cchc:surface ?surface ; cchc:citedBy ?by .
              ?s cchc:startLine ?line ; cchc:endLine ?end ; cchc:inDocument/dcterms:source ?file }}""")))]
        relations = []
        for src, dst, rel, a in [*g.out_edges(iri, keys=True, data=True), *g.in_edges(iri, keys=True, data=True)]:
            if rel not in _DOC_RELATIONS:
                continue
            other = dst if src == iri else src
            relations.append({"relation": rel, "direction": "out" if src == iri else "in", **self.node_ref(other),
                              "label": g.nodes[other].get("id") or g.nodes[other].get("label"),
                              "evidence": evidence(a)})
        relations.sort(key=lambda r: (r["direction"], r["relation"], r["id"]))
        return {
            "id": self.instrument_id(iri), "iri": iri, "identifier": ident, "label": attrs.get("label", ident),
            "type": types[0] if len(types) == 1 else None, "rdf_class": next(
                (c.rsplit("#", 1)[-1] for c in props.get("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", [])),
                None),
            "number": one(_ELI, "number"), "symbol": one(_CCHC, "symbol"), "year": year, "issuer": issuer,
            "date": date, "title": one(_ELI, "title"), "conflicts": conflicts, "relations": relations,
            "mentions": page(mentions, limit, offset),
            "tasks": self._traced_page(iri, limit, offset),
        }

    def task_list(self, limit: int = 50, offset: int = 0, doc: str | None = None,
                  agency: str | None = None) -> dict[str, Any]:
        """Every task (or one document's, or those an agency leads or joins), in document and line order."""
        rows = [t for stem in sorted(self.index.by_doc) for t in self.index.by_doc[stem]]
        if doc:
            stem = self._stem(doc)
            rows = [t for t in rows if t.stem == stem]
        if agency:
            roles = self.index.agency_tasks.get(self._prefix("agency") + agency, {})
            mine = {t.iri for r in roles.values() for t in r}
            rows = [t for t in rows if t.iri in mine]
        return page([{**t.summary(), "id": t.id, "year": self.year_of(t.stem)} for t in rows], limit, offset)

    def instrument_list(self, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """Every instrument in the graph with how many tasks trace back to it and how often it is cited,
        most traced first: the planner's "which directives drive most of our work"."""
        version = self.store.version
        if getattr(self, "_instrument_rows", (None, None))[0] != version:
            g = read_index(self.store)
            cited = {str(i): int(n) for i, n in self.store.select(
                _PREFIXES + "SELECT ?i (COUNT(?c) AS ?n) WHERE { ?c cchc:mentions ?i } GROUP BY ?i")}
            counts = trace_counts(self.store)
            rows = []
            for n, a in g.of_kind("instrument"):
                tasks, direct = counts.get(n, (0, 0))
                rows.append({"id": self.instrument_id(n), "identifier": a.get("id"), "label": a.get("label"),
                             "type": a.get("type"), "title": a.get("title"), "tasks": tasks,
                             "direct": direct, "mentions": cited.get(n, 0)})
            rows.sort(key=lambda r: (-r["tasks"], -r["mentions"], str(r["identifier"])))
            self._instrument_rows = (version, rows)
        return page(self._instrument_rows[1], limit, offset)

    def _traced_hits(self, iri: str) -> list[TraceHit]:
        """The trace's task hits for exactly this instrument, in the trace's order."""
        tasks = self.index.tasks
        return [h for h in trace(self.store, read_index(self.store).nodes[iri]["id"])
                if h.kind == "task" and h.instrument == iri and h.node in tasks]

    def _traced_page(self, iri: str, limit: int, offset: int) -> dict[str, Any]:
        """A page of the tasks tracing back to the instrument (cites / via-plan / via-instrument), each with its
        path; a directive behind thousands of tasks renders only the rows asked for."""
        out = page(self._traced_hits(iri), limit, offset)
        out["items"] = [self._traced_row(h) for h in out["items"]]
        return out

    def _traced_row(self, h: TraceHit) -> dict[str, Any]:
        g = read_index(self.store)
        labels = {n: g.nodes[n].get("id") or g.nodes[n].get("label", n) for n in (s.node for s in h.path)}
        path = [{**self.node_ref(s.node), "label": labels[s.node], "relation": s.relation,
                 "evidence": None if s.evidence is None else {"doc": s.evidence.doc, "line": s.evidence.line,
                                                              "end_line": s.evidence.end_line}}
                for s in h.path]
        return {"task": self.task_id(h.node), "doc": h.doc, "line": h.line, "end_line": h.end_line,
                "section": h.section, "no": h.no, "content": h.content, "link": h.link,
                "why": h.why(labels), "path": path}


@functools.lru_cache(maxsize=1024)
def _safe_slug(text: str) -> str | None:
    try:
        return slug(text)
    except ValueError:
        return None
