"""Recurring reminders: triage's recurrence entity -> an APScheduler trigger in the user's time zone.

Only the trigger's arithmetic is used (`get_next_fire_time`); the store keeps the recurrence itself, so a restart
rebuilds nothing but the timer. Cron triggers keep wall-clock times across DST changes ("every day at 9" stays 9).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from babel.dates import format_date

from bot.i18n import _, language, ngettext

FREQUENCIES = ("daily", "weekdays", "weekends", "weekly", "monthly", "hourly", "interval")
_DAYS = {"monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu", "friday": "fri",
         "saturday": "sat", "sunday": "sun"}


def _hm(recurrence: dict[str, Any], first: datetime) -> tuple[int, int]:
    if recurrence.get("time"):
        hour, minute = str(recurrence["time"]).split(":")[:2]
        return int(hour), int(minute)
    return first.hour, first.minute


def trigger_for(recurrence: dict[str, Any], first: datetime, zone: ZoneInfo) -> BaseTrigger:
    """`first` is the first due time (aware); it anchors intervals and gives the day of month for monthly."""
    freq = recurrence.get("freq")
    local = first.astimezone(zone)
    if freq in ("interval", "hourly"):
        seconds = int(recurrence.get("interval_s") or 3600)
        return IntervalTrigger(seconds=max(60, seconds), start_date=local, timezone=zone)
    hour, minute = _hm(recurrence, local)
    if freq == "daily":
        return CronTrigger(hour=hour, minute=minute, timezone=zone)
    if freq == "weekdays":
        return CronTrigger(day_of_week="mon-fri", hour=hour, minute=minute, timezone=zone)
    if freq == "weekends":
        return CronTrigger(day_of_week="sat,sun", hour=hour, minute=minute, timezone=zone)
    if freq == "weekly":
        day = _DAYS.get(str(recurrence.get("weekday", "")).lower()) or local.strftime("%a").lower()
        return CronTrigger(day_of_week=day, hour=hour, minute=minute, timezone=zone)
    if freq == "monthly":
        return CronTrigger(day=local.day, hour=hour, minute=minute, timezone=zone)
    raise ValueError(f"unknown recurrence {freq!r}")


def first_due(recurrence: dict[str, Any], now: datetime, zone: ZoneInfo) -> datetime:
    """The first occurrence after `now`, for a recurrence given without a start ("every 2 hours")."""
    freq = recurrence.get("freq")
    if freq in ("interval", "hourly"):
        return now + timedelta(seconds=max(60, int(recurrence.get("interval_s") or 3600)))
    return next_due(recurrence, now, now, zone)


def next_due(recurrence: dict[str, Any], anchor: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The first occurrence strictly after `after`: occurrences missed while the server was down are skipped (the
    reminder fired once, late, for all of them)."""
    trigger = trigger_for(recurrence, anchor, zone)
    following = trigger.get_next_fire_time(None, after.astimezone(zone) + timedelta(microseconds=1))
    if following is None:
        raise ValueError("the recurrence has no next occurrence")
    return following


def describe(recurrence: dict[str, Any], first: datetime, zone: ZoneInfo) -> str:
    """'every weekday at 09:00', for replies and lists."""
    freq = recurrence.get("freq")
    local = first.astimezone(zone)
    hour, minute = _hm(recurrence, local)
    at = f"{hour:02d}:{minute:02d}"
    if freq in ("interval", "hourly"):
        seconds = int(recurrence.get("interval_s") or 3600)
        if seconds % 3600 == 0:
            hours = seconds // 3600
            return ngettext("every hour", "every {n} hours", hours).format(n=hours)
        minutes = max(1, seconds // 60)
        return ngettext("every minute", "every {n} minutes", minutes).format(n=minutes)
    if freq == "daily":
        return _("every day at {time}").format(time=at)
    if freq == "weekdays":
        return _("every weekday at {time}").format(time=at)
    if freq == "weekends":
        return _("every weekend day at {time}").format(time=at)
    if freq == "weekly":
        day = _weekday_name(recurrence.get("weekday"), local)
        return _("every {day} at {time}").format(day=day, time=at)
    if freq == "monthly":
        return _("every month on day {day} at {time}").format(day=local.day, time=at)
    return _("repeating")


def _weekday_name(weekday: object, local: datetime) -> str:
    """The weekday's name in the user's language ("Monday", "lunes")."""
    names = list(_DAYS)
    wanted = str(weekday or "").casefold()
    index = names.index(wanted) if wanted in names else local.weekday()
    monday = date(2024, 1, 1)  # any Monday: the day's name comes from babel, in the active language
    return format_date(monday + timedelta(days=index), "EEEE", locale=language())
