"""The built-ins, installed through the same hook as every extension: the `current_time` tool, the commands
every install has (/help, /whoami, /timezone, the administrators' ones, /undo) and what triage answers itself."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from agents.extensions import Kit
from agents.tools.builtin import BUILTIN_TOOLS
from bot.commands import (
    ADMIN_COMMANDS,
    AGENT_ADMIN_COMMANDS,
    APIKEY_COMMANDS,
    BASIC_COMMANDS,
    GOVERNANCE_COMMANDS,
    TEAM_COMMANDS,
)
from bot.commands.basic import language_command, undo_command
from config.settings import Settings

SKILLS = (
    ("time", "the time here or in a city ('what time is it in Tokyo?')"),
    ("date", "today's date, or the date in a few days ('what date is it in 4 days?')"),
    ("time zone", "set yours: 'my time zone is Europe/Berlin' (or 'central time', or a city)"),
    ("undo", "'undo' or /undo takes back your last change within a few minutes"),
)


class CoreExtension:
    intents = frozenset({"time", "date", "greeting", "goodbye", "thanks", "help", "undo"})
    settings: ClassVar[type[Settings] | None] = None  # the core's are the base of every block
    migrations: ClassVar[Path | None] = None  # the kernel's history is the store's own

    def install(self, kit: Kit) -> None:
        kit.tools.register(*BUILTIN_TOOLS)
        kit.assignments.extend((tool.name, tool.trust) for tool in BUILTIN_TOOLS)
        kit.commands.register_all(BASIC_COMMANDS)
        kit.commands.register_all(ADMIN_COMMANDS)
        kit.commands.register_all(AGENT_ADMIN_COMMANDS)
        kit.commands.register_all(GOVERNANCE_COMMANDS)
        kit.commands.register_all(APIKEY_COMMANDS)
        kit.commands.register_all(TEAM_COMMANDS)
        kit.commands.register(undo_command(kit.undo))
        kit.commands.register(language_command(kit.services.catalogue))
        kit.skills.extend(SKILLS)
