"""Money and feature flags from chat: `/usage`, `/budget`, `/budget set`, `/flags`, `/flag`. Each command parses its
arguments and calls the governance service (`bot/governance/money.py`, `bot/governance/flags.py`), which checks
the role, audits and makes the change; the admin HTTP API calls the same services."""

from __future__ import annotations

from bot.budgets import SCOPES, usd
from bot.commands.registry import Command, CommandContext, CommandError
from bot.governance import Actor
from bot.governance.flags import parse_switch
from bot.governance.money import PERIODS, BudgetLine

MAX_LINES = 25  # a chat message stays short: the biggest spenders first, the rest summed


def _tokens(count: int) -> str:
    return f"{count / 1000:.1f}k" if count >= 10_000 else str(count)


async def usage_command(ctx: CommandContext) -> str:
    words = ctx.args.lower().split()
    period = next((w for w in words if w in PERIODS), "month")
    by = next((w for w in words if w in SCOPES), "account")
    if len(words) > 2 or any(w not in PERIODS and w not in SCOPES for w in words):
        raise CommandError("Usage: /usage [day|week|month] [account|user|agent]")
    report = await ctx.governance.money.usage(Actor.of_turn(ctx.turn), period, by)
    since = f"{report.since:%Y-%m-%d}"
    title = f"Your usage this {period} (since {since})" if report.only_self else \
        f"Usage this {period} (since {since}) by {report.by}"
    if not report.lines:
        return f"{title}: nothing yet."
    lines = [f"{title}:"]
    for line in report.lines[:MAX_LINES]:
        lines.append(f"{line.label}: {line.interactions} interactions, {line.model_calls} model calls, "
                     f"{_tokens(line.tokens_in)} tokens in / {_tokens(line.tokens_out)} out, ${line.cost_usd:.4f}")
    rest = report.lines[MAX_LINES:]
    if rest:
        lines.append(f"... and {len(rest)} more, ${sum(line.cost_usd for line in rest):.4f} together.")
    if len(report.lines) > 1:
        lines.append(f"Total: ${sum(line.cost_usd for line in report.lines):.4f}, "
                     f"{_tokens(sum(line.tokens_in + line.tokens_out for line in report.lines))} tokens.")
    return "\n".join(lines)


def _budget_line(line: BudgetLine) -> str:
    s = line.standing
    name = {"account": "Account", "user": "User", "agent": "Agent"}[s.scope]
    if s.limit is None:
        return f"{name} {line.label}: ${s.spent_usd:.4f} this month, no budget."
    default = " (the server's default)" if s.limit.source == "default" else ""
    share = f", {s.share:.0%}" if s.share is not None else ""
    return f"{name} {line.label}: ${s.spent_usd:.4f} of {usd(s.limit.limit_usd)}{default}{share}."


async def budget_command(ctx: CommandContext) -> str:
    parts = ctx.args.split()
    actor = Actor.of_turn(ctx.turn)
    if parts and parts[0].lower() == "set":
        if len(parts) != 4:
            raise CommandError("Usage: /budget set account|user|agent ID AMOUNT (AMOUNT in USD a month, or none)")
        return await ctx.governance.money.set_budget(actor, parts[1], parts[2], parts[3])
    if parts and parts[0].lower() == "list":
        return "\n".join(_budget_line(line) for line in await ctx.governance.money.listing(actor))
    if parts:
        raise CommandError("Usage: /budget | /budget list | /budget set account|user|agent ID AMOUNT")
    lines = await ctx.governance.money.standing(actor, agent_id=ctx.turn.agent.id)
    return "\n".join(_budget_line(line) for line in lines)


async def flags_command(ctx: CommandContext) -> str:
    if ctx.args.strip():
        raise CommandError("Usage: /flags")
    states = await ctx.governance.flags.states(Actor.of_turn(ctx.turn))
    lines = []
    for state in states:
        set_by = f" (set by {state.updated_by})" if state.updated_by else " (default)"
        lines.append(f"{state.flag.name}: {'on' if state.enabled else 'off'}{set_by} - {state.flag.summary}")
    return "\n".join(lines)


async def flag_command(ctx: CommandContext) -> str:
    parts = ctx.args.split()
    if len(parts) != 2:
        raise CommandError("Usage: /flag NAME on|off")
    state = await ctx.governance.flags.set(Actor.of_turn(ctx.turn), parts[0], parse_switch(parts[1]))
    return f"Flag {state.flag.name} is {'on' if state.enabled else 'off'} on every server now."


MONEY_COMMANDS = (
    Command("usage", "what the model cost, with tokens", usage_command, usage="[day|week|month] [account|user|agent]",
            help="Owners and admins see the account, by account, user or agent; everyone else sees their own "
                 "usage. From the stored interactions and steps; periods are UTC calendar days, weeks, months."),
    Command("budget", "spend against the monthly budgets; set one", budget_command,
            usage="| list | set account|user|agent ID AMOUNT",
            help="/budget shows this month's spend against the budget of the account, you and this agent. "
                 "/budget set (owners and admins) takes an account slug, a user (usr_…, CHANNEL:ID, @name) or an "
                 "agent slug, and USD a month, or 'none' for no limit. Every model call is checked against them; "
                 "replies carry a warning from 80 % on."),
    Command("flags", "the feature flags", flags_command, admin=True),
    Command("flag", "switch a feature flag on every server", flag_command, usage="NAME on|off", admin=True,
            writes=True, help="Platform administrators only; /flags lists them."),
)
