"""A channel written outside `channels/`, to prove what `channels/registry.py` promises: one module, one line.

Messages come in through `receive` (as a platform's webhook would hand them over) and replies go out to
`delivered`, with the channel's own data (`metadata`) they were sent with.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from aiohttp import web

from bot.messages import InboundMessage, OutboundMessage, Sender
from bot.services import Services
from bot.tickets import Ticket
from channels.base import BaseChannel, ChannelSpec
from config.catalogue import ChannelSeed

CHANNEL = ChannelSpec(type="echo", adapter="tests.channels.echo:EchoChannel",
                      seeds=(ChannelSeed(slug="echo", type="echo", agent="assistant"),))


class EchoChannel(BaseChannel):
    type: ClassVar[str] = "echo"

    def __init__(self, services: Services, web_app: web.Application) -> None:
        self._pipeline = services.pipeline
        self.delivered: asyncio.Queue[OutboundMessage] = asyncio.Queue()
        self.started = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False

    def health(self) -> dict[str, Any]:
        return {"status": "running" if self.started else "stopped"}

    async def receive(self, user: str, text: str, *, thread: str, message_id: str) -> Ticket:
        return await self._pipeline.accept(InboundMessage(
            channel="echo", sender=Sender(external_id=user), text=text, external_id=message_id,
            conversation_key=thread, metadata={"thread": thread, "reply_to": message_id}))

    async def deliver(self, message: OutboundMessage) -> None:
        self.delivered.put_nowait(message)
