"""When a search result answers the question: the evidence cut-off.

Ranking orders every unit; it never says "none of these".  A dense encoder
always has nearest neighbours, so without a cut-off "xyzzy qwerty" fills the
page, and after the two rows citing NĐ 118 come eight unrelated ones.  A
result is therefore shown only when the evidence says it answers:

* a *typed* match: the unit cites the instrument asked about (or traces back to
  it), is led or joined by the agency, is due in the period, or is in the
  field the query names (the structured score is positive);
* or *text evidence* where lexical and semantic evidence agree: the share of
  the query's content words the unit contains (each weighted by its IDF over
  the units, so "công", "số" count little and "chatbot" much), and the unit's
  cosine with the query above the query's median cosine over all units.

Dense similarity alone is never evidence: a query none of whose words the
corpus prints (nonsense, another topic in English) answers nothing.  The
floors were calibrated on the dev gold and bench/queries_extra.jsonl against
off-topic queries (`bench/calibrate_relevance.py`, figures in
bench/relevance.md): the strong floor keeps every relevant unit the ranking
puts in the top 10 but a handful, the weak floor keeps those too and is shown
marked `weak`, and only beside at least one strong answer: weak evidence
alone is chance (an off-topic question sharing a common word with a row).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from cchc.search.bm25 import BM25Index, ByText
from cchc.search.text import tokens


@dataclass(frozen=True)
class RelevanceFloors:
    """Where text evidence stops answering (see the module docstring and bench/relevance.md)."""

    coverage: float = 0.15  # IDF-weighted share of the query's content words in the unit: a strong answer
    lift: float = 0.025  # cosine above the query's median over all units: a strong answer
    weak_coverage: float = 0.1  # below the strong floors but above these: shown, marked weak
    weak_lift: float = 0.015
    # A paraphrase ("ký văn bản bằng chữ ký điện tử thay vì ký tay" for "ứng dụng chữ ký số"): few of the
    # question's words, but a cosine far above its median.  Shown, marked weak, when it is at least this close
    # and shares at least this much of the question's words (off-topic questions reach a lift of .038 with
    # some shared word, bench/relevance.md).
    paraphrase_coverage: float = 0.05
    paraphrase_lift: float = 0.04
    # The converse: most of the question's concepts printed, in the question's words or their other forms, with
    # a cosine only just above its median ("làm TTHC trên điện thoại" and "DVCTT ... trên nhiều phương tiện truy
    # cập, bao gồm cả thiết bị di động": coverage .75, lift .013; the small encoder does not know the two ask
    # the same).  Shown, marked weak.
    lexical_coverage: float = 0.5
    lexical_lift: float = 0.0


STRONG, WEAK, NONE = 2, 1, 0


def content_terms(text: str, generic: frozenset[str] = frozenset()) -> list[str]:
    """The query's content words as index terms (folded syllables, each once), without question words."""
    out: list[str] = []
    for t in tokens(text, words=False):
        if t.startswith("~") and t[1:] not in generic and t not in out:
            out.append(t)
    return out


def coverage(index: BM25Index, terms: list[str]) -> np.ndarray | None:
    """Per unit, the IDF-weighted share of `terms` it contains; None when there are no terms.

    A term the corpus never prints weighs as a term found once: it counts
    fully in the denominator, so "công thức nấu phở" (only "công", "thức"
    printed) covers little of any unit.
    """
    if not terms:
        return None
    n = len(index.keys)
    out = np.zeros(n, dtype=np.float32)
    total = 0.0
    for term in terms:
        postings = index.postings(term)
        df = 0 if postings is None else len(postings)
        idf = float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))
        total += idf
        if postings is not None:
            out[postings] += idf
    return out / total if total else None


