"""/undo: the last change a user made through chat, taken back within a few minutes.

Whoever changes a user's data records how to restore it (`record`, with a kind and a payload); the extension
that owns the kind registers the function that restores it (`restorer`). One entry per user: the newest change
replaces the one before, and taking it back removes it, so /undo twice does not undo two things.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from bot.clock import Clock
from bot.i18n import _
from bot.store import tables as t
from bot.store.database import Database
from bot.turn import Turn

U = t.undo_entry
Restorer = Callable[[Turn, dict[str, Any]], Awaitable[str]]


class UndoLog:
    def __init__(self, db: Database, clock: Clock, *, window_seconds: float) -> None:
        self._db = db
        self._clock = clock
        self._window = timedelta(seconds=window_seconds)
        self._restorers: dict[str, Restorer] = {}

    def restorer(self, kind: str, restore: Restorer) -> None:
        if kind in self._restorers:
            raise ValueError(f"undo kind {kind!r} already has a restorer")
        self._restorers[kind] = restore

    async def record(self, user_id: str, kind: str, payload: dict[str, Any], summary: str) -> None:
        """`summary` says what the change was ("removed eggs from your shopping list")."""
        row = {"user_id": user_id, "kind": kind, "payload": payload, "summary": summary[:500],
               "created_at": self._clock.now()}

        def work(conn: Connection) -> None:
            conn.execute(delete(U).where(U.c.user_id == user_id))
            conn.execute(U.insert().values(**row))

        await self._db.run(work)

    async def undo(self, turn: Turn) -> str:
        def take(conn: Connection) -> Any:
            row = conn.execute(select(U).where(U.c.user_id == turn.user.id)).first()
            if row is not None:
                conn.execute(delete(U).where(U.c.user_id == turn.user.id))
            return row

        row = await self._db.run(take)
        minutes = int(self._window.total_seconds() // 60)
        if row is None or self._clock.now() - row.created_at > self._window:
            return _("There is nothing to undo: I keep your last change for {minutes} minutes.").format(minutes=minutes)
        restore = self._restorers.get(row.kind)
        if restore is None:
            return _("I can't undo that change any more.")
        return await restore(turn, dict(row.payload or {}))
