"""RFC 5322 bytes (what the SMTP listener receives) -> one `InboundMail`.

Pure functions, no I/O. Tolerant by design: a mail is only refused (`MailError`) when nobody could be answered
(no sender, not a mail at all). Everything else degrades field by field: an unreadable header is read raw, a
bad charset is decoded with replacement characters, a bad Date falls back to the receive time, an attachment
that cannot be decoded is kept with its `error` so the sender can be told while the rest is answered. A mail
that looks like a bounce is scanned for the addresses that failed.

Headers are read from the raw source (`Message.raw_items`), not through `policy.default`'s header objects:
those parse lazily and some malformed values (address headers especially) raise deep inside the parser.
Parsing a mail with a big attachment costs CPU in proportion to its size: the adapter runs it in a thread.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import datetime
from email import policy
from email.errors import InvalidBase64CharactersDefect, InvalidBase64LengthDefect
from email.message import Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from functools import lru_cache
from typing import Any

from channels.email.content import new_text
from channels.email.dates import parse_date
from channels.email.decoding import decode_text, safe_filename
from channels.email.headers import (
    BOUNCE_SENDERS,
    KEPT_HEADERS,
    authenticated,
    automated_reason,
    by_name,
    decode_words,
    first,
    normalise_id,
    parse_addresses,
    parse_ids,
    plus_tag,
    return_path_of,
    spelled_id,
)
from channels.email.mail import Address, InboundMail, MailError, MailPart

MAX_PARTS = 500  # MIME parts looked at in one mail: a bound on crafted nesting, far above any real mail
MAX_DEPTH = 20
_BASE64_DEFECTS = (InvalidBase64CharactersDefect, InvalidBase64LengthDefect)  # missing padding is forgiven
_FOLD = re.compile(r"\r?\n[ \t]*")
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|returned mail|delivery (status|failure|has failed|notification)|failure notice|"
    r"mail delivery (failed|system)|non[- ]?remis|unzustellbar|nicht zustellbar", re.IGNORECASE)




@lru_cache(maxsize=2048)
def _header_object(name: str, value: str) -> Any:
    return policy.default.header_fetch_parse(name, value)


class _MemoPolicy(EmailPolicy):
    """`policy.default`, with its header objects memoised. The parser and `get_content_type`, `get_filename`...
    re-parse the same Content-Type a dozen times per part, and the same few values recur across mails; a
    header object is an immutable `str`, so sharing one is safe. Parsing a typical mail gets about 8x faster."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if type(value) is str and len(value) < 2000:
            return _header_object(name, value)
        return super().header_fetch_parse(name, value)


_POLICY = _MemoPolicy()


def parse_rfc5322(raw: bytes, *, received_at: datetime, recipient: str | None = None,
                  envelope_from: str | None = None) -> InboundMail:
    """One mail from its bytes. `recipient` is the SMTP `RCPT TO` it came in for (its +tag is the mailbox hash);
    `envelope_from` the `MAIL FROM` ("" for the null path `<>`), which wins over a Return-Path header."""
    if not isinstance(raw, bytes | bytearray | memoryview) or not bytes(raw[:65536]).strip():
        raise MailError("not_a_mail", "the message is empty")
    try:
        message = BytesParser(policy=_POLICY).parsebytes(bytes(raw))
        pairs = [(name.lower(), _unfold(value)) for name, value in message.raw_items()]
    except Exception as error:  # the stdlib parser is meant never to raise; if it does, this is not a mail
        raise MailError("not_a_mail", f"the message could not be parsed ({type(error).__name__})") from error
    if not pairs or not any(name in ("from", "sender", "to", "subject", "date", "message-id") for name, _ in pairs):
        raise MailError("not_a_mail", "the message has no mail headers")
    values = by_name(pairs)

    sender = _sender(values.get("from") or values.get("sender"))
    ids = parse_ids(first(values, "message-id"), limit=1)
    message_id = ids[0] if ids else _generated_id(bytes(raw))
    return_path = return_path_of(envelope_from if envelope_from is not None else first(values, "return-path"))

    texts: list[str] = []
    htmls: list[str] = []
    attachments: list[MailPart] = []
    _walk(message, texts, htmls, attachments, depth=0, budget=[MAX_PARTS])
    plain = "\n\n".join(text for text in texts if text.strip())
    whole = new_text(text=plain, html="\n".join(htmls), strip=False)  # HTML converted once, for both fields

    kept = {name: value for name, value in reversed(pairs) if name in KEPT_HEADERS}  # reversed: first one wins
    if return_path is not None:
        kept["return-path"] = f"<{return_path}>"
    recipient = recipient.strip().strip("<>").lower() if recipient else None
    mail = InboundMail(
        message_id=message_id,
        sender=sender,
        to=parse_addresses(values.get("to", ())),
        cc=parse_addresses(values.get("cc", ())),
        subject=decode_words(first(values, "subject")),
        text=new_text(text=whole),
        date=parse_date(decode_words(first(values, "date")), fallback=received_at),
        in_reply_to=parse_ids(first(values, "in-reply-to")),
        references=parse_ids(" ".join(values.get("references", ()))),
        spelled_message_id=spelled_id(first(values, "message-id")),
        spelled_references=parse_ids(" ".join(values.get("references", ())), spelled=True),
        mailbox_hash=plus_tag(recipient),
        recipient=recipient,
        attachments=tuple(attachments),
        headers=kept,
        reply_to=parse_addresses(values.get("reply-to", ())),
        return_path=return_path,
        full_text=whole,
    )
    mail = replace(mail, bounced=_bounced(message, mail))
    return replace(mail, automatic=automated_reason(mail), authenticated=authenticated(mail))


