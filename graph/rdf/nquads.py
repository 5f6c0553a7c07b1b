"""RDF terms as N-Triples text: what the document builder emits and Oxigraph's bulk loader reads.

Why text: a build spent most of its time making rdflib terms (IRI checks, literal
normalisation), converting each to a pyoxigraph term and inserting quads one
Python object at a time.  Here a term is the string N-Quads writes for it, so a
document's graph is a list of string triples, deduplicated with plain string
hashing and handed to `ox.Store.bulk_load` as bytes.

Every helper writes the text of the rdflib term its namesake in terms.py makes
(same lexical forms, same plain-vs-typed choice; anything unusual goes through
rdflib itself), so the stored graph is the one the rdflib terms gave.
`triples()` reads the text back as rdflib terms for the callers that want them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator

import pyoxigraph as ox
from cchc.graph.rdf import terms
from rdflib import Literal, Namespace, URIRef
from rdflib.namespace import XSD

__all__ = ["Statement", "Vocabulary", "bool_", "date_", "decimal_", "int_", "iri", "lines", "reader", "string",
           "term", "text_vi", "triples"]

Statement = tuple[str, str, str]  # subject, predicate, object as N-Triples terms

_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INTEGER, _BOOLEAN, _DATE = f"^^<{XSD.integer}>", f"^^<{XSD.boolean}>", f"^^<{XSD.date}>"
_TRUE, _FALSE = f'"true"{_BOOLEAN}', f'"false"{_BOOLEAN}'


class Vocabulary:
    """A namespace whose terms are N-Triples text (`CCHC_.Task` = "<...#Task>"), each made once."""

    def __init__(self, namespace: Namespace | str) -> None:
        self._namespace = Namespace(str(namespace))

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        text = iri(self._namespace[name])
        setattr(self, name, text)  # later lookups are plain attribute reads
        return text

    def __getitem__(self, name: str) -> str:
        return getattr(self, name)


def _escape(value: str) -> str:
    if '"' in value or "\\" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


def iri(value: str) -> str:
    return f"<{value}>"


def string(value: str) -> str:
    """terms.string: a simple literal."""
    if type(value) is not str:
        return term(terms.string(value))
    return f'"{_escape(value)}"'


def text_vi(value: str) -> str:
    if type(value) is not str:
        return term(terms.text_vi(value))
    return f'"{_escape(value)}"@vi'


def int_(value: int) -> str:
    return f'"{int(value)}"{_INTEGER}'


def bool_(value: bool) -> str:
    return _TRUE if value else _FALSE


def date_(iso: str) -> str:
    if type(iso) is str and _ISO_DATE.fullmatch(iso):  # rdflib keeps these as written (valid or not)
        return f'"{iso}"{_DATE}'
    return term(terms.date_(iso))


def decimal_(value: float) -> str:
    return term(terms.decimal_(value))


def term(t: URIRef | Literal) -> str:
    """The text of an rdflib IRI or literal."""
    if isinstance(t, Literal):
        text = f'"{_escape(str(t))}"'
        if t.language:
            return f"{text}@{t.language}"
        return f"{text}^^<{t.datatype}>" if t.datatype is not None else text
    if isinstance(t, URIRef):
        return f"<{t}>"
    raise TypeError(f"not an IRI or a literal: {t!r}")


def lines(statements: Iterable[Statement], graph: str) -> bytes:
    """N-Quads of `statements` in the named graph `graph` (an IRI)."""
    g = f" <{graph}> .\n"
    return "".join(f"{s} {p} {o}{g}" for s, p, o in statements).encode()


def triples(statements: Iterable[Statement]) -> list[terms.Triple]:
    """The rdflib triples the text stands for (xsd:string literals as simple ones, as terms.py makes them)."""
    data = "".join(f"{s} {p} {o} .\n" for s, p, o in statements).encode()
    return [(terms.from_ox(t.subject), terms.from_ox(t.predicate), terms.from_ox(t.object))  # type: ignore[misc]
            for t in ox.parse(data, ox.RdfFormat.N_TRIPLES)]


class _Chunks(io.RawIOBase):
    """A binary stream over an iterator of byte strings, pulled as the reader asks for more."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._rest = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        while not self._rest:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._rest = memoryview(chunk)
        n = min(len(buffer), len(self._rest))
        buffer[:n] = self._rest[:n]
        self._rest = self._rest[n:]
        return n


def reader(chunks: Iterable[bytes]) -> io.BufferedReader:
    """A file-like object reading `chunks` one after the other, each made only when it is read.

    Why: a build hands every document to one `bulk_load` (one load writes its files once; a load per
    document made the load super-linear) without holding the whole graph's text in memory.
    """
    return io.BufferedReader(_Chunks(chunks), buffer_size=1 << 20)
