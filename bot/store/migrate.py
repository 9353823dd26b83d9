"""Apply Alembic migrations programmatically (the server and every CLI command that opens the store call this).

The kernel's history is in `migrations/versions/`; extensions and channels keep their tables' history beside
their code and the composition root passes those folders in. They form one history (revisions name their
parents across folders), applied to all heads.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str, locations: Sequence[Path] = ()) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    folders = [MIGRATIONS / "versions", *locations]
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(str(folder) for folder in folders))
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(url: str, locations: Sequence[Path] = (), revision: str = "heads") -> None:
    """Blocking; runs its own event loop, so call it from a thread when one is already running."""
    command.upgrade(alembic_config(url, locations), revision)


async def upgrade_async(url: str, locations: Sequence[Path] = ()) -> None:
    await asyncio.to_thread(upgrade, url, locations)
