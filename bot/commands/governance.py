"""Governance from chat: roles, people, the account and the audit trail. Each command parses its arguments and
calls the governance service (`bot/governance/`), which checks the role, audits, and makes the change; the
admin HTTP API calls the same services."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.commands.registry import Command, CommandContext, CommandError
from bot.commands.settings import settings_reply
from bot.governance import ROLES, Actor
from bot.governance.audit import AuditEvent
from bot.governance.people import Member

PAGE = 20
_SINCE = re.compile(r"^(\d{1,4})([hdw])$")


def _page_of(args: list[str]) -> tuple[list[str], int]:
    """Arguments, and the page number when the last one is a number (1 when not)."""
    if args and args[-1].isdigit():
        return args[:-1], max(1, int(args[-1]))
    return args, 1


def _footer(page: int, total: int, again: str) -> str:
    pages = max(1, -(-total // PAGE))
    more = f"; {again} {page + 1} for more" if page < pages else ""
    return f"Page {page} of {pages} ({total} in all){more}."


def _describe(member: Member) -> str:
    standing = "" if member.status == "active" and member.user.status == "active" else (
        " [suspended everywhere]" if member.user.status == "suspended" else " [suspended here]")
    return f"{member.user.display_name} ({member.user.id}) - {member.role}{standing}"


async def grant_command(ctx: CommandContext) -> str:
    parts = ctx.args.split()
    if len(parts) != 2:
        raise CommandError(f"Usage: /grant USER ROLE (roles: {', '.join(ROLES)})")
    actor = Actor.of_turn(ctx.turn)
    member = await ctx.governance.people.member(parts[0], actor.account_id)
    return await ctx.governance.roles.grant(actor, member, parts[1])


async def revoke_command(ctx: CommandContext) -> str:
    if not ctx.args.strip() or len(ctx.args.split()) != 1:
        raise CommandError("Usage: /revoke USER")
    actor = Actor.of_turn(ctx.turn)
    member = await ctx.governance.people.member(ctx.args.strip(), actor.account_id)
    return await ctx.governance.roles.revoke(actor, member)


async def users_command(ctx: CommandContext) -> str:
    words, page = _page_of(ctx.args.split())
    query = " ".join(words)
    members, total = await ctx.governance.people.members(ctx.turn.channel.account_id, query=query, limit=PAGE,
                                                         offset=(page - 1) * PAGE)
    if not members:
        return "No members match." if query else "This account has no members."
    lines = [_describe(member) for member in members]
    return "\n".join([*lines, _footer(page, total, f"/users {query}".rstrip())])


async def user_command(ctx: CommandContext) -> str:
    parts = ctx.args.split()
    if len(parts) < 2 or parts[0] not in ("show", "suspend", "resume"):
        raise CommandError("Usage: /user show|suspend|resume USER [everywhere]")
    action, ref, rest = parts[0], parts[1], parts[2:]
    actor = Actor.of_turn(ctx.turn)
    member = await ctx.governance.people.member(ref, actor.account_id)
    if action == "show":
        identities = await ctx.directory.identities(member.user.id)
        return "\n".join([
            _describe(member),
            "Identities: " + (", ".join(f"{kind}:{external}" for kind, external in identities) or "none"),
            f"Time zone: {member.user.timezone or 'server default'}; language: {member.user.locale or 'not set'}.",
        ])
    if rest not in ([], ["everywhere"]):
        raise CommandError("Usage: /user suspend|resume USER [everywhere]")
    status = "suspended" if action == "suspend" else "active"
    return await ctx.governance.members.set_status(actor, member, status, everywhere=rest == ["everywhere"])


async def account_command(ctx: CommandContext) -> str:
    parts = ctx.args.split()
    actor = Actor.of_turn(ctx.turn)
    if parts and parts[0] in ("suspend", "resume"):
        if len(parts) != 2:
            raise CommandError("Usage: /account suspend|resume SLUG")
        return await ctx.governance.accounts.set_status(actor, parts[1], "suspended" if parts[0] == "suspend"
                                                        else "active")
    if parts and parts[0] in ("settings", "set"):
        return await settings_reply(ctx, parts)
    if parts not in ([], ["show"]):
        raise CommandError("Usage: /account [show] | settings | set KEY VALUE | suspend|resume SLUG")
    now = ctx.turn.received_at
    summary = await ctx.governance.accounts.summary(actor, now - timedelta(days=30))
    roles = ", ".join(f"{count} {role}" for role, count in sorted(summary.roles.items())) or "no members"
    agents = ", ".join(f"{slug} ({status})" for slug, status in summary.agents) or "none"
    teams = ", ".join(f"{line.team.slug} ({line.members} members{', archived' if line.team.status != 'active' else ''})"
                      for line in await ctx.governance.teams.listing(actor)) or "none"
    return "\n".join([
        f"Account {summary.slug} ({summary.name}): {summary.status}.",
        f"Members: {roles}.",
        f"Agents: {agents}.",
        f"Teams: {teams}.",
        f"Last 30 days: {summary.interactions} interactions, ${summary.cost_usd:.4f}.",
    ])


async def audit_command(ctx: CommandContext) -> str:
    words, page = _page_of(ctx.args.split())
    since = None
    if words and (match := _SINCE.match(words[0])):
        unit = {"h": "hours", "d": "days", "w": "weeks"}[match.group(2)]
        since = ctx.turn.received_at - timedelta(**{unit: int(match.group(1))})
        words = words[1:]
    if len(words) > 1:
        raise CommandError("Usage: /audit [24h|7d|4w] [ACTOR|ACTION] [PAGE]")
    who = words[0] if words else None
    account = None if ctx.turn.is_platform_admin else ctx.turn.channel.account_id
    events = await ctx.governance.audit.events(account, since=since, who=who, limit=PAGE + 1,
                                               offset=(page - 1) * PAGE)
    if not events:
        return "Nothing in the audit trail matches."
    lines = [_event_line(event) for event in events[:PAGE]]
    if len(events) > PAGE:
        again = " ".join(["/audit", *ctx.args.split()[: len(ctx.args.split()) - (page > 1)], str(page + 1)])
        lines.append(f"More: {again}")
    return "\n".join(lines)


def _event_line(event: AuditEvent) -> str:
    reason = f": {event.detail['reason']}" if "reason" in event.detail else ""
    target = f" {event.target_id}" if event.target_id else ""
    return f"{event.created_at:%Y-%m-%d %H:%M} {event.actor} {event.action}{target} [{event.outcome}{reason}]"


GOVERNANCE_COMMANDS = (
    Command("grant", "give a member a role", grant_command, usage="USER ROLE", admin=True, writes=True,
            help="Roles: owner, admin, member, readonly. USER is usr_…, CHANNEL:ID (telegram:12345, http:42) "
                 "or @name. Only owners make or change owners; the last owner stays."),
    Command("revoke", "take an owner's or admin's role away", revoke_command, usage="USER", admin=True,
            writes=True),
    Command("users", "the account's members", users_command, usage="[QUERY] [PAGE]", admin=True),
    Command("user", "show, suspend or resume a member", user_command, usage="show|suspend|resume USER [everywhere]",
            admin=True, help="suspend blocks the user in this account; 'everywhere' (platform administrators) on "
                             "every account."),
    Command("account", "this account's members, agents and usage; suspend or resume an account", account_command,
            usage="[show] | settings | set KEY VALUE | suspend|resume SLUG", admin=True,
            help="settings lists the account's settings (delegation_depth, default_language); set changes one."),
    Command("audit", "what administrators did and were refused", audit_command, usage="[24h|7d] [WHO] [PAGE]",
            admin=True, help="WHO is an actor (user:usr_…) or an action prefix (role., user.suspend, command.)."),
)
