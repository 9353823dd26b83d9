"""budgets and spend shared by every server process; feature flags

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.tables

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "budget",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("limit_usd", sa.Float(), nullable=True),
        sa.Column("updated_at", bot.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_budget_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget")),
        sa.UniqueConstraint("account_id", "scope", "subject_id", name=op.f("uq_budget_account_id_scope_subject_id")),
    )
    op.create_table(
        "spend",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("spent_usd", sa.Float(), nullable=False),
        sa.Column("reserved_usd", sa.Float(), nullable=False),
        sa.Column("updated_at", bot.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_spend_account_id_account")),
        sa.PrimaryKeyConstraint("account_id", "scope", "subject_id", "period", name=op.f("pk_spend")),
    )
    op.create_table(
        "feature_flag",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", bot.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_flag")),
    )
    # The budgets set so far lived on the account and the user; a user's applied in every account they were in.
    op.execute("INSERT INTO budget (id, account_id, scope, subject_id, limit_usd, updated_at) "
               "SELECT 'ba' || id, id, 'account', id, monthly_budget_usd, created_at FROM account "
               "WHERE monthly_budget_usd IS NOT NULL")
    op.execute("INSERT INTO budget (id, account_id, scope, subject_id, limit_usd, updated_at) "
               "SELECT 'bm' || m.id, m.account_id, 'user', m.user_id, u.monthly_budget_usd, m.created_at "
               "FROM membership m JOIN user_profile u ON u.id = m.user_id WHERE u.monthly_budget_usd IS NOT NULL")


def downgrade() -> None:
    op.drop_table("feature_flag")
    op.drop_table("spend")
    op.drop_table("budget")
