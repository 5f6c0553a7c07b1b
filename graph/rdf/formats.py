"""The export formats of the store, named apart from it so the CLI can list them without loading rdflib."""

from __future__ import annotations

RDF_FORMATS = ("turtle", "trig", "nquads", "jsonld", "ntriples")
EXPORT_FORMATS = (*RDF_FORMATS, "graphml")
