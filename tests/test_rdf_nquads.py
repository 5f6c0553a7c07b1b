"""The builder's N-Triples text stands for the same terms as terms.py's rdflib helpers."""

from __future__ import annotations

import io

import pyoxigraph as ox
import pytest
from cchc.graph.rdf import nquads, terms
from cchc.ontology import CCHC
from rdflib import Literal, URIRef

TEXTS = ["", "plain", 'say "hi"', "back\\slash", "line\nbreak\r\n", "tab\there", "Ủy ban nhân dân tỉnh Lạng Sơn",
         "emoji 🙂 and \u00a0nbsp", "trailing \\"]


def parsed(text: str) -> ox.Literal | ox.NamedNode:
    """The term Oxigraph reads from `text` (as the object of a triple)."""
    (quad,) = ox.parse(f"<http://x/s> <http://x/p> {text} .".encode(), ox.RdfFormat.N_TRIPLES)
    return quad.object


def ox_term(term):
    return terms.to_quads([(URIRef("http://x/s"), URIRef("http://x/p"), term)], URIRef("http://x/g"))[0].object


@pytest.mark.parametrize("value", TEXTS)
def test_literals_read_back_as_the_rdflib_terms(value):
    assert parsed(nquads.string(value)) == ox_term(terms.string(value))
    assert parsed(nquads.text_vi(value)) == ox_term(terms.text_vi(value))
    assert nquads.triples([("<http://x/s>", "<http://x/p>", nquads.string(value))])[0][2] == terms.string(value)


@pytest.mark.parametrize("value", [0, 7, -3, True, False, "2025-06-30", "2025-13-01", "2025-1-5", 95.0, 95.5, 0.125])
def test_typed_literals_keep_rdflib_lexical_forms(value):
    if isinstance(value, bool):
        pairs = [(nquads.bool_(value), terms.bool_(value))]
    elif isinstance(value, int):
        pairs = [(nquads.int_(value), terms.int_(value))]
    elif isinstance(value, float):
        pairs = [(nquads.decimal_(value), terms.decimal_(value))]
    else:
        pairs = [(nquads.date_(value), terms.date_(value))]
    for text, term in pairs:
        assert text == nquads.term(term)
        assert parsed(text) == ox_term(term)


def test_text_of_non_strings_goes_through_rdflib():
    assert nquads.string(5) == nquads.term(Literal(5)) == '"5"^^<http://www.w3.org/2001/XMLSchema#integer>'


def test_vocabulary_terms_are_the_namespace_iris():
    vocab = nquads.Vocabulary(CCHC)
    assert vocab.Task == f"<{CCHC.Task}>" == vocab["Task"]
    with pytest.raises(AttributeError):
        vocab._private  # noqa: B018


def test_reader_streams_the_chunks_lazily():
    made: list[int] = []

    def chunks():
        for i in range(3):
            made.append(i)
            yield f"<http://x/s{i}> <http://x/p> \"{i}\" <http://x/g> .\n".encode()

    stream = nquads.reader(chunks())
    assert made == []
    st = ox.Store()
    st.bulk_load(stream, ox.RdfFormat.N_QUADS)
    assert made == [0, 1, 2] and len(st) == 3
    assert isinstance(stream, io.BufferedReader)
