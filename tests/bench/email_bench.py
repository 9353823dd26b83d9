"""Handled mails per second through the Postmark webhook and through SMTP, and the memory a 5 MB attachment
costs while it is received.

In one process: the app (SQLite on a fresh data dir, no model: commands and triage answer) behind a real
aiohttp server. Webhook: C concurrent clients post Postmark inbound payloads with basic auth; replies go out
through the real postmarker client to the fake Postmark API. SMTP: C concurrent smtplib sessions (threads) to
the aiosmtpd listener, several mails per session; replies are written as `.eml` files. handled/s: mails whose
reply went out, from the first mail to the last reply. Memory: the peak the server's Python heap grows by
(tracemalloc) while one mail with a 5 MB attachment is received, parsed, kept and stored; the client is a
separate process, so its copy does not count.

    python tests/bench/email_bench.py --mails 400 --clients 10
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import smtplib
import sys
import tempfile
import time
import tracemalloc
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.store import tables as t
from channels.email.channel import EmailChannel
from channels.email.postmark import PATH
from server.app import App
from server.settings import CHANNELS
from tests.conftest import make_settings
from tests.fakes.fake_postmark import TOKEN, FakePostmark
from tests.helpers import count

TEXTS = ("/whoami", "hello", "what time is it", "thanks!")
AUTH = {"Authorization": "Basic " + base64.b64encode(b"pm:secret").decode()}
LIMITS = {"email_rate_per_hour": 1e9, "email_rate_burst": 1_000_000, "email_max_mail_bytes": 64 * 1024 * 1024,
          "knowledge_max_document_bytes": 16 * 1024 * 1024, "email_max_attachment_bytes": 16 * 1024 * 1024}


def payload(n: int, *, attachment: bytes | None = None) -> dict[str, Any]:
    files = [] if attachment is None else [{"Name": "big.txt", "ContentType": "text/plain",
                                            "Content": base64.b64encode(attachment).decode(),
                                            "ContentLength": len(attachment)}]
    return {"FromFull": {"Email": f"user{n % 50}@example.com", "Name": "Sam"},
            "ToFull": [{"Email": "assistant@localhost", "Name": ""}], "OriginalRecipient": "assistant@localhost",
            "Subject": f"Mail {n}", "MessageID": f"bench-{n}", "TextBody": TEXTS[n % len(TEXTS)],
            "Date": "Thu, 26 Nov 2026 10:00:00 +0100", "Headers": [], "Attachments": files}


def rfc5322(n: int, *, attachment: bytes | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = f"Sam <user{n % 50}@example.com>"
    message["To"] = "assistant@localhost"
    message["Subject"] = f"Mail {n}"
    message["Message-ID"] = f"<smtp-bench-{n}@example.com>"
    message.set_content(TEXTS[n % len(TEXTS)])
    if attachment is not None:
        message.add_attachment(attachment, maintype="text", subtype="plain", filename="big.txt")
    return message.as_bytes(policy=SMTP)


async def webhook(mails: int, clients: int) -> None:
    fake = await FakePostmark().start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp) / "var", email_enabled=True, email_smtp_listen="off",
                                 postmark_server_token=TOKEN, postmark_api_base=fake.url, postmark_webhook_user="pm",
                                 postmark_webhook_password="secret", **LIMITS)
        app = App(settings, channels=CHANNELS.builder(("email",)))
        server = TestServer(app.web)
        await server.start_server()
        bodies = [json.dumps(payload(n)).encode() for n in range(mails)]
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        for body in bodies:
            queue.put_nowait(body)

        async def sender(session: aiohttp.ClientSession) -> None:
            while not queue.empty():
                body = queue.get_nowait()
                async with session.post(server.make_url(PATH), data=body,
                                        headers={**AUTH, "Content-Type": "application/json"}) as response:
                    assert response.status == 200, await response.text()

        started = time.perf_counter()
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(sender(session) for _ in range(clients)))
        accepted = time.perf_counter() - started
        while len(fake.sent) < mails and time.perf_counter() - started < 600:
            await asyncio.sleep(0.01)
        handled = time.perf_counter() - started
        print(f"webhook: mails={mails} clients={clients} accepted/s={mails / accepted:.0f} "
              f"handled/s={len(fake.sent) / handled:.0f} replies={len(fake.sent)}")
        await memory(app, server, via="webhook")
        await server.close()
    await fake.close()


async def smtp(mails: int, clients: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp) / "var", email_enabled=True, email_smtp_listen="127.0.0.1:0", **LIMITS)
        app = App(settings, channels=CHANNELS.builder(("email",)))
        server = TestServer(app.web)
        await server.start_server()
        channel = next(c for c in app.services.channels if isinstance(c, EmailChannel))
        assert channel.smtp is not None
        port = channel.smtp.port
        raws = [rfc5322(n) for n in range(mails)]
        outbox = Path(tmp) / "var" / "mail" / "outbox"

        def session(part: list[bytes]) -> None:
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
                for raw in part:
                    client.sendmail("sam@example.com", ["assistant@localhost"], raw)

        started = time.perf_counter()
        await asyncio.gather(*(asyncio.to_thread(session, raws[i::clients]) for i in range(clients)))
        accepted = time.perf_counter() - started
        while (sent := channel.counts["sent"]) < mails and time.perf_counter() - started < 600:
            await asyncio.sleep(0.01)
        handled = time.perf_counter() - started
        files = len(list(outbox.glob("*.eml")))
        print(f"smtp: mails={mails} clients={clients} accepted/s={mails / accepted:.0f} "
              f"handled/s={sent / handled:.0f} replies={files}")
        await memory(app, server, via="smtp", port=port)
        await server.close()


CLIENT = """
import sys, smtplib, urllib.request
data = open(sys.argv[2], "rb").read()
if sys.argv[1] == "smtp":
    with smtplib.SMTP("127.0.0.1", int(sys.argv[3]), timeout=120) as c:
        c.sendmail("sam@example.com", ["assistant@localhost"], data)
else:
    req = urllib.request.Request(sys.argv[3], data=data, headers={"Authorization": sys.argv[4],
                                 "Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=120).read()
"""


async def memory(app: App, server: TestServer, *, via: str, port: int = 0) -> None:
    """The server's heap peak over its baseline while one mail with a 5 MB attachment comes in."""
    attachment = b"All work and no play makes a 5 MB attachment.\n" * (5 * 1024 * 1024 // 47)
    n = 10_000_000
    raw = (json.dumps(payload(n, attachment=attachment)).encode() if via == "webhook"
           else rfc5322(n, attachment=attachment))
    with tempfile.NamedTemporaryFile(suffix=".mail", delete=False) as file:
        file.write(raw)
    before = await count(app, t.message)
    args = [sys.executable, "-c", CLIENT, via, file.name,
            str(port) if via == "smtp" else str(server.make_url(PATH)), AUTH["Authorization"]]
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    process = await asyncio.create_subprocess_exec(*args)
    assert await process.wait() == 0
    while await count(app, t.message) == before:
        await asyncio.sleep(0.01)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    Path(file.name).unlink()
    print(f"{via}: one mail with a {len(attachment) / 1e6:.1f} MB attachment ({len(raw) / 1e6:.1f} MB on the "
          f"wire): peak heap growth {(peak - baseline) / 1e6:.1f} MB while received")


async def main(mails: int, clients: int) -> None:
    await webhook(mails, clients)
    await smtp(mails, clients)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--mails", type=int, default=400)
    parser.add_argument("--clients", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.mails, args.clients))
