"""The email channel with the rest of the server: attachments into knowledge, reminders by mail, a restart
between receipt and reply, admin powers only for authenticated mail, the sender policy, the rate limit, the
attachment limits, and the SMTP relay failing then recovering."""

from __future__ import annotations

import asyncio
import smtplib
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select

from agents.llm.base import ChatMessage, ChatResult, ToolSpec, Usage
from bot.store import tables as t
from knowledge import tables as kt
from server.app import App
from server.settings import CHANNELS
from tests.channels.email.email_env import Mailbox, body_of, build, mail
from tests.fakes.clock import FakeClock
from tests.fakes.fake_slack import wait_for
from tests.fakes.scripted_provider import ScriptedProvider
from tests.helpers import count

POLICY = b"Refund policy.\n\nCustomers may return any item within 45 days of delivery for a full refund."


def knowing(messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> ChatResult:
    """A model that answers a question from what its prompt says about refunds (knowledge, not history: its
    own earlier answers never name the number)."""
    question = next(m.content or "" for m in reversed(messages) if m.role == "user")
    prompt = "\n".join(m.content or "" for m in messages)
    if "how long" not in question.lower():
        text = "Thanks, noted."
    else:
        text = "You have 45 days to return it." if "45 days" in prompt else "I don't know."
    return ChatResult(text, (), Usage(10, 10), "scripted-model")


async def test_an_attachment_ends_in_knowledge_and_answers_the_next_mail(tmp_path: Path, aiohttp_client: Any) -> None:
    box = await build(tmp_path, aiohttp_client, app_factory=lambda s: App(
        s, channels=CHANNELS.builder(("http", "email")), provider=ScriptedProvider(knowing)))
    await box.send(mail(subject="Our policy", body="Here is our policy document.", message_id="<k1@example.com>",
                        files=[("refunds.txt", "text/plain", POLICY)]))
    [first] = await box.replies(1)
    assert body_of(first).strip() == "Thanks, noted."
    [document] = await box.app.services.db.all(select(kt.knowledge_document.c.title))
    assert document.title == "refunds.txt"
    await box.send(mail(subject="Re: Our policy", body="How long do customers have to return an item?",
                        message_id="<k2@example.com>", in_reply_to=first["Message-ID"]))
    second = (await box.replies(2))[1]
    assert "45 days" in body_of(second)


async def test_a_damaged_attachment_is_reported_and_the_mail_still_answered(tmp_path: Path,
                                                                            aiohttp_client: Any) -> None:
    box = await build(tmp_path, aiohttp_client)
    raw = mail(body="/whoami", message_id="<bad@example.com>", files=[("notes.txt", "text/plain", b"x")])
    raw = raw.replace(b"eA==", b"!!not base64!!")  # the part's base64 body, broken on the wire
    await box.send(raw)
    [reply] = await box.replies(1)
    assert "notes.txt" in body_of(reply) and "damaged" in body_of(reply)
    assert "You are" in body_of(reply) or "whoami" in body_of(reply).lower() or "Sam" in body_of(reply)


async def test_a_mail_with_only_a_damaged_attachment_gets_a_notice_once(tmp_path: Path,
                                                                          aiohttp_client: Any) -> None:
    box = await build(tmp_path, aiohttp_client)
    raw = mail(body="", subject="", message_id="<only@example.com>", files=[("notes.txt", "text/plain", b"x")])
    raw = raw.replace(b"eA==", b"!!not base64!!")
    await box.send(raw)
    [notice] = await box.replies(1)
    assert "notes.txt" in body_of(notice) and notice["In-Reply-To"] == "<only@example.com>"
    await box.send(raw)  # redelivered: no second notice
    await box.settled()
    await wait_for(lambda: box.channel.outbox.waiting == 0, message="the outbox settled")
    assert len(box.written()) == 1
    assert await count(box.app, t.message) == 0


async def test_a_taken_smtp_port_leaves_the_server_running(tmp_path: Path, aiohttp_client: Any) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        box = await build(tmp_path, aiohttp_client, email_smtp_listen=f"127.0.0.1:{taken.getsockname()[1]}")
        health = (await (await box.client.get("/health")).json())["channels"]["email"]
    assert health["status"] == "degraded" and "SMTP listener" in health["last_error"]


async def test_attachment_count_and_size_limits_are_said_in_the_reply(tmp_path: Path, aiohttp_client: Any) -> None:
    box = await build(tmp_path, aiohttp_client, email_max_attachments=1, email_max_attachment_bytes=1024)
    await box.send(mail(body="/whoami", message_id="<lim@example.com>", files=[
        ("a.txt", "text/plain", b"first file"), ("b.txt", "text/plain", b"second file"),
        ("big.txt", "text/plain", b"x" * 4096), ("photo.png", "image/png", b"\x89PNG....")]))
    [reply] = await box.replies(1)
    text = body_of(reply)
    assert "first 1 attachments only; not 'b.txt'" in text
    assert "'big.txt'" in text and "1 KB" in text
    assert "'photo.png'" in text
    [row] = await box.app.services.db.all(select(t.message.c.attachments).where(t.message.c.direction == "in"))
    assert [a["name"] for a in row.attachments] == ["a.txt"]


async def test_a_reminder_set_by_mail_arrives_by_mail_in_the_same_thread(tmp_path: Path,
                                                                         aiohttp_client: Any) -> None:
    clock = FakeClock()
    box = await build(tmp_path, aiohttp_client, app_factory=lambda s: App(
        s, channels=CHANNELS.builder(("http", "email")), clock=clock))
    await box.send(mail(subject="Stretch", body="/whoami", message_id="<r0@example.com>"))
    [first] = await box.replies(1)
    await box.send(mail(subject="Re: Stretch", body="remind me in 10 minutes to stretch",
                        message_id="<r1@example.com>", in_reply_to=first["Message-ID"]))
    confirmation = (await box.replies(2))[1]
    assert "stretch" in body_of(confirmation).lower()
    clock.advance(minutes=10)
    assert await box.app.kit.extras["jobs"].scheduler.run_due() == 1
    reminder = (await box.replies(3))[2]
    assert "Reminder: stretch" in body_of(reminder)
    assert reminder["Subject"] == "Re: Stretch"
    assert reminder["In-Reply-To"] == "<r1@example.com>"  # the thread's latest mail
    assert "<r0@example.com>" in reminder["References"]
    assert reminder["Auto-Submitted"] == "auto-generated"
    assert reminder["To"] == "Sam <sam@example.com>"


async def test_a_restart_between_receipt_and_reply_answers_once(tmp_path: Path, aiohttp_client: Any) -> None:
    first = await build(tmp_path, aiohttp_client)
    hold = asyncio.Event()

    async def stuck(turn: Any) -> None:  # the server dies while the turn is still queued behind the gates
        await hold.wait()

    first.app.services.pipeline._gates.insert(0, stuck)
    raw = mail(body="", subject="Notes", message_id="<restart@example.com>",
               files=[("refunds.txt", "text/plain", POLICY)])
    await first.send(raw)  # 250: stored, the file kept on disk
    [row] = await first.app.services.db.all(select(t.interaction.c.status))
    assert row.status == "received"
    for task in list(first.app.services.pipeline._tasks):
        task.cancel()
    await first.client.close()  # the server stops with the mail unanswered
    assert first.written() == []

    second = await build(tmp_path, aiohttp_client)  # same data dir: recovery answers it
    await second.replies(1)
    await second.send(raw)  # the sending server tries again after the lost connection
    await second.settled()
    assert len(second.written()) == 1
    assert await count(second.app, t.interaction) == 1
    [document] = await second.app.services.db.all(select(kt.knowledge_document.c.title))
    assert document.title == "refunds.txt"  # the re-run turn still had the file


SPF_PASS = "mx.example.com; spf=pass smtp.mailfrom=sam@example.com; dkim=pass header.d=example.com"


@pytest.mark.parametrize(("headers", "allowed"), [
    ({}, False),
    ({"Authentication-Results": SPF_PASS.replace("mx.example.com", "forger.example")}, False),
    ({"Authentication-Results": SPF_PASS}, True),
])
async def test_admin_commands_only_for_authenticated_mail(tmp_path: Path, aiohttp_client: Any,
                                                          headers: dict[str, str], allowed: bool) -> None:
    box = await build(tmp_path, aiohttp_client, admins="email:sam@example.com",
                      email_trusted_servers="mx.example.com")
    await box.send(mail(body="/status", message_id="<adm@example.com>", headers=headers))
    [reply] = await box.replies(1)
    assert ("for administrators" not in body_of(reply)) is allowed


async def test_allowlist_refusals_are_audited_and_never_answered(tmp_path: Path, aiohttp_client: Any) -> None:
    box = await build(tmp_path, aiohttp_client, email_sender_policy="allowlist", email_allow="example.com")
    await box.send(mail(sender="eve@evil.example", body="/help", message_id="<spam@evil.example>"),
                    sender="eve@evil.example")
    await box.send(mail(sender="kim@sub.example.com", body="/whoami", message_id="<ok@sub.example.com>"),
                   sender="kim@sub.example.com")
    [reply] = await box.replies(1)
    assert reply["To"] == "kim@sub.example.com"
    await box.settled()
    assert len(box.written()) == 1
    [event] = await box.app.services.db.all(select(t.audit_event))
    assert event.actor == "email:eve@evil.example" and event.detail["outcome"] == "refused"
    assert await count(box.app, t.message, t.message.c.external_id == "spam@evil.example") == 0


async def test_known_policy_takes_only_senders_with_an_identity(tmp_path: Path, aiohttp_client: Any) -> None:
    box = await build(tmp_path, aiohttp_client, email_sender_policy="known")
    await box.send(mail(body="/help", message_id="<new@example.com>"))
    await box.settled()
    assert box.written() == [] and box.channel.counts["refused"] == 1


async def test_a_sender_over_the_rate_limit_is_told_to_try_later(tmp_path: Path, aiohttp_client: Any) -> None:
    box = await build(tmp_path, aiohttp_client, email_rate_burst=2, email_rate_per_hour=1)
    await box.send(mail(body="/whoami", message_id="<rl1@example.com>"))
    await box.send(mail(body="/whoami", message_id="<rl2@example.com>"))
    with pytest.raises(smtplib.SMTPDataError) as limited:
        await box.send(mail(body="/whoami", message_id="<rl3@example.com>"))
    assert limited.value.smtp_code == 451
    await box.replies(2)
    await box.settled()
    assert len(box.written()) == 2


class Relay:
    """A mail server the replies are relayed through; it may be down."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.port = _free_port()
        self._server: asyncio.base_events.Server | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(bytes(envelope.original_content or b""))
        return "250 OK"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: SMTP(self, hostname="relay", loop=loop), "127.0.0.1",
                                                self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_relay_down_then_back_loses_nothing(tmp_path: Path, aiohttp_client: Any) -> None:
    relay = Relay()
    box: Mailbox = await build(tmp_path, aiohttp_client, email_relay=f"smtp://127.0.0.1:{relay.port}",
                               email_retry_seconds=0.05)
    await box.send(mail(body="/whoami", message_id="<relay@example.com>"))
    await wait_for(lambda: box.channel.outbox.waiting == 1 or box.channel.last_error is not None,
                   message="the reply waiting in the outbox")
    assert relay.received == [] and box.written() == []
    await relay.start()
    try:
        await wait_for(lambda: len(relay.received) == 1, message="the reply through the relay")
    finally:
        await relay.stop()
    assert b"In-Reply-To: <relay@example.com>" in relay.received[0]
    await wait_for(lambda: box.channel.outbox.waiting == 0, message="the outbox settled")
    [row] = await box.app.services.db.all(select(t.outbox))
    assert row.status == "sent" and row.attempts >= 2
