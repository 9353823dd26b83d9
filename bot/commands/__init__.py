"""Slash commands. Add one by writing its handler and listing it in a tuple registered below."""

from bot.commands.admin import ADMIN_COMMANDS
from bot.commands.basic import BASIC_COMMANDS
from bot.commands.registry import Command, CommandContext, CommandError, CommandRegistry, parse_command


def default_commands() -> CommandRegistry:
    registry = CommandRegistry()
    registry.register_all(BASIC_COMMANDS)
    registry.register_all(ADMIN_COMMANDS)
    return registry


__all__ = ["Command", "CommandContext", "CommandError", "CommandRegistry", "default_commands", "parse_command"]
