"""pending questions, undo and named lists: triage asks for a missing slot, takes back the last change, and
keeps lists made before anything is on them

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.tables

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_list",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("list_name", sa.String(length=64), nullable=False),
        sa.Column("created_at", bot.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_profile.id"], name=op.f("fk_task_list_user_id_user_profile")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_list")),
        sa.UniqueConstraint("user_id", "list_name", name=op.f("uq_task_list_user_id_list_name")),
    )
    op.create_table(
        "pending_question",
        sa.Column("conversation_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("intent", sa.String(length=32), nullable=False),
        sa.Column("slot", sa.String(length=32), nullable=False),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("asked_at", bot.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", bot.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"],
                                name=op.f("fk_pending_question_conversation_id_conversation")),
        sa.ForeignKeyConstraint(["user_id"], ["user_profile.id"],
                                name=op.f("fk_pending_question_user_id_user_profile")),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_pending_question")),
    )
    op.create_table(
        "undo_entry",
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("created_at", bot.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_profile.id"], name=op.f("fk_undo_entry_user_id_user_profile")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_undo_entry")),
    )


def downgrade() -> None:
    op.drop_table("undo_entry")
    op.drop_table("pending_question")
    op.drop_table("task_list")
