"""What every task row gets whatever it was read from: agencies split and resolved, the deadline parsed,
and an appendix's header (title lines, year, parent plan).

Shared by the text-table path (tables.py) and the cell path of Word and PDF
tables (celltables.py), so records look the same whatever the file format.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from cchc.graph.corpus import DocumentInfo
from cchc.graph.extract.agencies import load_registry
from cchc.graph.extract.deadlines import parse_deadline
from cchc.graph.extract.reading import squash
from cchc.graph.extract.records import Citation, Task

_YEAR_IN_TITLE = re.compile(r"NĂM ((?:19|20)\d\d)")


def agencies(cell: str) -> tuple[tuple[str, ...], tuple]:
    reg = load_registry()
    names = tuple(n.lstrip("-–+• ").strip() for n in reg.split(cell) if n.strip("-–+• "))
    return names, tuple(reg.resolve(n) for n in names)


def with_agencies_and_deadline(task: Task, year: int | None) -> Task:
    lead, lead_ids = agencies("; ".join(task.lead))
    coop, coop_ids = agencies("; ".join(task.cooperating))
    deadline = parse_deadline(task.timeline, default_year=year) if task.timeline else None
    return replace(task, lead=lead, cooperating=coop, lead_agencies=lead_ids,
                   cooperating_agencies=coop_ids, deadline=deadline)


def document_year(info: DocumentInfo | None, head: Sequence[tuple[int, str]]) -> int | None:
    if info and info.start_year:
        return info.start_year
    for _, line in head:
        m = _YEAR_IN_TITLE.search(squash(line).upper())
        if m:
            return int(m.group(1))
    return None


def appendix_header(head: Sequence[tuple[int, str]], header_cites: Sequence[Citation],
                    year: int | None) -> dict[str, Any]:
    """The header of an appendix: its title lines, year and the plan it is attached to."""
    header: dict[str, Any] = {
        "title_lines": [squash(t) for _, t in head if not t.strip().startswith("(")],
        "year": year,
    }
    parent = next((c for c in header_cites if c.type == "Kế hoạch" and c.numbered), None)
    if parent:
        header["parent_plan"] = {"id": parent.id, "date": parent.date, "issuer": parent.issuer,
                                 "line": parent.span.line}
    return header
