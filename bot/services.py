"""The one container of services, built once at start-up and passed explicitly to whoever needs it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.auth import ApiKeys
from bot.clock import Clock
from bot.commands import CommandRegistry
from bot.directory import Directory
from bot.messages import OutboundMessage
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from bot.platform import PlatformState
from bot.store.database import Database
from config.settings import Settings


class ChannelAdapter(Protocol):
    """What the app needs from a running channel (see `channels/base.py` for the full protocol)."""

    type: str

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def deliver(self, message: OutboundMessage) -> None: ...
    def health(self) -> dict[str, Any]: ...


@dataclass
class Services:
    settings: Settings
    clock: Clock
    db: Database
    metrics: Metrics
    platform: PlatformState
    directory: Directory
    api_keys: ApiKeys
    commands: CommandRegistry
    pipeline: Pipeline
    channels: list[ChannelAdapter] = field(default_factory=list)
    started_monotonic: float = field(default_factory=time.monotonic)
