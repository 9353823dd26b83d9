"""Where replies go out: Postmark's API, an SMTP relay, or, when neither is configured, `.eml` files in
`THINKLIO_DATA_DIR/mail/outbox/` (the local default, so a developer can read the replies).

Each sender turns one attempt into a `Delivery` verdict the outbox understands: sent, retry (Postmark or the
relay down, a 4xx), blocked (the recipient is inactive or refused: nothing more goes there until they write
again) or failed (a message that will never go).
"""

from __future__ import annotations

import asyncio
import os
import re
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import structlog

from bot.outbox import Delivery

log = structlog.get_logger("thinklio.email")

# Postmark's API error codes for a message that will never be accepted as it is.
POSTMARK_INACTIVE = 406  # the recipient bounced or complained before
POSTMARK_NEVER = frozenset({300, 402, 403, 409, 411, 412})
# Headers Postmark takes as custom headers (it builds From, To, Cc and Subject from its own fields).
POSTMARK_HEADERS = ("Message-ID", "In-Reply-To", "References", "Auto-Submitted", "X-Auto-Response-Suppress")


class Sender(Protocol):
    kind: str

    async def send(self, message: EmailMessage) -> Delivery: ...


def recipients(message: EmailMessage) -> list[str]:
    return [address for _, address in getaddresses([*message.get_all("To", []), *message.get_all("Cc", [])])
            if address]


class FolderSender:
    """One `.eml` file per mail, named by its Message-ID, so sending the same reply twice writes one file."""

    kind = "folder"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, message: EmailMessage) -> Delivery:
        await asyncio.to_thread(self._write, message)
        return Delivery("sent")

    def _write(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", str(message["Message-ID"] or "mail").strip("<> "))[:150]
        path = self.folder / f"{name}.eml"
        partial = path.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(message.as_bytes())
        os.replace(partial, path)


class PostmarkSender:
    """postmarker's client is synchronous (requests): every call runs on a worker thread."""

    kind = "postmark"

    def __init__(self, token: str, *, api_base: str | None, timeout: float) -> None:
        from postmarker.core import DEFAULT_API, PostmarkClient

        base = (api_base or DEFAULT_API).rstrip("/") + "/"
        self.client = PostmarkClient(server_token=token, timeout=timeout, root_api_url=base)

    async def send(self, message: EmailMessage) -> Delivery:
        from postmarker.exceptions import ClientError
        from requests import RequestException

        fields = {
            "From": str(message["From"]), "To": ", ".join(str(v) for v in message.get_all("To", [])),
            "Cc": ", ".join(str(v) for v in message.get_all("Cc", [])) or None, "Subject": str(message["Subject"]),
            "TextBody": message.get_content() if not message.is_multipart() else _text_of(message),
            "Headers": {name: str(message[name]) for name in POSTMARK_HEADERS if message[name]},
            "MessageStream": "outbound",
        }
        try:
            await asyncio.to_thread(self.client.emails.send, **fields)
        except ClientError as exc:
            if exc.error_code == POSTMARK_INACTIVE:
                return Delivery("blocked", None, str(exc)[:300])
            if exc.error_code in POSTMARK_NEVER:
                return Delivery("failed", None, str(exc)[:300])
            return Delivery("retry", None, str(exc)[:300])
        except RequestException as exc:  # down, 5xx, 429 without a JSON body, a timeout
            return Delivery("retry", None, f"{type(exc).__name__}: {exc}"[:300])
        return Delivery("sent")


def _text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return "" if body is None else str(body.get_content())  # type: ignore[attr-defined]


class RelaySender:
    """An SMTP relay: `smtp://user:pass@host:587` (STARTTLS when the server offers it) or `smtps://…:465`."""

    kind = "relay"

    def __init__(self, url: str, *, timeout: float) -> None:
        parts = urlsplit(url)
        self._tls = parts.scheme == "smtps"
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (465 if self._tls else 25)
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._timeout = timeout

    @property
    def where(self) -> str:
        return f"{self._host}:{self._port}"

    async def send(self, message: EmailMessage) -> Delivery:
        import aiosmtplib

        try:
            await aiosmtplib.send(message, hostname=self._host, port=self._port, username=self._user,
                                  password=self._password, use_tls=self._tls, timeout=self._timeout)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            permanent = all(r.code >= 500 for r in exc.recipients)
            return Delivery("blocked" if permanent else "retry", None, str(exc)[:300])
        except aiosmtplib.SMTPResponseException as exc:
            return Delivery("failed" if exc.code >= 500 else "retry", None, f"{exc.code} {exc.message}"[:300])
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return Delivery("retry", None, f"{type(exc).__name__}: {exc}"[:300])
        return Delivery("sent")
