"""Refusals: what the runner will not run at all (too long, an update, SERVICE).

`SERVICE` would make the server fetch any URL a caller names (Oxigraph does
follow it).  A query whose text mentions "service" anywhere is parsed with
rdflib's SPARQL parser (slow, so only then) and refused when the parse tree
has a SERVICE pattern, or cannot be parsed at all (we could not prove it
safe).  Oxigraph reads the keyword only literally (no \\u escapes outside
strings), so a text without "service" cannot contain one.

SPARQL Update: the workers open the store read-only anyway; an update is
recognised by its first keyword after the prologue (the grammar allows
nothing else there), to say so clearly instead of reporting a syntax error.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MAX_QUERY_CHARS", "UPDATE_REFUSED", "refusal"]

MAX_QUERY_CHARS = 100_000
_PROLOGUE = r"(?:\s+|#[^\n]*\n?|BASE\s*<[^>]*>|PREFIX\s+[^\s:]*:\s*<[^>]*>)*"
_UPDATE = re.compile(_PROLOGUE + r"(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b", re.I)
UPDATE_REFUSED = "SPARQL Update is not allowed: this endpoint is read-only (use `cchc add` / `cchc build` to change " \
                 "the data)"


def _has_service(tree: Any) -> bool:
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, CompValue):
            if node.name == "ServiceGraphPattern":
                return True
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)) or type(node).__name__ == "ParseResults":
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
    return False


def refusal(query: str) -> str | None:
    """Why this query text is refused before running it (update, SERVICE, size), or None."""
    if len(query) > MAX_QUERY_CHARS:
        return f"the query is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}"
    if _UPDATE.match(query):
        return UPDATE_REFUSED
    if "service" not in query.lower():
        return None
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        tree = parseQuery(query)
    except Exception:  # pyparsing's own classes; any failure: not proven safe
        return "the query mentions SERVICE and could not be checked for a SERVICE clause; federated queries " \
               "(SERVICE) are not allowed here"
    if _has_service(tree):
        return "SERVICE (federated query) is not allowed: this endpoint does not fetch other endpoints"
    return None
