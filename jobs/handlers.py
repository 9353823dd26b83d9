"""Direct triage answers (Tier 2) for reminders and tasks: the entities are enough, no model is called.

A missing piece (the time of a reminder, the item to add, the name of a new list) is asked for, and the answer
in the next message completes it (`bot/questions.py`). Destructive answers act only on what exists and is named
without doubt, say what changed, and can be taken back with /undo.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from agents.extensions import DirectHandler
from agents.triage import TriageResult
from bot.i18n import _
from bot.turn import Turn
from jobs.recurrence import FREQUENCIES
from jobs.reminders import when_text
from jobs.tasks import CONFIRM_CLEAR_OVER, list_title

if TYPE_CHECKING:
    from jobs.service import JobsService

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
    text = " ".join(text.split()) or _("what you asked")
    if recurrence and recurrence.get("freq") not in FREQUENCIES:
        recurrence = None
    if when is None and not recurrence:
        return _("When should I remind you to {text}?").format(text=text)
    if when is not None and when < now - PAST_GRACE and not recurrence:
        return _("{when} has already passed. When should I remind you?").format(
            when=when_text(when, turn.timezone, now).capitalize())
    job = await service.reminders.create(turn, text, when, recurrence)
    if service.undo is not None:
        await service.undo.record(turn.user.id, "reminder_set", {"id": job.id}, f"set reminder {job.number}")
    return _("OK, I'll remind you: {reminder} (reminder {number}; cancel it with /cancel {number}).").format(
        reminder=service.reminders.describe(job, now=now), number=job.number)


async def list_reminders(service: JobsService, turn: Turn, query: str | None = None) -> str:
    jobs = await service.reminders.listing(turn.user.id, query)
    if not jobs:
        return _("You have no reminders set.") if not query else _("You have no reminders about {query!r}.").format(
            query=query)
    lines = [_("Your reminders:"), *(f"{job.number}. {service.reminders.describe(job)}" for job in jobs)]
    lines.append(_("Cancel one with /cancel and its number."))
    return "\n".join(lines)


async def cancel_reminder(service: JobsService, turn: Turn, number: int) -> str:
    job = await service.reminders.cancel(turn.user.id, number)
    if job is None:
        return _("You have no active reminder {number}. Send 'show my reminders' to see their numbers.").format(
            number=number)
    if service.undo is not None:
        await service.undo.record(turn.user.id, "reminder_cancelled", {"id": job.id}, f"cancelled reminder {number}")
    return _("Cancelled reminder {number} ({text}). Say /undo to keep it after all.").format(
        number=number, text=job.payload.get("text"))


async def cancel_reminder_about(service: JobsService, turn: Turn, about: str) -> str:
    """Cancel the one active reminder whose text contains `about`; several or none: say so, change nothing."""
    jobs = await service.reminders.listing(turn.user.id, about)
    if not jobs:
        return _("You have no reminder about {about!r}; nothing was cancelled.").format(about=about)
    if len(jobs) > 1:
        options = "; ".join(f"{job.number}. {job.payload.get('text')}" for job in jobs[:5])
        return _("Several reminders match {about!r} ({options}). Cancel one with /cancel and its number.").format(
            about=about, options=options)
    return await cancel_reminder(service, turn, jobs[0].number)


_CANCEL = re.compile(r"\s*(?:please\s+)?(?:cancel|delete|remove|stop)\s+(?:my\s+)?reminder\s+"
                     r"(?:number\s+|no\.?\s*|#)?(\d{1,6})\s*[.!]?\s*$", re.IGNORECASE)
_CANCEL_ABOUT = re.compile(r"\s*(?:please\s+)?(?:cancel|delete|remove)\s+(?:my\s+|the\s+)?(?:reminder\s+(?:to|about|"
                           r"for)\s+(?P<a>[\w' -]{2,80}?)|(?P<b>[\w' -]{2,60}?)\s+reminder)\s*[.!]?\s*$", re.IGNORECASE)


def direct_handlers(service: JobsService) -> dict[str, DirectHandler]:
    tasks = service.tasks
    questions = service.questions

    async def ask(turn: Turn, intent: str, slot: str, entities: dict[str, Any], question: str) -> str:
        if questions is None:
            return question
        return await questions.ask(turn, intent, slot, entities, question)

    async def reminder_set(turn: Turn, result: TriageResult) -> str | None:
        e = dict(result.entities)
        when, recurrence = parse_when(e.get("when"), turn), e.get("recurrence")
        keep = {k: e[k] for k in ("when", "recurrence", "text") if e.get(k)}
        if not e.get("text"):
            return await ask(turn, "reminder_set", "text", keep, _("What should I remind you about?"))
        if when is None and not recurrence:
            return await ask(turn, "reminder_set", "when", keep,
                             _("When should I remind you to {text}?").format(text=e["text"]))
        return await set_reminder(service, turn, str(e["text"]), when, recurrence)

    async def reminder_list(turn: Turn, result: TriageResult) -> str | None:
        if not result.direct:  # triage is unsure: only a plain cancel ("cancel reminder 3") is ours to answer
            cancel = _CANCEL.match(turn.text)
            if cancel:
                return await cancel_reminder(service, turn, int(cancel.group(1)))
            about = _CANCEL_ABOUT.match(turn.text)
            if about:
                return await cancel_reminder_about(service, turn, (about["a"] or about["b"]).strip())
            return None
        return await list_reminders(service, turn, result.entities.get("query"))

    async def task_add(turn: Turn, result: TriageResult) -> str | None:
        e = result.entities
        if not e.get("task"):
            key = await tasks.resolve(turn.user.id, e.get("list"))
            return await ask(turn, "task_add", "task", {"list": key},
                             _("What should I add to your {list}?").format(list=list_title(key)))
        return await tasks.add(turn.user.id, e.get("list"), str(e["task"]))

    async def task_list(turn: Turn, result: TriageResult) -> str:
        if result.entities.get("all"):
            return await tasks.show_all(turn.user.id)
        return await tasks.show(turn.user.id, result.entities.get("list"), result.entities.get("query"))

    async def task_done(turn: Turn, result: TriageResult) -> str | None:
        e = result.entities
        return await tasks.done(turn.user.id, e.get("list"), str(e["task"])) if e.get("task") else None

    async def task_remove(turn: Turn, result: TriageResult) -> str | None:
        e = result.entities
        return await tasks.remove(turn.user.id, e.get("list"), str(e["task"])) if e.get("task") else None

    async def task_clear(turn: Turn, result: TriageResult) -> str:
        e = result.entities
        key = await tasks.resolve(turn.user.id, e.get("list"))
        if e.get("declined"):
            return _("OK, I left your {list} as it is.").format(list=list_title(key))
        count = await tasks.open_count(turn.user.id, key)
        if count > CONFIRM_CLEAR_OVER and not e.get("confirmed"):
            items = await tasks.items(turn.user.id, key)
            names = ", ".join(i.text for i in items if i.status == "open")
            return await ask(turn, "task_clear", "confirm", {"list": key},
                             _("Your {list} has {count} items ({names}). Clear them all? (yes/no)").format(
                                 list=list_title(key), count=count, names=names))
        return await tasks.clear(turn.user.id, key)

    async def list_create(turn: Turn, result: TriageResult) -> str:
        name = result.entities.get("list")
        if not name:
            return await ask(turn, "list_create", "list", {}, _("What should I call the new list?"))
        return await tasks.create_list(turn.user.id, str(name))

    return {"reminder_set": reminder_set, "reminder_list": reminder_list, "task_add": task_add,
            "task_list": task_list, "task_done": task_done, "task_remove": task_remove, "task_clear": task_clear,
            "list_create": list_create}


def undo_restorers(service: JobsService) -> None:
    """Reminders set or cancelled by chat can be taken back."""
    if service.undo is None:
        return

    async def unset(turn: Turn, payload: dict[str, Any]) -> str:
        job = await service.store.change(str(payload.get("id")), ("pending",), "cancelled")
        if job is None:
            return _("That reminder has already gone off.")
        return _("Undone: reminder {number} is cancelled.").format(number=job.number)

    async def uncancel(turn: Turn, payload: dict[str, Any]) -> str:
        job = await service.store.change(str(payload.get("id")), ("cancelled",), "pending", finished_at=None)
        if job is None:
            return _("That reminder can't be restored.")
        await service.scheduler.arm(job.due_at)
        return _("Undone: reminder {number} ({text}) is back on.").format(number=job.number,
                                                                          text=job.payload.get("text"))

    service.undo.restorer("reminder_set", unset)
    service.undo.restorer("reminder_cancelled", uncancel)
