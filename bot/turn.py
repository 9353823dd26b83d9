"""One user turn as the pipeline works on it: who, where, what was said, and the steps taken so far."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.messages import Attachment
from bot.records import AgentRecord, ChannelRecord, ConversationRecord, UserRecord


@dataclass(slots=True)
class StepRecord:
    seq: int
    kind: str  # gate | command | triage | document | llm_call | tool_call | delivery
    name: str | None
    status: str  # ok | error | denied
    duration_ms: float
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    error: str | None = None
    detail: dict[str, Any] | None = None


@dataclass(slots=True)
class Reply:
    """What a route decided: the text to send back and how the interaction ends."""

    text: str | None
    tier: str  # command | triage | llm | gate
    status: str = "completed"  # completed | unanswered | rejected | queued | failed
    intent: str | None = None
    error_code: str | None = None


@dataclass(frozen=True, slots=True)
class Collected:
    """A message that arrived while the model was busy in its conversation, answered with the next turn."""

    interaction_id: str
    message_id: str
    text: str


@dataclass(slots=True)
class Turn:
    interaction_id: str
    message_id: str
    text: str
    channel: ChannelRecord
    agent: AgentRecord
    user: UserRecord
    conversation: ConversationRecord
    sender_external_id: str
    received_at: datetime
    origin: str = "user"  # user: a person wrote it; event: the server started it (a callback's follow-up)
    is_platform_admin: bool = False
    role: str | None = None  # in the channel's account: owner | admin | member | readonly
    member_status: str = "active"  # suspended: blocked in this account by its admins
    # The sender's active teams in the channel's account: team id -> role in the team (admin | member | readonly).
    teams: dict[str, str] = field(default_factory=dict)
    delegation_depth: int = 0  # 0: a person's turn; each agent run for it (agents/runner.py) one level more
    said: tuple[str, ...] | None = None  # set on a delegate's turn: what the person said to the first agent
    lineage: tuple[str, ...] = ()  # the ids of the agents that delegated down to this one, the first at the top
    steps_left: int | None = None  # model calls this turn may still make (None: its profile's); a delegate's bound
    # Delegations made in the whole tree of this person's turn (delegate slugs): one list, shared by every sub-turn.
    delegations: list[str] = field(default_factory=list)
    default_timezone: str = "UTC"
    language: str | None = None  # the user's locale, else the account's default_language: what replies are in
    attachments: tuple[Attachment, ...] = ()
    # The channel's data about the inbound message (stored with it, so it survives a restart): what its reply
    # needs to land in the same thread. Given to the reply as its `metadata`.
    metadata: dict[str, Any] = field(default_factory=dict)
    collected: list[Collected] = field(default_factory=list)  # answered together with this one
    steps: list[StepRecord] = field(default_factory=list)
    notices: dict[str, str] = field(default_factory=dict)  # lines the reply ends with (a budget at 80 %), by topic
    started: float = field(default_factory=time.perf_counter)

    @property
    def user_texts(self) -> list[str]:
        """What the user said in this turn: the message, then any collected after it. A delegate's turn keeps
        its person's words (`said`), not the task its caller's model wrote: writes are grounded in those."""
        if self.said is not None:
            return list(self.said)
        return [self.text, *(c.text for c in self.collected)]

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.user.timezone or self.default_timezone)

    @property
    def is_account_admin(self) -> bool:
        return self.is_platform_admin or self.role in ("owner", "admin")

    @property
    def is_private(self) -> bool:
        """The sender's own one-to-one conversation (a private Telegram chat, the console, a direct HTTP caller):
        every channel's default conversation is the sender, so a group, thread or mail thread is never this."""
        return self.conversation.external_key == self.sender_external_id

    @property
    def is_readonly(self) -> bool:
        """May talk to agents, but nothing it asks for may change anything (write tools, state commands)."""
        return self.role == "readonly" and not self.is_platform_admin

    @property
    def actor(self) -> str:
        return f"user:{self.user.id}"

    def record(self, kind: str, name: str | None, *, status: str = "ok", started: float | None = None,
               **values: Any) -> StepRecord:
        duration = (time.perf_counter() - started) * 1000 if started is not None else 0.0
        step = StepRecord(seq=len(self.steps) + 1, kind=kind, name=name, status=status, duration_ms=duration,
                          **values)
        self.steps.append(step)
        return step

    @property
    def cost_usd(self) -> float:
        return sum(step.cost_usd for step in self.steps)


# Runs after a turn is stored and delivered (in the background), e.g. to learn facts from it.
AfterTurn = Callable[[Turn, Reply], Awaitable[None]]
