"""The schema, as SQLAlchemy Core tables. Names are singular, as in the reference guide.

Alembic migrations under `migrations/versions/` are the history; this module is the current shape and must
match the head revision (a test compares them). Extensions define their own tables on the same `metadata`
(`knowledge/tables.py`, `jobs/tables.py`) and ship their migrations beside them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# UTCDateTime is imported from here by the migrations (bot.store.tables.UTCDateTime): keep the name.
from bot.store.columns import UTCDateTime, created_column, fk_column, id_column, metadata

account = Table(
    "account",
    metadata,
    id_column(),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("status", String(16), nullable=False, default="active"),
    Column("monthly_budget_usd", Float, nullable=True),
    # Validated account settings (bot/account_settings.py): only the keys set differ from the defaults.
    Column("settings", JSON, nullable=True),
    created_column(),
)

user_profile = Table(
    "user_profile",
    metadata,
    id_column(),
    Column("display_name", String(200), nullable=False),
    Column("status", String(16), nullable=False, default="active"),
    Column("timezone", String(64), nullable=True),
    Column("locale", String(16), nullable=True),
    Column("monthly_budget_usd", Float, nullable=True),
    created_column(),
)

channel_identity = Table(
    "channel_identity",
    metadata,
    id_column(),
    Column("channel_type", String(32), nullable=False),
    Column("external_id", String(255), nullable=False),
    fk_column("user_id", "user_profile"),
    Column("display_name", String(200), nullable=True),
    created_column(),
    UniqueConstraint("channel_type", "external_id"),
)

membership = Table(
    "membership",
    metadata,
    id_column(),
    fk_column("account_id", "account", index=False),
    fk_column("user_id", "user_profile"),
    Column("role", String(16), nullable=False),  # owner | admin | member | readonly (bot/governance/roles.py)
    # suspended: this account's admins blocked the user here (the user's own status blocks them everywhere)
    Column("status", String(16), nullable=False, server_default="active"),
    created_column(),
    UniqueConstraint("account_id", "user_id"),
)

agent = Table(
    "agent",
    metadata,
    id_column(),
    fk_column("account_id", "account", index=False),
    Column("slug", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("system_prompt", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False, default="active"),
    Column("model", String(200), nullable=True),
    Column("config", JSON, nullable=False, default=dict),
    created_column(),
    # The team it works for (bot/governance/teams.py); None: the whole account.
    fk_column("team_id", "team", nullable=True),
    UniqueConstraint("account_id", "slug"),
)

# Teams within an account (reference 33.1): members with a team role, agents assigned to it, team-scoped
# knowledge. Archiving keeps the rows (knowledge and audit stay); its agents then refuse new interactions.
team = Table(
    "team",
    metadata,
    id_column(),
    fk_column("account_id", "account", index=False),
    Column("slug", String(64), nullable=False),
    Column("name", String(100), nullable=False),
    Column("status", String(16), nullable=False, server_default="active"),  # active | archived
    created_column(),
    UniqueConstraint("account_id", "slug"),
    UniqueConstraint("account_id", "name"),
)

team_member = Table(
    "team_member",
    metadata,
    id_column(),
    fk_column("team_id", "team", index=False),
    fk_column("user_id", "user_profile"),
    Column("role", String(16), nullable=False),  # admin | member | readonly (in the team)
    created_column(),
    UniqueConstraint("team_id", "user_id"),
)

agent_tool = Table(
    "agent_tool",
    metadata,
    id_column(),
    fk_column("agent_id", "agent", index=False),
    Column("tool", String(64), nullable=False),
    Column("permission", String(16), nullable=False),  # read | write | admin: the highest trust it may use
    created_column(),
    UniqueConstraint("agent_id", "tool"),
)

# Which agent may delegate to which (reference 21.5): the delegate is offered to the agent's model as a tool
# (agents/delegation.py). Both agents are of the same account; composing a cycle is refused by /agent delegate.
agent_delegation = Table(
    "agent_delegation",
    metadata,
    id_column(),
    fk_column("account_id", "account"),
    fk_column("agent_id", "agent", index=False),
    fk_column("delegate_agent_id", "agent"),
    created_column(),
    UniqueConstraint("agent_id", "delegate_agent_id"),
)

channel = Table(
    "channel",
    metadata,
    id_column(),
    Column("slug", String(64), nullable=False, unique=True),
    Column("type", String(32), nullable=False),
    fk_column("account_id", "account"),
    fk_column("agent_id", "agent"),
    Column("status", String(16), nullable=False, default="active"),
    Column("config", JSON, nullable=False, default=dict),
    created_column(),
)

conversation = Table(
    "conversation",
    metadata,
    id_column(),
    fk_column("channel_id", "channel", index=False),
    fk_column("account_id", "account"),
    fk_column("agent_id", "agent"),
    fk_column("user_id", "user_profile"),
    Column("external_key", String(255), nullable=False),
    Column("title", String(200), nullable=True),
    created_column(),
    UniqueConstraint("channel_id", "external_key"),
)

message = Table(
    "message",
    metadata,
    id_column(),
    fk_column("conversation_id", "conversation", index=False),
    fk_column("channel_id", "channel", index=False),
    Column("external_id", String(255), nullable=True),
    Column("direction", String(8), nullable=False),
    fk_column("user_id", "user_profile", nullable=True, index=False),
    Column("text", Text, nullable=False),
    Column("attachments", JSON, nullable=True),  # [Attachment.to_json()]: files are fetched from the channel
    # What the channel needs to answer in the right place after a restart (an email's Message-ID and
    # References, a Slack thread's ts): the inbound message's `metadata`, kept as it came.
    Column("metadata", JSON, nullable=True),
    created_column(),
    UniqueConstraint("channel_id", "external_id"),
    Index("ix_message_conversation_id_id", "conversation_id", "id"),
)

interaction = Table(
    "interaction",
    metadata,
    id_column(),
    fk_column("account_id", "account"),
    fk_column("agent_id", "agent", index=False),
    fk_column("user_id", "user_profile"),
    fk_column("conversation_id", "conversation"),
    fk_column("channel_id", "channel", index=False),
    fk_column("inbound_message_id", "message", index=False),
    fk_column("reply_message_id", "message", nullable=True, index=False),
    fk_column("parent_interaction_id", "interaction", nullable=True),
    Column("status", String(16), nullable=False),
    Column("tier", String(16), nullable=True),
    Column("intent", String(32), nullable=True),
    Column("error_code", String(32), nullable=True),
    Column("cost_usd", Float, nullable=False, default=0.0),
    Column("duration_ms", Float, nullable=True),
    created_column(),
    Column("completed_at", UTCDateTime(), nullable=True),
    Index("ix_interaction_status", "status"),
    Index("ix_interaction_account_id_created_at", "account_id", "created_at"),
    Index("ix_interaction_user_id_created_at", "user_id", "created_at"),
)

step = Table(
    "step",
    metadata,
    id_column(),
    fk_column("interaction_id", "interaction"),
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
    created_column(),
)

audit_event = Table(
    "audit_event",
    metadata,
    id_column(),
    fk_column("account_id", "account", nullable=True),
    Column("actor", String(255), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target_type", String(32), nullable=True),
    Column("target_id", String(255), nullable=True),
    Column("detail", JSON, nullable=True),
    created_column(),
)

api_key = Table(
    "api_key",
    metadata,
    id_column(),
    fk_column("account_id", "account"),
    Column("name", String(200), nullable=False),
    Column("prefix", String(32), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scopes", JSON, nullable=False),
    created_column(),
    Column("revoked_at", UTCDateTime(), nullable=True),
)

platform_state = Table(
    "platform_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Messages a channel could not hand over yet (its platform was down or flood-limited), retried in the background
# and at start-up, oldest first per destination (bot/outbox.py). Rows that went out on the first try are never
# written here.
outbox = Table(
    "outbox",
    metadata,
    id_column(),
    Column("channel_type", String(32), nullable=False),
    Column("destination", String(255), nullable=False),  # the conversation key the text goes to
    Column("text", Text, nullable=False),
    Column("options", JSON, nullable=True),  # channel-specific: chat id, forum topic, message replied to
    fk_column("interaction_id", "interaction", nullable=True, index=False),
    Column("dedupe_key", String(255), nullable=True),  # notices the channel sends itself: one per inbound message
    Column("status", String(16), nullable=False),  # pending | sent | blocked | failed | expired
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("last_error", Text, nullable=True),
    created_column(),
    Column("sent_at", UTCDateTime(), nullable=True),
    # The worker sending this row now (one process of several; bot/outbox.py), until `lease_until`.
    Column("lease_owner", String(40), nullable=True),
    Column("lease_until", UTCDateTime(), nullable=True),
    UniqueConstraint("channel_type", "dedupe_key"),
    Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
)

# Chats that refused the bot (Telegram: 403, the user blocked it or removed it from the group). Nothing is sent
# there until the chat writes again; the row is removed then.
blocked_chat = Table(
    "blocked_chat",
    metadata,
    id_column(),
    Column("channel_type", String(32), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("reason", Text, nullable=True),
    created_column(),
    UniqueConstraint("channel_type", "chat_id"),
)

# A question triage asked and is waiting for the answer to ("When should I remind you?"), one per conversation.
pending_question = Table(
    "pending_question",
    metadata,
    Column("conversation_id", String(40), ForeignKey("conversation.id"), primary_key=True),
    fk_column("user_id", "user_profile", index=False),
    Column("intent", String(32), nullable=False),
    Column("slot", String(32), nullable=False),  # when | text | task | list | confirm
    Column("entities", JSON, nullable=False, default=dict),
    Column("asked_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
)

# The last change a user can take back with /undo, one per user: what to restore, and what to say.
undo_entry = Table(
    "undo_entry",
    metadata,
    Column("user_id", String(40), ForeignKey("user_profile.id"), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("payload", JSON, nullable=False, default=dict),
    Column("summary", String(500), nullable=False),
    created_column(),
)

# Money (bot/budgets.py): a monthly limit in USD per account, per user in an account and per agent. Superseding
# the `monthly_budget_usd` columns of account and user_profile, which migration 0011 copied here and nothing reads.
budget = Table(
    "budget",
    metadata,
    id_column(),
    fk_column("account_id", "account", index=False),
    Column("scope", String(16), nullable=False),  # account | user | agent
    Column("subject_id", String(40), nullable=False),  # the account's, user's or agent's id
    Column("limit_usd", Float, nullable=True),  # None: no limit, not even the default
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("account_id", "scope", "subject_id"),
)

# What each budget's subject spent in a period (a UTC calendar month, "2026-12"), shared by every server process:
# a model call is admitted by one conditional UPDATE (spent + reserved below the limit) that reserves its
# largest possible cost, and settled with what it really cost. `updated_at` lets a reservation left by a
# process that died be forgotten (bot/budgets.py: STALE).
spend = Table(
    "spend",
    metadata,
    Column("account_id", String(40), ForeignKey("account.id"), primary_key=True),
    Column("scope", String(16), primary_key=True),
    Column("subject_id", String(40), primary_key=True),
    Column("period", String(7), primary_key=True),
    Column("spent_usd", Float, nullable=False, default=0.0),
    Column("reserved_usd", Float, nullable=False, default=0.0),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Feature flags (bot/flags.py): the flags known to the code have defaults there; a row is written when a
# platform administrator sets one, with the platform revision, so every process sees it.
feature_flag = Table(
    "feature_flag",
    metadata,
    Column("id", String(64), primary_key=True),  # the flag's name
    Column("enabled", Boolean, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("updated_by", String(255), nullable=False),
)

# A user's deletion (GDPR, bot/governance/erasure.py), kept as it goes: proposed by `/user delete ID`, running
# once confirmed, done at the end. `steps` lists the steps finished, so a crash mid-way resumes where it stopped
# (at start-up). It holds the user's opaque id only (no FK: the profile goes), never their name or identities.
user_deletion = Table(
    "user_deletion",
    metadata,
    id_column(),
    Column("user_id", String(40), nullable=False, index=True),
    Column("account_id", String(40), nullable=True),  # the account the deletion was asked from
    Column("actor", String(255), nullable=False),
    Column("state", String(16), nullable=False),  # proposed | running | done
    Column("steps", JSON, nullable=False, default=list),
    created_column(),
    Column("finished_at", UTCDateTime(), nullable=True),
)
