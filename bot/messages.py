"""The normalised message types every channel speaks. Channels depend on these; bot never imports channels."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Sender:
    external_id: str
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message from a user, as any channel hands it to the pipeline."""

    channel: str  # the channel's slug
    sender: Sender
    text: str
    external_id: str | None = None  # the channel's own message id: redeliveries carry the same one
    conversation_key: str | None = None  # chat, thread or mailbox the reply belongs to; default: the sender
    conversation_id: str | None = None  # an existing conversation named by the caller (HTTP API)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A reply (or any message the server starts) going back into a conversation."""

    channel: str
    channel_type: str
    conversation_id: str
    conversation_key: str
    text: str
    interaction_id: str | None = None
    message_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one inbound message."""

    interaction_id: str
    conversation_id: str
    status: str  # completed | unanswered | rejected | queued | failed | interrupted | received | running
    tier: str | None
    reply: str | None
    error_code: str | None = None
    intent: str | None = None


TERMINAL_STATUSES = frozenset({"completed", "unanswered", "rejected", "failed", "interrupted"})


class Deliverer(Protocol):
    """What the pipeline needs from a channel: a way to put a message into the conversation."""

    def deliver(self, message: OutboundMessage) -> Awaitable[None]: ...
