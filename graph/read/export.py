"""The whole dataset in a file: RDF serialisations from the store, or the projection as GraphML.

GraphML is the networkx projection (read side), so the choice of format is made
here rather than in the store, which only knows RDF.
"""

from __future__ import annotations

from pathlib import Path

from cchc.graph.rdf import generations as gens
from cchc.graph.rdf.formats import EXPORT_FORMATS
from cchc.graph.rdf.store import Store
from cchc.graph.read.projection import graphml_bytes


def export(store: Store, fmt: str, out: str | Path | None = None) -> bytes | None:
    """`fmt` of the dataset; with `out`, written to a temporary file and renamed into place, else the bytes."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")
    if fmt != "graphml":
        return store.export(fmt, out)
    data = graphml_bytes(store)
    if out is None:
        return data
    gens.atomic_write(Path(out), data)
    return None
