"""The jobs extension's tables, on the store's metadata; their history is in `jobs/migrations/`."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Index, Integer, String, Table, Text, UniqueConstraint

from bot.store.columns import UTCDateTime, created_column, fk_column, id_column, metadata

# Work that outlives a message (jobs/): reminders, asynchronous tool calls waiting for a callback. The row is the
# truth; a server only holds a timer for the earliest due time. `claimed_by`/`claimed_at` record which process
# took a job (claims are conditional updates, so two servers never fire one job).
job = Table(
    "job",
    metadata,
    id_column(),
    Column("number", Integer, nullable=False),  # per user, for chat: "cancel reminder 3"
    Column("type", String(32), nullable=False),  # reminder | callback | ...
    Column("state", String(16), nullable=False),  # pending running waiting resolved failed cancelled timed_out
    fk_column("account_id", "account", index=False),
    fk_column("user_id", "user_profile", index=False),
    fk_column("agent_id", "agent", nullable=True, index=False),
    fk_column("conversation_id", "conversation", nullable=True, index=False),
    fk_column("channel_id", "channel", nullable=True, index=False),
    fk_column("interaction_id", "interaction", nullable=True, index=False),  # the one that started it
    Column("due_at", UTCDateTime(), nullable=True),
    Column("timeout_at", UTCDateTime(), nullable=True),
    Column("timezone", String(64), nullable=False, default="UTC"),
    Column("recurrence", JSON, nullable=True),
    Column("payload", JSON, nullable=False, default=dict),
    Column("observers", JSON, nullable=False, default=list),  # [{"kind": "follow_up"}, ...]
    Column("result", JSON, nullable=True),
    Column("has_useful_output", Boolean, nullable=False, default=False),
    Column("call_id", String(64), nullable=True, unique=True),
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_at", UTCDateTime(), nullable=True),
    Column("runs", Integer, nullable=False, default=0),
    Column("error", Text, nullable=True),
    created_column(),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("observed_at", UTCDateTime(), nullable=True),  # observers told; unset after a crash -> told at start-up
    UniqueConstraint("user_id", "number"),
    Index("ix_job_state_due_at", "state", "due_at"),
    Index("ix_job_state_timeout_at", "state", "timeout_at"),
    Index("ix_job_account_id_created_at", "account_id", "created_at"),
)

# Per-user named lists (todo, shopping, anything typed).
task = Table(
    "task",
    metadata,
    id_column(),
    fk_column("user_id", "user_profile", index=False),
    Column("list_name", String(64), nullable=False),
    Column("text", String(500), nullable=False),
    Column("status", String(8), nullable=False, default="open"),  # open | done
    created_column(),
    Column("done_at", UTCDateTime(), nullable=True),
    Index("ix_task_user_id_list_name", "user_id", "list_name"),
)

# Lists a user made before putting anything on them ("make a packing list"); items live in `task`.
task_list = Table(
    "task_list",
    metadata,
    id_column(),
    fk_column("user_id", "user_profile", index=False),
    Column("list_name", String(64), nullable=False),
    created_column(),
    UniqueConstraint("user_id", "list_name"),
)
