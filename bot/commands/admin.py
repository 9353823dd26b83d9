"""Administration from chat: platform kill switch and maintenance, status. People, roles, the account and the
audit trail are in `governance.py`; agents (their pause too) in `agents_admin.py`."""

from __future__ import annotations

from bot.commands.registry import Command, CommandContext, CommandError
from bot.governance import Actor


def _cancelled(count: int) -> str:
    return f" {count} pending job{'s' if count != 1 else ''} cancelled." if count else ""


async def pause_command(ctx: CommandContext) -> str:
    cancelled = await ctx.governance.controls.set_platform(Actor.of_turn(ctx.turn), "paused")
    return ("Platform paused (kill switch): running turns stop after their current step and no new messages are "
            f"processed until /resume.{_cancelled(cancelled)}")


async def resume_command(ctx: CommandContext) -> str:
    await ctx.governance.controls.set_platform(Actor.of_turn(ctx.turn), "online")
    return "Platform online."


async def maintenance_command(ctx: CommandContext) -> str:
    mode = ctx.args.lower()
    if mode not in ("on", "off"):
        raise CommandError("Usage: /maintenance on|off")
    await ctx.governance.controls.set_platform(Actor.of_turn(ctx.turn), "maintenance" if mode == "on" else "online")
    if mode == "on":
        return "Maintenance on: messages are kept and answered when it ends (/maintenance off)."
    return "Maintenance off: queued messages are being answered now."


async def status_command(ctx: CommandContext) -> str:
    agent = ctx.turn.agent
    return (f"Platform: {ctx.platform.status}. Agent {agent.slug}: {agent.status}. "
            f"Channel {ctx.turn.channel.slug} ({ctx.turn.channel.type}): {ctx.turn.channel.status}.")


ADMIN_COMMANDS = (
    Command("status", "platform, agent and channel state", status_command, admin=True),
    Command("pause", "stop all processing (kill switch)", pause_command, admin=True),
    Command("resume", "resume processing", resume_command, admin=True),
    Command("maintenance", "keep messages and answer them later", maintenance_command, usage="on|off",
            admin=True),
)
