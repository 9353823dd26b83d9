"""Outgoing mail: a reply in the sender's thread, or a later message (a reminder) in a thread we know by its ids.

Pure: builds an `email.message.EmailMessage` and sends nothing. Every message we write is marked
`Auto-Submitted` (RFC 3834: `auto-replied` for an answer, `auto-generated` for a reminder), so other robots do
not answer us, and `X-Auto-Response-Suppress` so Exchange sends no out-of-office to it. `reply_recipients`
decides who gets an answer: the sender (or their Reply-To), the others they addressed kept in Cc, never a list,
never ourselves, never more than `MAX_CC`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from channels.email.headers import BOUNCE_SENDERS, NO_REPLY_SENDERS, base_address, normalise_id
from channels.email.mail import Address, InboundMail, MailError, MailPart

MAX_REFERENCES = 20  # ids in an outgoing References: the thread's root and the newest ones (RFC 5322 3.6.4)
MAX_CC = 10  # an answer never fans out wider than this, whatever the sender's Cc said

# Reply and forward prefixes in the languages mail clients localise them to (Outlook: AW, SV, Antw, WG, TR...).
_REPLY = r"re|aw|sv|vs|antw|antwort|odp|rif|res|ynt|atb|vá|απ|ответ|回复|答复"
_FORWARD = r"fwd?|wg|tr|rv|enc|doorst|vb|fs|πρθ|пересл|转发"
_PREFIX = re.compile(rf"^\s*(?:(?P<reply>{_REPLY})|(?P<forward>{_FORWARD}))\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*",
                     re.IGNORECASE)
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f]+")


# ---- subjects ----------------------------------------------------------------------------------------------

def subject_base(subject: str) -> tuple[str, bool]:
    """The subject without its Re:/Fwd: chain, and whether a forward prefix was in it.
    `RE: Aw: Fwd: Re: Budget` -> (`Budget`, True). The conversation's title is this base."""
    text = " ".join(_LINE_BREAKS.sub(" ", subject or "").split())
    forwarded = False
    while match := _PREFIX.match(text):
        forwarded = forwarded or match.group("forward") is not None
        text = text[match.end():]
    return text.strip(), forwarded


def reply_subject(subject: str) -> str:
    """`Re: <base>` exactly once (`Re: Fwd: <base>` when answering a forward); never `Re: Re:`."""
    base, forwarded = subject_base(subject)
    base = base or "(no subject)"
    return f"Re: Fwd: {base}" if forwarded else f"Re: {base}"


# ---- recipients --------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Recipients:
    to: tuple[Address, ...]
    cc: tuple[Address, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.to)


def _reachable(address: Address, own: set[str]) -> bool:
    local = address.local.lower()
    return base_address(address.email) not in own and local not in BOUNCE_SENDERS and local not in NO_REPLY_SENDERS


def reply_recipients(original: InboundMail, *, own_addresses: Collection[str] = (), keep_cc: bool = True,
                     max_cc: int = MAX_CC) -> Recipients:
    """Who an answer to `original` goes to. Empty (falsy) for automatic mail (lists, auto-replies, bounces):
    that is the last guard against a mail loop. `own_addresses` are ours, with or without a +tag; the address
    the mail was delivered to counts as ours too."""
    if original.automatic:
        return Recipients(())
    own = {base_address(item) for item in own_addresses}
    if original.recipient:
        own.add(base_address(original.recipient))
    to = tuple(a for a in original.reply_to if _reachable(a, own)) or (
        (original.sender,) if _reachable(original.sender, own) else ())
    if not to or not keep_cc:
        return Recipients(to)
    taken = {a.email for a in to} | {original.sender.email}
    cc: list[Address] = []
    for address in (*original.to, *original.cc):
        if address.email not in taken and _reachable(address, own):
            taken.add(address.email)
            cc.append(address)
    return Recipients(to, tuple(cc[:max_cc]))


# ---- messages ----------------------------------------------------------------------------------------------

def _header_addresses(addresses: Sequence[Address]) -> list[HeaderAddress]:
    result = []
    for address in addresses:
        try:
            result.append(HeaderAddress(display_name=_LINE_BREAKS.sub(" ", address.name or ""),
                                        addr_spec=address.email))
        except (ValueError, IndexError, TypeError):  # an address the header registry cannot write: left out
            continue
    return result


def _bracket(ids: Sequence[str]) -> str:
    # An id with spaces or non-ASCII would be RFC 2047-encoded in the header and match nothing: left out.
    return " ".join(f"<{item}>" for item in ids if item and item.isascii() and not any(c.isspace() for c in item))


def bounded_references(ids: Sequence[str], limit: int = MAX_REFERENCES) -> list[str]:
    """The thread root and the newest ids, deduplicated (by normalised id), oldest first."""
    unique = list({normalise_id(item): item for item in reversed(ids) if item}.values())[::-1]
    if len(unique) <= limit:
        return unique
    return [unique[0], *unique[-(limit - 1):]]


