"""Refusals: what the runner will not run at all (too long, too deeply nested, an update, SERVICE).

SERVICE is decided by the engine that runs the query, never by a second
parser (rdflib's parser used to check, Oxigraph ran: they read `\\u0022`
escapes differently, and SERVICE slipped through).  Oxigraph reads keywords
only literally, so a query whose text has no "service" (any case) has no
SERVICE clause.  A text that has one is handed to Oxigraph's own parser
twice over: every "service" spelled "servicx" instead.  Inside a string, an
IRI, a name or a comment the change keeps the query valid; as the keyword it
makes a syntax error.  So a query that parses with the change has no SERVICE
clause, and one that does not is refused.  The check parses on an empty
in-memory store and runs where the query will (a worker, or a thread), never
on the original text: an ASK is evaluated as soon as it is parsed.

Oxigraph's parser and optimiser recurse: 3,000 nested braces, or ~300 triple
patterns in a row, overflow an 8 MiB stack and kill the process (SIGSEGV).
So nesting is capped here, counted over the raw text (brackets inside strings
count too: conservative, not a parser), workers run queries on a thread with
`QUERY_STACK_MB` of stack, and only short queries (`INLINE_MAX_CHARS`) may run
on the server's own thread.

SPARQL Update: `Store.query` parses queries only, so an update cannot run;
it is recognised by its first keyword after the prologue to say so clearly
instead of reporting a syntax error.
"""

from __future__ import annotations

import re

import pyoxigraph as ox

__all__ = ["INLINE_MAX_CHARS", "MAX_DEPTH", "MAX_QUERY_CHARS", "QUERY_STACK_MB", "UPDATE_REFUSED", "nesting",
           "refusal", "service_refusal"]

MAX_QUERY_CHARS = 100_000
MAX_DEPTH = 128  # brackets ({, (, [) open at once; real queries stay under 20
QUERY_STACK_MB = 256  # a worker's query thread: ~30x the depth and length an 8 MiB stack survives
INLINE_MAX_CHARS = 1_000  # longest query the server's own (8 MiB) thread may run: ~140 patterns, half the crash
_PROLOGUE = r"(?:\s+|#[^\n]*\n?|BASE\s*<[^>]*>|PREFIX\s+[^\s:]*:\s*<[^>]*>)*"
_UPDATE = re.compile(_PROLOGUE + r"(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b", re.I)
UPDATE_REFUSED = "SPARQL Update is not allowed: this endpoint is read-only (use `cchc add` / `cchc build` to change " \
                 "the data)"
_SERVICE = re.compile("service", re.I)
_OPEN, _CLOSE = frozenset("{(["), frozenset("})]")


def nesting(query: str) -> int:
    """The most brackets open at once in the text (strings and comments included)."""
    depth = deepest = 0
    for ch in query:
        if ch in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
    return deepest


def refusal(query: str) -> str | None:
    """Why this query text is refused before it reaches a worker (size, nesting, update), or None.

    Cheap (one pass over at most `MAX_QUERY_CHARS`), so it runs in the server, on the event loop."""
    if len(query) > MAX_QUERY_CHARS:
        return f"the query is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}"
    if (depth := nesting(query)) > MAX_DEPTH:
        return f"the query nests brackets {depth} deep; the limit is {MAX_DEPTH}"
    if _UPDATE.match(query):
        return UPDATE_REFUSED
    return None


def mentions_service(query: str) -> bool:
    return _SERVICE.search(query) is not None


def _respell(text: str) -> str:
    return _SERVICE.sub(lambda m: m.group(0)[:-1] + ("X" if m.group(0)[-1].isupper() else "x"), text)


def service_refusal(query: str, prefixes: dict[str, str]) -> str | None:
    """Why Oxigraph would run a SERVICE clause in this query (see the module's docstring), or None."""
    if not mentions_service(query):
        return None
    respelled = {_respell(k): _respell(v) for k, v in prefixes.items()}
    try:
        ox.Store().query(_respell(query), prefixes=respelled)
    except SyntaxError as exc:
        return ("SERVICE (federated query) is not allowed: this endpoint does not fetch other endpoints (the query "
                f"does not parse with its SERVICE spelled otherwise: {str(exc).splitlines()[0][:200]})")
    return None
