"""Putting diacritics back on a query typed without them, from the corpus's own words.

Users type "chuyen doi so" or "cai cach thu tuc hanh chinh".  The folded BM25
field still matches those syllables, but compound words, accented syllables
and above all the e5 encoder (which reads "chuyen doi so" as another language)
need the accented text.  Every folded syllable has few accented forms in the
corpus, and the neighbouring syllable almost always decides between them
("chấm thi bằng máy tính", not "chậm thi băng máy tỉnh"), so a bigram model
of the indexed text, decoded with Viterbi, restores the query.  Syllables the
corpus never prints, numbers and codes are kept as typed.

The corpus is small (some 800 distinct syllables), and users ask in words it
never prints ("chấm thi bằng máy tính"), so the word list underthesea ships
(Viet74K, already a dependency for tokenisation) adds every dictionary
compound as a weak pseudo-count: the corpus decides between forms it prints,
the dictionary breaks ties it cannot.

The corpus counts are built with the search index and saved beside it
(`restore.json`); the dictionary is read when the restorer is opened.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from cchc.graph.extract.reading import fold, nfc
from cchc.graph.extract.wordlist import viet74k

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_FLOOR = 1e-3  # smallest share a form gets among the spellings of its folded syllable
_PAIR = 3.5  # bonus (log units) for a syllable pair the corpus or the dictionary attests
_PAIR_COUNT = 0.5  # and how much more a pair the corpus prints often gets: × log(1 + count)
_LEX_UNIGRAM = 0.02  # per dictionary entry holding the syllable: a prior for forms the corpus lacks


@functools.cache
def _lexicon() -> tuple[Counter[str], frozenset[tuple[str, str]]]:
    """Syllable counts (entries holding each) and adjacent syllable pairs of underthesea's Viet74K word list."""
    uni: Counter[str] = Counter()
    pairs: set[tuple[str, str]] = set()
    for entry in viet74k():
        if entry[:1].isupper():
            continue  # proper names ("Trương Công Định") would restore "truong cong" as a name
        words = entry.lower().split()
        if not words or not all(_WORD.fullmatch(w) for w in words):
            continue
        uni.update(set(words))
        pairs.update(itertools.pairwise(words))
    return uni, frozenset(pairs)


def has_diacritics(text: str) -> bool:
    """Whether any letter of `text` carries a Vietnamese mark (đ included)."""
    low = nfc(text).lower()
    return fold(low) != low


def is_folded(text: str) -> bool:
    """A query worth restoring: it has letters and not one diacritic."""
    return bool(_WORD.search(text)) and not has_diacritics(text)


