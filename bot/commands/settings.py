"""`/account settings` and `/account set KEY VALUE`: the account's settings (`bot/account_settings.py`), shown
and changed through the governance service, which checks the role, validates and audits."""

from __future__ import annotations

from bot.account_settings import SETTINGS
from bot.commands.registry import CommandContext, CommandError
from bot.governance import Actor

USAGE = f"Usage: /account settings | /account set KEY VALUE (keys: {', '.join(SETTINGS)})"


async def settings_reply(ctx: CommandContext, parts: list[str]) -> str:
    """The reply to `/account settings` or `/account set …` (`parts` are the words after /account)."""
    actor = Actor.of_turn(ctx.turn)
    if parts == ["settings"]:
        shown = await ctx.governance.settings.show(actor)
        return "\n".join([f"{key} = {value}{' (default)' if default else ''} - {SETTINGS[key].summary}"
                          for key, (value, default) in shown.items()] + ["Change one with /account set KEY VALUE."])
    if len(parts) != 3:
        raise CommandError(USAGE)
    values = await ctx.governance.settings.set(actor, {parts[1]: parts[2]})
    key = parts[1].lower()
    return f"Done: {key} is now {values[key]}."
