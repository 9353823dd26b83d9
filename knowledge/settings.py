"""The knowledge extension's settings block (`THINKLIO_KNOWLEDGE_*`, the Chroma server, the model cache)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from config.settings import Settings


class KnowledgeSettings(Settings):
    """Facts in SQL, a derived Chroma index (embedded under data_dir/chroma by default)."""

    chroma_url: str | None = None  # a Chroma server, e.g. http://localhost:8000; None: embedded, on disk
    model_cache_dir: Path | None = None  # the embedding model exported to ONNX once; None: data_dir/models
    knowledge_context_tokens: int = Field(300, ge=0)  # facts in the model's system prompt, at most
    knowledge_search_limit: int = Field(8, ge=1, le=50)
    knowledge_index_shards: int = Field(16, ge=1, le=512)  # Chroma collections; change -> reindex
    knowledge_max_document_bytes: int = Field(10 * 1024 * 1024, ge=1024)  # per HTTP upload
    knowledge_chunk_chars: int = Field(900, ge=200)  # MiniLM reads about 256 tokens; longer chunks are cut
    knowledge_embed_batch: int = Field(64, ge=1)
    knowledge_extract: bool = True  # learn facts the user states about themselves, after turns the model answered
    # The model proposes facts too (one call per turn that has a first-person statement). auto: when the model is
    # an endpoint (openai); the small embedded model invents facts, so there only the rule-based extractor runs.
    knowledge_extract_with_model: Literal["auto", "on", "off"] = "auto"
    knowledge_extract_model: str | None = None  # the model that proposes facts; None: the agent's model
    knowledge_extract_min_confidence: float = Field(0.6, ge=0.0, le=1.0)

    @property
    def resolved_model_cache_dir(self) -> Path:
        return (self.model_cache_dir or self.data_dir / "models").resolve()

