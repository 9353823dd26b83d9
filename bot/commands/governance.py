"""Governance from chat: roles, people, the account and the audit trail. Each command parses its arguments and
calls the governance service (`bot/governance/`), which checks the role, audits, and makes the change; the
admin HTTP API calls the same services."""

from __future__ import annotations

from datetime import timedelta

from bot.commands.people import audit_command, user_command, users_command
from bot.commands.registry import Command, CommandContext, CommandError
from bot.commands.settings import settings_reply
from bot.governance import ROLES, Actor


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


GOVERNANCE_COMMANDS = (
    Command("grant", "give a member a role", grant_command, usage="USER ROLE", admin=True, writes=True,
            help="Roles: owner, admin, member, readonly. USER is usr_…, CHANNEL:ID (telegram:12345, http:42) "
                 "or @name. Only owners make or change owners; the last owner stays."),
    Command("revoke", "take an owner's or admin's role away", revoke_command, usage="USER", admin=True,
            writes=True),
    Command("users", "the account's members", users_command, usage="[all] [QUERY] [PAGE]", admin=True,
            help="'all' (platform administrators): every user of the platform, with how many accounts they are in."),
    Command("user", "show, suspend, resume or delete a member", user_command,
            usage="show|suspend|resume|delete USER [everywhere|confirm]", admin=True, writes=True,
            help="suspend blocks the user in this account; 'everywhere' (platform administrators) on every account. "
                 "delete erases the person for good (GDPR): it says what goes, then /user delete USER confirm does "
                 "it. Account admins delete people who are only in their account; platform admins anyone."),
    Command("account", "this account's members, agents and usage; suspend or resume an account", account_command,
            usage="[show] | settings | set KEY VALUE | suspend|resume SLUG", admin=True,
            help="settings lists the account's settings (delegation_depth, default_language); set changes one."),
    Command("audit", "what administrators did and were refused", audit_command,
            usage="[30m|24h|7d|YYYY-MM-DD] [USER|ACTION] [PAGE]", admin=True,
            help="USER is a person (usr_…, telegram:12345, @name) or an audit actor (user:usr_…, apikey:key_…); "
                 "ACTION an action prefix (role., user.delete, command.)."),
)
