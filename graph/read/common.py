"""What the read-side views share: the not-found error, one paging shape, SPARQL prefixes, evidence spans."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

PREFIXES = """PREFIX cchc: <https://w3id.org/cchc/ontology#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX time: <http://www.w3.org/2006/time#>
PREFIX eli: <http://data.europa.eu/eli/ontology#>
"""
DOC_RELATIONS = ("appendixOf", "implements", "basedOn", "replaces", "amends", "repeals", "guides", "textOf", "sameAs")


class NotFound(LookupError):
    """An id that names nothing in the store; the message says which kind of thing and which id."""


def page(items: Sequence[Any], limit: int, offset: int) -> dict[str, Any]:
    """The agreed paged list: {"total", "limit", "offset", "items"}."""
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset must not be negative (limit={limit}, offset={offset})")
    return {"total": len(items), "limit": limit, "offset": offset, "items": list(items[offset:offset + limit])}


def evidence(attrs: Mapping[str, Any]) -> dict[str, Any] | None:
    return {"doc": attrs["ev_doc"], "line": attrs["ev_line"], "end_line": attrs["ev_end"]} if "ev_doc" in attrs \
        else None
