"""Competency questions, parsed from this package's README.md.

Each question is a level-3 heading "### CQ<n>: question" followed by one fenced
```sparql block; the README is the single source of truth, tests parse and run
the queries from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADING = re.compile(r"^###\s+(CQ\d+)\s*:\s*(.+?)\s*$")
_FENCE_OPEN = re.compile(r"^```sparql\s*$", re.IGNORECASE)
_FENCE_CLOSE = re.compile(r"^```\s*$")


@dataclass(frozen=True)
class CompetencyQuestion:
    id: str  # "CQ1"
    question: str  # the heading text after "CQ<n>:"
    query: str  # the SPARQL text of the fenced block


def _readme_text() -> str:
    from cchc.ontology import README_PATH

    return README_PATH.read_text(encoding="utf-8")


def competency_questions(text: str | None = None) -> list[CompetencyQuestion]:
    """The competency questions in README order.

    Raises ValueError when a CQ heading has no sparql block (or two), or an id repeats.
    """
    lines = (text if text is not None else _readme_text()).splitlines()
    found: list[CompetencyQuestion] = []
    current: tuple[str, str] | None = None
    block: list[str] | None = None
    queries: list[str] = []

    def close_question() -> None:
        if current is None:
            return
        if len(queries) != 1:
            raise ValueError(f"{current[0]} has {len(queries)} sparql blocks, expected exactly one")
        found.append(CompetencyQuestion(current[0], current[1], queries[0]))

    for line in lines:
        if block is not None:
            if _FENCE_CLOSE.match(line):
                if current is not None:
                    queries.append("\n".join(block).strip() + "\n")
                block = None
            else:
                block.append(line)
            continue
        heading = _HEADING.match(line)
        if heading:
            close_question()
            current, queries = (heading.group(1), heading.group(2)), []
            continue
        if line.startswith("#") and current is not None:
            close_question()  # any other heading ends the question
            current, queries = None, []
            continue
        if _FENCE_OPEN.match(line):
            block = []
    if block is not None:
        raise ValueError("unterminated ```sparql block in README")
    close_question()

    ids = [q.id for q in found]
    if len(ids) != len(set(ids)):
        raise ValueError(f"repeated competency question ids: {ids}")
    return found


def competency_queries(text: str | None = None) -> dict[str, str]:
    """{"CQ1": sparql, ...} in README order."""
    return {q.id: q.query for q in competency_questions(text)}
