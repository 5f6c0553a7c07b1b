"""Run a converted e5 model's encoder layers in ONNX Runtime, with sentence-transformers still in charge.

Why: one query is ~90% of a search's time and PyTorch spends it streaming
float32 weights (see :mod:`.q4_graph`). Swapping only the transformer call keeps
everything else where it was: sentence-transformers tokenises, applies the e5
prompts, pools and normalises; the embedding lookup stays in PyTorch. Imported
only when a model is loaded (it needs torch).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from transformers.modeling_outputs import BaseModelOutput

log = logging.getLogger(__name__)


class OnnxLayersModel(torch.nn.Module):
    """Stands in for a ``BertModel``: PyTorch embeddings, then the layers of an ONNX graph.

    The ONNX Runtime session follows PyTorch's intra-op thread count (one knob,
    ``torch.set_num_threads``, for either runtime: the server sets 1), and is
    re-created if that count changes.
    """

    runtime = "onnx"

    def __init__(self, bert: Any, graph_path: Path) -> None:
        super().__init__()
        self.embeddings = bert.embeddings  # the torch layers are dropped with ``bert``
        self.config = bert.config
        self.graph_path = Path(graph_path)
        self._session: Any = None
        self._threads = 0
        self._session_for(torch.get_num_threads())  # fail at load time, not at the first query

    def get_input_embeddings(self) -> torch.nn.Module:
        return self.embeddings.word_embeddings

    def _session_for(self, threads: int) -> Any:
        if self._session is None or threads != self._threads:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3  # ORT warns about unused initialisers and the like on stderr
            self._session = ort.InferenceSession(str(self.graph_path), options, providers=["CPUExecutionProvider"])
            self._threads = threads
            log.debug("onnxruntime session for %s with %d thread(s)", self.graph_path.name, threads)
        return self._session

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        **_: Any,
    ) -> BaseModelOutput:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        with torch.inference_mode():
            hidden = self.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
        session = self._session_for(torch.get_num_threads())
        feed = {"hidden": hidden.contiguous().numpy(), "attention_mask": attention_mask.to(torch.int64).numpy()}
        (out,) = session.run(["last_hidden_state"], feed)
        return BaseModelOutput(last_hidden_state=torch.from_numpy(out))


def attach_onnx_layers(st_model: Any, graph_path: Path) -> None:
    """Replace the transformer of ``st_model`` (module 0, a BertModel) by :class:`OnnxLayersModel`."""
    module = st_model[0]
    module.model = OnnxLayersModel(module.model, graph_path)
