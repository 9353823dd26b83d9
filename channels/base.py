"""The channel protocol. A channel turns its platform's events into `InboundMessage`s for the pipeline and
puts `OutboundMessage`s back into the same conversation. It is built with the services container and the
web application (to mount webhook or API routes), and registered once in `channels/registry.py`."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from aiohttp import web

from bot.messages import OutboundMessage
from bot.services import Services


class Channel(Protocol):
    type: ClassVar[str]  # the `channel.type` rows this adapter serves, e.g. "http", "telegram"

    def __init__(self, services: Services, web_app: web.Application) -> None: ...

    async def start(self) -> None:
        """Begin receiving (polling loops, webhooks registration). Routes are mounted in __init__."""

    async def stop(self) -> None:
        """Stop receiving and let in-flight deliveries finish."""

    async def deliver(self, message: OutboundMessage) -> None:
        """Put a message into its conversation. Raise on failure; the pipeline records it."""

    def health(self) -> dict[str, Any]:
        """A small JSON-able state for /health: at least {"status": ...}."""