class Restorer:
    """Bigram diacritic restoration over the corpus vocabulary."""

    def __init__(self, unigrams: Counter[str], bigrams: Counter[tuple[str, str]], *, lexicon: bool = True) -> None:
        self.unigrams = unigrams  # corpus counts: what `save` writes
        self.bigrams = bigrams
        self._with_lexicon = lexicon
        # The page searches as the user types and people re-run questions: keep recent answers (pure in `text`).
        self.restore = functools.lru_cache(maxsize=4096)(self.restore)  # type: ignore[method-assign]

    @functools.cached_property
    def _tables(self) -> tuple[dict[str, float], frozenset[tuple[str, str]], dict[str, list[str]], dict[str, float]]:
        """Corpus counts merged with the dictionary: (form weights, dictionary pairs, forms by folding, totals).

        Built on the first folded query, not when the index opens: reading
        Viet74K takes ~0.5-1 s, and most queries carry their diacritics.
        """
        lex_uni, lex_pairs = _lexicon() if self._with_lexicon else (Counter(), frozenset())
        uni: dict[str, float] = {w: float(c) for w, c in self.unigrams.items()}
        for w, c in lex_uni.items():
            uni[w] = uni.get(w, 0.0) + _LEX_UNIGRAM * c
        forms: dict[str, list[str]] = defaultdict(list)
        fold_total: dict[str, float] = defaultdict(float)
        for w in sorted(uni, key=lambda w: -uni[w]):
            forms[fold(w)].append(w)
            fold_total[fold(w)] += uni[w]
        return uni, lex_pairs, forms, fold_total

    # ------------------------------------------------------------ building
    @classmethod
    def build(cls, texts: Iterable[str]) -> Restorer:
        """Count accented syllables and adjacent pairs (within a run of letters) over the texts.

        Each distinct text is read once and its counts taken as many times as it repeats: nationally most
        units repeat a row (2.9M units, 266k distinct texts)."""
        uni: Counter[str] = Counter()
        bi: Counter[tuple[str, str]] = Counter()
        for text, times in Counter(texts).items():
            u: Counter[str] = Counter()
            b: Counter[tuple[str, str]] = Counter()
            for run in re.split(r"[^\w\s]|\d", nfc(text).lower()):  # punctuation and digits break a phrase
                words = _WORD.findall(run)
                u.update(words)
                b.update(itertools.pairwise(words))
            if times > 1:
                u = Counter({w: c * times for w, c in u.items()})
                b = Counter({p: c * times for p, c in b.items()})
            uni.update(u)
            bi.update(b)
        return cls(uni, bi)

    def save(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        data = {"unigrams": dict(self.unigrams), "bigrams": [[a, b, c] for (a, b), c in self.bigrams.items()]}
        tmp.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> Restorer:
        data = json.loads(path.read_text("utf-8"))
        return cls(Counter(data["unigrams"]), Counter({(a, b): c for a, b, c in data["bigrams"]}))

    # ------------------------------------------------------------ restoring
    def _emit(self, w: str) -> float:
        uni, _, _, fold_total = self._tables
        total = fold_total.get(fold(w), 0.0)
        return uni.get(w, 0.0) / total if total else 0.0

    def _step(self, prev: str | None, w: str) -> float:
        """Log share of the form among its spellings, plus a bonus when the pair with `prev` is attested.

        A plain bigram model trusts this small corpus too much ("bộ máy" is its
        only "máy", so "máy tỉnh" would win), so any attested pair, from the
        corpus or a dictionary compound, gets one fixed bonus, and corpus pairs
        a little more with their count: "máy tính" beats "máy tỉnh" though the
        plans print "tỉnh" twenty times as often, and "chuyển đổi" (31) beats
        the typo "chuyên đổi" (1).
        """
        score = math.log(self._emit(w) + _FLOOR)
        if prev is not None:
            count = self.bigrams[(prev, w)]
            if count or (prev, w) in self._tables[1]:
                score += _PAIR + _PAIR_COUNT * math.log1p(count)
        return score

    def _decode(self, words: list[str]) -> list[str]:
        """Viterbi over the candidate forms of each folded syllable."""
        forms = self._tables[2]
        cands = [forms.get(w.lower()) or [w] for w in words]
        best = [{c: (self._step(None, c), [c]) for c in cands[0]}]
        for i in range(1, len(words)):
            layer = {}
            for c in cands[i]:
                layer[c] = max(((s + self._step(p, c), [*path, c]) for p, (s, path) in best[-1].items()),
                               key=lambda x: x[0])
            best.append(layer)
        return max(best[-1].values(), key=lambda x: x[0])[1]

    def restore(self, text: str) -> str:
        """`text` with diacritics restored when it has none; otherwise `text` unchanged.

        Runs of letters between digits and punctuation are decoded as phrases;
        everything else (numbers, codes such as "118/2025", spacing) is kept.
        Restored syllables are lower case unless the typed syllable was
        capitalised, so "UBND" and "CCHC" stay as typed.
        """
        if not is_folded(text):
            return text
        out: list[str] = []
        last = 0
        for run in re.finditer(r"[^\W\d_]+(?:\s+[^\W\d_]+)*", text):
            words = list(re.finditer(r"[^\W\d_]+", run.group()))
            decoded = self._decode([m.group() for m in words])
            pieces, pos = [], 0
            for m, new in zip(words, decoded, strict=True):
                typed = m.group()
                if typed.isupper() and len(typed) > 1:
                    new = typed
                elif typed[:1].isupper():
                    new = new[:1].upper() + new[1:]
                pieces.append(run.group()[pos:m.start()] + new)
                pos = m.end()
            out.append(text[last:run.start()] + "".join(pieces) + run.group()[pos:])
            last = run.end()
        out.append(text[last:])
        return "".join(out)
