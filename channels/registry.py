"""The one place that knows every channel module. Adding a channel: write `channels/<name>.py` with a class that
follows `channels/base.py`, and add one line to CHANNELS.

Modules are imported only when their channel is built: aiogram, for one, builds ~400 pydantic models at import
(seconds on a small machine), which every CLI command and every server without a bot token would otherwise pay.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from importlib import import_module

from aiohttp import web

from bot.services import ChannelAdapter, Services
from channels.base import Channel
from config.settings import Settings

CHANNELS: dict[str, str] = {
    "http": "channels.http_api:HttpChannel",
    "console": "channels.console:ConsoleChannel",
    "telegram": "channels.telegram:TelegramChannel",
}


def channel_class(channel_type: str) -> type[Channel]:
    module, _, name = CHANNELS[channel_type].partition(":")
    cls: type[Channel] = getattr(import_module(module), name)
    return cls


def server_channel_types(settings: Settings) -> list[str]:
    """The channels `run.py serve` starts: the HTTP API always, the others when they are configured."""
    types = ["http"]
    if settings.telegram_token:
        types.append("telegram")
    return types


def builder(types: Iterable[str]):  # type: ignore[no-untyped-def]
    """A `ChannelBuilder` for `bot.app.App` that builds the named channels."""
    wanted = list(types)
    unknown = [name for name in wanted if name not in CHANNELS]
    if unknown:
        raise ValueError(f"unknown channel type(s): {', '.join(unknown)}")

    def build(services: Services, web_app: web.Application) -> Sequence[ChannelAdapter]:
        return [channel_class(name)(services, web_app) for name in wanted]

    return build
