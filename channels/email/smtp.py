"""The local SMTP listener (aiosmtpd), on the server's own event loop: for local use (`make run`, then one
`smtplib` send) and for any mail server that can forward.

Unknown recipients are refused at RCPT (550), before any data. A mail is answered `250` only once it is stored
(or deliberately left out: automated mail, a refused sender, which must look accepted to a spammer); anything
that failed on our side is `451`, so the sending server tries again and nothing is lost. Parsing runs on a
worker thread: a mail of several MB must not stall the loop. Anyone can connect and write any header, so a
mail here counts as SPF/DKIM-authenticated only by an `Authentication-Results` of a trusted server
(`THINKLIO_EMAIL_TRUSTED_SERVERS`, the MTA that forwards to us).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session

from channels.email.headers import authenticated
from channels.email.mail import MailError
from channels.email.receiver import Receiver
from channels.email.rfc5322 import parse_rfc5322

log = structlog.get_logger("thinklio.email")

THREAD_ABOVE = 256 * 1024  # smaller mails parse faster on the loop than the hop to a thread costs


class Handler:
    def __init__(self, channel: Receiver, trusted: Sequence[str]) -> None:
        self._channel = channel
        self._trusted = tuple(trusted)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        try:
            destination = await self._channel.router.resolve(address)
        except Exception as exc:
            log.exception("email_smtp_route_failed", address=address)
            return f"451 4.3.0 Temporary failure ({type(exc).__name__}), try again later"
        if destination is None:
            log.info("email_unknown_recipient", recipient=address, via="smtp", peer=_peer(session))
            self._channel.counts["unknown"] += 1
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        now = self._channel.now()
        parse = partial(parse_rfc5322, raw, received_at=now, recipient=envelope.rcpt_tos[0] if envelope.rcpt_tos
                        else None, envelope_from=envelope.mail_from)
        try:
            mail = await asyncio.to_thread(parse) if len(raw) > THREAD_ABOVE else parse()
        except MailError as exc:
            log.warning("email_unreadable", via="smtp", error=str(exc), peer=_peer(session))
            return f"554 5.6.0 The message could not be read: {exc}"[:500]
        # Only a trusted server's Authentication-Results vouch for a mail that came straight to us.
        mail = replace(mail, authenticated=bool(self._trusted) and authenticated(mail, authserv_ids=self._trusted))
        try:
            outcome = await self._channel.receive(mail, envelope.rcpt_tos)
        except Exception as exc:
            log.exception("email_receive_failed", message_id=mail.message_id)
            self._channel.last_error = f"{type(exc).__name__}: {exc}"[:300]
            return "451 4.3.0 Temporary failure, try again later"
        if outcome == "limited":
            return "451 4.7.1 Too many messages from you; try again later"
        return "250 OK"


def _peer(session: Session) -> Any:
    return session.peer[0] if isinstance(session.peer, tuple) else session.peer


class SmtpListener:
    def __init__(self, channel: Receiver, host: str, port: int, *, max_bytes: int,
                 trusted: Sequence[str] = ()) -> None:
        self._handler = Handler(channel, trusted)
        self._host = host
        self._port = port
        self._max = max_bytes
        self._hostname = channel.router.addresses[0].rpartition("@")[2] if channel.router.addresses else "localhost"
        self._server: asyncio.base_events.Server | None = None
        self.port = port

    @property
    def where(self) -> str:
        return f"{self._host}:{self.port}"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()

        def protocol() -> SMTP:
            return SMTP(self._handler, data_size_limit=self._max, enable_SMTPUTF8=True, hostname=self._hostname,
                        ident="Thinklio", loop=loop)

        self._server = await loop.create_server(protocol, self._host, self._port)
        self.port = self._server.sockets[0].getsockname()[1]  # the real one when 0 was asked for
        log.info("email_smtp_listening", host=self._host, port=self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):  # a client still connected must not hold up shutdown
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None
