"""Postmark's inbound webhook JSON (already decoded from the body) -> one `InboundMail`.

Pure functions, no I/O. Postmark has parsed the mail already: the headers come as a list of name/value pairs,
the addresses structured (`FromFull`, `ToFull`), the attachments as base64. A bounce or spam complaint posted
to the inbound URL becomes an automatic mail (logged, never answered); other Postmark events (delivery, open)
are refused as `postmark_event`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from channels.email.content import new_text
from channels.email.dates import parse_date
from channels.email.decoding import decode_base64, safe_filename
from channels.email.headers import (
    KEPT_HEADERS,
    authenticated,
    automated_reason,
    by_name,
    first,
    make_address,
    normalise_id,
    parse_addresses,
    parse_ids,
    plus_tag,
    return_path_of,
    spelled_id,
)
from channels.email.mail import Address, InboundMail, MailError, MailPart

_EVENT_KEYS = ("DeliveredAt", "FirstOpen", "ReceivedAt", "OriginalLink", "SuppressSending", "ChangedAt")


def parse_postmark(payload: dict[str, Any], *, received_at: datetime) -> InboundMail:
    """One mail from Postmark's inbound webhook JSON (already decoded from the body). A bounce webhook posted
    here becomes an automatic mail (no reply); other Postmark events (delivery, open) are not mail."""
    if not isinstance(payload, dict):
        raise MailError("not_a_mail", "the webhook body is not a JSON object")
    record = _text(payload.get("RecordType"))
    if record in ("Bounce", "SpamComplaint") or "BouncedAt" in payload:
        return _postmark_bounce(payload, received_at)
    if (record and record != "Inbound") or (
            any(key in payload for key in _EVENT_KEYS) and "FromFull" not in payload):
        raise MailError("postmark_event", f"a Postmark {record or 'event'} webhook, not an inbound mail")

    pairs = [(name.lower(), value) for name, value in _header_pairs(payload.get("Headers"))]
    values = by_name(pairs)

    sender = _postmark_sender(payload)
    ids = parse_ids(first(values, "message-id"), limit=1)
    message_id = ids[0] if ids else normalise_id(_text(payload.get("MessageID")))
    if not message_id:
        raise MailError("not_a_mail", "the webhook has neither a Message-ID header nor a MessageID")
    recipient = _text(payload.get("OriginalRecipient")).strip().lower() or None
    return_path = return_path_of(first(values, "return-path"))
    kept = {name: value for name, value in reversed(pairs) if name in KEPT_HEADERS}
    whole = new_text(text=_text(payload.get("TextBody")), html=_text(payload.get("HtmlBody")), strip=False)
    mail = InboundMail(
        message_id=message_id,
        sender=sender,
        to=_postmark_addresses(payload.get("ToFull"), payload.get("To")),
        cc=_postmark_addresses(payload.get("CcFull"), payload.get("Cc")),
        subject=" ".join(_text(payload.get("Subject")).split()),
        text=new_text(text=whole, stripped=_text(payload.get("StrippedTextReply"))),
        date=parse_date(_text(payload.get("Date")) or first(values, "date"), fallback=received_at),
        in_reply_to=parse_ids(first(values, "in-reply-to")),
        references=parse_ids(" ".join(values.get("references", ()))),
        spelled_message_id=spelled_id(first(values, "message-id")),
        spelled_references=parse_ids(" ".join(values.get("references", ())), spelled=True),
        mailbox_hash=_text(payload.get("MailboxHash")).strip() or plus_tag(recipient),
        recipient=recipient,
        attachments=tuple(_postmark_attachment(item) for item in _list(payload.get("Attachments"))),
        headers=kept,
        reply_to=parse_addresses([_text(payload.get("ReplyTo")) or first(values, "reply-to")]),
        return_path=return_path,
        full_text=whole,
    )
    return replace(mail, automatic=automated_reason(mail), authenticated=authenticated(mail))


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _header_pairs(value: object) -> Iterable[tuple[str, str]]:
    for item in _list(value):
        if isinstance(item, dict) and isinstance(item.get("Name"), str):
            yield item["Name"].strip(), " ".join(_text(item.get("Value")).split())


def _postmark_sender(payload: dict[str, Any]) -> Address:
    full = payload.get("FromFull")
    if isinstance(full, dict) and _text(full.get("Email")).strip():
        address = make_address(_text(full.get("Email")), _text(full.get("Name")) or _text(payload.get("FromName")))
        if address is None:
            raise MailError("bad_sender", "the mail's From is not an address")
        return address
    sender = _text(payload.get("From"))
    if not sender.strip():
        raise MailError("no_sender", "the mail has no From address")
    found = parse_addresses([sender])
    if not found:
        raise MailError("bad_sender", "the mail's From is not an address")
    name = found[0].name or _text(payload.get("FromName")).strip() or None
    return Address(found[0].email, name)


def _postmark_addresses(full: object, plain: object) -> tuple[Address, ...]:
    """The structured `ToFull`/`CcFull` when given (the plain strings carry quirks such as a stray `>`)."""
    items = [item for item in _list(full) if isinstance(item, dict)]
    if items:
        seen: dict[str, Address] = {}
        for item in items:
            address = make_address(_text(item.get("Email")), _text(item.get("Name")))
            if address is not None and address.email not in seen:
                seen[address.email] = address
        return tuple(seen.values())
    return parse_addresses([_text(plain)])


def _postmark_attachment(item: object) -> MailPart:
    if not isinstance(item, dict):
        return MailPart(name=None, media_type=None, content=b"", error="not an attachment object")
    name = safe_filename(_text(item.get("Name"))) if _text(item.get("Name")) else None
    media_type = _text(item.get("ContentType")).strip().lower() or None
    content_id = normalise_id(_text(item.get("ContentID"))) or None
    try:
        data = decode_base64(_text(item.get("Content")))
        error = None
    except ValueError:
        data, error = b"", "invalid base64"
    return MailPart(name=name, media_type=media_type, content=data, content_id=content_id, error=error)


def _postmark_bounce(payload: dict[str, Any], received_at: datetime) -> InboundMail:
    """A Postmark bounce (or spam complaint) webhook: kept as an automatic mail so it is logged, never answered."""
    failed = make_address(_text(payload.get("Email")))
    sender = make_address(_text(payload.get("From"))) or Address("mailer-daemon@postmarkapp.com", "Postmark")
    bounce_id = str(payload.get("ID") or payload.get("MessageID") or "").strip()
    if not bounce_id:
        raise MailError("not_a_mail", "a bounce webhook with neither ID nor MessageID")
    kind = _text(payload.get("Type")) or _text(payload.get("RecordType")) or "Bounce"
    details = "\n".join(part for part in (_text(payload.get("Description")), _text(payload.get("Details"))) if part)
    headers = {"x-postmark-bounce-type": kind}
    if _text(payload.get("MessageID")):
        headers["x-postmark-message-id"] = _text(payload.get("MessageID"))
    return InboundMail(
        message_id=normalise_id(f"postmark-bounce-{bounce_id}@postmarkapp.com"),
        sender=sender,
        to=(),
        cc=(),
        subject=" ".join(_text(payload.get("Subject")).split()),
        text=details,
        date=parse_date(_text(payload.get("BouncedAt")), fallback=received_at),
        automatic=f"bounce (Postmark {kind})",
        headers=headers,
        bounced=(failed.email,) if failed else (),
        full_text=details,
    )
