"""Slash commands: one registry (`registry.py`); the built-in ones are listed in tuples that `agents/core.py`
installs through the extension hook, like any extension's commands."""

from bot.commands.admin import ADMIN_COMMANDS
from bot.commands.agents_admin import AGENT_ADMIN_COMMANDS
from bot.commands.apikeys import APIKEY_COMMANDS
from bot.commands.basic import BASIC_COMMANDS
from bot.commands.governance import GOVERNANCE_COMMANDS
from bot.commands.registry import Command, CommandContext, CommandError, CommandRegistry, parse_command
from bot.commands.teams import TEAM_COMMANDS

__all__ = ["ADMIN_COMMANDS", "AGENT_ADMIN_COMMANDS", "APIKEY_COMMANDS", "BASIC_COMMANDS", "GOVERNANCE_COMMANDS",
           "TEAM_COMMANDS", "Command", "CommandContext", "CommandError", "CommandRegistry", "parse_command"]
