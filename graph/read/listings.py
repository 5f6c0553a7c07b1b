"""Views over lists: agencies with their lineage and tasks by year, CCHC fields, documents.

A mixin of `GraphViews` (it reads the views' index, registry and store), kept
apart so that each kind of page has a module of its own size.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from cchc.graph.read.common import DOC_RELATIONS as _DOC_RELATIONS
from cchc.graph.read.common import PREFIXES as _PREFIXES
from cchc.graph.read.common import NotFound, evidence, page
from cchc.graph.read.readindex import read_index


class ListingViews:
    """Agency, field and document pages of `GraphViews`."""

    # ---------------------------------------------------------------- agencies
    def canonical_agency_id(self, text: str) -> str:
        """The registry id of an agency named by id, name or abbreviation ("Sở Nội vụ", "Sở TT&TT");
        NotFound when nothing, or more than one agency, is named."""
        if text in self.registry:
            return text
        found = self.registry.lookup(text)
        if found is None:
            hits = {m.agency_id for _, _, m in self.registry.find(text) if m.agency_id}
            found = hits.pop() if len(hits) == 1 else None
        if found is None:
            raise NotFound(f"no agency {text!r}: use a registry id such as so-kh-cn, or its name (Sở Nội vụ)")
        return found

    def agency(self, agency_id: str, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """An agency: names, 2025 lineage, and the tasks it (and, separately, its predecessors) led or joined."""
        reg = self.registry.get(agency_id)
        iri = self._prefix("agency") + agency_id
        node = read_index(self.store).nodes.get(iri) if reg is None else None
        if reg is None and (node is None or node.get("kind") != "agency"):
            raise NotFound(f"no agency {agency_id!r}: use a registry id such as so-kh-cn or vp-ubnd-tinh")
        lineage = self.registry.lineage(agency_id) if reg else []

        def related(ids: list[str], back: bool) -> list[dict[str, Any]]:
            out = []
            for other in ids:
                s = next(s for s in lineage if (s.predecessor if back else s.successor) == other)
                a = self.registry.get(other)
                out.append({"id": other, "name": a.name if a else other, "relation": s.kind, "date": s.date,
                            "note": s.note or None})
            return out

        predecessors = related(self.registry.predecessors(agency_id), True) if reg else []
        successors = related(self.registry.successors(agency_id), False) if reg else []
        tasks, totals = self._by_year({iri: None}, limit, offset)
        inherited, inherited_totals = self._by_year(
            {self._prefix("agency") + p["id"]: p for p in predecessors}, limit, offset)
        return {
            "id": agency_id, "iri": iri, "name": reg.name if reg else node["label"],
            "aliases": list(reg.aliases) if reg else [], "kind": reg.kind if reg else None,
            "level": reg.level if reg else None, "group": reg.is_group if reg else False,
            "predecessors": predecessors, "successors": successors,
            "lineage": [{"predecessor": s.predecessor, "successor": s.successor, "relation": s.kind, "date": s.date,
                         "note": s.note or None} for s in lineage],
            "tasks": tasks, "totals": totals, "inherited": inherited, "inherited_totals": inherited_totals,
            "limit": limit, "offset": offset,
        }

    def _by_year(self, agencies: Mapping[str, dict[str, Any] | None], limit: int, offset: int
                 ) -> tuple[dict[str, dict[str, list]], dict[str, dict[str, int]]]:
        """{"lead": {"2023": [summaries]}, "cooperating": {...}} of the agencies' tasks, each year's list paged."""
        groups: dict[str, dict[str, list]] = {"lead": defaultdict(list), "cooperating": defaultdict(list)}
        for iri, via in agencies.items():
            for role, rows in self.index.agency_tasks.get(iri, {}).items():
                for t in rows:
                    item = t.summary()
                    if via is not None:
                        item.update(agency=via["id"], relation=via["relation"])
                    groups[role][str(self.year_of(t.stem) or "unknown")].append(item)
        tasks = {role: {y: v[offset:offset + limit] for y, v in sorted(by.items())} for role, by in groups.items()}
        totals = {role: {y: len(v) for y, v in sorted(by.items())} for role, by in groups.items()}
        return tasks, totals

    def agencies(self, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """Registry agencies with how many tasks name them as lead or cooperating, by id."""
        rows = []
        for a in sorted(self.registry, key=lambda a: a.id):
            roles = self.index.agency_tasks.get(self._prefix("agency") + a.id, {})
            rows.append({"id": a.id, "name": a.name, "kind": a.kind, "level": a.level, "group": a.is_group,
                         "lead": len(roles.get("lead", ())), "cooperating": len(roles.get("cooperating", ()))})
        return page(rows, limit, offset)

    # ---------------------------------------------------------------- fields
    @functools.cached_property
    def _fields(self) -> list[tuple[str, str | None]]:
        """(concept IRI, Vietnamese label) of the CCHC field scheme, from the ontology graph."""
        return sorted(self.store.select(_PREFIXES + """SELECT ?f (SAMPLE(?l) AS ?label) WHERE {
            ?f skos:inScheme cchc:fields . OPTIONAL { ?f skos:prefLabel ?l FILTER (lang(?l) = "vi") } } GROUP BY ?f"""))

    def field_ids(self) -> list[str]:
        return [f.rsplit("/", 1)[-1] for f, _ in self._fields]

    def fields(self, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """The CCHC fields (the search's `field` filter values) with their task counts."""
        counts = dict(self.store.select(_PREFIXES + """SELECT ?f (COUNT(DISTINCT ?t) AS ?n) WHERE {
            ?t a cchc:Task ; cchc:field ?f } GROUP BY ?f"""))
        rows = [{"id": f.rsplit("/", 1)[-1], "iri": f, "label": label, "tasks": int(counts.get(f, 0))}
                for f, label in self._fields]
        return page(rows, limit, offset)

    # ---------------------------------------------------------------- documents
    def _document_row(self, stem: str) -> dict[str, Any]:
        d = self.index.docs[stem]
        info = self.info.get(d["file"])
        return {"id": stem, "file": d["file"], "iri": d["iri"], "title": (info.title if info else None) or d["title"],
                "rdf_class": d["class"], "type": info.type if info else None, "issuer": info.issuer if info else None,
                "level": info.level if info else None, "year": self.year_of(stem),
                "period": list(info.period) if info and info.period else None,
                "tasks": len(self.index.by_doc.get(stem, ()))}

    def documents(self, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        return page([self._document_row(s) for s in sorted(self.index.docs)], limit, offset)

    def _stem(self, document_id: str) -> str:
        if document_id in self.index.docs:
            return document_id
        if document_id in self.index.by_file:
            return self.index.by_file[document_id]
        raise NotFound(f"no document {document_id!r}: use the file name without .txt, "
                       f"one of {', '.join(sorted(self.index.docs))}")

    def document(self, document_id: str, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """One document: its metadata, counts, relations to instruments (with evidence) and its tasks."""
        stem = self._stem(document_id)
        row = self._document_row(stem)
        g = read_index(self.store)
        record = next((r for r in self.store.documents() if r.stem == stem), None)
        relations = [{"relation": rel, "instrument": self.instrument_id(dst), "label": g.nodes[dst].get("id"),
                      "evidence": evidence(a)}
                     for _, dst, rel, a in g.out_edges(row["iri"], keys=True, data=True) if rel in _DOC_RELATIONS]
        relations.sort(key=lambda r: (r["relation"], r["instrument"]))
        return {**row, "kind": record.kind if record else None, "sha256": record.sha256 if record else None,
                "counts": dict(record.counts) if record else {}, "relations": relations,
                "tasks": page([t.summary() for t in self.index.by_doc.get(stem, ())], limit, offset)}
