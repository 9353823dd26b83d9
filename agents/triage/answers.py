"""Direct (Tier 2) replies for the intents that need no tools: time, date, greetings, thanks and help."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.i18n import _, long_date

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
        return _("It's {time} ({zone}).").format(time=_clock(local), zone=ctx.tz.key)
    place = str(e.get("place_name") or e.get("place") or zone_name)
    try:
        zones = [ZoneInfo(str(z)) for z in (e.get("timezones") or [zone_name])]
    except (ZoneInfoNotFoundError, ValueError):
        return None
    times = {(ctx.now.astimezone(z).strftime("%H:%M %A")): z for z in zones}
    if len(times) > 1:  # a country or state across zones: each of its main ones
        parts = [_("{time} in {zone}").format(time=_clock(ctx.now.astimezone(z)), zone=z.key) for z in times.values()]
        return _("{place} has several time zones: it's {times}.").format(place=place, times=", ".join(parts))
    local = ctx.now.astimezone(zones[0])
    label = _place_label(place, zones[0].key)
    return _("It's {time} on {date} in {place}.").format(time=_clock(local), date=long_date(local.date()),
                                                           place=label)


def _answer_date(result: TriageResult, ctx: AnswerContext) -> str:
    today = ctx.now.astimezone(ctx.tz).date()
    offset = int(result.entities.get("offset_days", 0) or 0)
    day = today + timedelta(days=offset)
    if offset == 0:
        return _("Today is {date}.").format(date=long_date(day))
    if offset == 1:
        return _("Tomorrow is {date}.").format(date=long_date(day))
    if offset == -1:
        return _("Yesterday was {date}.").format(date=long_date(day))
    if offset > 0:
        return _("In {days} days it will be {date}.").format(days=offset, date=long_date(day))
    return _("{days} days ago it was {date}.").format(days=-offset, date=long_date(day))


def _answer_greeting(result: TriageResult, ctx: AnswerContext) -> str:
    hello = _("Hi {name}!").format(name=ctx.user_name) if ctx.user_name else _("Hi!")
    if result.entities.get("asks_wellbeing"):
        return _("{hello} I'm doing well, thanks for asking. What can I do for you?").format(hello=hello)
    return _("{hello} What can I do for you?").format(hello=hello)


def _answer_help(ctx: AnswerContext) -> str:
    lines = [_("I'm {name}. Here is what I can help with:").format(name=ctx.agent_name)]
    lines += [f"- {name}: {desc}" for name, desc in ctx.capabilities]
    if not ctx.capabilities:
        lines.append(_("- just ask me anything and I'll do my best."))
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
        return _("Bye, {name}! Talk soon.").format(name=ctx.user_name) if ctx.user_name else _("Bye! Talk soon.")
    if intent == "thanks":
        return _("You're welcome!")
    if intent == "help":
        return _answer_help(ctx)
    return None
