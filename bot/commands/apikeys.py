"""/apikey from chat: create (private conversations only; the key is shown once), list and revoke."""

from __future__ import annotations

from bot.auth import SCOPES
from bot.commands.registry import Command, CommandContext, CommandError
from bot.governance import Actor

USAGE = f"Usage: /apikey create NAME [SCOPE ...] | list | revoke ID (scopes: {', '.join(SCOPES)})"


async def apikey_command(ctx: CommandContext) -> str:
    parts = ctx.args.split()
    actor = Actor.of_turn(ctx.turn)
    keys = ctx.governance.keys
    if len(parts) >= 2 and parts[0] == "create":
        key, plaintext = await keys.create(actor, parts[1], tuple(parts[2:]), private=ctx.turn.is_private)
        return (f"Created API key {key.id} ({key.name}, scopes: {' '.join(key.scopes)}). It is shown only this "
                f"once; store it now:\n{plaintext}")
    if parts == ["list"]:
        listed = await keys.listing(actor)
        if not listed:
            return "This account has no API keys. Create one with /apikey create NAME."
        return "\n".join(
            f"{k.id} {k.prefix}… {k.name} [{' '.join(k.scopes)}] "
            + (f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active") for k in listed)
    if len(parts) == 2 and parts[0] == "revoke":
        key = await keys.revoke(actor, parts[1])
        return f"API key {key.id} ({key.name}) is revoked: it stops working on its next request."
    raise CommandError(USAGE)


APIKEY_COMMANDS = (
    Command("apikey", "create (in a private chat), list or revoke the account's API keys", apikey_command,
            usage="create NAME [SCOPE ...] | list | revoke ID", admin=True, writes=True),
)
