"""Export the packaged MiniLM to ONNX once: `python -m knowledge.onnx_export OUT.onnx`.

The graph takes token ids and the attention mask and returns unit-length sentence vectors (mean pooling and
normalisation inside, as sentence-transformers does for this model), so serving needs only onnxruntime and the
tokenizer. It runs in a child process (see `embeddings.compiled_model`): torch and transformers cost seconds to
import and hundreds of MB that the server would otherwise keep for its lifetime.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import knowledge  # noqa: F401  (offline hub settings before transformers is imported)


def export(model_dir: str, out: Path) -> None:
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(model_dir)
    model.eval()

    class SentenceVectors(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=1)

    sample = (torch.ones((2, 8), dtype=torch.long), torch.ones((2, 8), dtype=torch.long))
    partial = out.with_name(f"{out.name}.{os.getpid()}.partial")
    with torch.inference_mode():
        torch.onnx.export(SentenceVectors(), sample, str(partial), input_names=["input_ids", "attention_mask"],
                          output_names=["embedding"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                        "attention_mask": {0: "batch", 1: "tokens"}, "embedding": {0: "batch"}})
    os.replace(partial, out)  # readers see the whole file or none


if __name__ == "__main__":
    from knowledge.embeddings import packaged_model_dir

    target = Path(sys.argv[1])
    target.parent.mkdir(parents=True, exist_ok=True)
    export(packaged_model_dir(), target)