def _build(*, from_address: Address, to: Sequence[Address], cc: Sequence[Address], subject: str, text: str,
           in_reply_to: str | None, references: Sequence[str], message_id: str | None, date: datetime | None,
           auto_submitted: str, reply_to: Address | None, attachments: Sequence[MailPart]) -> EmailMessage:
    to_header = _header_addresses(to)
    if not to_header:
        raise MailError("no_recipient", "the mail has nobody to go to")
    sender = _header_addresses([from_address])
    if not sender:
        raise MailError("bad_sender", f"our own address {from_address.email!r} cannot be written in a header")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to_header
    cc_header = _header_addresses([a for a in cc if a.email not in {t.email for t in to}])
    if cc_header:
        message["Cc"] = cc_header
    if reply_to is not None and (reply_header := _header_addresses([reply_to])):
        message["Reply-To"] = reply_header
    message["Subject"] = " ".join(_LINE_BREAKS.sub(" ", subject).split())
    when = date or datetime.now(UTC)
    message["Date"] = format_datetime(when if when.tzinfo else when.replace(tzinfo=UTC))
    message["Message-ID"] = (f"<{message_id.strip().strip('<>')}>" if message_id
                             else make_msgid(domain=from_address.domain))
    if in_reply_to and (bracketed := _bracket([in_reply_to])):
        message["In-Reply-To"] = bracketed
    if references and (bracketed := _bracket(bounded_references(references))):
        message["References"] = bracketed
    message["Auto-Submitted"] = auto_submitted
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(text if text.endswith("\n") else text + "\n")
    for part in attachments:
        if part.error or not part.content:
            continue
        maintype, _, subtype = (part.media_type or "application/octet-stream").partition("/")
        message.add_attachment(part.content, maintype=maintype or "application", subtype=subtype or "octet-stream",
                               filename=part.name or "attachment")
    return message


def thread_of(original: InboundMail) -> tuple[str, list[str]]:
    """What an answer to `original` threads on: the id it replies to, and its References (the original's own,
    then that id), both as the sender spelled them."""
    parent = original.spelled_message_id or original.message_id
    return parent, [*(original.spelled_references or original.references), parent]


def compose_reply(*, original: InboundMail, from_address: Address, text: str, cc: list[Address] | None = None,
                  message_id: str | None = None, to: Sequence[Address] | None = None,
                  own_addresses: Collection[str] = (), date: datetime | None = None,
                  reply_to: Address | None = None, attachments: Sequence[MailPart] = ()) -> EmailMessage:
    """The answer to `original`, in its thread, from `from_address`.

    Recipients are `reply_recipients(original, own_addresses=own_addresses + from_address)` unless `to`/`cc`
    are given (`cc=[]`: no Cc). `message_id` (without brackets) is ours to choose so the outbox can store it
    before sending; by default a fresh one on our domain. Raises `MailError("no_recipient")` when nobody may
    be answered (an automatic mail, or mail from ourselves)."""
    own = (*own_addresses, from_address.email)
    recipients = reply_recipients(original, own_addresses=own)
    parent, references = thread_of(original)
    return _in_thread(from_address=from_address, to=tuple(to) if to is not None else recipients.to,
                      cc=tuple(cc) if cc is not None else recipients.cc, subject=original.subject, text=text,
                      references=references, in_reply_to=parent, message_id=message_id, date=date,
                      reply_to=reply_to, attachments=attachments, auto_submitted="auto-replied")


def compose_message(*, from_address: Address, to: Sequence[Address], subject: str, text: str,
                    references: Sequence[str] = (), in_reply_to: str | None = None,
                    cc: Sequence[Address] | None = None, message_id: str | None = None,
                    date: datetime | None = None, reply_to: Address | None = None,
                    attachments: Sequence[MailPart] = ()) -> EmailMessage:
    """A message we start (a reminder, a job's result) in a thread known only by its ids and subject.

    `references`: the thread's message ids, oldest first (ours and theirs, as stored); `in_reply_to` defaults
    to the newest. With ids the subject becomes `Re: <base>` so clients file it in the same thread."""
    return _in_thread(from_address=from_address, to=to, cc=tuple(cc or ()), subject=subject, text=text,
                      references=references, in_reply_to=in_reply_to, message_id=message_id, date=date,
                      reply_to=reply_to, attachments=attachments, auto_submitted="auto-generated")


def _in_thread(*, from_address: Address, to: Sequence[Address], cc: Sequence[Address], subject: str, text: str,
               references: Sequence[str], in_reply_to: str | None, message_id: str | None, date: datetime | None,
               reply_to: Address | None, attachments: Sequence[MailPart], auto_submitted: str) -> EmailMessage:
    """The one way a message joins a thread: the parent last in References, and `Re: <base>` as its subject."""
    ids = [item for item in references if item]
    parent = in_reply_to or (ids[-1] if ids else None)
    if parent and (not ids or normalise_id(ids[-1]) != normalise_id(parent)):
        ids.append(parent)
    return _build(
        from_address=from_address,
        to=to,
        cc=cc,
        subject=reply_subject(subject) if parent else (" ".join(subject.split()) or "(no subject)"),
        text=text,
        in_reply_to=parent,
        references=ids,
        message_id=message_id,
        date=date,
        auto_submitted=auto_submitted,
        reply_to=reply_to,
        attachments=attachments,
    )
