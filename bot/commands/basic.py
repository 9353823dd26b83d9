"""Commands every user has: /help, /start, /whoami, /timezone, /undo and /language."""

from __future__ import annotations

from bot.commands.registry import Command, CommandContext, CommandError
from bot.i18n import N_, Catalogue, _, language_name
from bot.places import default_gazetteer
from bot.undo import UndoLog


async def help_command(ctx: CommandContext) -> str:
    if ctx.args:
        return _help_for(ctx, ctx.args.strip().lstrip("/").lower())
    lines = [_("I'm {name}. Commands (/help COMMAND for one):").format(name=ctx.turn.agent.name)]
    for command in ctx.registry.visible_to(ctx.turn):
        usage = f" {command.usage}" if command.usage else ""
        lines.append(f"/{command.name}{usage} - {_(command.summary)}")
    skills = await ctx.capabilities(ctx.turn)
    if skills:
        lines.append(_("You can also just ask:"))
        lines.extend(f"- {name}: {summary}" for name, summary in skills)
    return "\n".join(lines)


def _help_for(ctx: CommandContext, name: str) -> str:
    command = ctx.registry.get(name)
    if command is None or command not in ctx.registry.visible_to(ctx.turn):
        raise CommandError(_("I don't know the command /{name}. Send /help to see the ones I have.").format(name=name),
                           code="not_found")
    usage = f" {command.usage}" if command.usage else ""
    who = " " + _("Administrators only.") if command.admin else ""
    return f"/{command.name}{usage} - {_(command.summary)}.{who}" + (f"\n{_(command.help)}" if command.help else "")


async def start_command(ctx: CommandContext) -> str:
    name = ctx.turn.user.display_name
    return _("Hello {name}! I'm {agent}, your assistant. Ask me the time anywhere, or anything else. "
             "Send /help to see what I can do.").format(name=name, agent=ctx.turn.agent.name)


async def whoami_command(ctx: CommandContext) -> str:
    turn = ctx.turn
    account = await ctx.directory.account(turn.channel.account_id)
    identities = await ctx.directory.identities(turn.user.id)
    role = _("platform admin") if turn.is_platform_admin else (turn.role or _("guest"))
    zone = turn.timezone.key if turn.user.timezone else _("{zone} (server default)").format(zone=turn.timezone.key)
    lines = [
        _("You are {name} (user {id}).").format(name=turn.user.display_name, id=turn.user.id),
        _("Role: {role} in account '{account}'.").format(role=role, account=account.slug),
        _("Talking to {agent} on channel '{channel}' (conversation {conversation}).").format(
            agent=turn.agent.name, channel=turn.channel.slug, conversation=turn.conversation.id),
        _("Time zone: {zone}.").format(zone=zone),
        _("Language: {language}.").format(language=language_name(turn.user.locale) if turn.user.locale
                                          else _("not set (English)")),
        _("Identities: {identities}").format(
            identities=", ".join(f"{kind}:{external}" for kind, external in identities)),
    ]
    return "\n".join(lines)


async def timezone_command(ctx: CommandContext) -> str:
    if not ctx.args:
        return _("Your time zone is {zone}. Change it with /timezone Europe/Berlin.").format(zone=ctx.turn.timezone.key)
    zone = default_gazetteer().zone(ctx.args)  # a zone's name, a city, a region or a country
    if zone is None:
        raise CommandError(_("I don't know the time zone {zone!r}. Use an IANA name such as Europe/Berlin, "
                             "or a city.").format(zone=ctx.args))
    await ctx.directory.update_user(ctx.turn.user.id, timezone=zone)
    return _("Done: your time zone is now {zone}.").format(zone=zone)


BASIC_COMMANDS = (
    Command("help", N_("what I can do"), help_command, usage="[COMMAND]"),
    Command("start", N_("say hello"), start_command, usage="[payload]"),
    Command("whoami", N_("who you are to me"), whoami_command),
    Command("timezone", N_("show or set your time zone"), timezone_command, usage="[Area/City]"),
)


def undo_command(undo: UndoLog) -> Command:
    async def run(ctx: CommandContext) -> str:
        return await undo.undo(ctx.turn)

    return Command("undo", N_("take back your last change (a few minutes)"), run, writes=True)


def language_command(catalogue: Catalogue) -> Command:
    async def run(ctx: CommandContext) -> str:
        current = ctx.turn.user.locale
        wanted = ctx.args.strip()
        if not wanted:
            shown = language_name(current) if current else _("not set (English)")
            return _("Your language is {language}. Change it with /language CODE ({codes}), or /language auto "
                     "to follow your app.").format(language=shown, codes=", ".join(catalogue.languages))
        if wanted.lower() == "auto":
            await ctx.directory.update_user(ctx.turn.user.id, locale=None)
            with catalogue.use(None):
                return _("Done: I'll follow the language your app tells me, English until it does.")
        code = catalogue.supported(wanted)
        if code is None:
            raise CommandError(_("I have no replies in {code!r} yet. I can answer in: {codes}.").format(
                code=wanted, codes=", ".join(f"{c} ({language_name(c)})" for c in catalogue.languages)))
        await ctx.directory.update_user(ctx.turn.user.id, locale=code)
        with catalogue.use(code):  # the confirmation already in the new language
            return _("Done: I'll answer in {language} from now on.").format(language=language_name(code))

    return Command("language", N_("show or set the language I answer in"), run, usage="[CODE|auto]",
                   writes=True)
