"""The embedding model through onnxruntime: a query embedded without importing torch.

Importing sentence-transformers (torch, transformers) costs seconds; a one-line
``catalog search`` spends most of its time there. The same all-MiniLM-L6-v2 weights,
exported once to ONNX (:func:`export`, run by ``scripts/bootstrap.sh``), give the same
vectors (cosine > 0.9999 with the sentence-transformers ones) from onnxruntime and the
``tokenizers`` library: the tokenizer of the model's own ``tokenizer.json``, mean pooling
over the attention mask, L2 normalisation, as the model's ``modules.json`` prescribes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

ONNX_FILE = "model.onnx"


def onnx_dir(model_dir: str) -> Path:
    """Where the ONNX export of a model lives: ``CATALOG_ONNX_DIR`` or the user's cache."""
    configured = os.environ.get("CATALOG_ONNX_DIR")
    if configured:
        return Path(configured)
    name = Path(model_dir).resolve().parent.name or "model"
    return Path.home() / ".cache" / "metadata-catalog" / "onnx" / name


def available(model_dir: str) -> bool:
    """Whether an ONNX export and onnxruntime are both there."""
    if not (onnx_dir(model_dir) / ONNX_FILE).is_file():
        return False
    try:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError:
        return False
    return True


class OnnxEncoder:
    """Sentence embeddings from an ONNX transformer: tokenise, run, mean-pool, normalise."""

    def __init__(self, model_dir: str | None = None, *, onnx_file: Path | None = None,
                 tokenizer_file: Path | None = None, max_length: int | None = None,
                 threads: int = 1) -> None:
        """The export of a sentence-transformers model folder (``model_dir``), or the
        given ONNX file and ``tokenizer.json`` (a Maven-shipped model)."""
        import onnxruntime
        from tokenizers import Tokenizer

        if model_dir is not None:
            config = json.loads((Path(model_dir) / "sentence_bert_config.json").read_text())
            max_length = max_length or int(config.get("max_seq_length", 256))
            tokenizer_file = tokenizer_file or Path(model_dir) / "tokenizer.json"
            onnx_file = onnx_file or onnx_dir(model_dir) / ONNX_FILE
        if onnx_file is None or tokenizer_file is None:
            raise ValueError("an ONNX encoder needs a model folder or its two files")
        self.max_length = max_length or 512
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(self.max_length)
        self.tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        self.session = onnxruntime.InferenceSession(
            str(onnx_file), options, providers=["CPUExecutionProvider"]
        )

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors of texts."""
        batch = self.tokenizer.encode_batch(texts)
        ids = np.asarray([e.ids for e in batch], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in batch], dtype=np.int64)
        types = np.asarray([e.type_ids for e in batch], dtype=np.int64)
        hidden = self.session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        )[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def export(model_dir: str, target: Path | None = None) -> Path:
    """Export the model's transformer to ONNX (needs torch and onnx; run once)."""
    import torch
    from transformers import AutoModel

    target = target or onnx_dir(model_dir) / ONNX_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    model: Any = AutoModel.from_pretrained(model_dir).eval()

    class _Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    ids = torch.ones((1, 8), dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    partial = target.with_name(target.name + ".partial")
    torch.onnx.export(
        _Hidden(), (ids, ids, torch.zeros_like(ids)), str(partial),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["last_hidden_state"],
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                      "last_hidden_state": axes},
        opset_version=17, dynamo=False,
    )
    os.replace(partial, target)
    return target
