"""The one container of services, built once at start-up and passed explicitly to whoever needs it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bot.auth import ApiKeys
from bot.channel import Channel
from bot.clock import Clock
from bot.commands import CommandRegistry
from bot.directory import Directory
from bot.governance import Governance
from bot.i18n import Catalogue
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from bot.platform import PlatformState
from bot.store.database import Database
from config.settings import Settings


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
    governance: Governance
    catalogue: Catalogue  # the fixed replies' translations (bot/i18n.py)
    channels: list[Channel] = field(default_factory=list)
    started_monotonic: float = field(default_factory=time.monotonic)
