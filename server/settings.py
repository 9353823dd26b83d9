"""The server's settings: the core block (`config/settings.py`) merged with every extension's and channel's own.

Each block is a subclass of the core `Settings`, so the merged class is all of them at once: the kernel reads it
as `Settings`, the knowledge extension as `KnowledgeSettings`, Telegram as `TelegramSettings`. A block added to
an extension or a channel module arrives here by itself, through `server/extensions.py` and the channel registry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from channels.registry import ChannelRegistry
from config.settings import Settings
from server.extensions import EXTENSIONS, extension_migrations


def merged(blocks: list[type[Settings]]) -> type[Settings]:
    bases = tuple(dict.fromkeys(blocks)) or (Settings,)
    cls: type[Settings] = type("ServerSettings", bases, {"__module__": __name__,
                                                         "__doc__": "Every block of the server's settings."})
    return cls


CHANNELS = ChannelRegistry()
ServerSettings = merged([*(cls.settings for cls in EXTENSIONS if cls.settings is not None),
                         *CHANNELS.settings_blocks()])


def load_settings(**values: Any) -> Settings:
    """From THINKLIO_* variables and `.env`, with `values` on top (tests pass `_env_file=None`)."""
    return ServerSettings(**values)


def migration_folders() -> list[Path]:
    """Every extension's and channel's Alembic versions folder, for the store's migrations."""
    return [*extension_migrations(), *CHANNELS.migrations()]
