"""The one place that lists the channel modules. Adding a channel: write `channels/<name>.py` (or a package) with
`CHANNEL = ChannelSpec(...)` and a `BaseChannel` adapter (see `channels/base.py`), and add its module to
`BUILT_IN` below: one line. Its settings, seeded rows, migrations and whether it starts all come from its spec.

A module is imported to read its spec, which must be cheap; its adapter module is imported only when the channel
is built: aiogram, for one, builds ~400 pydantic models at import (seconds on a small machine), which every CLI
command and every server without a bot token would otherwise pay.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from importlib import import_module
from pathlib import Path

from aiohttp import web

from bot.channel import Channel
from bot.services import Services
from channels.base import ChannelSpec
from config.catalogue import ChannelSeed
from config.settings import Settings

BUILT_IN: tuple[str, ...] = (
    "channels.http_api",
    "channels.console",
    "channels.telegram",
    "channels.slack",
    "channels.email",
)

ChannelBuilder = Callable[[Services, web.Application], Sequence[Channel]]


class ChannelRegistry:
    def __init__(self, modules: Iterable[str] = BUILT_IN) -> None:
        self._specs: dict[str, ChannelSpec] = {}
        for module in modules:
            self.register(module)

    def register(self, module: str) -> ChannelSpec:
        """Add the channel whose module declares `CHANNEL`."""
        spec = getattr(import_module(module), "CHANNEL", None)
        if not isinstance(spec, ChannelSpec):
            raise TypeError(f"{module} declares no CHANNEL = ChannelSpec(...)")
        if spec.type in self._specs:
            raise ValueError(f"channel type {spec.type!r} is registered twice")
        self._specs[spec.type] = spec
        return spec

    def spec(self, channel_type: str) -> ChannelSpec:
        if channel_type not in self._specs:
            raise ValueError(f"unknown channel type {channel_type!r}; known: {', '.join(self._specs)}")
        return self._specs[channel_type]

    @property
    def types(self) -> list[str]:
        return list(self._specs)

    def enabled(self, settings: Settings) -> list[str]:
        """The channels `run.py serve` starts with these settings."""
        return [spec.type for spec in self._specs.values() if spec.enabled(settings)]

    def settings_blocks(self) -> list[type[Settings]]:
        return [spec.settings for spec in self._specs.values() if spec.settings is not None]

    def seeds(self) -> list[ChannelSeed]:
        return [seed for spec in self._specs.values() for seed in spec.seeds]

    def migrations(self) -> list[Path]:
        return [spec.migrations for spec in self._specs.values() if spec.migrations is not None]

    def builder(self, types: Iterable[str]) -> ChannelBuilder:
        """Builds the named channels for the server, with its services and web app."""
        specs = [self.spec(name) for name in types]

        def build(services: Services, web_app: web.Application) -> Sequence[Channel]:
            return [spec.build(services, web_app) for spec in specs]

        return build

