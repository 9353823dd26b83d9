"""agent delegation: which agent may delegate to which

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.tables

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_delegation",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("agent_id", sa.String(length=40), nullable=False),
        sa.Column("delegate_agent_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", bot.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_agent_delegation_account_id_account")),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_agent_delegation_agent_id_agent")),
        sa.ForeignKeyConstraint(["delegate_agent_id"], ["agent.id"],
                                name=op.f("fk_agent_delegation_delegate_agent_id_agent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_delegation")),
        sa.UniqueConstraint("agent_id", "delegate_agent_id",
                            name=op.f("uq_agent_delegation_agent_id_delegate_agent_id")),
    )
    op.create_index(op.f("ix_agent_delegation_account_id"), "agent_delegation", ["account_id"], unique=False)
    op.create_index(op.f("ix_agent_delegation_delegate_agent_id"), "agent_delegation", ["delegate_agent_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_agent_delegation_delegate_agent_id"), table_name="agent_delegation")
    op.drop_index(op.f("ix_agent_delegation_account_id"), table_name="agent_delegation")
    op.drop_table("agent_delegation")
