"""What a channel module provides: its declaration (`ChannelSpec`, read without importing the channel's heavy
libraries) and its adapter, a `BaseChannel` that implements the one channel protocol (`bot/channel.py`).

A channel module exposes `CHANNEL = ChannelSpec(...)`: its type, where its adapter class is, its settings block
(merged into the server's settings), whether the server should start it with the current settings, the
channel rows a fresh install has, and its tables' migrations. `channels/registry.py` lists the modules, one line
each. One adapter serves every channel row of its type (two inbound addresses, two workspaces), by slug.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from bot.errors import ThinklioError
from bot.messages import Attachment, OutboundMessage
from config.catalogue import ChannelSeed
from config.settings import Settings

if TYPE_CHECKING:
    from aiohttp import web

    from bot.channel import Channel
    from bot.services import Services


def always(_: Settings) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    type: str
    adapter: str  # "module:Class", imported only when the channel is built
    settings: type[Settings] | None = None  # the channel's THINKLIO_* block
    enabled: Callable[[Settings], bool] = always  # whether `run.py serve` starts it
    seeds: tuple[ChannelSeed, ...] = ()  # channel rows a fresh install has
    migrations: Path | None = None  # its tables' Alembic versions folder

    def adapter_class(self) -> type[Channel]:
        module, _, name = self.adapter.partition(":")
        cls: type[Channel] = getattr(import_module(module), name)
        return cls

    def build(self, services: Services, web_app: web.Application) -> Channel:
        return self.adapter_class()(services, web_app)  # type: ignore[call-arg]


class BaseChannel:
    """The optional capabilities, answered "cannot"; a channel overrides what it can do."""

    type: ClassVar[str]

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def deliver(self, message: OutboundMessage) -> None:
        raise NotImplementedError

    def health(self) -> dict[str, Any]:
        return {"status": "running"}

    async def fetch_attachment(self, attachment: Attachment, *, limit: int) -> bytes:
        raise ThinklioError("bad_request", f"the {self.type} channel cannot hand over files", status=415)

    def draft(self, message: OutboundMessage) -> Callable[[str], None] | None:
        return None

    def working(self, message: OutboundMessage) -> Callable[[], None] | None:
        return None
