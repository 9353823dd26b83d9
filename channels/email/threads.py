"""Mail threads as conversations.

A mail's `Message-ID` is its message's external id (so a redelivery is deduped by the store), and the ids of
our own replies are stored the same way on the reply rows. A mail joins the conversation of any message it
refers to (`In-Reply-To`, then `References`, nearest first), not only the last one: clients differ in what
they keep. A thread whose start we never saw is keyed by its root (the first reference), so the rest of it
still lands together; a new subject with no references starts a new conversation.

Only a participant joins a thread by reference: the sender must be its starter or have written to it, or
have been addressed in it. A stranger who learns a Message-ID gets a conversation of their own, never
someone else's history.

What a reply needs (the ids, subject, participants, the address written to) is kept as the inbound message's
`metadata`, so a turn recovered after a restart, a reminder and a job's follow-up all answer in the thread.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from bot.records import ConversationRecord, record
from bot.store import tables as t
from bot.store.database import Database
from channels.email.compose import subject_base
from channels.email.headers import normalise_id
from channels.email.mail import Address, InboundMail
from channels.email.routing import TYPE

MAX_REFERENCES = 20  # kept per message: enough to thread, small enough to store with every mail


def external_id_of(message_id: str) -> str:
    """The stored form of a Message-ID: as is, or hashed when longer than the column."""
    message_id = normalise_id(message_id)
    if len(message_id) <= 255:
        return message_id
    return "sha256:" + hashlib.sha256(message_id.encode()).hexdigest()


def thread_key(message_id: str) -> str:
    """A conversation key for a thread rooted at `message_id` (never equal to an address: mail threads are not
    the sender's private chat)."""
    stored = external_id_of(message_id)
    if len(stored) > 200:
        stored = "sha256:" + hashlib.sha256(stored.encode()).hexdigest()
    return f"thread:{stored}"


def clean_subject(subject: str) -> str:
    """The subject without its Re:/Fwd: prefixes: the conversation's title."""
    return subject_base(subject)[0]


def message_text(mail: InboundMail, *, first: bool) -> str:
    """What the user said: the new text; in a thread's first mail, the subject before it (it is often the
    question itself). A slash command on the body's first line stays first, so it is a command."""
    body = mail.text.strip()
    subject = clean_subject(mail.subject)
    if not first or not subject or mail.command_line is not None or body.lower().startswith(subject.lower()):
        return body
    return f"{subject}\n\n{body}" if body else subject


def _pair(address: Address) -> list[str | None]:
    return [address.email, address.name]


def _address(pair: Any) -> Address:
    return Address(str(pair[0]).lower(), pair[1] if len(pair) > 1 else None)


def mail_metadata(mail: InboundMail, *, reply_from: str) -> dict[str, Any]:
    """What is stored with the message: everything its reply needs, and nothing large."""
    return {
        "message_id": mail.message_id, "subject": mail.subject, "from": _pair(mail.sender),
        "to": [_pair(a) for a in mail.to], "cc": [_pair(a) for a in mail.cc],
        "in_reply_to": list(mail.in_reply_to[:MAX_REFERENCES]),
        "references": list(mail.references[-MAX_REFERENCES:]), "date": mail.date.isoformat(),
        "reply_from": reply_from, "reply_to": [_pair(a) for a in mail.reply_to],
        "spelled_message_id": mail.spelled_message_id,
        "spelled_references": list(mail.spelled_references[-MAX_REFERENCES:]),
        "headers": {k: v[:500] for k, v in mail.headers.items()},
    }


def original_of(meta: dict[str, Any]) -> InboundMail:
    """The mail a stored message came from, as far as a reply needs it (its text is not kept here)."""
    return InboundMail(
        message_id=str(meta["message_id"]), sender=_address(meta["from"]),
        to=tuple(_address(a) for a in meta.get("to") or ()), cc=tuple(_address(a) for a in meta.get("cc") or ()),
        subject=str(meta.get("subject") or ""), text="", date=datetime.fromisoformat(meta["date"]),
        in_reply_to=tuple(meta.get("in_reply_to") or ()), references=tuple(meta.get("references") or ()),
        recipient=meta.get("reply_from"), headers=dict(meta.get("headers") or {}),
        reply_to=tuple(_address(a) for a in meta.get("reply_to") or ()),
        spelled_message_id=meta.get("spelled_message_id"),
        spelled_references=tuple(meta.get("spelled_references") or ()),
    )


def participants(meta: dict[str, Any]) -> set[str]:
    """Who wrote a stored mail and whom it addressed."""
    found = {str(meta["from"][0]).lower()} if meta.get("from") else set()
    for key in ("to", "cc"):
        found |= {str(pair[0]).lower() for pair in meta.get(key) or ()}
    return found


@dataclass(frozen=True, slots=True)
class Placement:
    key: str  # the conversation key
    first: bool  # no conversation has this key yet: the mail starts it


class Threads:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def place(self, channel_id: str, mail: InboundMail) -> Placement:
        """Which conversation `mail` belongs to."""
        sender = mail.sender.email
        found = await self._referenced(channel_id, mail)
        user_id = await self._user_of(sender) if found is not None else None
        if found is not None and await self._takes_part(found, user_id, sender):
            return Placement(found.external_key, first=False)
        refs = [*mail.references[:1], *mail.in_reply_to[:1]] if found is None else []
        key = thread_key(refs[0] if refs else mail.message_id)
        existing = await self._by_key(channel_id, key)
        if existing is not None and refs:  # someone else's thread by the same root: only for its participants
            user_id = user_id or await self._user_of(sender)
            if not await self._takes_part(existing, user_id, sender):
                key = thread_key(mail.message_id)
                existing = await self._by_key(channel_id, key)
        # A mail that roots its own thread is its first mail, also when it comes again (same text: deduped).
        return Placement(key, first=existing is None or key == thread_key(mail.message_id))

    async def set_title(self, conversation_id: str, subject: str) -> None:
        """The conversation's title is its first subject."""
        title = clean_subject(subject)[:200]
        if not title:
            return
        table = t.conversation
        statement = (update(table).where(table.c.id == conversation_id, table.c.title.is_(None)).values(title=title))
        await self._db.run(lambda conn: conn.execute(statement))

    async def last_mail(self, conversation_id: str) -> dict[str, Any] | None:
        """The metadata of the conversation's latest mail: what a message the server starts answers."""
        rows = await self._db.all(
            select(t.message.c.metadata).where(t.message.c.conversation_id == conversation_id,
                                               t.message.c.direction == "in")
            .order_by(t.message.c.id.desc()).limit(20))
        for row in rows:
            mail = (row.metadata or {}).get("mail")
            if isinstance(mail, dict) and mail.get("message_id"):
                return dict(row.metadata)
        return None

    async def ids(self, conversation_id: str, *, limit: int = MAX_REFERENCES) -> list[str]:
        """The Message-IDs stored in the conversation (theirs and ours), oldest first: a thread's References."""
        rows = await self._db.all(
            select(t.message.c.external_id).where(t.message.c.conversation_id == conversation_id,
                                                  t.message.c.external_id.is_not(None))
            .order_by(t.message.c.id.desc()).limit(limit))
        return [row.external_id for row in reversed(rows) if not row.external_id.startswith("sha256:")]

    async def remember_sent(self, row_id: str | None, message_id: str) -> None:
        """Store our reply's Message-ID on its message row, so a mail answering it finds the conversation."""
        if row_id is None:
            return
        table = t.message
        statement = (update(table).where(table.c.id == row_id, table.c.external_id.is_(None))
                     .values(external_id=external_id_of(message_id)))
        await self._db.run(lambda conn: conn.execute(statement))

    async def reply_row(self, interaction_id: str) -> str | None:
        row = await self._db.one(select(t.interaction.c.reply_message_id).where(t.interaction.c.id == interaction_id))
        return None if row is None else row.reply_message_id

    async def _referenced(self, channel_id: str, mail: InboundMail) -> ConversationRecord | None:
        ids = [external_id_of(i) for i in mail.thread_ids][:2 * MAX_REFERENCES]
        if not ids:
            return None
        rows = await self._db.all(select(t.message.c.conversation_id, t.message.c.external_id).where(
            t.message.c.channel_id == channel_id, t.message.c.external_id.in_(ids)))
        by_id = {row.external_id: row.conversation_id for row in rows}
        for ref in ids:  # nearest first
            if ref in by_id:
                found = await self._db.one(select(t.conversation).where(t.conversation.c.id == by_id[ref]))
                return None if found is None else record(ConversationRecord, found)
        return None

    async def _by_key(self, channel_id: str, key: str) -> ConversationRecord | None:
        row = await self._db.one(select(t.conversation).where(t.conversation.c.channel_id == channel_id,
                                                              t.conversation.c.external_key == key))
        return None if row is None else record(ConversationRecord, row)

    async def _user_of(self, address: str) -> str | None:
        row = await self._db.one(select(t.channel_identity.c.user_id).where(
            t.channel_identity.c.channel_type == TYPE, t.channel_identity.c.external_id == address))
        return None if row is None else row.user_id

    async def _takes_part(self, conversation: ConversationRecord, user_id: str | None, address: str) -> bool:
        if user_id is not None and conversation.user_id == user_id:
            return True
        rows = await self._db.all(
            select(t.message.c.user_id, t.message.c.metadata).where(
                t.message.c.conversation_id == conversation.id, t.message.c.direction == "in")
            .order_by(t.message.c.id.desc()).limit(50))
        for row in rows:
            if user_id is not None and row.user_id == user_id:
                return True
            mail = (row.metadata or {}).get("mail")
            if isinstance(mail, dict) and address in participants(mail):
                return True
        return False
