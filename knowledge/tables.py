"""The knowledge extension's tables, on the store's metadata; their history is in `knowledge/migrations/`."""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text

from bot.store.columns import UTCDateTime, created_column, fk_column, id_column, metadata

# Knowledge (issue 5). SQL is the truth; `index_state` is the row's standing with the derived vector index,
# committed with the row itself: pending (to embed), indexed, delete (vector to drop), purge (vector to drop,
# then the row), none.
knowledge_fact = Table(
    "knowledge_fact",
    metadata,
    id_column(),
    fk_column("account_id", "account", index=False),
    Column("scope", String(16), nullable=False),  # user | agent | team | account
    Column("scope_id", String(40), nullable=False),
    fk_column("agent_id", "agent", nullable=True, index=False),
    Column("subject", String(200), nullable=False),
    Column("predicate", String(64), nullable=False, default="is"),
    Column("value", Text, nullable=False),
    Column("category", String(32), nullable=True),
    Column("confidence", Float, nullable=False, default=1.0),
    Column("locale", String(16), nullable=True),
    Column("source", String(16), nullable=False),  # triage | tool | extraction | admin
    fk_column("source_interaction_id", "interaction", nullable=True, index=False),
    Column("superseded_by", String(40), nullable=True),
    Column("archived", Integer, nullable=False, default=0),
    Column("index_state", String(8), nullable=False, default="pending"),
    created_column(),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_knowledge_fact_scope", "account_id", "scope", "scope_id", "archived", "subject"),
    Index("ix_knowledge_fact_index_state", "index_state"),
)

knowledge_document = Table(
    "knowledge_document",
    metadata,
    id_column(),
    fk_column("account_id", "account", index=False),
    Column("scope", String(16), nullable=False),
    Column("scope_id", String(40), nullable=False),
    Column("title", String(300), nullable=False),
    Column("media_type", String(64), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("chunks", Integer, nullable=False),
    Column("archived", Integer, nullable=False, default=0),
    created_column(),
    Index("ix_knowledge_document_scope", "account_id", "scope", "scope_id"),
)

knowledge_chunk = Table(
    "knowledge_chunk",
    metadata,
    id_column(),
    fk_column("document_id", "knowledge_document"),
    Column("account_id", String(40), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("scope_id", String(40), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("archived", Integer, nullable=False, default=0),
    Column("index_state", String(8), nullable=False, default="pending"),
    created_column(),
    Index("ix_knowledge_chunk_index_state", "index_state"),
)
