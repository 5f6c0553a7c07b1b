"""Agency roles a narrative unit states itself, where no task row names its lead and cooperating agencies.

Narrative plans assign duties in prose: a label line ("Cơ quan chủ trì: ...") or a
heading that is an agency's whole name with its duties below.  Reading that is
extraction, so it lives here; search only asks for the ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from cchc.graph.extract.agencies import load_registry, resolve_agency, split_agencies
from cchc.graph.extract.reading import fold

_LABEL = re.compile(r"^[-+•*–]?\s*Cơ quan (?P<role>chủ trì(?:\s+tham mưu)?|thực hiện|phối hợp)\s*:\s*(?P<who>.+)$",
                    re.I | re.S)
_HEADING_NO = re.compile(r"^\s*(?:[0-9]+(?:\.[0-9]+)*|[IVXLC]+|[a-zđ])[.)]\s*")


def _ids(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in (resolve_agency(n).agency_id for n in names) if i))


def stated_roles(text: str, heading_path: Sequence[str], is_heading: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Lead and cooperating agencies a narrative unit states without a task owning it.

    A label line names them ("Cơ quan chủ trì tham mưu: Sở Kế hoạch và Đầu
    tư"); a paragraph under a heading that is just an agency's name ("6. Sở
    Khoa học và Công nghệ") is that agency's duty, led by it unless it opens
    with "Phối hợp".
    """
    if m := _LABEL.match(text):
        ids = _ids(split_agencies(m.group("who").strip().rstrip(".")))
        return (ids, ()) if fold(m.group("role")).startswith("chu tri") else ((), ids)
    if is_heading or not heading_path:
        return (), ()
    heading = _HEADING_NO.sub("", heading_path[-1]).strip(" .:")
    reg = load_registry()
    agency = reg.lookup(heading)
    if agency is None or (a := reg.get(agency)) is None or \
            " ".join(re.findall(r"\w+", fold(heading))) not in {" ".join(re.findall(r"\w+", fold(n)))
                                                              for n in (a.name, *a.aliases)}:
        return (), ()  # only a heading that is the whole name, not one that starts with it
    return ((), (agency,)) if fold(text).startswith("phoi hop") else ((agency,), ())
