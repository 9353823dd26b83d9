"""Slash commands: one registry, commands registered explicitly, each a small async function."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.turn import Turn

if TYPE_CHECKING:
    from bot.directory import Directory
    from bot.governance import Governance
    from bot.platform import PlatformState

_COMMAND = re.compile(r"^/([A-Za-z][A-Za-z0-9_]{0,31})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", re.DOTALL)


@dataclass(slots=True)
class CommandContext:
    turn: Turn
    args: str
    directory: Directory
    platform: PlatformState
    registry: CommandRegistry
    capabilities: Callable[[Turn], Awaitable[list[tuple[str, str]]]]
    governance: Governance


Handler = Callable[[CommandContext], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    summary: str
    handler: Handler
    usage: str = ""
    admin: bool = False  # account admins and platform admins only
    writes: bool = False  # changes something: refused to readonly members
    help: str = ""  # the longer text of /help NAME


class CommandError(Exception):
    """A command refused its input; the message goes back to the user as the reply."""

    def __init__(self, message: str, code: str = "bad_request") -> None:
        super().__init__(message)
        self.code = code


def parse_command(text: str) -> tuple[str, str] | None:
    """`/name args` (also `/name@botname args`) -> (name in lower case, args); None when not a command."""
    match = _COMMAND.match(text.strip())
    if match is None:
        return None
    return match.group(1).lower(), (match.group(2) or "").strip()


class CommandRegistry:
    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def register(self, command: Command) -> None:
        if command.name in self._commands:
            raise ValueError(f"command /{command.name} is registered twice")
        self._commands[command.name] = command

    def register_all(self, commands: Iterable[Command]) -> None:
        for command in commands:
            self.register(command)

    def get(self, name: str) -> Command | None:
        return self._commands.get(name)

    def visible_to(self, turn: Turn | None) -> list[Command]:
        admin = turn is not None and turn.is_account_admin
        return [c for c in self._commands.values() if admin or not c.admin]

    def all(self) -> list[Command]:
        return list(self._commands.values())
