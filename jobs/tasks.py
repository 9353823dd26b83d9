"""Tasks: per-user named lists ("todo", "shopping", or any name typed). Every answer is a sentence, so chat
handlers and harness tools share it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from bot.clock import Clock
from bot.ids import new_id
from bot.store import tables as t
from bot.store.batch import Insert
from bot.store.database import Database

_LIST_SUFFIX = re.compile(r"\s+list$")
MAX_TASK_CHARS = 500


def list_key(name: str | None) -> str:
    """'Shopping List ' -> 'shopping'; 'to-do' -> 'todo'; nothing -> 'todo'."""
    key = _LIST_SUFFIX.sub("", " ".join((name or "").casefold().split()))
    key = {"to-do": "todo", "to do": "todo", "": "todo"}.get(key, key)
    return key[:64]


def list_title(key: str) -> str:
    return "to-do list" if key == "todo" else f"{key} list"


@dataclass(frozen=True, slots=True)
class TaskItem:
    id: str
    text: str
    status: str


class Tasks:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def items(self, user_id: str, key: str) -> list[TaskItem]:
        rows = await self._db.all(select(t.task.c.id, t.task.c.text, t.task.c.status)
                                  .where(t.task.c.user_id == user_id, t.task.c.list_name == key)
                                  .order_by(t.task.c.id))
        return [TaskItem(row.id, row.text, row.status) for row in rows]

    async def add(self, user_id: str, list_name: str | None, text: str) -> str:
        key, text = list_key(list_name), " ".join(text.split())[:MAX_TASK_CHARS]
        if not text:
            return f"What should I add to your {list_title(key)}?"
        current = [item for item in await self.items(user_id, key) if item.status == "open"]
        if any(item.text.casefold() == text.casefold() for item in current):
            return f"{text} is already on your {list_title(key)}."
        await self._db.write([Insert(t.task, {"id": new_id("tsk"), "user_id": user_id, "list_name": key,
                                              "text": text, "status": "open", "created_at": self._clock.now()})])
        return f"Added {text} to your {list_title(key)} ({_count(len(current) + 1)})."

    async def show(self, user_id: str, list_name: str | None, query: str | None = None) -> str:
        key = list_key(list_name)
        items = await self.items(user_id, key)
        if query:
            items = [item for item in items if query.casefold() in item.text.casefold()]
        open_items = [item for item in items if item.status == "open"]
        done = len(items) - len(open_items)
        if not open_items:
            tail = f" ({done} done)" if done else ""
            return f"Your {list_title(key)} is empty{tail}." if not query else \
                f"Nothing matching {query!r} on your {list_title(key)}."
        lines = [f"Your {list_title(key)}:"] + [f"{n}. {item.text}" for n, item in enumerate(open_items, 1)]
        if done:
            lines.append(f"({done} done)")
        return "\n".join(lines)

    async def done(self, user_id: str, list_name: str | None, text: str) -> str:
        key = list_key(list_name)
        found = _match([i for i in await self.items(user_id, key) if i.status == "open"], text)
        if isinstance(found, str):
            return found.replace("{list}", list_title(key))
        now = self._clock.now()
        await self._run(update(t.task).where(t.task.c.id == found.id).values(status="done", done_at=now))
        return f"Done: {found.text}, ticked off your {list_title(key)}."

    async def remove(self, user_id: str, list_name: str | None, text: str) -> str:
        key = list_key(list_name)
        found = _match(await self.items(user_id, key), text)
        if isinstance(found, str):
            return found.replace("{list}", list_title(key))
        await self._run(delete(t.task).where(t.task.c.id == found.id))
        return f"Removed {found.text} from your {list_title(key)}."

    async def clear(self, user_id: str, list_name: str | None) -> str:
        key = list_key(list_name)
        removed = await self._run(delete(t.task).where(t.task.c.user_id == user_id, t.task.c.list_name == key))
        if not removed:
            return f"Your {list_title(key)} was already empty."
        return f"Cleared your {list_title(key)} ({_count(removed)} removed)."

    async def _run(self, statement: Any) -> int:
        def apply(conn: Connection) -> int:
            return int(conn.execute(statement).rowcount)

        return int(await self._db.run(apply))


def _count(n: int) -> str:
    return "1 item" if n == 1 else f"{n} items"


def _match(items: Sequence[TaskItem], text: str) -> TaskItem | str:
    """The one item `text` names: an exact match (ignoring case), else the only one containing it. A string (with
    a `{list}` slot) explains a miss or an ambiguity."""
    wanted = " ".join(text.casefold().split())
    if not wanted:
        return "Which item on your {list}?"
    exact = [item for item in items if item.text.casefold() == wanted]
    if exact:
        return exact[0]
    partial = [item for item in items if wanted in item.text.casefold() or item.text.casefold() in wanted]
    if len(partial) == 1:
        return partial[0]
    if not partial:
        return f"I can't find {text!r} on your {{list}}."
    options = ", ".join(item.text for item in partial[:5])
    return f"Which one on your {{list}}: {options}?"
