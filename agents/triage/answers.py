"""Direct (Tier 2) replies for the intents that need no tools: time, date, greetings, thanks and help."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .common import TriageResult


@dataclass
class AnswerContext:
    now: datetime                          # aware, UTC
    tz: ZoneInfo                           # the user's zone
    agent_name: str
    capabilities: list[tuple[str, str]]    # (name, one-line description)
    user_name: str | None = None


def _clock(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def _long_date(day: date) -> str:
    return f"{day.strftime('%A')}, {day.day} {day.strftime('%B %Y')}"


def _place_label(place: str, zone: str) -> str:
    """The place as the gazetteer names it, and the zone it chose (a name may be shared: Paris, Texas)."""
    label = " ".join(w.capitalize() if w.islower() else w for w in place.split())
    return label if label == zone else f"{label} ({zone})"


def _answer_time(result: TriageResult, ctx: AnswerContext) -> str | None:
    e = result.entities
    zone_name = e.get("timezone")
    if e.get("place") and not zone_name:
        return None  # a place we could not resolve: never answer with the user's own time
    if not zone_name:
        local = ctx.now.astimezone(ctx.tz)
        return f"It's {_clock(local)} ({ctx.tz.key})."
    place = str(e.get("place_name") or e.get("place") or zone_name)
    try:
        zones = [ZoneInfo(str(z)) for z in (e.get("timezones") or [zone_name])]
    except (ZoneInfoNotFoundError, ValueError):
        return None
    times = {(ctx.now.astimezone(z).strftime("%H:%M %A")): z for z in zones}
    if len(times) > 1:  # a country or state across zones: each of its main ones
        parts = [f"{_clock(ctx.now.astimezone(z))} in {z.key}" for z in times.values()]
        return f"{place} has several time zones: it's " + ", ".join(parts) + "."
    local = ctx.now.astimezone(zones[0])
    label = _place_label(place, zones[0].key)
    return f"It's {_clock(local)} on {_long_date(local.date())} in {label}."


def _answer_date(result: TriageResult, ctx: AnswerContext) -> str:
    today = ctx.now.astimezone(ctx.tz).date()
    offset = int(result.entities.get("offset_days", 0) or 0)
    day = today + timedelta(days=offset)
    if offset == 0:
        return f"Today is {_long_date(day)}."
    if offset == 1:
        return f"Tomorrow is {_long_date(day)}."
    if offset == -1:
        return f"Yesterday was {_long_date(day)}."
    if offset > 0:
        return f"In {offset} days it will be {_long_date(day)}."
    return f"{-offset} days ago it was {_long_date(day)}."


def _answer_greeting(result: TriageResult, ctx: AnswerContext) -> str:
    hello = f"Hi {ctx.user_name}!" if ctx.user_name else "Hi!"
    if result.entities.get("asks_wellbeing"):
        return f"{hello} I'm doing well, thanks for asking. What can I do for you?"
    return f"{hello} What can I do for you?"


def _answer_help(ctx: AnswerContext) -> str:
    lines = [f"I'm {ctx.agent_name}. Here is what I can help with:"]
    lines += [f"- {name}: {desc}" for name, desc in ctx.capabilities]
    if not ctx.capabilities:
        lines.append("- just ask me anything and I'll do my best.")
    return "\n".join(lines)


def answer(result: TriageResult, ctx: AnswerContext) -> str | None:
    """Reply text for a triage result, or None when this intent needs tools or an LLM."""
    intent = result.intent
    if intent == "time":
        return _answer_time(result, ctx)
    if intent == "date":
        return _answer_date(result, ctx)
    if intent == "greeting":
        return _answer_greeting(result, ctx)
    if intent == "goodbye":
        return f"Bye{', ' + ctx.user_name if ctx.user_name else ''}! Talk soon."
    if intent == "thanks":
        return "You're welcome!"
    if intent == "help":
        return _answer_help(ctx)
    return None
