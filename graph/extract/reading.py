"""Reading source text: decoding, NFC normalisation and the line map.

The corpus is PDF-extracted text that mixes precomposed and combining
diacritics, so nothing may be matched before NFC.  Normalisation can change
character offsets but never line breaks, so records keep stable 1-based line
numbers that agree with `cat -n` on the original file.
"""

from __future__ import annotations

import bisect
import codecs
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path


class SourceError(ValueError):
    """A source file that cannot be read as text; the message names file and problem."""

    def __init__(self, path: str | Path, problem: str, line: int | None = None) -> None:
        self.path = str(path)
        self.problem = problem
        self.line = line
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {problem}")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def squash(text: str) -> str:
    """NFC with whitespace runs collapsed to one space, stripped."""
    return " ".join(nfc(text).split())


def fold(text: str) -> str:
    """Lower case without Vietnamese diacritics (đ -> d): for loose matching of user input."""
    text = nfc(text).lower().replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def join_lines(parts: Iterable[str]) -> str:
    """Join cell or paragraph lines as printed text.

    One space between lines, except that a line ending in a hyphen right after a
    non-space joins without one ("18-" + "NQ/TW" -> "18-NQ/TW").
    """
    out = ""
    for raw in parts:
        part = squash(raw)
        if not part:
            continue
        if not out:
            out = part
        elif out.endswith("-") and len(out) > 1 and not out[-2].isspace():
            out += part
        else:
            out += " " + part
    return out


def _utf16(path: Path, data: bytes, codec: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"undecodable bytes at byte {exc.start}: broken UTF-16 text") from None


def _decode(path: Path, data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _utf16(path, data, "utf-16")
    if b"\x00" in data:
        # UTF-16 without BOM shows as every other byte zero; anything else is binary.
        zeros_odd = data[1::2].count(0)
        zeros_even = data[0::2].count(0)
        half = len(data) // 2
        if half and zeros_odd > 0.3 * half and zeros_even < 0.05 * half:
            return _utf16(path, data, "utf-16-le")
        if half and zeros_even > 0.3 * half and zeros_odd < 0.05 * half:
            return _utf16(path, data, "utf-16-be")
        raise SourceError(path, "binary file (NUL bytes), not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceError(path, f"undecodable bytes at byte {exc.start}: not UTF-8 or UTF-16 text",
                          line=line) from None


@dataclass(frozen=True)
class SourceText:
    """A decoded, NFC-normalised source with its line map.

    `lines[i]` is physical line i+1 (no newline).  `text` is the lines joined
    with "\\n", and `line_of(offset)` maps a character offset back to a line.
    """

    path: str
    doc: str
    lines: tuple[str, ...]
    _starts: tuple[int, ...] = field(repr=False, compare=False, default=())

    @classmethod
    def from_text(cls, text: str, doc: str, path: str | None = None) -> SourceText:
        text = nfc(text.replace("\r\n", "\n").replace("\r", "\n"))
        lines = tuple(text.split("\n"))
        if lines and lines[-1] == "":
            lines = lines[:-1]
        starts, pos = [], 0
        for ln in lines:
            starts.append(pos)
            pos += len(ln) + 1
        return cls(path=path or doc, doc=doc, lines=lines, _starts=tuple(starts))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def line(self, n: int) -> str:
        """Physical line n (1-based)."""
        return self.lines[n - 1]

    def line_of(self, offset: int) -> int:
        """1-based line holding character `offset` of `text`."""
        return bisect.bisect_right(self._starts, offset)

    def offset_of(self, line: int) -> int:
        return self._starts[line - 1]

    def numbered(self, start: int = 1, end: int | None = None) -> Iterator[tuple[int, str]]:
        """(line number, text) pairs for lines start..end inclusive."""
        end = len(self.lines) if end is None else end
        for n in range(start, end + 1):
            yield n, self.lines[n - 1]


def read_source(path: str | Path) -> SourceText:
    """Read a text file (UTF-8, UTF-8 with BOM, UTF-16) into a SourceText.

    Raises SourceError for a missing path, a directory, an empty, binary or
    undecodable file, so the CLI can print one line and exit 2.
    """
    p = Path(path)
    if not p.exists():
        raise SourceError(p, "no such file")
    if p.is_dir():
        raise SourceError(p, "is a directory, expected a text file")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise SourceError(p, f"cannot read: {exc.strerror}") from None
    text = _decode(p, data)
    if not text.strip():
        raise SourceError(p, "empty file (no text)")
    return SourceText.from_text(text, doc=p.name, path=str(p))
