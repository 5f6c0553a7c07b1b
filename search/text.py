"""Vietnamese tokenisation for BM25.

Each text becomes underthesea words (compounds joined by "_", "thủ_tục"),
their syllables, and the diacritic-folded syllables, so a query typed without
diacritics ("nghi dinh 118") meets the same terms as "nghị định 118".
underthesea is imported lazily: extraction and SPARQL never pay for it.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import sys
import types

from cchc.graph.extract.reading import fold, nfc

_TOKEN = re.compile(r"\w+(?:[/-]\w+)*", re.UNICODE)
_STOP = frozenset("và của các cho có được trong với theo về tại là để những một này đã trên".split())


class _CrfTagger:
    """underthesea's ``FastCRFSequenceTagger`` for the bundled word-segmentation model, loaded with ``pickle``.

    underthesea loads the model's two small pickles through joblib, whose
    pure-Python unpickler takes ~1 s for the 72k-word dictionary; the C
    ``pickle`` reads the same files in ~0.06 s. Same files, same tagger.
    """

    def __init__(self, folder: str) -> None:
        import pickle

        from underthesea_core import CRFFeaturizer, CRFTagger

        self.estimator = CRFTagger()
        self.estimator.load(f"{folder}/models.bin")
        with open(f"{folder}/features.bin", "rb") as fh:
            features = pickle.load(fh)
        with open(f"{folder}/dictionary.bin", "rb") as fh:
            dictionary = pickle.load(fh)
        self.featurizer = CRFFeaturizer(features, dictionary)

    def predict(self, tokens: list[list[str]]) -> list[str]:
        return self.estimator.tag(self.featurizer.process([tokens])[0])


@functools.cache
def _word_tokenize():
    """underthesea's word segmenter, loaded without running ``underthesea/__init__``.

    That ``__init__`` imports every pipeline, and the optional ones (translate,
    classify) import transformers and torch: 5-6 s and ~400 MB for a CRF
    segmenter that needs neither (measured: ~0.3 s this way). The parent
    packages stand in as bare modules while the segmenter loads, then are
    removed, so a later ``import underthesea`` runs the real ``__init__`` (and
    finds these submodules already loaded).
    """
    if "underthesea" in sys.modules:
        from underthesea import word_tokenize

        return word_tokenize
    spec = importlib.util.find_spec("underthesea")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - underthesea is a dependency
        raise ImportError("underthesea is not installed")
    root = next(iter(spec.submodule_search_locations))
    stubs = []
    for name, sub in (("underthesea", ""), ("underthesea.pipeline", "/pipeline")):
        if name not in sys.modules:
            module = types.ModuleType(name)
            module.__path__ = [root + sub]
            sys.modules[name] = module
            stubs.append(name)
    try:
        import underthesea.pipeline.text_normalize  # noqa: F401  (first: it and word_tokenize import each other)
        import underthesea.pipeline.word_tokenize as segmenter
    finally:
        for name in stubs:
            sys.modules.pop(name, None)
    if segmenter.word_tokenize_model is None:
        segmenter.word_tokenize_model = _CrfTagger(f"{root}/pipeline/word_tokenize/models/ws_crf_vlsp2013_20230727")
    return segmenter.word_tokenize


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
