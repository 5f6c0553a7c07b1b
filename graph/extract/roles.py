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


# "các Sở: Y tế, Giáo dục và Đào tạo, Tài nguyên và Môi trường": departments listed after one shared "Sở".
_LISTED = re.compile(r"\b(?:các\s+)?Sở\s*:\s*(?P<names>[^.;:()]+)", re.I)
# An item's marker: "a)", "2.", "1.2.", "-", "+".
_ITEM = re.compile(r"^\s*(?:[a-zđ]\)|[0-9]+(?:\.[0-9]+)*\.?|[-+•*–])\s*")


def listed_departments(text: str) -> tuple[str, ...]:
    """Registry ids of the departments a "các Sở: A, B, C" list names (each is "Sở A", "Sở B", ...).

    Plans list several departments after one "Sở" ("Các Sở: Y tế, Giáo dục và
    Đào tạo, ..."); matched as printed, only the first looks like a name.
    """
    out: dict[str, None] = {}
    for m in _LISTED.finditer(text):
        for piece in m.group("names").split(","):
            # "Kế hoạch và Đầu tư" is one name; "Kế hoạch và Đầu tư và Văn phòng UBND tỉnh" ends the list
            names = [piece] if resolve_agency(f"Sở {piece.strip()}").agency_id else re.split(r"\s+và\s+", piece)
            ids = [resolve_agency(f"Sở {n.strip()}").agency_id for n in names if n.strip()]
            out.update((i, None) for i in ids if i)
            if not ids or not all(ids):
                return tuple(out)  # the list has ended ("... và Văn phòng UBND tỉnh" is found as printed)
    return tuple(out)


def _opening_agencies(text: str) -> tuple[str, ...]:
    """The agencies a passage opens with, as the subject of its sentence ("c) Công an tỉnh chỉ đạo ...",
    "a) Các Sở: Y tế, Giáo dục và Đào tạo, ... nâng cao ..."): they do what it says."""
    body = text[_ITEM.match(text).end():] if _ITEM.match(text) else text
    found = load_registry().find(body)
    if not found or found[0][0] != 0:
        listed = listed_departments(body) if re.match(r"(?:các\s+)?Sở\s*:", body, re.I) else ()
        return listed
    ids: list[str] = []
    end = 0
    for start, stop, mention in found:
        gap = body[end:start]
        if start and not re.fullmatch(r"\s*(?:,|;|và)?\s*", gap):
            break
        if mention.agency_id:
            ids.append(mention.agency_id)
        end = stop
    if re.match(r"\s*(?:và\s+)?(?:các\s+)?Sở\s*:", body[end:], re.I):
        ids.extend(listed_departments(body[end:]))
    if re.match(r"\s*(?:yêu cầu|đề nghị)\b", body[end:], re.I):
        return ()  # "UBND tỉnh yêu cầu Thủ trưởng các cơ quan ...": the subject asks others to act
    return tuple(dict.fromkeys(ids))


def stated_roles(text: str, heading_path: Sequence[str], is_heading: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Lead and cooperating agencies a narrative unit states without a task owning it.

    A label line names them ("Cơ quan chủ trì tham mưu: Sở Kế hoạch và Đầu
    tư"); a paragraph under a heading that is just an agency's name ("6. Sở
    Khoa học và Công nghệ") is that agency's duty, led by it unless it opens
    with "Phối hợp"; a passage that opens with agencies as its subject ("c) Công
    an tỉnh chỉ đạo công an cấp huyện ...") is theirs.
    """
    if m := _LABEL.match(text):
        ids = _ids(split_agencies(m.group("who").strip().rstrip(".")))
        return (ids, ()) if fold(m.group("role")).startswith("chu tri") else ((), ids)
    if is_heading:
        return (), ()
    if not heading_path:
        return _opening_agencies(text), ()
    heading = _HEADING_NO.sub("", heading_path[-1]).strip(" .:")
    reg = load_registry()
    agency = reg.lookup(heading)
    if agency is None or (a := reg.get(agency)) is None or \
            " ".join(re.findall(r"\w+", fold(heading))) not in {" ".join(re.findall(r"\w+", fold(n)))
                                                              for n in (a.name, *a.aliases)}:
        return _opening_agencies(text), ()  # only a heading that is the whole name, not one that starts with it
    return ((), (agency,)) if fold(text).startswith("phoi hop") else ((agency,), ())
