"""What the two ways in (`smtp.py`, `postmark.py`) need from the adapter: a protocol, so neither imports it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.outbox import Blocklist
from channels.email.mail import InboundMail
from channels.email.routing import Router


class Receiver(Protocol):
    router: Router
    blocklist: Blocklist
    counts: dict[str, int]
    last_error: str | None

    def now(self) -> datetime: ...

    async def receive(self, mail: InboundMail, recipients: Sequence[str] = ()) -> str: ...
