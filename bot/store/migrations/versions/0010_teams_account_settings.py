"""teams and account settings: team, team_member, agent.team_id, account.settings

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.tables

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "team",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False, server_default="active"),
        sa.Column("created_at", bot.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_team_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team")),
        sa.UniqueConstraint("account_id", "slug", name=op.f("uq_team_account_id_slug")),
        sa.UniqueConstraint("account_id", "name", name=op.f("uq_team_account_id_name")),
    )
    op.create_table(
        "team_member",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("team_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", bot.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], name=op.f("fk_team_member_team_id_team")),
        sa.ForeignKeyConstraint(["user_id"], ["user_profile.id"], name=op.f("fk_team_member_user_id_user_profile")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_member")),
        sa.UniqueConstraint("team_id", "user_id", name=op.f("uq_team_member_team_id_user_id")),
    )
    op.create_index(op.f("ix_team_member_user_id"), "team_member", ["user_id"])
    with op.batch_alter_table("agent") as batch:
        batch.add_column(sa.Column("team_id", sa.String(length=40), nullable=True))
        batch.create_index(batch.f("ix_agent_team_id"), ["team_id"])
        batch.create_foreign_key(batch.f("fk_agent_team_id_team"), "team", ["team_id"], ["id"])
    with op.batch_alter_table("account") as batch:
        batch.add_column(sa.Column("settings", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.drop_column("settings")
    with op.batch_alter_table("agent") as batch:
        batch.drop_constraint(batch.f("fk_agent_team_id_team"), type_="foreignkey")
        batch.drop_index(batch.f("ix_agent_team_id"))
        batch.drop_column("team_id")
    op.drop_index(op.f("ix_team_member_user_id"), table_name="team_member")
    op.drop_table("team_member")
    op.drop_table("team")
