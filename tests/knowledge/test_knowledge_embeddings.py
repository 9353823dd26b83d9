"""The served embedding model: the ONNX export gives sentence-transformers' vectors, and a failed export says so."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from knowledge import embeddings
from knowledge.embeddings import Embedder, packaged_model_dir, shared_model
from tests.conftest import MODEL_CACHE

TEXTS = [
    "my wifi password is hunter2",
    "what is the wifi password?",
    "Café crème à 7 h, s'il vous plaît",
    "東京の天気はどうですか",
    "",
    "word " * 400,  # beyond the model's 256 tokens: cut, as sentence-transformers cuts it
]


def test_onnx_vectors_match_sentence_transformers() -> None:
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(packaged_model_dir(), device="cpu").encode(
        TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    served = shared_model(MODEL_CACHE).encode(TEXTS, batch_size=4)
    assert served.shape == (len(TEXTS), embeddings.DIMENSIONS)
    cosine = (served * reference).sum(axis=1)
    assert cosine.min() > 0.9999, cosine
    assert np.allclose(np.linalg.norm(served, axis=1), 1.0, atol=1e-5)


async def test_embedder_keeps_order_and_duplicates_across_batches() -> None:
    embedder = Embedder(cache_dir=MODEL_CACHE, batch_size=2)
    try:
        texts = ["b longer text here", "a", "b longer text here", "ccc", "a"]
        vectors = await embedder.embed(texts)
        alone = [await Embedder(cache_dir=MODEL_CACHE).embed_one(t) for t in texts]
        for got, want in zip(vectors, alone, strict=True):
            assert np.dot(got, want) > 0.9999
        assert vectors[0] == vectors[2] and vectors[1] == vectors[4]
    finally:
        embedder.close()


def test_failed_export_raises_a_clear_error_and_leaves_no_file(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(command: list[str], **options: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, "", "onnx exporter exploded")

    monkeypatch.setattr(embeddings.subprocess, "run", failing)
    with pytest.raises(RuntimeError, match="exporting the embedding model failed: onnx exporter exploded"):
        embeddings.compiled_model(tmp_path / "models")
    assert not list(tmp_path.rglob("*.onnx"))
