"""Scoring every task pair of two plans and choosing the links: mostly one-to-one, splits when clear.

Score = text similarity (dense e5 cosine rescaled from its narrow band, and
TF-IDF cosine, on the neutralised texts) + product similarity + small bonuses
for the same CCHC field, a lead agency that is the same or its successor, and
shared or replaced instruments; clipped to [0, 1].  The e5 cosine of two
unrelated administrative sentences is already ~0.88, so only the part above
`dense_floor` counts.

Links are chosen greedily by score: a pair above the threshold is linked when
neither task is linked yet (one-to-one).  A task may still split into two
later tasks, or two tasks merge into one, but only when the extra pair is
`margin` above the threshold and its other task would otherwise be left
without a link; a plan rewritten row by row should not fan out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from cchc.graph.extract.agencies import Registry
from cchc.graph.extract.records import Task
from cchc.search.carryover.evidence import MAX_BONUS, citation_evidence, lead_evidence, task_field

__all__ = ["Candidate", "Weights", "choose_links", "score_pairs"]


@dataclass(frozen=True)
class Weights:
    """How the evidence adds up; the defaults were set by reading every 2023 -> 2026 candidate."""

    dense_floor: float = 0.86
    dense: float = 0.45
    lexical: float = 0.55
    containment: float = 0.8  # a shorter row wholly inside the longer one counts this much of a lexical match
    product: float = 0.15
    product_neutral: float = 0.25  # product similarity that neither raises nor lowers the score
    same_field: float = 0.05
    clause: float = 0.9  # a row matching one clause of a period plan's task counts this much of a whole match


@dataclass(frozen=True)
class Candidate:
    """One scored task pair (indices into the two plans' task lists)."""

    i: int
    j: int
    score: float
    reasons: tuple[str, ...]
    link: str = "one-to-one"  # "one-to-one" | "split" | "merge"


def text_similarity(dense: np.ndarray, lexical: np.ndarray, w: Weights) -> np.ndarray:
    """Dense cosine above the floor, rescaled to [0, 1], mixed with lexical cosine."""
    dz = np.clip((dense - w.dense_floor) / (1.0 - w.dense_floor), 0.0, 1.0)
    return w.dense * dz + w.lexical * np.clip(lexical, 0.0, 1.0)


def _product_spread(product: np.ndarray, tolerance: float = 0.05) -> np.ndarray:
    """For each pair, how many pairs sharing one of its tasks have a product as alike (at least 1).

    "Kế hoạch của UBND tỉnh" is the product of several rows of each plan; an
    identical generic product does not tell which of them continues which, so
    its bonus is divided among them.
    """
    if product.size == 0:
        return np.ones(product.shape, dtype=int)
    floor = product - tolerance
    per_row = (product[:, None, :] >= floor[:, :, None]).sum(axis=2)  # [i, j]: later rows as alike for i
    per_col = (product.T[None, :, :] >= floor[:, :, None]).sum(axis=2)  # [i, j]: earlier rows as alike for j
    return np.maximum(np.maximum(per_row, per_col), 1)


def _may_reach(earlier: list[Task], later: list[Task], text: np.ndarray, plain: np.ndarray, product: np.ndarray,
               spread: np.ndarray, fields_e: list[str | None], fields_l: list[str | None], w: Weights,
               floor: float) -> np.ndarray:
    """[i, j]: the pair can score `floor` with the most the lead and instruments add (evidence.MAX_BONUS).

    The score is a sum of terms each at most its bound here, added in the
    same order, so a pair left out could not have reached the floor; reading
    the evidence of each of a large plan pair's thousands of pairs was most of
    the scoring time.  The tolerance only keeps more pairs.
    """
    shape = (len(earlier), len(later))
    if floor <= 0:
        return np.ones(shape, dtype=bool)
    score = np.maximum(text, plain).astype(np.float64)
    both = np.array([bool(t.product) for t in earlier])[:, None] & np.array([bool(t.product) for t in later])[None, :]
    gain = w.product * (product.astype(np.float64) - w.product_neutral) / (1.0 - w.product_neutral)
    score += np.where(both, np.where(gain > 0, gain / spread, gain), 0.0)
    same = np.array([[bool(f) and f == g for g in fields_l] for f in fields_e], dtype=bool).reshape(shape)
    score += np.where(same, w.same_field, 0.0)
    return score + MAX_BONUS + 1e-9 >= floor


def score_pairs(earlier: list[Task], later: list[Task], text: np.ndarray, plain: np.ndarray,
                product: np.ndarray, registry: Registry, as_of: str | None,
                weights: Weights | None = None, *, floor: float = 0.0) -> list[Candidate]:
    """Every pair scoring at least `floor`, best first, with the reasons a reader checks.

    `text` compares the whole contents, `plain` the contents without the
    titles of the instruments they cite: a title repeated in two tasks is
    evidence only when the two cite the same instrument or one replaces the
    other; otherwise ("... theo Kế hoạch số 157/KH-UBND về triển khai Đề án
    một cửa") it would pair any two tasks naming the same programme.
    """
    w = weights or Weights()
    spread = _product_spread(product)
    fields_e = [task_field(t) for t in earlier]
    fields_l = [task_field(t) for t in later]
    out: list[Candidate] = []
    for i, j in zip(*np.nonzero(_may_reach(earlier, later, text, plain, product, spread, fields_e, fields_l, w,
                                           floor)), strict=True):
        i, j = int(i), int(j)
        a, b = earlier[i], later[j]
        cites = citation_evidence(a, b)
        base = float(text[i, j] if cites.reasons else plain[i, j])
        reasons = [f"text {base:.2f}"]
        score = base
        if a.product and b.product:
            # the deliverable column: alike products raise the score, unrelated ones lower it a little
            p = float(product[i, j])
            gain = w.product * (p - w.product_neutral) / (1.0 - w.product_neutral)
            score += gain / spread[i, j] if gain > 0 else gain
            if p >= w.product_neutral:
                reasons.append(f"product {p:.2f}" + (f" (shared by {spread[i, j]})" if spread[i, j] > 1 else ""))
        if fields_e[i] and fields_e[i] == fields_l[j]:
            score += w.same_field
            reasons.append(f"same field: {fields_e[i]}")
        elif fields_e[i] and fields_l[j]:
            reasons.append(f"field {fields_e[i]} → {fields_l[j]}")
        for ev in (lead_evidence(a, b, registry, as_of), cites):
            score += ev.bonus
            reasons.extend(ev.reasons)
        score = min(max(score, 0.0), 1.0)
        if score >= floor:
            out.append(Candidate(i, j, round(score, 4), tuple(reasons)))
    out.sort(key=lambda c: (-c.score, c.i, c.j))
    return out


def choose_links(candidates: list[Candidate], threshold: float, margin: float) -> list[Candidate]:
    """One-to-one links above `threshold`, then splits/merges `margin` above it for unlinked tasks."""
    chosen: list[Candidate] = []
    left: set[int] = set()
    right: set[int] = set()
    for c in candidates:
        if c.score < threshold:
            break
        if c.i not in left and c.j not in right:
            chosen.append(c)
            left.add(c.i)
            right.add(c.j)
    one_to_one_left, one_to_one_right = set(left), set(right)
    for c in candidates:
        if c.score < threshold + margin:
            break
        if (c.i in one_to_one_left) == (c.j in one_to_one_right):
            continue  # both ends already linked (or neither, which the first pass would have taken)
        if c.i in left and c.j in right:
            continue
        link = "split" if c.i in one_to_one_left else "merge"
        note = "split: the earlier task continues in several" if link == "split" else \
            "merge: several earlier tasks continue here"
        chosen.append(Candidate(c.i, c.j, c.score, (*c.reasons, note), link))
        left.add(c.i)
        right.add(c.j)
    return sorted(chosen, key=lambda c: (c.i, c.j))
