"""From one source text to its records: the extraction step of the data path.

A document is an appendix when it holds the task table (its "STT NỘI DUNG"
header), otherwise a narrative plan.  Either way the records come out with
their line spans; citations, agencies and deadlines are attached here so that
table and narrative tasks look the same to everything downstream.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path

from cchc.graph.corpus import DocumentInfo
from cchc.graph.extract.articles import article_units
from cchc.graph.extract.cells import segment_row
from cchc.graph.extract.celltables import extract_cell_tables
from cchc.graph.extract.citations import document_lines, find_citations
from cchc.graph.extract.cues import assign_relations
from cchc.graph.extract.identity import read_identity
from cchc.graph.extract.instrument_terms import reference_data
from cchc.graph.extract.narrative import extract_narrative
from cchc.graph.extract.readers import ReadDocument, read_document
from cchc.graph.extract.reading import DEFAULT_MAX_SOURCE_BYTES, SourceError, SourceText
from cchc.graph.extract.records import Citation, Extraction, Identity, Span, Task
from cchc.graph.extract.references import same_number
from cchc.graph.extract.tables import COLUMNS, Line, raw_rows, table_lines
from cchc.graph.extract.targets import find_targets
from cchc.graph.extract.taskrows import appendix_header, document_year, with_agencies_and_deadline

log = logging.getLogger(__name__)

_ARTICLE = re.compile(r"^[#*\s]*Điều 1\.")


def extract_appendix(src: SourceText, table: tuple[list[Line], int], info: DocumentInfo | None = None) -> Extraction:
    """Rows of an appendix task table, with the header's citations (the parent plan).  `table` is
    `table_lines(src)`, which the caller read to know the document is an appendix."""
    lines, table_start = table
    ex = Extraction(doc=src.doc, kind="appendix")
    head = [(n, t) for n, t in src.numbered(1, table_start - 1) if t.strip()]
    header_cites = find_citations(head, src.doc)
    year = document_year(info, head)
    ex.header = appendix_header(head, header_cites, year)
    ex.citations.extend(header_cites)
    for row in raw_rows(lines, ex.warnings, src.doc):
        cells = segment_row(row)
        text = {COLUMNS[c.column]: c.text for c in cells}
        if not text["content"]:
            ex.warnings.append(f"{src.doc}:{row.start}: row {row.section}.{row.no} has no content; skipped")
            continue
        cites: list[Citation] = []
        for c in cells[:2]:  # content and product cells name instruments; agency cells do not
            cites.extend(find_citations(list(c.parts), src.doc))
        all_lines = [row.start, *(n for c in cells for n in c.lines)]
        task = Task(
            span=Span(src.doc, row.start, max(all_lines)),
            section=row.section, section_title=row.section_title, no=row.no,
            content=text["content"], product=text["product"] or None,
            lead=(text["lead"],) if text["lead"] else (), cooperating=(text["cooperating"],)
            if text["cooperating"] else (),
            timeline=text["timeline"] or None, citations=tuple(cites), source="table",
        )
        ex.tasks.append(with_agencies_and_deadline(task, year))
        ex.citations.extend(cites)
        for c in cells:
            if not c.text and c.column in (2, 4):
                ex.warnings.append(f"{src.doc}:{row.start}: row {row.section}.{row.no} has no "
                                   f"{COLUMNS[c.column]} cell")
    ex.citations.sort(key=lambda c: (c.span.line, c.span.end_line))
    return ex


def extract_plan(src: SourceText, info: DocumentInfo | None = None) -> Extraction:
    """Units, tasks, targets and citations of a narrative plan."""
    res = extract_narrative(src)
    ex = Extraction(doc=src.doc, kind="narrative", header=dict(res.header), units=res.units,
                    warnings=list(res.warnings))
    ex.citations = assign_relations(src, find_citations(document_lines(src), src.doc))
    year = info.start_year if info else None
    ex.header.setdefault("year", year)
    for t in res.tasks:
        inside = tuple(c for c in ex.citations if t.span.line <= c.span.line <= t.span.end_line)
        ex.tasks.append(with_agencies_and_deadline(replace(t, citations=inside), year))
    ex.targets = find_targets(src, res.units)
    return ex


def extract_instrument(src: SourceText, identity: Identity, info: DocumentInfo | None = None) -> Extraction:
    """A legal instrument (Nghị định, Thông tư, Công văn, ...): citations with their relation, units, its identity.

    Its own number in the site's heading or metadata is the document itself, not a citation.
    """
    citations = assign_relations(src, find_citations(document_lines(src), src.doc))
    return Extraction(doc=src.doc, kind="instrument", identity=identity, units=article_units(src),
                      header={"title": identity.title, "year": int(identity.date[:4]) if identity.date else None},
                      citations=[c for c in citations
                                 if not (identity.id and c.numbered and same_number(c.id, identity.id))])


def _is_instrument(identity: Identity, src: SourceText) -> bool:
    plan_types = reference_data()["identity"]["plan_types"]
    if identity.type:
        return identity.type not in plan_types
    return bool(identity.id) or any(_ARTICLE.match(line) for line in src.lines)


def extract_source(src: SourceText, info: DocumentInfo | None = None) -> Extraction:
    """Extract one document, choosing the reader by what the text holds: task table, legal instrument or plan."""
    table = table_lines(src)
    if table[0]:
        ex = extract_appendix(src, table, info)
        if not ex.tasks:
            raise SourceError(src.path, "task table header found but no rows could be read")
        ex.identity = read_identity(src, "appendix", ex.header, info)
        return ex
    identity = read_identity(src, "plan", None, info)
    if _is_instrument(identity, src):
        return extract_instrument(src, replace(identity, kind="instrument"), info)
    ex = extract_plan(src, info)
    if not any(u.is_heading for u in ex.units) and not ex.tasks and identity.is_empty:
        raise SourceError(src.path, "no task table, no plan headings (I., 1., ...) and no document number or "
                                    "type found")
    ex.identity = identity
    return ex


def extract_document(doc: ReadDocument, info: DocumentInfo | None = None) -> Extraction:
    """Extract what a reader read: plain text as always; a Word or PDF task table from its cells,
    anything else from the reader's text (a Word plan reads as its paragraphs, numbered as printed)."""
    if doc.format == "text":
        return extract_source(doc.render(), info)
    ex = extract_cell_tables(doc, info)
    if ex is None:
        ex = extract_source(doc.render(), info)
        ex.format, ex.line_pages = doc.format, doc.line_pages
    elif ex.identity is None:
        ex.identity = read_identity(doc.render(), "appendix", ex.header, info)
    ex.tasks = [t if t.page is not None else replace(t, page=ex.page_of(t.span.line)) for t in ex.tasks]
    return ex


def extract_file(path: str | Path, info: DocumentInfo | None = None,
                 max_bytes: int = DEFAULT_MAX_SOURCE_BYTES) -> Extraction:
    """Read (any format `read_document` takes) and extract one file; SourceError names the file and the problem."""
    ex = extract_document(read_document(path, max_bytes), info)
    for w in ex.warnings:
        log.warning(w)
    return ex
