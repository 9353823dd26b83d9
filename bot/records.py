"""Plain records of the rows the pipeline works with (read once, cached, passed around)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class AccountRecord:
    id: str
    slug: str
    name: str
    status: str
    monthly_budget_usd: float | None = None
    settings: dict[str, Any] | None = None  # as stored; read through bot/account_settings.py


@dataclass(frozen=True, slots=True)
class AgentRecord:
    id: str
    account_id: str
    slug: str
    name: str
    system_prompt: str
    status: str
    model: str | None
    config: dict[str, Any] = field(default_factory=dict)
    team_id: str | None = None  # the team it works for; None: the whole account


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    id: str
    slug: str
    type: str
    account_id: str
    agent_id: str
    status: str
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: str
    display_name: str
    status: str
    timezone: str | None
    locale: str | None
    monthly_budget_usd: float | None = None


@dataclass(frozen=True, slots=True)
class Membership:
    role: str  # owner | admin | member | readonly
    status: str  # active | suspended (in this account only)


@dataclass(frozen=True, slots=True)
class TeamRecord:
    id: str
    account_id: str
    slug: str
    name: str
    status: str  # active | archived


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    id: str
    channel_id: str
    account_id: str
    agent_id: str
    user_id: str
    external_key: str


def record(cls: type, row: Any) -> Any:
    """Build a record from a row that has (at least) the record's fields."""
    mapping = row._mapping
    return cls(**{name: mapping[name] for name in cls.__dataclass_fields__})
