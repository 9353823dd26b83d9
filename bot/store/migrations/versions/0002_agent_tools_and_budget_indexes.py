"""agent tools and budget indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 09:02:53.756421
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_tool",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("agent_id", sa.String(length=40), nullable=False),
        sa.Column("tool", sa.String(length=64), nullable=False),
        sa.Column("permission", sa.String(length=16), nullable=False),
        sa.Column("created_at", bot.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_agent_tool_agent_id_agent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_tool")),
        sa.UniqueConstraint("agent_id", "tool", name=op.f("uq_agent_tool_agent_id_tool")),
    )
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.create_index("ix_interaction_account_id_created_at", ["account_id", "created_at"], unique=False)
        batch_op.create_index("ix_interaction_user_id_created_at", ["user_id", "created_at"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.drop_index("ix_interaction_user_id_created_at")
        batch_op.drop_index("ix_interaction_account_id_created_at")

    op.drop_table("agent_tool")
