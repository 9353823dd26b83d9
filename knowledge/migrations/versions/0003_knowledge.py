"""knowledge: facts, documents and chunks

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _scoped() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("scope_id", sa.String(length=40), nullable=False),
    ]


def upgrade() -> None:
    when = bot.store.tables.UTCDateTime(timezone=True)
    op.create_table(
        "knowledge_fact",
        *_scoped(),
        sa.Column("agent_id", sa.String(length=40), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("predicate", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_interaction_id", sa.String(length=40), nullable=True),
        sa.Column("superseded_by", sa.String(length=40), nullable=True),
        sa.Column("archived", sa.Integer(), nullable=False),
        sa.Column("index_state", sa.String(length=8), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_knowledge_fact_account_id_account")),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_knowledge_fact_agent_id_agent")),
        sa.ForeignKeyConstraint(["source_interaction_id"], ["interaction.id"],
                                name=op.f("fk_knowledge_fact_source_interaction_id_interaction")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_fact")),
    )
    op.create_index("ix_knowledge_fact_scope", "knowledge_fact",
                    ["account_id", "scope", "scope_id", "archived", "subject"])
    op.create_index("ix_knowledge_fact_index_state", "knowledge_fact", ["index_state"])
    op.create_table(
        "knowledge_document",
        *_scoped(),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("archived", sa.Integer(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"],
                                name=op.f("fk_knowledge_document_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_document")),
    )
    op.create_index("ix_knowledge_document_scope", "knowledge_document", ["account_id", "scope", "scope_id"])
    op.create_table(
        "knowledge_chunk",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("document_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("scope_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("archived", sa.Integer(), nullable=False),
        sa.Column("index_state", sa.String(length=8), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["knowledge_document.id"],
                                name=op.f("fk_knowledge_chunk_document_id_knowledge_document")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_chunk")),
    )
    op.create_index(op.f("ix_knowledge_chunk_document_id"), "knowledge_chunk", ["document_id"])
    op.create_index("ix_knowledge_chunk_index_state", "knowledge_chunk", ["index_state"])


def downgrade() -> None:
    op.drop_index("ix_knowledge_chunk_index_state", table_name="knowledge_chunk")
    op.drop_index(op.f("ix_knowledge_chunk_document_id"), table_name="knowledge_chunk")
    op.drop_table("knowledge_chunk")
    op.drop_index("ix_knowledge_document_scope", table_name="knowledge_document")
    op.drop_table("knowledge_document")
    op.drop_index("ix_knowledge_fact_index_state", table_name="knowledge_fact")
    op.drop_index("ix_knowledge_fact_scope", table_name="knowledge_fact")
    op.drop_table("knowledge_fact")
