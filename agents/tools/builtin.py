"""Built-in tools every install has."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from agents.tools.registry import Tool, ToolContext, tool
from bot.places import default_gazetteer


@tool(trust="read")
async def current_time(ctx: ToolContext, timezone: str | None = None) -> str:
    """The current date and time, in the user's time zone or another one.

    Args:
        timezone: an IANA time zone such as Europe/Berlin or a city such as Tokyo; the user's own when omitted.
    """
    zone = ctx.turn.timezone if not timezone else default_gazetteer().zone(timezone)
    if zone is None:
        return f"unknown time zone {timezone!r}; use an IANA name such as Europe/Berlin"
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    now = ctx.services.clock.now().astimezone(tz)
    return f"{now:%A %d %B %Y, %H:%M} ({tz.key}, UTC{now:%z})"


BUILTIN_TOOLS: tuple[Tool, ...] = (current_time,)
