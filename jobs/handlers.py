"""Direct triage answers (Tier 2) for reminders and tasks: the entities are enough, no model is called."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from agents.triage import TriageResult
from bot.extensions import DirectHandler
from bot.turn import Turn
from jobs.recurrence import FREQUENCIES
from jobs.reminders import when_text

if TYPE_CHECKING:
    from jobs.extension import JobsService

PAST_GRACE = timedelta(minutes=1)  # "at 18:00" said at 18:00:30 still means now


def parse_when(value: Any, turn: Turn) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=turn.timezone)


async def set_reminder(service: JobsService, turn: Turn, text: str, when: datetime | None,
                       recurrence: dict[str, Any] | None) -> str:
    """Create a reminder and say so; shared by the triage handler and the `reminder_set` tool."""
    now = service.clock.now()
    text = " ".join(text.split()) or "what you asked"
    if recurrence and recurrence.get("freq") not in FREQUENCIES:
        recurrence = None
    if when is None and not recurrence:
        return f"When should I remind you to {text}?"
    if when is not None and when < now - PAST_GRACE and not recurrence:
        return f"{when_text(when, turn.timezone, now).capitalize()} has already passed. When should I remind you?"
    job = await service.reminders.create(turn, text, when, recurrence)
    return (f"OK, I'll remind you: {service.reminders.describe(job, now=now)} (reminder {job.number}; "
            f"cancel it with /cancel {job.number}).")


async def list_reminders(service: JobsService, turn: Turn, query: str | None = None) -> str:
    jobs = await service.reminders.listing(turn.user.id, query)
    if not jobs:
        return "You have no reminders set." if not query else f"You have no reminders about {query!r}."
    lines = ["Your reminders:"] + [f"{job.number}. {service.reminders.describe(job)}" for job in jobs]
    lines.append("Cancel one with /cancel and its number.")
    return "\n".join(lines)


async def cancel_reminder(service: JobsService, turn: Turn, number: int) -> str:
    job = await service.reminders.cancel(turn.user.id, number)
    if job is None:
        return f"You have no active reminder {number}. Send 'show my reminders' to see their numbers."
    return f"Cancelled reminder {number} ({job.payload.get('text')})."


_CANCEL = re.compile(r"\s*(?:please\s+)?(?:cancel|delete|remove|stop)\s+(?:my\s+)?reminder\s+"
                     r"(?:number\s+|no\.?\s*|#)?(\d{1,6})\s*[.!]?\s*$", re.IGNORECASE)


def direct_handlers(service: JobsService) -> dict[str, DirectHandler]:
    tasks = service.tasks

    async def reminder_set(turn: Turn, result: TriageResult) -> str | None:
        e = result.entities
        if not e.get("text"):
            return None  # the model can ask what to remind about
        return await set_reminder(service, turn, str(e["text"]), parse_when(e.get("when"), turn), e.get("recurrence"))

    async def reminder_list(turn: Turn, result: TriageResult) -> str | None:
        if not result.direct:  # triage is unsure: only a plain "cancel reminder 3" is ours to answer
            cancel = _CANCEL.match(turn.text)
            return await cancel_reminder(service, turn, int(cancel.group(1))) if cancel else None
        return await list_reminders(service, turn, result.entities.get("query"))

    async def task_add(turn: Turn, result: TriageResult) -> str | None:
        e = result.entities
        return await tasks.add(turn.user.id, e.get("list"), str(e["task"])) if e.get("task") else None

    async def task_list(turn: Turn, result: TriageResult) -> str:
        return await tasks.show(turn.user.id, result.entities.get("list"), result.entities.get("query"))

    async def task_done(turn: Turn, result: TriageResult) -> str | None:
        e = result.entities
        return await tasks.done(turn.user.id, e.get("list"), str(e["task"])) if e.get("task") else None

    async def task_remove(turn: Turn, result: TriageResult) -> str | None:
        e = result.entities
        return await tasks.remove(turn.user.id, e.get("list"), str(e["task"])) if e.get("task") else None

    async def task_clear(turn: Turn, result: TriageResult) -> str:
        return await tasks.clear(turn.user.id, result.entities.get("list"))

    return {"reminder_set": reminder_set, "reminder_list": reminder_list, "task_add": task_add,
            "task_list": task_list, "task_done": task_done, "task_remove": task_remove, "task_clear": task_clear}
