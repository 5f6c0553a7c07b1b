"""Quantified targets of narrative plans ("100% TTHC ...", "nằm trong nhóm 35 tỉnh").

Only forward-looking numbers become targets.  The rule, per sentence:

- the unit sits under a MỤC TIÊU / CHỈ TIÊU heading ("II. MỤC TIÊU", "2. Chỉ tiêu
  cụ thể"), or the sentence carries a commitment cue ("phấn đấu", "bảo đảm",
  "đảm bảo", "chỉ tiêu", "tối thiểu", "ít nhất", "trở lên", "đạt", or is "100%");
- never a preamble paragraph (no heading above it: that is where plans review
  last year's results) nor a sentence that reads as a result ("xếp hạng 13/61",
  "đã đạt", "giảm 9 bậc so với năm 2021");
- counts ("02 sáng kiến", "04 cuộc") only right after an action verb or with a
  comparator, so "tập trung vào 6 nội dung" is not a target;
- days only with a bound ("không quá 5 ngày"), so "thời hạn từ 03 ngày" is a scope.

A target's span is the line its number is printed on, not the unit's first line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cchc.graph.extract.narrative import extract_narrative, line_of_offset, page_noise_lines
from cchc.graph.extract.reading import SourceText, fold, squash
from cchc.graph.extract.records import Span, Target, Unit

__all__ = ["find_targets", "parse_number"]

_NUM = r"(?P<num>\d{1,3}(?:[.,]\d{1,2})?)"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("pct", re.compile(_NUM + r"\s?%")),
    ("group", re.compile(r"nhóm\s+" + _NUM + r"\s+(?P<unit>tỉnh|xã|huyện|địa phương)")),
    ("rank", re.compile(r"xếp hạng thứ\s+" + _NUM + r"\s+(?P<unit>tỉnh|xã|huyện)")),
    ("step", re.compile(r"(?:tăng|giảm)\s+(?:(?:ít nhất|tối thiểu|tối đa)\s+)?" + _NUM
                        + r"\s+(?P<unit>bậc)")),
    ("point", re.compile(_NUM + r"\s+(?P<unit>điểm)")),
    ("days", re.compile(r"(?:tối đa|không quá|trong vòng|xuống còn|còn)\s+" + _NUM + r"\s+(?P<unit>ngày)")),
    ("level", re.compile(r"(?P<unit>cấp độ)\s+" + _NUM)),
    ("count", re.compile(_NUM + r"\s+(?P<unit>cuộc|sáng kiến|nội dung|đơn vị|lớp|mô hình|văn bản|đề án)\b")),
)
_CUE = re.compile(r"phấn đấu|bảo đảm|đảm bảo|chỉ tiêu|tối thiểu|ít nhất|trở lên|\bđạt\b|100\s?%", re.I)
_RESULT = re.compile(r"xếp hạng \d+/\d+|\bđã đạt|\bđạt được|(?:tăng|giảm) \d+ bậc so với", re.I)
_ACTION = re.compile(r"(?:xây dựng|thực hiện|tổ chức|ban hành|kiểm tra|giảm|cắt giảm|tăng|đào tạo|bồi dưỡng|"
                     r"thành lập|hoàn thành|triển khai)(?:\s+\S+){0,2}\s*$", re.I)
_GE = re.compile(r"(?:trên|hơn|ít nhất|tối thiểu|từ)\s*$", re.I)
_LE = re.compile(r"(?:dưới|tối đa|không quá|không vượt quá)\s*$", re.I)
_AT_LEAST_AFTER = re.compile(r"^\s*(?:\S+\s+){0,3}?trở lên")
_STATE = re.compile(r"\s(?:đạt|là|ở mức|chiếm|nằm trong|xếp hạng)\s", re.I)
_YEAR = re.compile(r"(?<!so với )(?<!tháng \d )(?<!tháng \d\d )năm\s+(20\d\d)", re.I)
_PERIOD = re.compile(r"(?<!so với )[Gg]iai đoạn\s+(20\d\d)\s*[-–]\s*(20\d\d)")
_FILLER = re.compile(r"^(?:[-+*•]\s*|\(?\d+(?:\.\d+)*[.)]\s*|[a-zđ]\)\s*|tiếp tục\s+|phấn đấu\s+)+", re.I)
_SUBJECT_WORDS = 12


def parse_number(text: str) -> float:
    """'43,85' -> 43.85 and '05' -> 5.0: Vietnamese decimal comma, leading zeros as printed."""
    return float(text.replace(",", "."))


def _in_target_section(unit: Unit) -> bool:
    for k, head in enumerate(unit.heading_path):
        body = fold(_FILLER.sub("", head)) if k else fold(re.sub(r"^[IVXLC]+\.\s*", "", head))
        if body.startswith(("muc tieu", "chi tieu")):
            return True
    return False


def _sentences(text: str) -> list[tuple[int, str]]:
    out, start = [], 0
    for m in re.finditer(r"[.!?][\"”)]?\s+(?=[\"“(]?[^\W\d_a-zđ])", text):
        out.append((start, text[start:m.end()]))
        start = m.end()
    out.append((start, text[start:]))
    return out


def _clause(sentence: str, pos: int) -> tuple[int, int]:
    """Bounds of the clause around `pos`: the parenthesis holding it, else ';', ':' or ', trong đó'."""
    for m in re.finditer(r"\([^()]*\)", sentence):
        if m.start() < pos < m.end():
            return m.start() + 1, m.end() - 1
    masked = re.sub(r"\([^()]*\)", lambda m: " " * len(m.group()), sentence)
    cuts = [m for m in re.finditer(r";|:\s|,\s*trong đó,?", masked)]
    lo = max((m.end() for m in cuts if m.end() <= pos), default=0)
    hi = min((m.start() for m in cuts if m.start() >= pos), default=len(sentence))
    return lo, hi


def _words(text: str, last: bool = False) -> str:
    text = re.sub(r"\s*\((?:[^()\s]+\s+){3,}[^()]*\)", "", text)  # drop long asides, keep "(PAR INDEX)"
    words = squash(re.sub(r"\btrở lên\b", "", text)).strip(" ,.;:-%").split()
    words = words[-5:] if last else words[:_SUBJECT_WORDS]
    return " ".join(words).strip(" ,.;:(")


def _subject(kind: str, sentence: str, start: int, end: int) -> str | None:
    """What is measured: the clause before "đạt"/"nằm trong", else the words around the number."""
    lo, hi = _clause(sentence, start)
    pre = sentence[lo:start]
    if kind in ("group", "rank") and lo > 0 and sentence[lo - 1] == "(":
        pre = sentence[:lo - 1]  # "nằm trong nhóm cao nhất (nhóm 15 tỉnh ...)": the subject is outside
    pre = _FILLER.sub("", squash(pre))
    if state := list(_STATE.finditer(" " + pre + " ")):
        return _words(pre[: max(state[-1].start() - 1, 0)]) or None
    if kind in ("group", "rank"):
        return _words(pre) or None
    pre = re.sub(r"\s*(?:trên|hơn|ít nhất|tối thiểu|tối đa|không quá|dưới|từ)$", "", pre, flags=re.I)
    post = re.split(r"\s(?:theo|tại|so với|và)\s|\(|\d", sentence[end:hi], maxsplit=1)[0].lstrip(" %")
    lead = pre if len(pre.split()) <= 4 and kind != "level" else ""
    return _words(f"{lead} {post}") or _words(pre, last=True) or None


def _comparator(kind: str, sentence: str, start: int, end: int) -> str:
    before, after = sentence[max(0, start - 20):start], sentence[end:end + 40]
    if kind == "group":
        return "bottom" if "thấp nhất" in after else "top"
    if kind == "rank":
        return "top" if _AT_LEAST_AFTER.search(after) else "="
    if _GE.search(before) or _AT_LEAST_AFTER.search(after):
        return ">="
    if _LE.search(before) or kind == "days":
        return "<="
    return "="


def _year(sentence: str, pos: int, path: Sequence[str]) -> str | None:
    years = [(abs(m.start() - pos), m.group(1)) for m in _YEAR.finditer(sentence)]
    if years:
        return min(years)[1]
    for text in (sentence, *reversed(path)):
        if m := _PERIOD.search(text):
            return f"{m.group(1)}-{m.group(2)}"
        if text is not sentence and (m := _YEAR.search(text)):
            return m.group(1)
    return None


def find_targets(src: SourceText, units: Sequence[Unit] | None = None) -> list[Target]:
    """Forward-looking quantified targets in the units of `src` (extracted when not given).

    `src` is needed so each target's span is the exact line its number is on.
    """
    units = extract_narrative(src).units if units is None else units
    noise = page_noise_lines(src)
    out: list[Target] = []
    for unit in units:
        if not unit.heading_path:
            continue  # preamble: last year's results, not targets
        in_targets = _in_target_section(unit)
        for s_off, sentence in _sentences(unit.text):
            if _RESULT.search(sentence) or not (in_targets or _CUE.search(sentence)):
                continue
            seen: set[int] = set()
            for kind, pattern in _PATTERNS:
                for m in pattern.finditer(sentence):
                    start, end = m.start("num"), m.end()
                    if start in seen:
                        continue
                    if kind == "count" and not (_ACTION.search(sentence[:start]) or
                                                _AT_LEAST_AFTER.search(sentence[end:end + 40]) or
                                                _GE.search(sentence[max(0, start - 20):start])):
                        continue
                    seen.add(start)
                    line = line_of_offset(src, unit, s_off + start, noise)
                    unit_name = m.group("unit") if "unit" in m.groupdict() and m.group("unit") else "%"
                    out.append(Target(
                        span=Span(src.doc, line, line), text=squash(sentence),
                        value=parse_number(m.group("num")), unit=unit_name,
                        comparator=_comparator(kind, sentence, start, end),
                        subject=_subject(kind, sentence, m.start(), m.end("num")),
                        year=_year(sentence, start, unit.heading_path)))
    out.sort(key=lambda t: (t.span.line, t.text))
    return out
