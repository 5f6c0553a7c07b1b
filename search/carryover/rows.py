"""Each plan's rows as the matcher compares them, made once per plan rather than once per plan pair.

A plan takes part in several pairs (the next year's plan, the period plan,
every commune plan that carries it out), and on a national corpus the
neutralised texts and their terms, made again for every pair, were most of
the carry-over's time.  `PlanRows` holds a plan's task texts (whole content
and content without cited titles, agency names dropped; products, agencies
brought up to date) and their terms for TF-IDF.  `RowsByPlan` makes each plan's
rows on first use and lets them go after the last pair that needs them, so
memory follows the plans in use, not the corpus.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from cchc.graph.extract.records import Task
from cchc.search.carryover.text import lexical_terms
from cchc.search.carryover.tfidf import Terms, row_terms

__all__ = ["PlanRows", "RowsByPlan", "plain_content"]


def plain_content(task: Task) -> str:
    """The content without the instruments it cites (surface and title), when that leaves the task's own words.

    When the instruments are most of the content ("Tiếp tục triển khai Nghị
    quyết số 04/NQ-CP ... về đẩy mạnh phân cấp"), the instrument is what the
    task is about and the whole content is kept.
    """
    text = task.content
    for c in sorted(task.citations, key=lambda c: -len(c.title or "")):
        for part in (c.title, c.surface):
            if part and len(part) > 3:
                text = text.replace(part, " ")
    return text if len(" ".join(text.split())) >= 0.5 * len(task.content) else task.content


@dataclass(frozen=True)
class PlanRows:
    """One plan's tasks: neutralised texts and their terms (vocabulary shared by every plan of the run)."""

    whole: list[str]
    plain: list[str]
    whole_terms: Terms
    plain_terms: Terms
    product_terms: Terms


class RowsByPlan:
    """`PlanRows` of each plan, made on first use and dropped after the last of the `pairs` (in order) using it."""

    def __init__(self, texts: Mapping[str, list[tuple[str, str]]], tasks: Mapping[str, list[Task]],
                 neutral: Callable[..., str], pairs: Sequence[tuple[str, str]]) -> None:
        self._texts, self._tasks, self._neutral = texts, tasks, neutral
        self._vocabulary: dict[str, int] = {}
        self._held: dict[str, PlanRows] = {}
        self._last = {d: k for k, pair in enumerate(pairs) for d in pair}
        # a text's terms, for the texts plans repeat (one template's rows, generic products)
        self._terms = functools.lru_cache(maxsize=1 << 15)(self._row_terms)

    def _row_terms(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        return row_terms(lexical_terms(text), self._vocabulary)

    def _make(self, doc: str) -> PlanRows:
        whole = [a for a, _ in self._texts[doc]]
        plain = [b for _, b in self._texts[doc]]
        products = (self._neutral(t.product or "") for t in self._tasks[doc])
        terms = lambda texts: Terms.stack([self._terms(t) for t in texts])  # noqa: E731
        return PlanRows(whole, plain, terms(whole), terms(plain), terms(products))

    def get(self, doc: str) -> PlanRows:
        rows = self._held.get(doc)
        if rows is None:
            rows = self._held[doc] = self._make(doc)
        return rows

    def done(self, k: int, docs: Iterable[str]) -> None:
        """Pair `k` is matched: drop the rows of its plans that no later pair uses."""
        for d in docs:
            if self._last.get(d, -1) <= k:
                self._held.pop(d, None)
