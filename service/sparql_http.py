"""The HTTP side of SPARQL: media types, Accept negotiation and the status each error answers.

`cchc.graph.sparql` runs queries and names answer formats ("json", "turtle",
...); this module maps the SPARQL 1.1 Protocol's media types onto them and
the runner's error kinds onto HTTP statuses.  `SparqlService` is the runner
as the endpoint uses it: a query and an Accept header in, an answer with its
media type out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cchc.graph.sparql.model import Answer, SparqlError
from cchc.graph.sparql.runner import SparqlRunner

__all__ = ["FORMATS", "STATUS", "Format", "SparqlService", "media_type", "negotiate"]

# the runner's error kinds (and the endpoint's own) as HTTP statuses
STATUS = {"bad_request": 400, "not_acceptable": 406, "unsupported_media_type": 415, "too_large": 413,
          "timeout": 503, "busy": 503, "failed": 500}


@dataclass(frozen=True)
class Format:
    name: str  # the runner's format name
    media_type: str
    graph: bool  # True: for CONSTRUCT/DESCRIBE; False: for SELECT/ASK
    aliases: tuple[str, ...] = ()


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("json", "application/sparql-results+json", False, ("application/json",)),
    Format("xml", "application/sparql-results+xml", False, ("application/xml", "text/xml")),
    Format("csv", "text/csv", False),
    Format("tsv", "text/tab-separated-values", False),
    Format("turtle", "text/turtle", True, ("application/turtle", "application/x-turtle")),
    Format("ntriples", "application/n-triples", True),
    Format("jsonld", "application/ld+json", True, ("application/json", "application/x-json+ld")),
    Format("rdfxml", "application/rdf+xml", True, ("application/xml", "text/xml")),
)}
_DEFAULT = {False: FORMATS["json"], True: FORMATS["turtle"]}
_NO_FORMAT = {"ASK": "application/sparql-results+json",
              "SELECT": "application/sparql-results+json, application/sparql-results+xml, text/csv or "
                        "text/tab-separated-values",
              "CONSTRUCT/DESCRIBE": "text/turtle, application/n-triples or application/ld+json"}


def media_type(answer: Answer) -> str:
    return FORMATS[answer.format].media_type


def _accept_entries(accept: str | None) -> list[tuple[str, float]]:
    entries = []
    for part in (accept or "*/*").split(","):
        bits = [b.strip() for b in part.split(";")]
        if not bits[0]:
            continue
        q = 1.0
        for b in bits[1:]:
            if b.lower().startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        entries.append((bits[0].lower(), q))
    return entries


def _pick(entries: list[tuple[str, float]], graph: bool) -> Format | None:
    best: tuple[float, int, Format] | None = None
    candidates = [f for f in FORMATS.values() if f.graph == graph]
    for order, (mt, q) in enumerate(entries):
        if q <= 0:
            continue
        if mt in ("*/*", "*"):
            found = [_DEFAULT[graph]]
        elif mt.endswith("/*"):
            found = [f for f in (_DEFAULT[graph], *candidates) if f.media_type.startswith(mt[:-1])]
        else:
            found = [f for f in candidates if mt == f.media_type or mt in f.aliases]
        if found and (best is None or q > best[0]):
            best = (q, order, found[0])
    return best[2] if best else None


def negotiate(accept: str | None) -> tuple[Format | None, Format | None]:
    """(format for SELECT/ASK, format for CONSTRUCT/DESCRIBE) the Accept header allows; refuses when neither."""
    entries = _accept_entries(accept)
    results, graph = _pick(entries, False), _pick(entries, True)
    if results is None and graph is None:
        offered = ", ".join(f.media_type for f in FORMATS.values())
        raise SparqlError("not_acceptable", f"cannot answer in any of the accepted types ({accept}); "
                                            f"this endpoint offers {offered}")
    return results, graph


def _http_error(exc: SparqlError) -> SparqlError:
    """The runner's "no format for this form" as HTTP's 406, naming the media types that would do."""
    if exc.kind != "no_format":
        return exc
    return SparqlError("not_acceptable", f"the accepted media types do not include one for {exc.detail} results; "
                                         f"use {_NO_FORMAT.get(exc.detail, 'another type')}")


class SparqlService(SparqlRunner):
    """The runner answering by Accept header: `run(query, accept)` / `arun(query, accept)`."""

    def _formats(self, query: str, accept: str | None, graphs: tuple[Sequence[str], Sequence[str]]) -> dict[str, Any]:
        """The format names the Accept header asks for; a query refused anyway says why rather than 406."""
        try:
            results, graph = negotiate(accept)
        except SparqlError:
            self.job(query, None, None, *graphs)
            raise
        return {"results": results and results.name, "graph": graph and graph.name}

    def run(self, query: str, accept: str | None = None, *,  # type: ignore[override]
            default_graphs: Sequence[str] = (), named_graphs: Sequence[str] = ()) -> Answer:
        try:
            formats = self._formats(query, accept, (default_graphs, named_graphs))
            return super().run(query, default_graphs=default_graphs, named_graphs=named_graphs, **formats)
        except SparqlError as exc:
            raise _http_error(exc) from None

    async def arun(self, query: str, accept: str | None = None, *,  # type: ignore[override]
                   default_graphs: Sequence[str] = (), named_graphs: Sequence[str] = ()) -> Answer:
        try:
            formats = self._formats(query, accept, (default_graphs, named_graphs))
            return await super().arun(query, default_graphs=default_graphs, named_graphs=named_graphs, **formats)
        except SparqlError as exc:
            raise _http_error(exc) from None
