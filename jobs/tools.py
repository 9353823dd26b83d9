"""`reminder_*` and `task_*` tools for the harness: the same operations as the direct triage answers."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from agents.tools import Tool, ToolContext
from agents.tools.registry import tool_from_function
from agents.triage import Triage
from jobs.handlers import cancel_reminder, list_reminders, set_reminder
from jobs.tasks import CONFIRM_CLEAR_OVER, list_title

if TYPE_CHECKING:
    from jobs.service import JobsService

Repeat = Literal["daily", "weekdays", "weekends", "weekly", "monthly", "hourly"]
# Reads `read`, changes `write`: what config/catalogue.py assigns.
PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("reminder_set", "write"), ("reminder_list", "read"), ("reminder_cancel", "write"),
    ("task_add", "write"), ("task_list", "read"), ("task_done", "write"), ("task_remove", "write"),
    ("task_clear", "write"),
)
# What must be the user's own words when the model writes (agents/tools/grounding.py): an item the user never
# named is never added, ticked off or removed, and a list they never named is never touched.
GROUNDED: dict[str, tuple[str, ...]] = {
    "reminder_set": ("text",), "task_add": ("task", "list_name"), "task_done": ("task", "list_name"),
    "task_remove": ("task", "list_name"), "task_clear": ("list_name",),
}
_PHRASES = Triage(handled_intents=frozenset({"reminder_set"}))  # to read "tomorrow at 9" the way chat does


def _when(ctx: ToolContext, text: str, when: str | None) -> tuple[datetime | None, dict[str, Any] | None]:
    if not when:
        return None, None
    try:
        moment = datetime.fromisoformat(when)
        return (moment if moment.tzinfo else moment.replace(tzinfo=ctx.turn.timezone)), None
    except ValueError:
        pass
    parsed = _PHRASES.parse(f"remind me to {text} {when}", now=ctx.services.clock.now(), tz=ctx.turn.timezone)
    if parsed.intent != "reminder_set":
        return None, None
    found = parsed.entities.get("when")
    return (datetime.fromisoformat(found) if found else None), parsed.entities.get("recurrence")


def build_tools(service: JobsService) -> tuple[Tool, ...]:
    tasks = service.tasks

    async def reminder_set(ctx: ToolContext, text: str, when: str, repeat: Repeat | None = None,
                           every_minutes: int | None = None) -> str:
        """Set a reminder: at the time, the text is sent to the user in this conversation.

        Args:
            text: what to remind the user of, e.g. "call mum".
            when: the first time: ISO 8601 in the user's time zone (2026-05-01T18:00) or words ("in 10 minutes").
            repeat: repeat daily, on weekdays, weekends, weekly, monthly or hourly at that time.
            every_minutes: repeat every so many minutes instead (at least 1).
        """
        moment, recurrence = _when(ctx, text, when)
        if moment is None and recurrence is None:
            return f"could not read the time {when!r}; give ISO 8601 such as 2026-05-01T18:00"
        if every_minutes:
            recurrence = {"freq": "interval", "interval_s": max(1, every_minutes) * 60}
        elif repeat and moment is not None:
            local = moment.astimezone(ctx.turn.timezone)
            recurrence = {"freq": repeat, "time": f"{local:%H:%M}", "weekday": local.strftime("%A").lower()}
        return await set_reminder(service, ctx.turn, text, moment, recurrence)

    async def reminder_list(ctx: ToolContext, query: str | None = None) -> str:
        """The user's reminders, with their numbers.

        Args:
            query: only those whose text contains this.
        """
        return await list_reminders(service, ctx.turn, query)

    async def reminder_cancel(ctx: ToolContext, number: int) -> str:
        """Cancel one of the user's reminders by its number (as reminder_list shows it).

        Args:
            number: the reminder's number.
        """
        return await cancel_reminder(service, ctx.turn, number)

    async def task_add(ctx: ToolContext, task: str, list_name: str = "todo") -> str:
        """Add an item to one of the user's lists.

        Args:
            task: the item, e.g. "milk".
            list_name: the list: todo, shopping, or any name the user uses.
        """
        return await tasks.add(ctx.turn.user.id, list_name, task)

    async def task_list(ctx: ToolContext, list_name: str = "todo", query: str | None = None) -> str:
        """The open items on one of the user's lists.

        Args:
            list_name: the list: todo, shopping, or any name the user uses.
            query: only items containing this.
        """
        return await tasks.show(ctx.turn.user.id, list_name, query)

    async def task_done(ctx: ToolContext, task: str, list_name: str = "todo") -> str:
        """Tick off an item on one of the user's lists.

        Args:
            task: the item (or a unique part of it).
            list_name: the list: todo, shopping, or any name the user uses.
        """
        return await tasks.done(ctx.turn.user.id, list_name, task)

    async def task_remove(ctx: ToolContext, task: str, list_name: str = "todo") -> str:
        """Remove an item from one of the user's lists.

        Args:
            task: the item (or a unique part of it).
            list_name: the list: todo, shopping, or any name the user uses.
        """
        return await tasks.remove(ctx.turn.user.id, list_name, task)

    async def task_clear(ctx: ToolContext, list_name: str) -> str:
        """Remove every item from one of the user's lists.

        Args:
            list_name: the list to empty.
        """
        user = ctx.turn.user.id
        key = await tasks.resolve(user, list_name)
        count = await tasks.open_count(user, key)
        if count > CONFIRM_CLEAR_OVER:
            # A long list is cleared only when the user says so in chat, where triage asks to confirm first.
            return (f"error: not cleared: the {list_title(key)} has {count} items. Ask the user to send "
                    f"'clear my {key} list' themselves if they really want it emptied.")
        return await tasks.clear(user, list_name)

    trust = dict(PERMISSIONS)
    functions = (reminder_set, reminder_list, reminder_cancel, task_add, task_list, task_done, task_remove,
                 task_clear)
    return tuple(tool_from_function(f, trust=trust[f.__name__],  # type: ignore[arg-type]
                                    grounded=GROUNDED.get(f.__name__, ())) for f in functions)