def _found(index: BM25Index, terms: list[str]) -> tuple[np.ndarray, float]:
    """Per distinct text (or per unit, for an index without row arrays), the summed IDF of `terms` it prints,
    and the IDF of all of them (a term the corpus never prints weighing as one found once, as in `coverage`)."""
    n = len(index.keys)
    out = np.zeros(len(index.units_per_text) if index.by_text else n, dtype=np.float32)
    total = 0.0
    for term in terms:
        if index.by_text:
            df = index.df(term)
            postings = index.text_postings(term) if df else None
        else:
            postings = index.postings(term)
            df = 0 if postings is None else len(postings)
        idf = float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))
        total += idf
        if postings is not None:
            out[postings] += idf
    return out, total


def coverage_by_text(index: BM25Index, terms: list[str]) -> ByText | None:
    """`coverage` per distinct text (`BM25Index.scores_by_text`): the same floats, a tenth of the work at scale."""
    if not index.by_text:
        plain = coverage(index, terms)
        return None if plain is None else ByText(plain, None)
    if not terms:
        return None
    out, total = _found(index, terms)
    return ByText(out / total, index.rows) if total else None


def coverage_by_concept(index: BM25Index, terms: list[str],
                        concepts: list[tuple[list[str], list[list[str]]]]) -> ByText | None:
    """`coverage_by_text` with each concept counted once, whichever of its forms a unit prints.

    `concepts`: (the terms of a phrase the query prints, the terms of each of its other forms). "làm TTHC
    trên điện thoại" asks about three things; a unit printing "thủ tục hành chính" and "thiết bị di động"
    has them all, where one share over every form's words (the question's and all their expansions) gave it
    under half.  A form found in part counts its share of the phrase's weight; a term two phrases hold
    belongs to the first (the table's order: abbreviations, then synonyms).
    """
    if not terms:
        return None
    claimed: set[str] = set()
    groups: list[tuple[list[str], list[list[str]]]] = []
    for phrase, others in concepts:
        own = [t for t in phrase if t in terms and t not in claimed]
        if own and others:
            claimed.update(own)
            groups.append((own, others))
    out, total = _found(index, [t for t in terms if t not in claimed])
    for own, others in groups:
        best, weight = _found(index, own)
        for other in others:
            found, other_total = _found(index, other)
            if other_total:
                best = np.maximum(best, found * np.float32(weight / other_total))
        out = out + best
        total += weight
    if not total:
        return None
    return ByText(out / total, index.rows if index.by_text else None)


def grade(structured: np.ndarray | None, cover: np.ndarray | None, dense: np.ndarray | None,
          floors: RelevanceFloors, *, typed_is_strong: bool = True, dense_median: float | None = None,
          strong_elsewhere: bool = False) -> np.ndarray:
    """STRONG, WEAK or NONE per unit.

    `typed_is_strong`: False for a topic asked within a period, where every task
    due then matches the period; such a task with no text evidence is weak.
    `dense_median`: the query's median cosine over the whole collection, when
    `dense` holds a subset of it (the candidate path).  `strong_elsewhere`: a
    strong answer exists outside the units graded (outside the filters), so
    weak ones here are shown.
    """
    n = len(dense) if dense is not None else len(cover) if cover is not None else \
        len(structured) if structured is not None else 0
    out = np.full(n, NONE, dtype=np.int8)
    if cover is not None:
        median = dense_median if dense_median is not None else np.median(dense) if dense is not None else 0.0
        lift = dense - np.float32(median) if dense is not None else None
        if lift is None:  # no encoder: the lexical floor alone, a little higher
            strong = cover >= floors.coverage * 2
            weak = cover >= floors.weak_coverage * 2
        else:
            strong = (cover >= floors.coverage) & (lift >= floors.lift)
            weak = (cover >= floors.weak_coverage) & (lift >= floors.weak_lift) | \
                (cover >= floors.paraphrase_coverage) & (lift >= floors.paraphrase_lift) | \
                (cover >= floors.lexical_coverage) & (lift >= floors.lexical_lift)
        out[weak] = WEAK
        out[strong] = STRONG
    if structured is not None:
        typed = structured > 0
        out[typed] = np.maximum(out[typed], STRONG if typed_is_strong else WEAK)
    if not strong_elsewhere and not (out == STRONG).any():
        # weak evidence only: nothing answers (an off-topic question's chance words)
        out[:] = NONE
    return out
