"""The query-vector cache both encoders keep, and the argument check both make.

Queries repeat (the web page searches as the user types, people re-run
questions) and one forward pass is ~90% of a search, so the last `size` query
vectors are kept, least recently used dropped first.  A module of its own so the
ONNX encoder shares it without importing the sentence-transformers one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["QUERY_CACHE_SIZE", "QueryCache", "as_text_list"]

QUERY_CACHE_SIZE = 4096  # query vectors kept (1.5 KB each for e5-small)


def as_text_list(texts: Sequence[str]) -> list[str]:
    """Reject a bare ``str`` (it would silently be encoded character by character)."""
    if isinstance(texts, str):
        raise TypeError("encode_* expects a list of strings, not a single str")
    return list(texts)


class QueryCache:
    """Query text -> vector, the last `size` used."""

    def __init__(self, size: int = QUERY_CACHE_SIZE) -> None:
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self._vectors)

    def clear(self) -> None:
        self._vectors.clear()

    def encode(self, texts: Sequence[str], encode: Callable[[list[str]], np.ndarray], dimension: int) -> np.ndarray:
        """Vectors of `texts` in order; only the ones not cached go through `encode` (each once)."""
        texts = as_text_list(texts)
        if not texts:
            return np.zeros((0, dimension), np.float32)
        cache = self._vectors
        found = {t: cache[t] for t in texts if t in cache}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            found.update(zip(missing, encode(missing), strict=True))
        for t in dict.fromkeys(texts):
            cache[t] = found[t]
            cache.move_to_end(t)
        while len(cache) > self.size:
            cache.popitem(last=False)
        return np.stack([found[t] for t in texts])