def _unfold(value: object) -> str:
    if not isinstance(value, str):  # a header object (a message built in code rather than parsed)
        value = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in value):  # raw 8-bit bytes kept by the parser as surrogates
        raw = value.encode("ascii", "surrogateescape")
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            value = raw.decode("latin-1")
    return _FOLD.sub(" ", value).strip()


def _sender(values: list[str] | None) -> Address:
    if not values or not any(value.strip() for value in values):
        raise MailError("no_sender", "the mail has no From address")
    found = parse_addresses(values[:1])
    if not found:
        raise MailError("bad_sender", "the mail's From is not an address")
    return found[0]


def _generated_id(raw: bytes) -> str:
    """A mail with no Message-ID still needs a stable external id: the same bytes delivered twice dedupe."""
    return f"{hashlib.sha256(raw).hexdigest()[:32]}@thinklio.invalid"


def _walk(part: Message, texts: list[str], htmls: list[str], attachments: list[MailPart], *, depth: int,
          budget: list[int]) -> None:
    """Body texts, HTML and attachments of a MIME tree. In a multipart/alternative the plain text is preferred;
    a forwarded message (message/rfc822) is an attachment, not more body."""
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        return
    media_type = _safe(part.get_content_type, "text/plain")
    if media_type == "message/rfc822":
        attachments.append(_forwarded(part))
        return
    if part.is_multipart():
        subparts = [sub for sub in _safe(part.get_payload, []) if isinstance(sub, Message)]
        if media_type == "multipart/alternative":
            alt_texts: list[str] = []
            alt_htmls: list[str] = []
            for sub in subparts:
                _walk(sub, alt_texts, alt_htmls, attachments, depth=depth + 1, budget=budget)
            if alt_texts and any(text.strip() for text in alt_texts):
                texts.extend(alt_texts)
            else:
                htmls.extend(alt_htmls)
            return
        for sub in subparts:
            _walk(sub, texts, htmls, attachments, depth=depth + 1, budget=budget)
        return
    if media_type.startswith("message/"):  # delivery-status and the like: read by the bounce scanner only
        return
    disposition = _safe(part.get_content_disposition, None)
    filename = _safe(part.get_filename, None)
    if media_type in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        text = _text_of(part)
        (texts if media_type == "text/plain" else htmls).append(text)
        return
    attachments.append(_attachment(part, media_type, filename))


def _safe(call: Any, default: Any) -> Any:
    try:
        return call()
    except Exception:  # a malformed MIME header: treat the part as having none
        return default


def _payload(part: Message) -> tuple[bytes, bool]:
    """The decoded bytes of a leaf part, and whether its base64 was broken."""
    before = len(part.defects)
    data = _safe(lambda: part.get_payload(decode=True), b"")
    if not isinstance(data, bytes):
        data = b""
    broken = any(isinstance(defect, _BASE64_DEFECTS) for defect in part.defects[before:])
    return data, broken


def _text_of(part: Message) -> str:
    data, _ = _payload(part)
    charset = _safe(part.get_content_charset, None) or "utf-8"
    return decode_text(data, charset)


def _attachment(part: Message, media_type: str, filename: str | None) -> MailPart:
    data, broken = _payload(part)
    content_id = _safe(lambda: part.get("content-id"), None)
    return MailPart(
        name=safe_filename(decode_words(filename, glue=True)) if filename else None,
        media_type=media_type,
        content=b"" if broken else data,
        content_id=normalise_id(str(content_id)) or None if content_id else None,
        error="invalid base64" if broken else None,
    )


def _forwarded(part: Message) -> MailPart:
    inner = _safe(part.get_payload, [])
    inner = inner[0] if isinstance(inner, list) and inner else None
    try:
        data = inner.as_bytes(policy=policy.SMTP) if isinstance(inner, Message) else b""
        error = None
    except Exception:  # a forwarded message that cannot be serialised back: report it like a bad attachment
        data, error = b"", "unreadable forwarded message"
    subject = decode_words(str(_safe(lambda: inner.get("subject", ""), ""))) if inner is not None else ""
    return MailPart(name=safe_filename(f"{subject or 'forwarded'}.eml"), media_type="message/rfc822",
                    content=data, error=error)


def _bounced(message: Message | None, mail: InboundMail) -> tuple[str, ...]:
    """The failed addresses a bounce reports, by flufl.bounce's detectors. Only mail that looks like a bounce
    is scanned: its heuristics are for bounces, and a person's mail must never be taken for one."""
    if message is None or not _looks_like_bounce(mail):
        return ()
    try:
        from flufl.bounce import scan_message  # imported here: only bounce candidates pay for it

        found = scan_message(message)
    except Exception:  # a detector tripping on a broken mail: it is still treated as automatic by its headers
        return ()
    addresses = {item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item) for item in found}
    return tuple(sorted(address.strip().lower() for address in addresses if "@" in address))


def _looks_like_bounce(mail: InboundMail) -> bool:
    content_type = mail.headers.get("content-type", "").lower()
    local = mail.sender.local.lower()
    return_local = (mail.return_path or "").rpartition("@")[0]
    return (mail.return_path == "" or local in BOUNCE_SENDERS or return_local in BOUNCE_SENDERS
            or "multipart/report" in content_type or "x-failed-recipients" in mail.headers
            or bool(_BOUNCE_SUBJECT.search(mail.subject)))

