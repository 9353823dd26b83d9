"""user deletion: the durable progress of a GDPR deletion, so a crash mid-way resumes at start-up

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.tables

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_deletion",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=True),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("created_at", bot.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", bot.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_deletion")),
    )
    op.create_index(op.f("ix_user_deletion_user_id"), "user_deletion", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_user_deletion_user_id"), table_name="user_deletion")
    op.drop_table("user_deletion")
