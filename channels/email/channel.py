"""The email adapter: mail in by SMTP (`smtp.py`) or Postmark's webhook (`postmark.py`), one path from there
(`receive`), replies out in the same thread through Postmark, a relay or the outbox folder, by the durable
outbox when the way out is down.

`receive` decides, before anything is stored: which agent (`routing.py`), whether to answer at all (automated
mail, our own addresses, the sender policy, the rate limit), which conversation (`threads.py`), and keeps the
files (`attachments.py`). The pipeline then stores the message with its interaction, as for any channel, and
its dedupe on the Message-ID makes a redelivered mail cost nothing.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from email.message import EmailMessage
from typing import Any, ClassVar, Literal

import structlog
from aiohttp import web

from bot.errors import ThinklioError
from bot.governance import Actor
from bot.ids import new_id
from bot.messages import Attachment, InboundMessage, OutboundMessage, Sender
from bot.outbox import Blocklist, Delivery, Outbox, Queued
from bot.services import Services
from channels.base import BaseChannel
from channels.email.attachments import FileStore
from channels.email.compose import compose_message, compose_reply, reply_recipients, thread_of
from channels.email.headers import normalise_id
from channels.email.mail import Address, InboundMail
from channels.email.outbound import FolderSender, PostmarkSender, RelaySender, recipients
from channels.email.outbound import Sender as MailSender
from channels.email.policy import SenderPolicy
from channels.email.postmark import PATH, PostmarkWebhook
from channels.email.routing import TYPE, Destination, Router
from channels.email.settings import EmailSettings
from channels.email.smtp import SmtpListener
from channels.email.threads import Threads, external_id_of, mail_metadata, message_text, original_of

log = structlog.get_logger("thinklio.email")

Outcome = Literal["accepted", "duplicate", "unknown", "ignored", "refused", "limited", "empty"]
TRUNCATED = "(Your mail was long: I read its first {n} characters.)"


class EmailDeliveryError(Exception):
    """A reply that will never go (the way out refused it for good): recorded, not retried."""


class EmailChannel(BaseChannel):
    type: ClassVar[str] = TYPE

    def __init__(self, services: Services, web_app: web.Application) -> None:
        s = services.settings
        if not isinstance(s, EmailSettings):
            raise TypeError("the email channel needs the server's settings with the email block")
        self._s = services
        self._settings = s
        self.router = Router(s, services.db, services.directory, services.clock)
        self.threads = Threads(services.db)
        self.policy = SenderPolicy(services.db, per_hour=s.email_rate_per_hour, burst=s.email_rate_burst)
        mail_dir = s.data_dir / "mail"
        self.files = FileStore(mail_dir / "attachments", max_files=s.email_max_attachments,
                               max_bytes=s.email_max_attachment_bytes)
        self.sender: MailSender
        if s.postmark_server_token:
            self.sender = PostmarkSender(s.postmark_server_token, api_base=s.postmark_api_base,
                                         timeout=s.email_send_timeout)
        elif s.email_relay:
            self.sender = RelaySender(s.email_relay, timeout=s.email_send_timeout)
        else:
            self.sender = FolderSender(mail_dir / "outbox")
        self.blocklist = Blocklist(services.db, services.clock, TYPE)
        self.outbox = Outbox(services.db, services.clock, TYPE, send=self._send_queued,
                             recipient=lambda item: str(item.options.get("to") or ""), blocklist=self.blocklist,
                             retry_seconds=s.email_retry_seconds)
        self.smtp: SmtpListener | None = None
        if (listen := s.email_smtp_address) is not None:
            self.smtp = SmtpListener(self, *listen, max_bytes=s.email_max_mail_bytes,
                                     trusted=s.email_trusted_servers)
        self.webhook = False
        if s.postmark_webhook_user and s.postmark_webhook_password:
            web_app.router.add_post(PATH, PostmarkWebhook(self, user=s.postmark_webhook_user,
                                                          password=s.postmark_webhook_password,
                                                          limit=s.email_max_mail_bytes).handle)
            self.webhook = True
        self._tasks: set[asyncio.Task[Any]] = set()
        self.state = "stopped"
        self.last_mail_at: datetime | None = None
        self.last_error: str | None = None
        self.counts = {"accepted": 0, "duplicate": 0, "unknown": 0, "ignored": 0, "refused": 0, "limited": 0,
                       "empty": 0, "sent": 0}

    # lifecycle ------------------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.router.prepare()
        await self.blocklist.load()
        await self.outbox.load()
        self.state = "running"
        if self.smtp is not None:
            try:
                await self.smtp.start()
            except OSError as exc:  # the port is taken: the rest of the server (and the webhook) still runs
                self.state = "degraded"
                self.last_error = f"SMTP listener on {self.smtp.where}: {exc}"[:300]
                log.error("email_smtp_listen_failed", where=self.smtp.where, error=str(exc))
        self._spawn(self.outbox.run())

    async def stop(self) -> None:
        if self.smtp is not None:
            await self.smtp.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._s.pipeline.drain(timeout=5.0)
        self.state = "stopped"

    def health(self) -> dict[str, Any]:
        inbound = [*([f"smtp {self.smtp.where}"] if self.smtp is not None else []),
                   *(["postmark"] if self.webhook else [])]
        return {"status": self.state, "inbound": inbound, "outbound": self.sender.kind,
                "addresses": self.router.addresses,
                "last_mail_at": None if self.last_mail_at is None else self.last_mail_at.isoformat(),
                "mails": dict(self.counts), "outbox_waiting": self.outbox.waiting, "last_error": self.last_error}

    def now(self) -> datetime:
        return self._s.clock.now()

    def _spawn(self, work: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # inbound --------------------------------------------------------------------------------------------

    async def destinations(self, mail: InboundMail, recipients: Sequence[str]) -> list[Destination]:
        """The agents a mail is for: the envelope's recipients (SMTP), else the address Postmark says it was
        sent to, else the first of To and Cc that is ours."""
        found: dict[str, Destination] = {}
        if recipients:
            for address in recipients:
                destination = await self.router.resolve(address)
                if destination is not None:
                    found.setdefault(destination.channel.slug, destination)
            return list(found.values())
        for address in [*([mail.recipient] if mail.recipient else []), *(a.email for a in (*mail.to, *mail.cc))]:
            destination = await self.router.resolve(address)
            if destination is not None:
                return [destination]
        return []

    async def receive(self, mail: InboundMail, recipients: Sequence[str] = ()) -> Outcome:
        """Take one mail in: stored and on its way to an answer, or left out (and why) with nothing stored."""
        self.last_mail_at = self._s.clock.now()
        destinations = await self.destinations(mail, recipients)
        if not destinations:
            log.info("email_unknown_recipient", message_id=mail.message_id, to=[a.email for a in mail.to],
                     recipient=mail.recipient or (list(recipients) or None))
            return self._count("unknown")
        outcomes = [await self._receive_one(mail, destination) for destination in destinations]
        for outcome in ("limited", "accepted", "duplicate"):
            if outcome in outcomes:
                return outcome
        return outcomes[0]

    def _count(self, outcome: Outcome) -> Outcome:
        self.counts[outcome] += 1
        return outcome

    async def _receive_one(self, mail: InboundMail, destination: Destination) -> Outcome:
        sender = mail.sender.email
        why_not = ("sent from our own address" if self.router.is_ours(sender) else
                   f"automated mail ({mail.automatic})" if mail.automatic else None)
        if why_not is not None:
            log.info("email_not_answered", message_id=mail.message_id, sender=sender, reason=why_not)
            return self._count("ignored")
        # The rate limit first: a flood from one address costs neither a policy lookup nor an audit row each.
        if self.policy.retry_after(sender):
            log.warning("email_rate_limited", message_id=mail.message_id, sender=sender)
            return self._count("limited")
        refusal = await self.policy.refusal(destination.box, sender)
        if refusal is not None:
            await self._refuse(destination, sender, mail, refusal)
            return self._count("refused")
        channel = destination.channel
        placement = await self.threads.place(channel.id, mail)
        kept = await self.files.keep(mail.attachments)
        text = message_text(mail, first=placement.first)
        notes = list(kept.notes)
        limit = self._settings.max_message_chars
        if len(text) > limit:
            text = text[:limit]
            notes.append(TRUNCATED.format(n=limit))
        metadata = {"mail": mail_metadata(mail, reply_from=destination.reply_from),
                    "sender_verified": mail.authenticated, "notes": notes}
        if not text.strip() and not kept.attachments:
            if notes:
                await self._notice(destination, mail, placement.key, notes)
            log.info("email_nothing_to_answer", message_id=mail.message_id, sender=sender)
            return self._count("empty")
        inbound = InboundMessage(channel=channel.slug, sender=Sender(sender, mail.sender.name), text=text,
                                 external_id=external_id_of(mail.message_id), conversation_key=placement.key,
                                 metadata=metadata, attachments=kept.attachments)
        if sender in self.blocklist:
            await self.blocklist.unblock(sender)  # they write again: they can be written to again
        try:
            ticket = await self._s.pipeline.accept(inbound)
        except ThinklioError as exc:
            if exc.code == "rate_limited":
                return self._count("limited")
            log.warning("email_refused_by_pipeline", message_id=mail.message_id, code=exc.code, error=exc.message)
            return self._count("refused")  # conflict: the same Message-ID with other content
        if ticket.duplicate:
            return self._count("duplicate")
        if placement.first:
            await self.threads.set_title(ticket.conversation_id, mail.subject)
        ticket.done.add_done_callback(lambda f: None if f.cancelled() else f.exception())
        return self._count("accepted")

    async def _refuse(self, destination: Destination, sender: str, mail: InboundMail, reason: str) -> None:
        """Logged and audited; never answered (an answer would confirm the address to a spammer)."""
        log.warning("email_sender_refused", message_id=mail.message_id, sender=sender, reason=reason,
                    address=destination.box.address)
        actor = Actor(f"{TYPE}:{sender}", destination.channel.account_id, None, channel=destination.channel.slug)
        await self._s.governance.audit.refused(actor, "email.receive", reason, target_type="address",
                                               target_id=destination.box.address)

    async def fetch_attachment(self, attachment: Attachment, *, limit: int) -> bytes:
        return await self.files.read(attachment, limit=limit)

    # outbound -------------------------------------------------------------------------------------------

    async def deliver(self, message: OutboundMessage) -> None:
        """A reply in the thread of the mail it answers; a message the server starts (a reminder, a job's
        follow-up) in the thread of the conversation's latest mail."""
        own = isinstance(message.metadata.get("mail"), dict)
        meta = message.metadata if own else await self.threads.last_mail(message.conversation_id)
        if meta is None:
            raise EmailDeliveryError("no mail to answer in this conversation")
        text = message.text
        if own and message.interaction_id is not None and meta.get("notes"):
            text = "\n\n".join([text.rstrip(), *meta["notes"]])
        row_id = message.message_id or (await self.threads.reply_row(message.interaction_id)
                                        if message.interaction_id else None)
        stored = meta["mail"]
        # The conversation's ids stand in for References only when the mail answered brought none of its own.
        thread = await self.threads.ids(message.conversation_id) if not stored.get("references") and (
            stored.get("in_reply_to") or not own) else []
        mail = await self._compose(message.channel, meta, text, row_id, answer=own, thread=thread)
        await self.threads.remember_sent(row_id, str(mail["Message-ID"]))
        await self._send_or_queue(message.conversation_key, mail, interaction_id=message.interaction_id)

    async def _compose(self, slug: str, meta: dict[str, Any], text: str, row_id: str | None, *,
                       answer: bool = True, thread: Sequence[str] = ()) -> EmailMessage:
        """The answer to the stored mail `meta` (`answer`), or a message we start in its thread (a reminder).
        `thread`: the conversation's stored ids, for References when the mail brought none of its own."""
        original = original_of(meta["mail"])
        parent, _ = thread_of(original)
        earlier = [item for item in thread if item != normalise_id(parent)]
        if not original.references and earlier:
            original = replace(original, references=tuple(earlier), spelled_references=())
        reply_from = str(meta["mail"].get("reply_from") or self._settings.email_address)
        name = None
        channel = await self._s.directory.channel(slug)
        if channel is not None:
            name = (await self._s.directory.agent(channel.agent_id)).name
        sender = Address(reply_from, name)
        message_id = f"{row_id or new_id('msg')}@{sender.domain or 'localhost'}"
        own = self.router.addresses
        if answer:
            return compose_reply(original=original, from_address=sender, text=text, message_id=message_id,
                                 own_addresses=own)
        to = reply_recipients(original, own_addresses=[*own, reply_from])
        _, references = thread_of(original)  # with the conversation's ids when the mail brought none
        return compose_message(from_address=sender, to=to.to, cc=to.cc, subject=original.subject, text=text,
                               references=references, in_reply_to=parent, message_id=message_id)

    async def _notice(self, destination: Destination, mail: InboundMail, key: str, notes: list[str]) -> None:
        """A mail with nothing to answer but files that could not be read: the sender is told, once."""
        meta = {"mail": mail_metadata(mail, reply_from=destination.reply_from)}
        reply = await self._compose(destination.channel.slug, meta, "\n\n".join(notes), None)
        added = await self.outbox.add_notice(key, self._options(reply), reply.as_string(),
                                             key=f"notice:{external_id_of(mail.message_id)}"[:255])
        if not added:
            log.info("email_notice_already_sent", message_id=mail.message_id)

    @staticmethod
    def _options(mail: EmailMessage) -> dict[str, Any]:
        to = recipients(mail)
        return {"to": to[0].lower() if to else "", "message_id": str(mail["Message-ID"])}

    async def _send_or_queue(self, key: str, mail: EmailMessage, *, interaction_id: str | None) -> None:
        options = self._options(mail)
        if options["to"] in self.blocklist:  # bounced for good; they are written to again once they write
            log.info("email_recipient_blocked", to=options["to"], message_id=options["message_id"])
            raise EmailDeliveryError(f"{options['to']} refused our mail before")
        if self.outbox.has_pending(key) or self.state == "stopped":
            await self.outbox.add(key, options, [mail.as_string()], interaction_id=interaction_id, error=None)
            return
        result = await self.sender.send(mail)
        if result.verdict == "sent":
            self.counts["sent"] += 1
            return
        self.last_error = result.error
        if result.verdict == "retry":
            log.warning("email_send_retry_later", to=options["to"], error=result.error)
            await self.outbox.add(key, options, [mail.as_string()], interaction_id=interaction_id,
                                  error=result.error, delay=self._settings.email_retry_seconds)
            return
        if result.verdict == "blocked":
            await self.blocklist.block(options["to"], result.error)
        raise EmailDeliveryError(f"the reply was refused: {result.error}")

    async def _send_queued(self, item: Queued) -> Delivery:
        mail = email.message_from_string(item.text, policy=email.policy.default)
        assert isinstance(mail, EmailMessage)
        result = await self.sender.send(mail)
        if result.verdict == "sent":
            self.counts["sent"] += 1
        else:
            self.last_error = result.error
        return result


__all__ = ["EmailChannel", "EmailDeliveryError"]
