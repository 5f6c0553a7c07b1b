"""The agency registry: splitting agency cells, resolving names, 2025 lineage.

The plans name the same body many ways ("Văn phòng UBND tỉnh", "VP UBND
tỉnh", "Sở TT&TT", users typing "so noi vu"), and the 2025 restructuring
renamed or merged most departments, so tasks of 2023 and 2026 only line up
through a registry.  All names, abbreviations, split heads and successor
relations live in `data/agencies.toml`; this module only builds matchers.

Matching works on a *key*: folded (no diacritics, lower case), punctuation as
single spaces, with "ủy ban nhân dân"/"hội đồng nhân dân" shortened to
"ubnd"/"hdnd", so every spelling of one alias has one key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path

from cchc.graph.extract.reading import fold, squash
from cchc.graph.extract.records import AgencyMention

__all__ = [
    "DATA_FILE", "Agency", "Registry", "Succession", "agency_key", "find_agencies", "fold_offsets",
    "load_registry", "resolve_agency", "split_agencies",
]

DATA_FILE = Path(__file__).parent.parent / "data" / "agencies.toml"

_LONG_FORMS = (("uy ban nhan dan", "ubnd"), ("hoi dong nhan dan", "hdnd"))
# Between the words of a name in running text: spaces and the punctuation that
# abbreviations use ("TT&TT", "LĐ-TB&XH", "Cổng/Trang"), never ";" or ":".
_SEP = r"[\s,&\-–./]+"
_TOKEN_FORMS = {
    "ubnd": r"(?:ubnd|uy[\s]+ban[\s]+nhan[\s]+dan)",
    "hdnd": r"(?:hdnd|hoi[\s]+dong[\s]+nhan[\s]+dan)",
}
# What a cell may carry around a name: list bullets, counts ("4 Bệnh viện").
_LEAD_JUNK = re.compile(r"^(?:[-+•*–]\s*)+")
_TRIM = " ,;.:"
_PRIMARY = ("merge", "rename", "abolish")


def agency_key(text: str) -> str:
    """The matching key of a name: folded, punctuation-free, long forms shortened."""
    key = " ".join(re.sub(r"[^a-z0-9]+", " ", fold(text)).split())
    for long, short in _LONG_FORMS:
        key = re.sub(rf"\b{long}\b", short, key)
    return key


def fold_offsets(text: str) -> tuple[str, list[int]]:
    """`fold(text)` plus, for each folded character, its offset in `text`.

    Folding char by char keeps spans exact even for non-NFC input, where a
    combining mark folds to nothing.
    """
    folded = [_fold_char(c) for c in text]
    joined = "".join(folded)
    if len(joined) == len(text) and "" not in folded:  # each character folds to one: offsets are the positions
        return joined, list(range(len(text)))
    offsets = [i for i, f in enumerate(folded) for _ in f]
    return joined, offsets


@cache
def _fold_char(c: str) -> str:
    """fold() of one character; texts are made of a few hundred distinct ones, folded once each."""
    return fold(c)


def _key_pattern(key: str) -> str:
    return _SEP.join(_TOKEN_FORMS.get(tok, re.escape(tok)) for tok in key.split())


def _clean(text: str) -> str:
    return _LEAD_JUNK.sub("", squash(text)).strip(_TRIM)


@dataclass(frozen=True)
class Agency:
    """One registry entry; `is_group` for set phrases standing for many agencies."""

    id: str
    name: str
    level: str | None  # "tỉnh" | "huyện" | "xã" | "trung ương" | None (mixed)
    kind: str
    aliases: tuple[str, ...] = ()
    is_group: bool = False
    members: tuple[str, ...] = ()  # for a group: registry ids of the agencies (or groups) it stands for


@dataclass(frozen=True)
class Succession:
    """A dated successor relation of the 2025 restructuring."""

    predecessor: str
    successor: str
    date: str  # ISO date the successor took over
    kind: str  # "merge" | "rename" | "split" | "abolish"
    note: str = ""
    date_approximate: bool = False


class Registry:
    """Agencies, their aliases and successor relations, with the matchers built from them."""

    def __init__(self, agencies: list[Agency], successions: list[Succession],
                 heads: list[str], set_phrases: list[str]) -> None:
        self._by_id = {a.id: a for a in agencies}
        self._index: dict[str, str] = {}
        for a in agencies:
            for name in (a.name, *a.aliases):
                key = agency_key(name)
                if self._index.setdefault(key, a.id) != a.id:
                    raise ValueError(f"alias {name!r} of {a.id} already names {self._index[key]}")
        for phrase in set_phrases:
            if agency_key(phrase) not in self._index:
                raise ValueError(f"set phrase {phrase!r} is not a registry name or alias")
        for s in successions:
            for end in (s.predecessor, s.successor):
                if end not in self._by_id:
                    raise ValueError(f"succession names unknown agency {end!r}")
        for a in agencies:
            for m in a.members:
                if m not in self._by_id or m == a.id:
                    raise ValueError(f"group {a.id} lists unknown member {m!r}")
        self._successions = tuple(successions)
        self._heads = tuple(heads)
        self._keys = sorted(self._index, key=len, reverse=True)
        alternation = "|".join(_key_pattern(k) for k in self._keys)
        self._matcher = re.compile(rf"(?<![a-z0-9/\-])(?:{alternation})(?![a-z0-9])")

    # ------------------------------------------------------------ lookup

    def __iter__(self) -> Iterator[Agency]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, agency_id: object) -> bool:
        return agency_id in self._by_id

    def get(self, agency_id: str) -> Agency | None:
        return self._by_id.get(agency_id)

    def lookup(self, text: str) -> str | None:
        """Registry id for a printed name, or None.

        Exact key first, then with/without a leading "các", then the longest
        registry name the text starts with: cells qualify groups ("Các sở,
        ban, ngành có nội dung phân cấp") and names ("UBND tỉnh Lạng Sơn").
        """
        key = re.sub(r"^\d+ ", "", agency_key(_clean(text)))
        if not key:
            return None
        alt = key[4:] if key.startswith("cac ") else "cac " + key
        for k in (key, alt):
            if k in self._index:
                return self._index[k]
        for k in self._keys:
            if key.startswith(k + " ") or alt.startswith(k + " "):
                return self._index[k]
        return None

    def resolve(self, text: str) -> AgencyMention:
        """The printed name as an AgencyMention; unknown names keep their text, id None."""
        shown = _clean(text)
        agency_id = self.lookup(shown)
        agency = self._by_id.get(agency_id) if agency_id else None
        return AgencyMention(text=shown, agency_id=agency_id, is_group=bool(agency and agency.is_group))

    def find(self, text: str) -> list[tuple[int, int, AgencyMention]]:
        """Registry agencies named inside free text, as (start, end, mention) on `text`.

        Leftmost, longest name first, non-overlapping ("Văn phòng UBND tỉnh"
        is one office, not the office plus "UBND tỉnh").  A name glued to a
        number code is skipped ("02/KH-UBND" is not the committee).
        """
        folded, offsets = fold_offsets(text)
        found = []
        for m in self._matcher.finditer(folded):
            start, end = offsets[m.start()], offsets[m.end() - 1] + 1
            agency_id = self._index.get(agency_key(m.group()))
            if agency_id is None:  # cannot happen: every alternative is a key
                continue
            found.append((start, end, AgencyMention(text=text[start:end], agency_id=agency_id,
                                                    is_group=self._by_id[agency_id].is_group)))
        return found

    def split(self, cell: str) -> list[str]:
        """Split an agency cell into printed names (dev-gold convention).

        ";" always splits.  "," (or " và ") splits only outside a registry name
        and right before a new agency head ("UBND…", "Sở…") or another registry
        name, so set phrases ("Các sở, ban, ngành", "UBND cấp huyện, cấp xã")
        stay whole.
        """
        names: list[str] = []
        for part in squash(cell).split(";"):
            names.extend(self._split_part(part))
        return [n for n in (_clean(n) for n in names) if n]

    def _split_part(self, part: str) -> list[str]:
        folded, offsets = fold_offsets(part)
        spans = [(offsets[m.start()], offsets[m.end() - 1] + 1) for m in self._matcher.finditer(folded)]
        starts = {s for s, _ in spans}
        pieces, last = [], 0
        for m in re.finditer(r",|\s+và\s+", part):
            if any(s <= m.start() < e for s, e in spans):
                continue
            nxt = m.end() + len(part[m.end():]) - len(part[m.end():].lstrip())
            if nxt in starts or self._starts_with_head(part[nxt:]):
                pieces.append(part[last:m.start()])
                last = m.end()
        pieces.append(part[last:])
        return pieces

    def _starts_with_head(self, text: str) -> bool:
        return any(text.startswith(h) and (len(text) == len(h) or text[len(h)].isspace())
                   for h in self._heads)

    # ------------------------------------------------------------ groups

    def members(self, agency_id: str) -> list[str]:
        """The agencies a group stands for, transitively ("UBND cấp huyện, cấp xã" -> the district and commune
        groups -> each district); [] for a single agency."""
        out: list[str] = []
        queue = list(self._by_id[agency_id].members) if agency_id in self._by_id else []
        while queue:
            m = queue.pop(0)
            if m not in out and m != agency_id:
                out.append(m)
                queue.extend(self._by_id[m].members)
        return out

    def groups(self, agency_id: str) -> list[str]:
        """The groups that stand for agency_id among others, transitively (the inverse of `members`)."""
        return [g for g in self._by_id if agency_id in self.members(g)]

    # ------------------------------------------------------------ lineage

    @property
    def successions(self) -> tuple[Succession, ...]:
        return self._successions

    def _walk(self, agency_id: str, forward: bool, as_of: str | date | None,
              kinds: tuple[str, ...] | None = None) -> list[Succession]:
        """Relations reachable from agency_id, breadth first, primary kinds before splits."""
        cutoff = as_of.isoformat() if isinstance(as_of, date) else as_of
        seen, queue, out = {agency_id}, [agency_id], []
        while queue:
            cur = queue.pop(0)
            rels = [s for s in self._successions
                    if (s.predecessor if forward else s.successor) == cur
                    and (cutoff is None or s.date <= cutoff)
                    and (kinds is None or s.kind in kinds)]
            rels.sort(key=lambda s: (s.kind not in _PRIMARY, s.date))
            for s in rels:
                out.append(s)
                nxt = s.successor if forward else s.predecessor
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        return out

    def successors(self, agency_id: str, as_of: str | date | None = None) -> list[str]:
        """All agencies that took over agency_id's work (transitively), in effect by `as_of`."""
        return list(dict.fromkeys(s.successor for s in self._walk(agency_id, True, as_of)))

    def predecessors(self, agency_id: str, as_of: str | date | None = None) -> list[str]:
        """All agencies whose work agency_id took over (transitively)."""
        return list(dict.fromkeys(s.predecessor for s in self._walk(agency_id, False, as_of)))

    def current(self, agency_id: str, as_of: str | date | None = None) -> list[str]:
        """Who holds agency_id's main duties as of `as_of` (merge/rename/abolish chains, not splits)."""
        rels = self._walk(agency_id, True, as_of, _PRIMARY)
        ends = [s.successor for s in rels if not any(r.predecessor == s.successor for r in rels)]
        return list(dict.fromkeys(ends)) or [agency_id]

    def lineage(self, agency_id: str) -> list[Succession]:
        """The successor relations leading into and out of agency_id, by date."""
        rels = {*self._walk(agency_id, False, None), *self._walk(agency_id, True, None)}
        return sorted(rels, key=lambda s: (s.date, s.predecessor, s.successor))


def _load(path: Path) -> Registry:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    agencies = [Agency(id=a["id"], name=squash(a["name"]), level=a.get("level"), kind=a["kind"],
                       aliases=tuple(squash(x) for x in a.get("aliases", ())),
                       is_group=bool(a.get("is_group", False)), members=tuple(a.get("members", ())))
                for a in data.get("agency", [])]
    successions = [Succession(predecessor=s["predecessor"], successor=s["successor"], date=s["date"],
                              kind=s["kind"], note=s.get("note", ""),
                              date_approximate=bool(s.get("date_approximate", False)))
                   for s in data.get("succession", [])]
    split = data.get("split", {})
    return Registry(agencies, successions, [squash(h) for h in split.get("heads", [])],
                    [squash(p) for p in split.get("set_phrases", [])])


@lru_cache(maxsize=4)
def load_registry(path: str | Path | None = None) -> Registry:
    """The registry from `data/agencies.toml` (or `path`), parsed once per process."""
    return _load(Path(path) if path else DATA_FILE)


def split_agencies(cell: str) -> list[str]:
    """Split a CHỦ TRÌ / PHỐI HỢP cell into printed agency names."""
    return load_registry().split(cell)


def resolve_agency(text: str) -> AgencyMention:
    """Resolve one printed agency name against the registry."""
    return load_registry().resolve(text)


def find_agencies(text: str) -> list[tuple[int, int, AgencyMention]]:
    """Registry agencies named inside free text (plans, user queries), with offsets."""
    return load_registry().find(text)
