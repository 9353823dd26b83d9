"""Administration from chat: platform kill switch and maintenance, agent pause, status. People, roles, the account
and the audit trail are in `governance.py`."""

from __future__ import annotations

from bot.commands.registry import Command, CommandContext, CommandError
from bot.store import tables as t
from bot.store.batch import Update


def _require_platform_admin(ctx: CommandContext) -> None:
    if not ctx.turn.is_platform_admin:
        raise CommandError("Only a platform administrator can do that.", code="forbidden")


async def pause_command(ctx: CommandContext) -> str:
    _require_platform_admin(ctx)
    await ctx.platform.set_status("paused", actor=ctx.turn.actor)
    return "Platform paused: no new messages are processed until /resume."


async def resume_command(ctx: CommandContext) -> str:
    _require_platform_admin(ctx)
    await ctx.platform.set_status("online", actor=ctx.turn.actor)
    return "Platform online."


async def maintenance_command(ctx: CommandContext) -> str:
    _require_platform_admin(ctx)
    mode = ctx.args.lower()
    if mode not in ("on", "off"):
        raise CommandError("Usage: /maintenance on|off")
    await ctx.platform.set_status("maintenance" if mode == "on" else "online", actor=ctx.turn.actor)
    if mode == "on":
        return "Maintenance on: messages are kept and answered when it ends (/maintenance off)."
    return "Maintenance off: queued messages are being answered now."


async def status_command(ctx: CommandContext) -> str:
    agent = ctx.turn.agent
    return (f"Platform: {ctx.platform.status}. Agent {agent.slug}: {agent.status}. "
            f"Channel {ctx.turn.channel.slug} ({ctx.turn.channel.type}): {ctx.turn.channel.status}.")


async def agent_command(ctx: CommandContext) -> str:
    action, _, slug = ctx.args.partition(" ")
    if action not in ("pause", "resume") or not slug.strip():
        raise CommandError("Usage: /agent pause|resume SLUG")
    agent = await ctx.directory.agent_by_slug(ctx.turn.channel.account_id, slug.strip())
    if agent is None:
        raise CommandError(f"No agent {slug.strip()!r} in this account.", code="not_found")
    status = "paused" if action == "pause" else "active"
    await ctx.platform.change([Update(t.agent, agent.id, {"status": status})], actor=ctx.turn.actor,
                              action=f"agent.{action}", target_type="agent", target_id=agent.id,
                              account_id=agent.account_id)
    return f"Agent {agent.slug} is now {status}."


ADMIN_COMMANDS = (
    Command("status", "platform, agent and channel state", status_command, admin=True),
    Command("pause", "stop all processing (kill switch)", pause_command, admin=True),
    Command("resume", "resume processing", resume_command, admin=True),
    Command("maintenance", "keep messages and answer them later", maintenance_command, usage="on|off",
            admin=True),
    Command("agent", "pause or resume an agent", agent_command, usage="pause|resume SLUG", admin=True,
            writes=True),
)
