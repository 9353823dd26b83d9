"""One mail as the email channel sees it, whichever way it came in (SMTP or Postmark's inbound webhook).

`parse.py` builds an `InboundMail` from RFC 5322 bytes or a Postmark payload; `compose.py` builds the reply.
The adapter (`channel.py`) only reads these fields: it never looks at raw headers itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Address:
    email: str  # lower-cased
    name: str | None = None  # the display name, as written


@dataclass(frozen=True, slots=True)
class MailPart:
    """An attached file, decoded. `error` says why it could not be (invalid base64): the bytes are then empty."""

    name: str | None
    media_type: str | None
    content: bytes
    content_id: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class InboundMail:
    message_id: str  # without angle brackets; the external id (Postmark: the Message-ID header, else MessageID)
    sender: Address  # From
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    subject: str
    text: str  # the new text only: quoted history and signature removed, HTML converted
    date: datetime  # aware; the receive time when the Date header cannot be read
    in_reply_to: tuple[str, ...] = ()  # message ids, without angle brackets
    references: tuple[str, ...] = ()
    mailbox_hash: str | None = None  # Postmark's MailboxHash, or the +tag of the address it was sent to
    recipient: str | None = None  # the address it was delivered to (SMTP RCPT TO / Postmark OriginalRecipient)
    automatic: str | None = None  # why no reply may be sent (auto-reply, bulk, list, bounce), None for a person
    authenticated: bool = False  # SPF or DKIM passed, as the receiving server reported it
    attachments: tuple[MailPart, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)  # a few kept for the record (lower-cased names)

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Every message id this mail answers, nearest first: any of them found stored names the conversation."""
        return tuple(dict.fromkeys((*self.in_reply_to, *reversed(self.references))))
