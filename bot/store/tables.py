"""The schema, as SQLAlchemy Core tables. Names are singular, as in the reference guide.

Alembic migrations under `migrations/versions/` are the history; this module is the current shape and must
match the head revision (a test compares them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _id() -> Column[str]:
    return Column("id", String(40), primary_key=True)


def _fk(name: str, target: str, *, nullable: bool = False, index: bool = True) -> Column[str]:
    return Column(name, String(40), ForeignKey(f"{target}.id"), nullable=nullable, index=index)


def _created() -> Column[datetime]:
    return Column("created_at", UTCDateTime(), nullable=False)


account = Table(
    "account",
    metadata,
    _id(),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("status", String(16), nullable=False, default="active"),
    Column("monthly_budget_usd", Float, nullable=True),
    _created(),
)

user_profile = Table(
    "user_profile",
    metadata,
    _id(),
    Column("display_name", String(200), nullable=False),
    Column("status", String(16), nullable=False, default="active"),
    Column("timezone", String(64), nullable=True),
    Column("locale", String(16), nullable=True),
    Column("monthly_budget_usd", Float, nullable=True),
    _created(),
)

channel_identity = Table(
    "channel_identity",
    metadata,
    _id(),
    Column("channel_type", String(32), nullable=False),
    Column("external_id", String(255), nullable=False),
    _fk("user_id", "user_profile"),
    Column("display_name", String(200), nullable=True),
    _created(),
    UniqueConstraint("channel_type", "external_id"),
)

membership = Table(
    "membership",
    metadata,
    _id(),
    _fk("account_id", "account", index=False),
    _fk("user_id", "user_profile"),
    Column("role", String(16), nullable=False),
    _created(),
    UniqueConstraint("account_id", "user_id"),
)

agent = Table(
    "agent",
    metadata,
    _id(),
    _fk("account_id", "account", index=False),
    Column("slug", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("system_prompt", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False, default="active"),
    Column("model", String(200), nullable=True),
    Column("config", JSON, nullable=False, default=dict),
    _created(),
    UniqueConstraint("account_id", "slug"),
)

agent_tool = Table(
    "agent_tool",
    metadata,
    _id(),
    _fk("agent_id", "agent", index=False),
    Column("tool", String(64), nullable=False),
    Column("permission", String(16), nullable=False),  # read | write | admin: the highest trust it may use
    _created(),
    UniqueConstraint("agent_id", "tool"),
)

channel = Table(
    "channel",
    metadata,
    _id(),
    Column("slug", String(64), nullable=False, unique=True),
    Column("type", String(32), nullable=False),
    _fk("account_id", "account"),
    _fk("agent_id", "agent"),
    Column("status", String(16), nullable=False, default="active"),
    Column("config", JSON, nullable=False, default=dict),
    _created(),
)

conversation = Table(
    "conversation",
    metadata,
    _id(),
    _fk("channel_id", "channel", index=False),
    _fk("account_id", "account"),
    _fk("agent_id", "agent"),
    _fk("user_id", "user_profile"),
    Column("external_key", String(255), nullable=False),
    Column("title", String(200), nullable=True),
    _created(),
    UniqueConstraint("channel_id", "external_key"),
)

message = Table(
    "message",
    metadata,
    _id(),
    _fk("conversation_id", "conversation", index=False),
    _fk("channel_id", "channel", index=False),
    Column("external_id", String(255), nullable=True),
    Column("direction", String(8), nullable=False),
    _fk("user_id", "user_profile", nullable=True, index=False),
    Column("text", Text, nullable=False),
    _created(),
    UniqueConstraint("channel_id", "external_id"),
    Index("ix_message_conversation_id_id", "conversation_id", "id"),
)

interaction = Table(
    "interaction",
    metadata,
    _id(),
    _fk("account_id", "account"),
    _fk("agent_id", "agent", index=False),
    _fk("user_id", "user_profile"),
    _fk("conversation_id", "conversation"),
    _fk("channel_id", "channel", index=False),
    _fk("inbound_message_id", "message", index=False),
    _fk("reply_message_id", "message", nullable=True, index=False),
    _fk("parent_interaction_id", "interaction", nullable=True),
    Column("status", String(16), nullable=False),
    Column("tier", String(16), nullable=True),
    Column("intent", String(32), nullable=True),
    Column("error_code", String(32), nullable=True),
    Column("cost_usd", Float, nullable=False, default=0.0),
    Column("duration_ms", Float, nullable=True),
    _created(),
    Column("completed_at", UTCDateTime(), nullable=True),
    Index("ix_interaction_status", "status"),
    Index("ix_interaction_account_id_created_at", "account_id", "created_at"),
    Index("ix_interaction_user_id_created_at", "user_id", "created_at"),
)

step = Table(
    "step",
    metadata,
    _id(),
    _fk("interaction_id", "interaction"),
    Column("seq", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("name", String(64), nullable=True),
    Column("status", String(16), nullable=False),
    Column("duration_ms", Float, nullable=False, default=0.0),
    Column("tokens_in", Integer, nullable=False, default=0),
    Column("tokens_out", Integer, nullable=False, default=0),
    Column("cost_usd", Float, nullable=False, default=0.0),
    Column("error", Text, nullable=True),
    Column("detail", JSON, nullable=True),
    _created(),
)

audit_event = Table(
    "audit_event",
    metadata,
    _id(),
    _fk("account_id", "account", nullable=True),
    Column("actor", String(255), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target_type", String(32), nullable=True),
    Column("target_id", String(255), nullable=True),
    Column("detail", JSON, nullable=True),
    _created(),
)

api_key = Table(
    "api_key",
    metadata,
    _id(),
    _fk("account_id", "account"),
    Column("name", String(200), nullable=False),
    Column("prefix", String(32), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scopes", JSON, nullable=False),
    _created(),
    Column("revoked_at", UTCDateTime(), nullable=True),
)

platform_state = Table(
    "platform_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Replies a channel could not hand over yet (its platform was down or flood-limited), retried in the background
# and at start-up, oldest first per destination. Rows that went out on the first try are never written here.
outbox = Table(
    "outbox",
    metadata,
    _id(),
    Column("channel_type", String(32), nullable=False),
    Column("destination", String(255), nullable=False),  # the conversation key the text goes to
    Column("text", Text, nullable=False),
    Column("options", JSON, nullable=True),  # channel-specific: chat id, forum topic, message replied to
    _fk("interaction_id", "interaction", nullable=True, index=False),
    Column("dedupe_key", String(255), nullable=True),  # notices the channel sends itself: one per inbound message
    Column("status", String(16), nullable=False),  # pending | sent | blocked | failed | expired
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("last_error", Text, nullable=True),
    _created(),
    Column("sent_at", UTCDateTime(), nullable=True),
    UniqueConstraint("channel_type", "dedupe_key"),
    Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
)

# Chats that refused the bot (Telegram: 403, the user blocked it or removed it from the group). Nothing is sent
# there until the chat writes again; the row is removed then.
blocked_chat = Table(
    "blocked_chat",
    metadata,
    _id(),
    Column("channel_type", String(32), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("reason", Text, nullable=True),
    _created(),
    UniqueConstraint("channel_type", "chat_id"),
)

# Knowledge (issue 5). SQL is the truth; `index_state` is the row's standing with the derived vector index,
# committed with the row itself: pending (to embed), indexed, delete (vector to drop), purge (vector to drop,
# then the row), none.
knowledge_fact = Table(
    "knowledge_fact",
    metadata,
    _id(),
    _fk("account_id", "account", index=False),
    Column("scope", String(16), nullable=False),  # user | agent | team | account
    Column("scope_id", String(40), nullable=False),
    _fk("agent_id", "agent", nullable=True, index=False),
    Column("subject", String(200), nullable=False),
    Column("predicate", String(64), nullable=False, default="is"),
    Column("value", Text, nullable=False),
    Column("category", String(32), nullable=True),
    Column("confidence", Float, nullable=False, default=1.0),
    Column("locale", String(16), nullable=True),
    Column("source", String(16), nullable=False),  # triage | tool | extraction | admin
    _fk("source_interaction_id", "interaction", nullable=True, index=False),
    Column("superseded_by", String(40), nullable=True),
    Column("archived", Integer, nullable=False, default=0),
    Column("index_state", String(8), nullable=False, default="pending"),
    _created(),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_knowledge_fact_scope", "account_id", "scope", "scope_id", "archived", "subject"),
    Index("ix_knowledge_fact_index_state", "index_state"),
)

knowledge_document = Table(
    "knowledge_document",
    metadata,
    _id(),
    _fk("account_id", "account", index=False),
    Column("scope", String(16), nullable=False),
    Column("scope_id", String(40), nullable=False),
    Column("title", String(300), nullable=False),
    Column("media_type", String(64), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("chunks", Integer, nullable=False),
    Column("archived", Integer, nullable=False, default=0),
    _created(),
    Index("ix_knowledge_document_scope", "account_id", "scope", "scope_id"),
)

knowledge_chunk = Table(
    "knowledge_chunk",
    metadata,
    _id(),
    _fk("document_id", "knowledge_document"),
    Column("account_id", String(40), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("scope_id", String(40), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("archived", Integer, nullable=False, default=0),
    Column("index_state", String(8), nullable=False, default="pending"),
    _created(),
    Index("ix_knowledge_chunk_index_state", "index_state"),
)

# Work that outlives a message (jobs/): reminders, asynchronous tool calls waiting for a callback. The row is the
# truth; a server only holds a timer for the earliest due time. `claimed_by`/`claimed_at` record which process
# took a job (claims are conditional updates, so two servers never fire one job).
job = Table(
    "job",
    metadata,
    _id(),
    Column("number", Integer, nullable=False),  # per user, for chat: "cancel reminder 3"
    Column("type", String(32), nullable=False),  # reminder | callback | ...
    Column("state", String(16), nullable=False),  # pending running waiting resolved failed cancelled timed_out
    _fk("account_id", "account", index=False),
    _fk("user_id", "user_profile", index=False),
    _fk("agent_id", "agent", nullable=True, index=False),
    _fk("conversation_id", "conversation", nullable=True, index=False),
    _fk("channel_id", "channel", nullable=True, index=False),
    _fk("interaction_id", "interaction", nullable=True, index=False),  # the one that started it
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
    _created(),
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
    _id(),
    _fk("user_id", "user_profile", index=False),
    Column("list_name", String(64), nullable=False),
    Column("text", String(500), nullable=False),
    Column("status", String(8), nullable=False, default="open"),  # open | done
    _created(),
    Column("done_at", UTCDateTime(), nullable=True),
    Index("ix_task_user_id_list_name", "user_id", "list_name"),
)
