"""The one readable identifier of a task or passage: `<document stem>/<section>.<no>` or `<stem>/L<line>`.

A task used to have four names (`file.txt:III.9` in the CLI, `stem/III-9` in
the API, its IRI, `L113` for narrative tasks); people copy one from the CLI
into a URL and expect it to work.  This is the one every answer shows
(`langson-2026-cchc-phuluc/III.9`, `langson-2026-2030-cchc/III.1.1`), and
`parse_task_ref` reads every older form back so they still resolve.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

_SUFFIXES = (".txt", ".md", ".docx", ".pdf")
_LINE = re.compile(r"^L(\d+)$")


def stem_of(doc: str) -> str:
    """The document stem of a file name ("langson-2026-cchc-phuluc.txt" -> "langson-2026-cchc-phuluc")."""
    name = PurePosixPath(doc).name
    return name[: -len(PurePosixPath(name).suffix)] if name.lower().endswith(_SUFFIXES) else name


def task_ref(doc: str, section: str | None, no: str | None, line: int | None) -> str:
    """The readable id: the section and number as printed when the row has both, else the first line."""
    if section and no:
        return f"{stem_of(doc)}/{section}.{no}"
    return f"{stem_of(doc)}/L{line}"


@dataclass(frozen=True)
class TaskRef:
    """A task reference in any accepted form, split: the stem and either (section, no) or a line."""

    stem: str
    section: str | None = None
    no: str | None = None
    line: int | None = None


def parse_task_ref(text: str, iri_base: str | None = None) -> TaskRef | None:
    """Read `stem/III.9`, `stem/III-9`, `file.txt:III.9`, `stem/L113`, `file.txt:L113` or the task IRI.

    The section is the roman numeral (or letter) before the first "." or "-";
    the number keeps its own dots ("III.1.1" is section III, number 1.1).
    None when the text is none of these.
    """
    ref = text.strip().strip("/")
    if iri_base and ref.startswith(f"{iri_base}task/"):
        ref = ref[len(f"{iri_base}task/"):]
    if ":" in ref and "/" not in ref.split(":", 1)[0]:
        doc, rest = ref.split(":", 1)
    elif "/" in ref:
        doc, rest = ref.rsplit("/", 1) if ref.count("/") == 1 else ref.split("/", 1)
    else:
        return None
    stem = stem_of(doc)
    if not stem or not rest:
        return None
    if m := _LINE.match(rest):
        return TaskRef(stem, line=int(m.group(1)))
    m = re.match(r"^([^.\-]+)[.\-](.+)$", rest)
    if not m:
        return None
    return TaskRef(stem, m.group(1), m.group(2))
