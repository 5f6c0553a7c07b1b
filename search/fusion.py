"""How structured matches, BM25 and dense scores become one ranking.

Structured constraints (an instrument, an agency with its role, a period, a
CCHC field) are what the question is about, so when a query has them their
match decides the order and the text scores only break ties among equally
good matches.  Topic questions have only text: BM25 and dense cosine, each
scaled to [0, 1] over the collection, are mixed linearly.  The weights were
tuned on the dev queries and checked on bench/queries_extra.jsonl
(`bench/eval_search.py --grid`, see bench/search_eval.md); the numbers are few
and global.  With a structured match, text scores are kept small (0.05): they
only order rows that match equally, and more lets a strong text match outrank
a row that answers the question.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FusionWeights:
    structured: float = 1.0  # weight of the structured match when the query has constraints
    bm25_structured: float = 0.05
    dense_structured: float = 0.05
    bm25_topic: float = 0.45
    dense_topic: float = 0.55
    doc_title: float = 0.05  # how much the document's title matching the query lifts its units
    # A period asked together with a topic ("hạn chót hoàn thành [số hóa hồ sơ] năm 2023"): the topic ranks and
    # the structured match (the period, and any agency) only lifts, by this much times the text score squared:
    # enough to order passages on one topic by their deadlines, not enough for any task due that year to
    # outrank the passage on the topic (additive 0.3 before: held-out deadline MRR 0.80 -> 0.83, bench/search_eval.md).
    structured_mixed: float = 0.5
    # The same lift when the question's only constraint is a field its own words name ("làm thủ tục hành chính
    # ngay trên điện thoại"): those words already count in the text scores, and the lift let every passage on
    # procedures outrank the one on phones (held-out 4 topic MRR .80 -> .82, held-out 2 .94 -> .95 at 0; 0.1,
    # 0.25 in between; nothing dropped, bench/search_eval.md rule 9).
    field_mixed: float = 0.0
    mixed_power: float = 2.0  # the power of the text score in that lift
    mixed_topic_words: int = 2  # content syllables a period query needs to count as a topic question
    # A topic question that asks when ("Tân Đoàn: thời hạn các phòng ban hành kế hoạch CCHC năm 2025"): a passage
    # stating no time within the question's window does not answer it, however close its words ("UBND xã Tân
    # Đoàn ban hành kế hoạch CCHC năm 2025 như sau:"); its score is multiplied by this.
    when_untimed: float = 0.75
    # A topic question's text score times (1 - coord + coord * coverage), coverage the IDF-weighted share of its
    # concepts the unit prints (`Searcher.coverage_by_text`): Lucene's classic coordination factor.  A long
    # paragraph naming "nợ công" once scored below a short row on "quản lý ... tài sản công" that lacks the
    # question's rarest word ("quản lý nợ công của tỉnh").  0.1-0.4 give the same ranks on every set; 0.6
    # costs held-out 2 and extra topic MRR (bench/search_eval.md rule 10).
    coord: float = 0.25


def unit_scale(x: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] by the collection's min and max (zeros when flat)."""
    if x.size == 0:
        return x
    lo, hi = float(x.min()), float(x.max())
    if hi - lo < 1e-9:
        return np.zeros_like(x)
    return (x - lo) / (hi - lo)


def fuse(structured: np.ndarray | None, bm25: np.ndarray, dense: np.ndarray | None, w: FusionWeights,
         *, mixed: bool = False, untimed: np.ndarray | None = None, field_only: bool = False,
         cover: np.ndarray | None = None) -> np.ndarray:
    """One score per unit; `mixed`: the query asks a topic within a period (the topic leads, see above)."""
    return combine(structured, unit_scale(bm25), unit_scale(dense) if dense is not None else None, w, mixed=mixed,
                   untimed=untimed, field_only=field_only, cover=cover)


def scale_by(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """`unit_scale` with the collection's min and max given: a candidate subset scaled as the whole would be."""
    if x.size == 0:
        return x
    if hi - lo < 1e-9:
        return np.zeros_like(x)
    return (x - lo) / (hi - lo)


def combine(structured: np.ndarray | None, b: np.ndarray, d: np.ndarray | None, w: FusionWeights,
            *, mixed: bool = False, untimed: np.ndarray | None = None, field_only: bool = False,
            cover: np.ndarray | None = None) -> np.ndarray:
    """`fuse` on scores already scaled to [0, 1] (by the whole collection, whatever subset they are).

    `untimed`: in a mixed question that asks when, the units stating no time within its window (`when_untimed`).
    `field_only`: a mixed question whose only constraint is a field (`field_mixed`).  `cover`: each unit's
    coverage of the question's concepts (`coord`, topic questions only).
    """
    if structured is not None and mixed:
        text = w.bm25_topic * b + (w.dense_topic * d if d is not None else w.dense_topic * b)
        # The lift grows with the square of the text score: the period orders passages on the topic, and a
        # passage off the topic (low text score) gains almost nothing from being due then.
        lift = w.field_mixed if field_only else w.structured_mixed
        score = text + lift * structured * text ** w.mixed_power
        if untimed is not None:
            score = np.where(untimed, score * np.float32(w.when_untimed), score).astype(score.dtype)
        return score
    if structured is not None:
        score = w.structured * structured + w.bm25_structured * b
        if d is not None:
            score = score + w.dense_structured * d
        return score
    text = b if d is None else w.bm25_topic * b + w.dense_topic * d
    if cover is not None and w.coord:
        text = text * (np.float32(1 - w.coord) + np.float32(w.coord) * cover)
    return text
