"""Query understanding: the structured parts of a loosely typed question.

Most questions legal staff and planners ask are structured ("nhiệm vụ theo
NĐ 118", "Sở Tư pháp chủ trì năm 2026", "quý I/2026", "chuyển đổi số"); the
embedding model is not the lever for them.  This module finds instrument
references, agencies with their role, a time expression and CCHC fields, and
leaves the rest of the words for BM25 and the encoder.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from cchc.graph.extract.agencies import load_registry
from cchc.graph.extract.deadlines import parse_time_expression, recurrence_of
from cchc.graph.extract.reading import fold
from cchc.graph.extract.references import InstrumentRef, parse_reference
from cchc.ontology import FIELD, SKOS, load_ontology
from cchc.search.lexicon import expand, name_key

_LEAD = re.compile(r"\b(chu tri|chiu trach nhiem chinh|dau moi|phu trach)\b")
_COOP = re.compile(r"\b(phoi hop|tham gia)\b")
# "phối hợp (không chủ trì)", "không phải chủ trì mà phối hợp": a role word negated names the other role.
_NOT = re.compile(r"\b(?:khong(?: phai)?|chu khong|chang)\s+$")
_GENERIC = ("cai cach ", "cong tac ", "xay dung va phat trien ")
# Words that ask about time or point at "the tasks" without naming a topic (folded): what a question that only
# asks "what is due when" is made of. The rest of a query's words, outside its time, agency and instrument
# spans, are its topic ("hạn chót hoàn thành [số hóa hồ sơ] năm 2023").
NOT_TOPIC = frozenset("""
    han chot thoi gian hoan thanh khi nao cham nhat truoc sau trong ngay thang quy nam den tu xong phai lam gi
    nhiem vu viec cac nhung co duoc cua va cho de la theo ve tai voi nao bao gio luc dau cuoi giai doan ky
    thuc hien can muc tieu chi tieu dat ke hoach ban hanh cong viec chu tri phoi hop tham gia dau moi chiu trach
    chinh co quan don vi giao phu
    """.split())


@dataclass
class ParsedQuery:
    text: str
    instruments: list[InstrumentRef] = field(default_factory=list)
    named: list[str] = field(default_factory=list)  # unnumbered instruments named in the query
    agencies: list[str] = field(default_factory=list)  # registry ids
    role: str | None = None  # "lead" | "cooperating" | None
    period: tuple[date | None, date | None] | None = None
    year: int | None = None  # when the time expression is a whole year
    fields: list[str] = field(default_factory=list)  # CCHC field concept IRIs
    residual: str = ""  # the words left for lexical and dense matching
    lexical: str = ""  # the residual without the period's words (`lexical_query`)
    topic: list[str] = field(default_factory=list)  # folded content words outside time/agency/instrument/field spans
    asks_when: bool = False  # the question asks for a deadline ("thời hạn", "hạn chót", "khi nào", ...)
    recurring: bool = False  # it asks for a schedule ("báo cáo định kỳ khi nào", "kiểm tra hằng quý")

    @property
    def window(self) -> tuple[date | None, date | None] | None:
        """The time the question constrains: its period; for one that asks when and names no time ("chậm nhất
        ngày nào phải ban hành ..."), any stated deadline, so the passage that states one outranks its neighbours
        on the same topic that state none."""
        return self.period if self.period else ((None, None) if self.asks_when else None)

    @property
    def structured(self) -> bool:
        return bool(self.instruments or self.named or self.agencies or self.window or self.fields)

    @property
    def field_only(self) -> bool:
        """The question's only constraint is a CCHC field."""
        return bool(self.fields) and not (self.instruments or self.named or self.agencies or self.window)

    def topic_led(self, resolved: bool, min_words: int) -> bool:
        """Whether the topic leads and the constraints only lift the passages on it (`fusion.combine`'s mixed
        form): a period with a topic ("hạn chót số hoá hồ sơ năm 2023"), or a field the topic's own words name
        ("lắp camera giám sát nơi tiếp nhận hồ sơ thủ tục hành chính": every passage of the field is not an
        answer).  Not when the question names an instrument (`resolved`) or an agency's role ("Sở X chủ trì
        ... năm 2026"), nor a field with an agency ("việc của Sở Nội vụ về thủ tục hành chính"): those stay
        structured questions."""
        if resolved or self.role or len(self.topic) < min_words:
            return False
        return bool(self.window) or (bool(self.fields) and not self.agencies)

    def lexical_query(self, mixed: bool) -> str:
        """The BM25 query of a topic-led question with a period: its words without the period's ("" otherwise).

        The period is matched by the deadline and plan-year scores; left in the BM25 query, its words ("năm",
        "2025") lift the passages printing a year over the one on the topic ("năm 2025 xã phải số hóa bao nhiêu
        phần trăm hồ sơ": "trong năm" in a target on settling files outscored the target on digitising them).
        Dense matching and the evidence cut-off keep the whole residual (measured in bench/search_eval.md)."""
        return expand(self.lexical) if mixed and self.lexical else ""


def _role(folded: str) -> str | None:
    """The role a question asks about: a lead word before a cooperating one ("chủ trì, phối hợp với ..." asks
    who leads), unless the lead is negated ("phối hợp (không chủ trì)", "không phải chủ trì": a body that takes
    part)."""
    def said(pattern: re.Pattern[str]) -> tuple[bool, bool]:
        hits = [_NOT.search(folded[:m.start()]) is None for m in pattern.finditer(folded)]
        return any(hits), not all(hits)  # (said, negated somewhere)

    lead, not_lead = said(_LEAD)
    coop, _ = said(_COOP)
    if not_lead or (coop and not lead):
        return "cooperating"
    return "lead" if lead else None


@functools.cache
def _field_labels() -> list[tuple[str, str]]:
    """(folded label, concept IRI), longest first, from the ontology's SKOS scheme."""
    g = load_ontology()
    out: set[tuple[str, str]] = set()
    for s, p, o in g.triples((None, None, None)):
        if not str(s).startswith(str(FIELD)) or p not in (SKOS.prefLabel, SKOS.altLabel):
            continue
        label = re.sub(r"\s*\(.*?\)", "", fold(str(o))).strip()
        for prefix in _GENERIC:  # "cải cách thủ tục hành chính" is also asked as "thủ tục hành chính"
            if label.startswith(prefix) and len(label) > len(prefix) + 6:
                out.add((label[len(prefix):], str(s)))
        out.add((label, str(s)))
    return sorted(out, key=lambda x: -len(x[0]))


@functools.cache
def _field_patterns() -> list[tuple[re.Pattern[str], str]]:
    return [(_whole(label), iri) for label, iri in _field_labels()]


@functools.lru_cache(maxsize=4096)
def _whole(text: str) -> re.Pattern[str]:
    """`text` as a whole-word pattern (compiled once: every query tries every field label and named instrument)."""
    return re.compile(rf"(?<!\w){re.escape(text)}(?!\w)")


@functools.lru_cache(maxsize=4096)
def _named_keys(name: str) -> tuple[str, str]:
    return name_key(name), fold(name)


def _find_fields(folded: str) -> tuple[list[str], list[tuple[int, int]]]:
    found: list[str] = []
    spans: list[tuple[int, int]] = []
    for pattern, iri in _field_patterns():
        for m in pattern.finditer(folded):
            if any(a < m.end() and m.start() < b for a, b in spans):
                continue
            spans.append(m.span())
            if iri not in found:
                found.append(iri)
    return found, spans


# "Sở Giáo dục", "Sở Tài nguyên": how people shorten a department's name in a question (folded text).
_SHORT_SO = re.compile(r"\bso\s+([a-z]+)(?:\s+([a-z]+))?")


@functools.cache
def _so_names() -> tuple[tuple[str, str], ...]:
    """(folded name after "Sở ", id) of every single department in the registry."""
    names = ((" ".join(re.findall(r"[a-z0-9]+", fold(a.name))), a.id) for a in load_registry() if not a.is_group)
    return tuple((name[3:], i) for name, i in names if name.startswith("so "))


def _short_names(text: str, folded: str) -> list[tuple[int, int, str]]:
    """Departments named by the first words of their name ("Sở Giáo dục" is Sở Giáo dục và Đào tạo): a query
    only, where no document is parsed, and only when those words start exactly one department's name."""
    out = []
    for m in _SHORT_SO.finditer(folded):
        words = [w for w in m.groups() if w]
        for n in (len(words), 1):
            prefix = " ".join(words[:n])
            hits = {i for name, i in _so_names() if name == prefix or name.startswith(prefix + " ")}
            if len(hits) == 1:
                out.append((m.start(), m.start(1) + len(prefix), hits.pop()))
                break
    return out


# A horizon: "đến năm 2030", "tới 2027", "đến hết năm 2025" (folded text).
_HORIZON = re.compile(r"\b(?:den|toi)\s+(?:het\s+)?(?:nam\s+)?((?:19|20)\d{2})\b(?!\s*[-/])")
# How many years a horizon looks back: plans run in five-year periods (the socio-economic and CCHC plans of
# 2021-2025 and 2026-2030, with their stages), and "đến 2030 phải đạt ..." asks for what the period ending in
# 2030 sets, not for a commune's 2025 target that is also, trivially, reached before 2030.
HORIZON_YEARS = 5
# The question asks when something is due: "thời hạn", "hạn chót", "hạn ban hành ...", "khi nào", "lúc nào".
# Not "hạn chế" (limits), "hạn mức"; not the state of a file ("quá hạn", "trễ hạn", "đúng hạn", "trước hạn").
_ASKS_WHEN = re.compile(r"\b(?:khi nao|luc nao|bao gio|thoi gian hoan thanh|cham nhat|ngay nao|"
                        r"(?<!qua )(?<!tre )(?<!dung )(?<!truoc )han(?!\s+(?:che|muc)\b))\b")


def parse_query(text: str, known_named: Iterable[str] = ()) -> ParsedQuery:
    """Split a user query into structured constraints and residual words."""
    q = ParsedQuery(text=text)
    folded = fold(text)
    spans: list[tuple[int, int]] = []
    t = parse_time_expression(text)
    # Named instruments first ("Đề án 06" is a name the corpus cites, not document 06 of some type), matched
    # across abbreviations ("Luật Ban hành VBQPPL" = "... văn bản quy phạm pháp luật").
    qkey = name_key(text)
    for name in known_named:
        key, folded_name = _named_keys(name)
        if len(key.split()) < 2 or len(key) < 6 or not _whole(key).search(qkey):
            continue
        q.named.append(name)
        if m := _whole(folded_name).search(folded):
            spans.append(m.span())
    for ref in parse_reference(text):
        if t is not None and ref.type is None and ref.code is None and ref.start < t[2][1] and t[2][0] < ref.end:
            continue  # "tháng 3/2023" is a month, not document number 3 of 2023
        if any(a < ref.end and ref.start < b for a, b in spans):
            continue  # inside a named instrument
        q.instruments.append(ref)
        spans.append((ref.start, ref.end))
    instrument_spans = list(spans)
    for start, end, mention in load_registry().find(text):
        if mention.agency_id and not any(a < end and start < b for a, b in spans):
            if mention.agency_id not in q.agencies:
                q.agencies.append(mention.agency_id)
            spans.append((start, end))
    for start, end, agency_id in _short_names(text, folded):
        if not any(a < end and start < b for a, b in spans) and agency_id not in q.agencies:
            q.agencies.append(agency_id)
            spans.append((start, end))
    q.asks_when = _ASKS_WHEN.search(folded) is not None
    q.recurring = "dinh ky" in folded or recurrence_of(folded) not in (None, "continuous")
    q.role = _role(folded)
    if (h := _HORIZON.search(folded)) is not None and not any(a < h.end() and h.start() < b for a, b in spans):
        # "đến năm 2030", "đến 2030": by the end of that year: a horizon over the period that ends then, not the
        # year itself
        y = int(h.group(1))
        t = (date(y - HORIZON_YEARS + 1, 1, 1), date(y, 12, 31), h.span())
    if t is not None and not any(a < t[2][1] and t[2][0] < b for a, b in spans):
        q.period = (t[0], t[1])
        if t[0] and t[1] and t[0].month == 1 and t[0].day == 1 and t[1].month == 12 and t[1].day == 31 \
                and t[0].year == t[1].year:
            q.year = t[0].year
        spans.append(t[2])
    q.fields, field_spans = _find_fields(folded)
    # A field is a structured constraint too: "chuyển đổi số: việc phải xong năm 2023" asks for the field's tasks.
    taken = spans + field_spans
    outside = "".join(c if not any(a <= i < b for a, b in taken) else " " for i, c in enumerate(folded))
    q.topic = [w for w in re.findall(r"[a-z]+", outside) if w not in NOT_TOPIC]
    # Residual words: the query minus instrument and agency spans (fields and time stay: they are topical).
    keep = [c if not any(a <= i < b for a, b in instrument_spans) else " "
            for i, c in enumerate(text)]
    q.residual = " ".join("".join(keep).split())
    if q.period is not None and t is not None:
        a, b = t[2]
        q.lexical = " ".join("".join(c if not a <= i < b else " " for i, c in enumerate("".join(keep))).split())
    return q
