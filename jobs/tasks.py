"""Tasks: per-user named lists ("todo", "shopping", or any name typed). Every answer is a sentence, so chat
handlers and harness tools share it.

"my list" with no name means the user's only list, or the to-do list when there are several. Changes that
remove something act only on an item or list that exists and is named without doubt, say exactly what changed,
and are recorded for /undo.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.engine import Connection

from bot.clock import Clock
from bot.i18n import _, ngettext
from bot.ids import new_id
from bot.store.batch import Insert
from bot.store.database import Database
from bot.turn import Turn
from bot.undo import UndoLog
from jobs import tables as jt

_LIST_SUFFIX = re.compile(r"\s+list$")
_ARTICLE = re.compile(r"^(?:the|my|a|an|some)\s+")
MAX_TASK_CHARS = 500
CONFIRM_CLEAR_OVER = 3  # clearing a list with more open items than this asks first


def list_key(name: str | None) -> str:
    """'Shopping List ' -> 'shopping'; 'to-do' -> 'todo'; nothing -> 'todo'."""
    key = _LIST_SUFFIX.sub("", " ".join((name or "").casefold().split()))
    key = {"to-do": "todo", "to do": "todo", "": "todo"}.get(key, key)
    return key[:64]


def list_title(key: str) -> str:
    return _("to-do list") if key == "todo" else _("{name} list").format(name=key)


@dataclass(frozen=True, slots=True)
class TaskItem:
    id: str
    text: str
    status: str
    list_name: str = ""
    created_at: datetime | None = None


def _items(rows: Sequence[Any]) -> list[TaskItem]:
    return [TaskItem(r.id, r.text, r.status, r.list_name, r.created_at) for r in rows]


class Tasks:
    def __init__(self, db: Database, clock: Clock, undo: UndoLog | None = None) -> None:
        self._db = db
        self._clock = clock
        self._undo = undo
        if undo is not None:
            undo.restorer("tasks_removed", self._restore_removed)
            undo.restorer("task_added", self._restore_added)
            undo.restorer("task_done", self._restore_done)
            undo.restorer("list_created", self._restore_list)

    async def items(self, user_id: str, key: str) -> list[TaskItem]:
        T = jt.task
        return _items(await self._db.all(select(T).where(T.c.user_id == user_id, T.c.list_name == key)
                                         .order_by(T.c.id)))

    async def lists(self, user_id: str) -> dict[str, int]:
        """The user's lists, made or used, with their open items: {"shopping": 3, "packing": 0}."""
        T, L = jt.task, jt.task_list
        used = await self._db.all(select(T.c.list_name, func.sum(case((T.c.status == "open", 1), else_=0)))
                                  .where(T.c.user_id == user_id).group_by(T.c.list_name))
        made = await self._db.all(select(L.c.list_name).where(L.c.user_id == user_id))
        out = {row.list_name: 0 for row in made}
        out.update({row[0]: int(row[1] or 0) for row in used})
        return dict(sorted(out.items()))

    async def resolve(self, user_id: str, list_name: str | None) -> str:
        """The list a message means: the one named, else the only one, else the to-do list."""
        if list_name:
            return list_key(list_name)
        lists = await self.lists(user_id)
        return next(iter(lists)) if len(lists) == 1 else "todo"

    async def add(self, user_id: str, list_name: str | None, text: str, *, turn: Turn | None = None) -> str:
        key, text = await self.resolve(user_id, list_name), " ".join(text.split())[:MAX_TASK_CHARS]
        if not text:
            return _("What should I add to your {list}?").format(list=list_title(key))
        current = [item for item in await self.items(user_id, key) if item.status == "open"]
        if any(item.text.casefold() == text.casefold() for item in current):
            return _("{text} is already on your {list}.").format(text=text, list=list_title(key))
        task_id = new_id("tsk")
        await self._db.write([Insert(jt.task, {"id": task_id, "user_id": user_id, "list_name": key,
                                              "text": text, "status": "open", "created_at": self._clock.now()})])
        await self._record(user_id, "task_added", {"id": task_id}, f"added {text} to your {list_title(key)}")
        return _("Added {text} to your {list} ({count}).").format(text=text, list=list_title(key),
                                                                 count=_count(len(current) + 1))

    async def show(self, user_id: str, list_name: str | None, query: str | None = None) -> str:
        key = await self.resolve(user_id, list_name)
        items = await self.items(user_id, key)
        if query:
            items = [item for item in items if query.casefold() in item.text.casefold()]
        open_items = [item for item in items if item.status == "open"]
        done = len(items) - len(open_items)
        if not open_items:
            tail = _(" ({done} done)").format(done=done) if done else ""
            return _("Your {list} is empty{tail}.").format(list=list_title(key), tail=tail) if not query else \
                _("Nothing matching {query!r} on your {list}.").format(query=query, list=list_title(key))
        lines = [_("Your {list}:").format(list=list_title(key)),
                 *(f"{n}. {item.text}" for n, item in enumerate(open_items, 1))]
        if done:
            lines.append(_("({done} done)").format(done=done))
        return "\n".join(lines)

    async def show_all(self, user_id: str) -> str:
        lists = await self.lists(user_id)
        if not lists:
            return _("You have no lists yet. Say 'add milk to my shopping list' or 'make a packing list'.")
        lines = [_("Your lists:")] + [f"- {list_title(key)} ({_count(n)})" for key, n in lists.items()]
        return "\n".join(lines)

    async def create_list(self, user_id: str, name: str) -> str:
        key = list_key(name)
        if key in await self.lists(user_id):
            return _("You already have a {list}.").format(list=list_title(key))
        await self._db.write([Insert(jt.task_list, {"id": new_id("tls"), "user_id": user_id, "list_name": key,
                                                   "created_at": self._clock.now()})])
        await self._record(user_id, "list_created", {"list": key}, f"made your {list_title(key)}")
        return _("Made your {list}. Add to it with 'add … to my {list}'.").format(list=list_title(key))

    async def done(self, user_id: str, list_name: str | None, text: str) -> str:
        key = await self.resolve(user_id, list_name)
        found = _match([i for i in await self.items(user_id, key) if i.status == "open"], text)
        if isinstance(found, str):
            return found.replace("{list}", list_title(key))
        now = self._clock.now()
        await self._run(update(jt.task).where(jt.task.c.id == found.id).values(status="done", done_at=now))
        await self._record(user_id, "task_done", {"id": found.id}, f"ticked off {found.text}")
        return _("Done: {text}, ticked off your {list}.").format(text=found.text, list=list_title(key))

    async def remove(self, user_id: str, list_name: str | None, text: str) -> str:
        """Remove the one item `text` names; with no list named, from whichever list holds it."""
        if list_name:
            key = list_key(list_name)
            pool = await self.items(user_id, key)
        else:
            T = jt.task
            pool = _items(await self._db.all(select(T).where(T.c.user_id == user_id).order_by(T.c.id)))
            key = ""
        found = _match(pool, text)
        if isinstance(found, str):
            where = list_title(key) if key else _("lists")
            return found.replace("{list}", where)
        await self._run(delete(jt.task).where(jt.task.c.id == found.id))
        title = list_title(found.list_name)
        await self._record(user_id, "tasks_removed", {"rows": [_row(found)]}, f"removed {found.text} from your {title}")
        return _("Removed {text} from your {list}. Say /undo to put it back.").format(text=found.text, list=title)

    async def open_count(self, user_id: str, key: str) -> int:
        return len([i for i in await self.items(user_id, key) if i.status == "open"])

    async def clear(self, user_id: str, list_name: str | None) -> str:
        key = await self.resolve(user_id, list_name)
        items = await self.items(user_id, key)
        if not items:
            if key not in await self.lists(user_id):
                return _("You have no {list}; nothing was changed.").format(list=list_title(key))
            return _("Your {list} was already empty.").format(list=list_title(key))
        ids = [item.id for item in items]
        removed = await self._run(delete(jt.task).where(jt.task.c.id.in_(ids)))
        names = ", ".join(item.text for item in items[:10]) + (_(" and more") if len(items) > 10 else "")
        await self._record(user_id, "tasks_removed", {"rows": [_row(i) for i in items]},
                           f"cleared your {list_title(key)}")
        return _("Cleared your {list}: removed {names} ({count}). Say /undo to bring them back.").format(
            list=list_title(key), names=names, count=_count(removed))

    async def _record(self, user_id: str, kind: str, payload: dict[str, Any], summary: str) -> None:
        if self._undo is not None:
            await self._undo.record(user_id, kind, payload, summary)

    async def _restore_removed(self, turn: Turn, payload: dict[str, Any]) -> str:
        rows = [dict(r, user_id=turn.user.id, created_at=datetime.fromisoformat(r["created_at"]),
                     done_at=datetime.fromisoformat(r["done_at"]) if r.get("done_at") else None)
                for r in payload.get("rows", [])]
        if not rows:
            return _("There was nothing to put back.")
        await self._db.write([Insert(jt.task, row) for row in rows])
        titles = sorted({list_title(r["list_name"]) for r in rows})
        what = rows[0]["text"] if len(rows) == 1 else _count(len(rows))
        return _("Undone: {what} back on your {titles}.").format(what=what, titles=_(" and ").join(titles))

    async def _restore_added(self, turn: Turn, payload: dict[str, Any]) -> str:
        row = await self._db.one(select(jt.task).where(jt.task.c.id == payload.get("id"),
                                                      jt.task.c.user_id == turn.user.id))
        if row is None:
            return _("That item is already gone.")
        await self._run(delete(jt.task).where(jt.task.c.id == row.id))
        return _("Undone: {text} taken off your {list} again.").format(text=row.text, list=list_title(row.list_name))

    async def _restore_done(self, turn: Turn, payload: dict[str, Any]) -> str:
        row = await self._db.one(select(jt.task).where(jt.task.c.id == payload.get("id"),
                                                      jt.task.c.user_id == turn.user.id))
        if row is None:
            return _("That item is gone.")
        await self._run(update(jt.task).where(jt.task.c.id == row.id).values(status="open", done_at=None))
        return _("Undone: {text} is open again on your {list}.").format(text=row.text,
                                                                        list=list_title(row.list_name))

    async def _restore_list(self, turn: Turn, payload: dict[str, Any]) -> str:
        key = str(payload.get("list"))
        L = jt.task_list
        await self._run(delete(L).where(L.c.user_id == turn.user.id, L.c.list_name == key))
        return _("Undone: your {list} is gone again (its items, if any, stay).").format(list=list_title(key))

    async def _run(self, statement: Any) -> int:
        def apply(conn: Connection) -> int:
            return int(conn.execute(statement).rowcount)

        return int(await self._db.run(apply))


