"""The one place that knows every channel module. Adding a channel: write `channels/<name>.py`, add it here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from aiohttp import web

from bot.services import ChannelAdapter, Services
from channels.base import Channel
from channels.console import ConsoleChannel
from channels.http_api import HttpChannel
from config.settings import Settings

CHANNELS: dict[str, type[Channel]] = {
    HttpChannel.type: HttpChannel,
    ConsoleChannel.type: ConsoleChannel,
}


def _telegram() -> type[Channel]:
    # Imported on demand: aiogram builds ~400 pydantic models at import, seconds on a small machine, which
    # every CLI command and every server without a bot token would otherwise pay.
    from channels.telegram import TelegramChannel

    return TelegramChannel


# Channels whose module is imported only when one is built.
LAZY_CHANNELS: dict[str, Callable[[], type[Channel]]] = {
    "telegram": _telegram,
}


def server_channel_types(settings: Settings) -> list[str]:
    """The channels `run.py serve` starts: the HTTP API always, the others when they are configured."""
    types = [HttpChannel.type]
    if settings.telegram_token:
        types.append("telegram")
    return types


def builder(types: Iterable[str]):  # type: ignore[no-untyped-def]
    """A `ChannelBuilder` for `bot.app.App` that builds the named channels."""
    wanted = list(types)
    unknown = [name for name in wanted if name not in CHANNELS and name not in LAZY_CHANNELS]
    if unknown:
        raise ValueError(f"unknown channel type(s): {', '.join(unknown)}")

    def build(services: Services, web_app: web.Application) -> Sequence[ChannelAdapter]:
        return [(CHANNELS.get(name) or LAZY_CHANNELS[name]())(services, web_app) for name in wanted]

    return build
