"""Commands every user has: /help, /start, /whoami, /timezone."""

from __future__ import annotations

from bot.commands.registry import Command, CommandContext, CommandError
from bot.places import default_gazetteer
from bot.undo import UndoLog


async def help_command(ctx: CommandContext) -> str:
    if ctx.args:
        return _help_for(ctx, ctx.args.strip().lstrip("/").lower())
    lines = [f"I'm {ctx.turn.agent.name}. Commands (/help COMMAND for one):"]
    for command in ctx.registry.visible_to(ctx.turn):
        usage = f" {command.usage}" if command.usage else ""
        lines.append(f"/{command.name}{usage} - {command.summary}")
    skills = await ctx.capabilities(ctx.turn)
    if skills:
        lines.append("You can also just ask:")
        lines.extend(f"- {name}: {summary}" for name, summary in skills)
    return "\n".join(lines)


def _help_for(ctx: CommandContext, name: str) -> str:
    command = ctx.registry.get(name)
    if command is None or command not in ctx.registry.visible_to(ctx.turn):
        raise CommandError(f"I don't know the command /{name}. Send /help to see the ones I have.",
                           code="not_found")
    usage = f" {command.usage}" if command.usage else ""
    who = " Administrators only." if command.admin else ""
    return f"/{command.name}{usage} - {command.summary}.{who}" + (f"\n{command.help}" if command.help else "")


async def start_command(ctx: CommandContext) -> str:
    name = ctx.turn.user.display_name
    return (f"Hello {name}! I'm {ctx.turn.agent.name}, your assistant. Ask me the time anywhere, "
            "or anything else. Send /help to see what I can do.")


async def whoami_command(ctx: CommandContext) -> str:
    turn = ctx.turn
    account = await ctx.directory.account(turn.channel.account_id)
    identities = await ctx.directory.identities(turn.user.id)
    role = "platform admin" if turn.is_platform_admin else (turn.role or "guest")
    lines = [
        f"You are {turn.user.display_name} (user {turn.user.id}).",
        f"Role: {role} in account '{account.slug}'.",
        f"Talking to {turn.agent.name} on channel '{turn.channel.slug}' (conversation {turn.conversation.id}).",
        f"Time zone: {turn.timezone.key}{'' if turn.user.timezone else ' (server default)'}.",
        "Identities: " + ", ".join(f"{kind}:{external}" for kind, external in identities),
    ]
    return "\n".join(lines)


async def timezone_command(ctx: CommandContext) -> str:
    if not ctx.args:
        return f"Your time zone is {ctx.turn.timezone.key}. Change it with /timezone Europe/Berlin."
    zone = default_gazetteer().zone(ctx.args)  # a zone's name, a city, a region or a country
    if zone is None:
        raise CommandError(f"I don't know the time zone {ctx.args!r}. Use an IANA name such as Europe/Berlin, "
                           "or a city.")
    await ctx.directory.update_user(ctx.turn.user.id, timezone=zone)
    return f"Done: your time zone is now {zone}."


BASIC_COMMANDS = (
    Command("help", "what I can do", help_command, usage="[COMMAND]"),
    Command("start", "say hello", start_command, usage="[payload]"),
    Command("whoami", "who you are to me", whoami_command),
    Command("timezone", "show or set your time zone", timezone_command, usage="[Area/City]"),
)


def undo_command(undo: UndoLog) -> Command:
    async def run(ctx: CommandContext) -> str:
        return await undo.undo(ctx.turn)

    return Command("undo", "take back your last change (a few minutes)", run, writes=True)
