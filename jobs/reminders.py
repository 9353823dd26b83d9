"""Reminders: a job of type `reminder` that puts "Reminder: ..." into the conversation it was set in, at its time
in the user's time zone; recurring ones go back to pending with their next occurrence."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.account_settings import default_language
from bot.clock import Clock
from bot.directory import Directory
from bot.i18n import Catalogue, _, language
from bot.pipeline import Pipeline
from bot.turn import Turn
from jobs.recurrence import describe, first_due, next_due
from jobs.scheduler import Firing, Scheduler
from jobs.store import JobRecord, JobStore

ACTIVE_REMINDER = ("pending", "running")


def when_text(moment: datetime, zone: ZoneInfo, now: datetime) -> str:
    """'today at 18:00', 'tomorrow at 09:00', 'Fri 28 Nov at 09:00': what a person would say."""
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    clock = f"{local:%H:%M}"
    if local.date() == today:
        return _("today at {time}").format(time=clock)
    if local.date() == today + timedelta(days=1):
        return _("tomorrow at {time}").format(time=clock)
    # Day and month names in the user's language; the patterns are the catalogue's (CLDR notation).
    pattern = _("EEE d MMM y") if local.year != today.year else _("EEE d MMM")
    return _("{date} at {time}").format(date=format_date(local.date(), pattern, locale=language()), time=clock)


class Reminders:
    def __init__(self, store: JobStore, scheduler: Scheduler, pipeline: Pipeline, clock: Clock,
                 catalogue: Catalogue, directory: Directory) -> None:
        self._store = store
        self._catalogue = catalogue
        self._directory = directory
        self._scheduler = scheduler
        self._pipeline = pipeline
        self._clock = clock

    async def create(self, turn: Turn, text: str, when: datetime | None,
                     recurrence: dict[str, Any] | None = None) -> JobRecord:
        """`when` is aware (any zone); a recurrence without one starts at its first occurrence from now."""
        zone = turn.timezone
        now = self._clock.now()
        if when is None:
            if not recurrence:
                raise ValueError("a reminder needs a time")
            when = first_due(recurrence, now, zone)
        payload = {"text": text.strip(), "first_due": when.isoformat()}
        job = await self._store.create(
            type="reminder", account_id=turn.channel.account_id, user_id=turn.user.id, agent_id=turn.agent.id,
            conversation_id=turn.conversation.id, channel_id=turn.channel.id, interaction_id=turn.interaction_id,
            due_at=when, timezone=zone.key, recurrence=recurrence or None, payload=payload,
        )
        await self._scheduler.arm(when)
        return job

    def describe(self, job: JobRecord, *, now: datetime | None = None) -> str:
        """'call mum, today at 18:00' or 'stand up, every weekday at 09:00 (next: tomorrow at 09:00)'."""
        now = now or self._clock.now()
        zone = ZoneInfo(job.timezone)
        assert job.due_at is not None
        due = when_text(job.due_at, zone, now)
        if job.recurrence:
            anchor = datetime.fromisoformat(job.payload.get("first_due") or job.due_at.isoformat())
            return _("{text}, {repeat} (next: {due})").format(text=job.payload.get("text"),
                                                             repeat=describe(job.recurrence, anchor, zone), due=due)
        return _("{text}, {due}").format(text=job.payload.get("text"), due=due)

    def _text(self, job: JobRecord, firing: Firing) -> str:
        text = _("Reminder: {text}").format(text=job.payload.get("text") or _("you asked me to remind you now"))
        if firing.late(job):
            assert job.due_at is not None
            due = job.due_at.astimezone(ZoneInfo(job.timezone))
            same_day = due.date() == firing.now.astimezone(due.tzinfo).date()
            day = "" if same_day else format_date(due.date(), _("EEE d MMM"), locale=language()) + " "
            at = f"{day}{due:%H:%M}"
            down = firing.while_down(job)
            late = _(" (late: due at {at}, the server was down)") if down else _(" (late: due at {at})")
            text += late.format(at=at)
        return text

    async def listing(self, user_id: str, query: str | None = None) -> list[JobRecord]:
        jobs = await self._store.listing(user_id=user_id, type="reminder", states=ACTIVE_REMINDER, limit=200)
        if query:
            wanted = query.casefold()
            jobs = [job for job in jobs if wanted in str(job.payload.get("text", "")).casefold()]
        return jobs

    async def cancel(self, user_id: str, number: int) -> JobRecord | None:
        """The cancelled reminder, or None when the user has no active reminder with that number."""
        job = await self._store.by_number(user_id, number)
        if job is None or job.type != "reminder":
            return None
        return await self._store.change(job.id, ACTIVE_REMINDER, "cancelled")

    async def fire(self, job: JobRecord, firing: Firing) -> tuple[str, dict[str, Any]]:
        """The runner for `reminder` jobs (claimed by this worker): deliver, then say whether it is done or when
        it comes next."""
        user = await self._directory.user(job.user_id) if job.user_id else None
        locale = user.locale if user else None
        if locale is None and job.account_id:
            locale = default_language(await self._directory.account(job.account_id))
        with self._catalogue.use(locale):  # this task is the scheduler's, not a turn's
            text = self._text(job, firing)
        assert job.conversation_id is not None
        result: dict[str, Any] = {"fired_at": firing.now.isoformat()}
        try:
            result["message_id"] = await self._pipeline.outlets.send(job.conversation_id, text,
                                                             metadata={"job_id": job.id, "reminder": job.number})
        except Exception as exc:
            if not job.recurrence:
                raise  # the scheduler marks it failed, with the reason
            # A channel outage must not end "every weekday": this occurrence is lost, the next ones are not.
            result["error"] = str(exc)[:500]
        if not job.recurrence:
            return "resolved", {"result": result}
        assert job.due_at is not None
        anchor = datetime.fromisoformat(job.payload.get("first_due") or job.due_at.isoformat())
        following = next_due(job.recurrence, anchor, max(firing.now, job.due_at), ZoneInfo(job.timezone))
        # Back to pending with the next time; a cancel that came while it ran wins (the update finds no 'running').
        return "pending", {"due_at": following, "claimed_by": None, "claimed_at": None, "result": result}
