"""Reading source text: decoding, NFC normalisation and the line map.

The corpus is PDF-extracted text that mixes precomposed and combining
diacritics, so nothing may be matched before NFC.  Normalisation can change
character offsets but never line breaks, so records keep stable 1-based line
numbers that agree with `cat -n` on the original file.
"""

from __future__ import annotations

import bisect
import codecs
import hashlib
import os
import stat
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


MIB = 1 << 20
DEFAULT_MAX_SOURCE_BYTES = 64 * MIB  # the CLI and the app pass Settings.max_source_mb instead


def file_sha256(path: str | Path) -> str:
    """The hex SHA-256 of a file's bytes, read in blocks: what the store, the carry-over cache and the search
    index key a file's content by."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_source(path: str | Path, max_bytes: int = DEFAULT_MAX_SOURCE_BYTES) -> int:
    """Refuse what is not a regular file of at most `max_bytes` before any reader opens it; its size.

    `/dev/zero` would be read until memory runs out and a named pipe would block
    the reader forever: devices, pipes and sockets are refused by their type,
    without opening them.
    """
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise SourceError(p, "no such file") from None
    except OSError as exc:
        raise SourceError(p, f"cannot read: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise SourceError(p, "is a directory, expected a document file")
    if not stat.S_ISREG(st.st_mode):
        raise SourceError(p, f"not a regular file ({_file_type(st.st_mode)}); only document files are read")
    if st.st_size > max_bytes:
        raise SourceError(p, f"{st.st_size / MIB:.1f} MiB is over the {max_bytes / MIB:g} MiB limit for a source "
                             "file (raise it with --max-source-mb or CCHC_MAX_SOURCE_MB)")
    return st.st_size


def _file_type(mode: int) -> str:
    for test, name in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"


def read_source(path: str | Path, max_bytes: int = DEFAULT_MAX_SOURCE_BYTES) -> SourceText:
    """Read a text file (UTF-8, UTF-8 with BOM, UTF-16) into a SourceText.

    Raises SourceError for a missing path, a directory, a device or pipe, a file
    over `max_bytes`, an empty, binary or undecodable file, so the CLI can print
    one line and exit 2.  The type is checked again on the open descriptor
    (opened non-blocking), so a pipe swapped in after the check cannot hang us.
    """
    p = Path(path)
    check_source(p, max_bytes)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise SourceError(p, "not a regular file; only document files are read")
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise SourceError(p, f"cannot read: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise SourceError(p, f"grew over the {max_bytes / MIB:g} MiB limit for a source file while being read")
    text = _decode(p, data)
    if not text.strip():
        raise SourceError(p, "empty file (no text)")
    return SourceText.from_text(text, doc=p.name, path=str(p))
