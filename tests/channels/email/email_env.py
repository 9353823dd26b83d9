"""The email channel under test: a real app with the channel built, its SMTP listener on a free loopback port,
and helpers to send mail (real SMTP sessions with `smtplib`, on a worker thread) and read what went out."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from bot.ids import new_id
from bot.store import tables as t
from bot.store.batch import Insert
from channels.email.channel import EmailChannel
from server.app import App
from server.settings import CHANNELS
from tests.conftest import make_settings
from tests.fakes.fake_slack import wait_for

USER, PASSWORD = "postmark", "hook-secret"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}


def email_overrides(**extra: Any) -> dict[str, Any]:
    return {"email_enabled": True, "email_smtp_listen": "127.0.0.1:0", "postmark_webhook_user": USER,
            "postmark_webhook_password": PASSWORD, **extra}


def mail(*, body: str = "Hello there", sender: str = "Sam <sam@example.com>", to: str = "assistant@localhost",
         subject: str = "Hello", message_id: str = "<m1@example.com>", cc: str | None = None,
         in_reply_to: str | None = None, references: str | None = None, headers: dict[str, str] | None = None,
         files: list[tuple[str, str, bytes]] = ()) -> bytes:  # type: ignore[assignment]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message["Date"] = "Thu, 26 Nov 2026 10:00:00 +0100"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for name, media_type, content in files:
        maintype, _, subtype = media_type.partition("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes(policy=email.policy.SMTP)  # CRLF, as on the wire (smtplib sends bytes as given)


def smtp_send(port: int, raw: bytes, *, sender: str = "sam@example.com",
              to: list[str] | None = None) -> dict[str, tuple[int, bytes]]:
    """One SMTP session; returns the refused recipients (smtplib raises when all are refused)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        return client.sendmail(sender, to or ["assistant@localhost"], raw)


@dataclass
class Mailbox:
    app: App
    client: TestClient
    channel: EmailChannel
    outbox: Path
    sent: list[EmailMessage] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.channel.smtp.port)

    async def send(self, raw: bytes, **kwargs: Any) -> dict[str, tuple[int, bytes]]:
        return await asyncio.to_thread(smtp_send, self.port, raw, **kwargs)

    def written(self) -> list[EmailMessage]:
        """The mails in the outbox folder, oldest first."""
        files = sorted(self.outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns) if self.outbox.exists() else []
        found = []
        for path in files:
            parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            found.append(parsed)
        return found

    async def replies(self, n: int, *, timeout: float = 15.0) -> list[EmailMessage]:
        await wait_for(lambda: len(self.written()) >= n, timeout=timeout, message=f"{n} mails in the outbox")
        return self.written()

    async def post(self, payload: Any, *, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        body = payload if isinstance(payload, bytes) else None
        response = await self.client.post("/v1/channels/email/postmark", data=body,
                                          json=None if body is not None else payload,
                                          headers=AUTH if headers is None else headers)
        return response.status, await response.json()

    async def settled(self) -> None:
        """Every turn started so far has finished and been delivered."""
        await self.app.services.pipeline.drain(timeout=15.0)


async def add_agents(box: Mailbox, *slugs: str) -> None:
    """Agents of the default account, for +tags to name."""
    account = await box.app.services.directory.account_by_slug("default")
    assert account is not None
    await box.app.services.db.write([Insert(t.agent, {
        "id": new_id("agt"), "account_id": account.id, "slug": slug, "name": slug.title(), "system_prompt": "",
        "status": "active", "config": {}, "created_at": box.app.services.clock.now()}) for slug in slugs])


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


async def build(tmp_path: Path, aiohttp_client: Any, *, app_factory: Callable[..., App] | None = None,
                **overrides: Any) -> Mailbox:
    settings = make_settings(tmp_path / "var", **email_overrides(**overrides))
    app = (app_factory or (lambda s: App(s, channels=CHANNELS.builder(("http", "email")))))(settings)
    client = await aiohttp_client(app.web)
    channel = next(c for c in app.services.channels if isinstance(c, EmailChannel))
    return Mailbox(app, client, channel, tmp_path / "var" / "mail" / "outbox")
