"""jobs and tasks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 09:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("agent_id", sa.String(length=40), nullable=True),
        sa.Column("conversation_id", sa.String(length=40), nullable=True),
        sa.Column("channel_id", sa.String(length=40), nullable=True),
        sa.Column("interaction_id", sa.String(length=40), nullable=True),
        sa.Column("due_at", bot.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("timeout_at", bot.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("recurrence", sa.JSON(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("observers", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("has_useful_output", sa.Boolean(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", bot.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", bot.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", bot.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("observed_at", bot.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_job_account_id_account")),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_job_agent_id_agent")),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"], name=op.f("fk_job_channel_id_channel")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"],
                                name=op.f("fk_job_conversation_id_conversation")),
        sa.ForeignKeyConstraint(["interaction_id"], ["interaction.id"],
                                name=op.f("fk_job_interaction_id_interaction")),
        sa.ForeignKeyConstraint(["user_id"], ["user_profile.id"], name=op.f("fk_job_user_id_user_profile")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
        sa.UniqueConstraint("call_id", name=op.f("uq_job_call_id")),
        sa.UniqueConstraint("user_id", "number", name=op.f("uq_job_user_id_number")),
    )
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.create_index("ix_job_state_due_at", ["state", "due_at"], unique=False)
        batch_op.create_index("ix_job_state_timeout_at", ["state", "timeout_at"], unique=False)
        batch_op.create_index("ix_job_account_id_created_at", ["account_id", "created_at"], unique=False)
    op.create_table(
        "task",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("list_name", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", bot.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", bot.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_profile.id"], name=op.f("fk_task_user_id_user_profile")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task")),
    )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index("ix_task_user_id_list_name", ["user_id", "list_name"], unique=False)


def downgrade() -> None:
    op.drop_table("task")
    op.drop_table("job")
