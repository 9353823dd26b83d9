"""The normalised message types every channel speaks. Channels depend on these; bot never imports channels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Sender:
    external_id: str
    display_name: str | None = None
    locale: str | None = None  # the language the channel says the sender uses ("es", "pt-BR"): a first guess


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a message. Only described here: its bytes are fetched from the channel when something
    reads it (`Channel.fetch_attachment`), so the pipeline never holds files it does not need."""

    ref: str  # the channel's handle on the file (Telegram: the file_id)
    name: str | None = None
    media_type: str | None = None
    size: int | None = None  # bytes, when the channel says

    def to_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "name": self.name, "media_type": self.media_type, "size": self.size}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Attachment:
        return cls(str(data["ref"]), data.get("name"), data.get("media_type"), data.get("size"))


def too_large(limit: int) -> str:
    """The reason given for a file over `limit` bytes, in the words of a reply."""
    size = f"{limit / (1024 * 1024):.0f} MB" if limit >= 1024 * 1024 else f"{max(limit // 1024, 1)} KB"
    return f"it is larger than the {size} I accept"


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
    attachments: tuple[Attachment, ...] = ()  # with these, the text (a caption) may be empty


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
    notice: str | None = None  # what the user was told while the answer waits (maintenance)


TERMINAL_STATUSES = frozenset({"completed", "unanswered", "rejected", "failed", "interrupted"})
