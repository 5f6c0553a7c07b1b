"""The whole dataset in a file: RDF serialisations from the store, or the projection as GraphML.

GraphML is the networkx projection (read side), so the choice of format is made
here rather than in the store, which only knows RDF.
"""

from __future__ import annotations

import json
from pathlib import Path

from cchc.graph.rdf import generations as gens
from cchc.graph.rdf.formats import EXPORT_FORMATS
from cchc.graph.rdf.store import Store
from cchc.graph.rdf.terms import prefixes
from cchc.graph.read.projection import graphml_bytes


def export(store: Store, fmt: str, out: str | Path | None = None) -> bytes | None:
    """`fmt` of the dataset; with `out`, written to a temporary file and renamed into place, else the bytes."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")
    if fmt == "jsonld":
        data = with_context(store.export("jsonld") or b"", prefixes(store.iris))
        if out is None:
            return data
        gens.atomic_write(Path(out), data)
        return None
    if fmt != "graphml":
        return store.export(fmt, out)
    data = graphml_bytes(store)
    if out is None:
        return data
    gens.atomic_write(Path(out), data)
    return None


def with_context(expanded: bytes, names: dict[str, str]) -> bytes:
    """Expanded JSON-LD (Oxigraph's, a list of graphs) as one document with an `@context` of the project
    prefixes and its property names and types compacted by them (`cchc:content`, not the full IRI).

    An expanded document is valid JSON-LD but unreadable, and a reader cannot tell which vocabularies it
    uses; with the context a JSON-LD processor expands it back to the same triples.
    """
    ordered = sorted(names.items(), key=lambda kv: -len(kv[1]))  # the longest namespace wins

    def compact(iri: str) -> str:
        for prefix, ns in ordered:
            if iri.startswith(ns) and len(iri) > len(ns) and ":" not in iri[len(ns):]:
                return f"{prefix}:{iri[len(ns):]}"
        return iri

    def walk(node):
        if isinstance(node, list):
            return [walk(x) for x in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key == "@type":
                out[key] = [compact(t) for t in value] if isinstance(value, list) else compact(value)
            elif key.startswith("@"):
                out[key] = walk(value)
            else:
                out[compact(key)] = walk(value)
        return out

    body = json.loads(expanded.decode("utf-8") or "[]")
    doc = {"@context": dict(sorted(names.items())), "@graph": walk(body if isinstance(body, list) else [body])}
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
