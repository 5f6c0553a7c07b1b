"""Vietnamese tokenisation for BM25.

Each text becomes underthesea words (compounds joined by "_", "thủ_tục"),
their syllables, and the diacritic-folded syllables, so a query typed without
diacritics ("nghi dinh 118") meets the same terms as "nghị định 118".
underthesea is imported lazily: extraction and SPARQL never pay for it.
"""

from __future__ import annotations

import functools
import re

from cchc.graph.extract.reading import fold, nfc

_TOKEN = re.compile(r"\w+(?:[/-]\w+)*", re.UNICODE)
_STOP = frozenset("và của các cho có được trong với theo về tại là để những một này đã trên".split())


@functools.cache
def _word_tokenize():
    from underthesea import word_tokenize

    return word_tokenize


def syllables(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(nfc(text).lower())]


def tokens(text: str, *, words: bool = True) -> list[str]:
    """Index terms of `text`: syllables, folded syllables, and (if `words`) compound words."""
    sylls = syllables(text)
    out = [s for s in sylls if s not in _STOP]
    out += ["~" + f for f in (fold(s) for s in sylls) if f not in _STOP]
    if words:
        for w in _word_tokenize()(nfc(text)):
            w = w.lower()
            if " " in w:
                out.append(w.replace(" ", "_"))
    return out
