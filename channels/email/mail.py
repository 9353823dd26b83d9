"""One mail as the email channel sees it, whichever way it came in (SMTP or Postmark's inbound webhook).

`rfc5322.py` builds an `InboundMail` from RFC 5322 bytes, `postmark_inbound.py` from a Postmark payload;
`compose.py` builds the reply.
The adapter (`channel.py`) only reads these fields: it never looks at raw headers itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.errors import ThinklioError


class MailError(ThinklioError):
    """The input is not a mail we can answer at all (no sender, not a mail). Anything less is kept on the mail.

    `code` is the envelope code (`bad_request`); `reason` is the precise one, stable for logs and tests:
    `not_a_mail`, `no_sender`, `bad_sender`, `postmark_event` (a delivery or open webhook, not a mail).
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__("bad_request", message, details={"reason": reason})
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"


@dataclass(frozen=True, slots=True)
class Address:
    email: str  # lower-cased
    name: str | None = None  # the display name, as written

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]

    @property
    def local(self) -> str:
        return self.email.rpartition("@")[0]

    def formatted(self) -> str:
        """`Name <addr>` for a header (quoted as needed by `email.headerregistry` when the message is built)."""
        return f"{self.name} <{self.email}>" if self.name else self.email


@dataclass(frozen=True, slots=True)
class MailPart:
    """An attached file, decoded. `error` says why it could not be (invalid base64): the bytes are then empty."""

    name: str | None
    media_type: str | None
    content: bytes
    content_id: str | None = None  # set for an inline part (an image the HTML shows), without angle brackets
    error: str | None = None


@dataclass(frozen=True, slots=True)
class InboundMail:
    message_id: str  # normalised (`headers.normalise_id`); the external id (Postmark: Message-ID, else MessageID)
    sender: Address  # From
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    subject: str
    text: str  # the new text only: quoted history and signature removed, HTML converted
    date: datetime  # aware; the receive time when the Date header cannot be read
    in_reply_to: tuple[str, ...] = ()  # message ids, normalised like message_id
    references: tuple[str, ...] = ()  # oldest first, as in the header; at most `headers.MAX_REFERENCES`
    mailbox_hash: str | None = None  # Postmark's MailboxHash, or the +tag of the address it was sent to
    recipient: str | None = None  # the address it was delivered to (SMTP RCPT TO / Postmark OriginalRecipient)
    automatic: str | None = None  # why no reply may be sent (auto-reply, bulk, list, bounce), None for a person
    authenticated: bool = False  # SPF or DKIM passed for the From domain, as the receiving server reported it
    attachments: tuple[MailPart, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)  # a few kept for the record (lower-cased names)
    reply_to: tuple[Address, ...] = ()  # Reply-To: where the sender asked answers to go
    return_path: str | None = None  # the envelope sender, lower-cased; "" for the null path `<>`; None unknown
    bounced: tuple[str, ...] = ()  # for a bounce: the addresses it reports as failed
    full_text: str = ""  # the whole body as text, quoted history included (for the record, and a fallback)
    # The ids as the sender's software spelled them (case kept): a reply quotes them back exactly, since some
    # clients thread by exact match. Empty when the mail came without them; `compose` then uses the normalised.
    spelled_message_id: str | None = None
    spelled_references: tuple[str, ...] = ()

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Every message id this mail answers, nearest first: any of them found stored names the conversation."""
        return tuple(dict.fromkeys((*self.in_reply_to, *reversed(self.references))))

    @property
    def command_line(self) -> str | None:
        """The first line of the new text when it is a slash command (`/jobs`, `/help me`), else None."""
        first = self.text.lstrip().split("\n", 1)[0].strip()
        return first if len(first) > 1 and first[0] == "/" and first[1].isalpha() else None

    @property
    def bad_attachments(self) -> tuple[MailPart, ...]:
        """Attachments that could not be decoded: reported to the sender, the rest of the mail still answered."""
        return tuple(part for part in self.attachments if part.error)

    @property
    def good_attachments(self) -> tuple[MailPart, ...]:
        return tuple(part for part in self.attachments if not part.error)