def _row(item: TaskItem) -> dict[str, Any]:
    return {"id": item.id, "list_name": item.list_name, "text": item.text, "status": item.status,
            "created_at": (item.created_at or datetime.now().astimezone()).isoformat(), "done_at": None}


def _count(n: int) -> str:
    return ngettext("{n} item", "{n} items", n).format(n=n)


def _match(items: Sequence[TaskItem], text: str) -> TaskItem | str:
    """The one item `text` names: an exact match (ignoring case and a leading "the"), else the only one containing
    it. A string (with a `{list}` slot) explains a miss or an ambiguity; nothing is ever picked by a guess."""
    wanted = _ARTICLE.sub("", " ".join(text.casefold().split()))
    if not wanted:
        return _("Which item on your {list}?")
    exact = [item for item in items if _ARTICLE.sub("", item.text.casefold()) == wanted]
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        where = sorted({list_title(i.list_name) for i in exact})
        if len(where) > 1:
            return _("{text} is on several lists ({where}): which one?").format(text=text, where=", ".join(where))
        return exact[0]
    partial = [item for item in items if wanted in item.text.casefold()]
    if len(partial) == 1:
        return partial[0]
    if not partial:
        return _("{text} is not on your {list}; nothing was changed.").format(text=text, list="{list}")
    options = ", ".join(item.text for item in partial[:5])
    return _("Which one on your {list}: {options}? Nothing was changed.").format(list="{list}", options=options)
