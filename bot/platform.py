"""Platform state (online, paused, maintenance) and the change revision that keeps processes in step.

Every admin change, from chat or from the CLI, writes its audit event and a new revision in the same commit.
The server polls the revision (one indexed read a second) and drops its caches when it moves, so a change
made by another process takes effect within `state_poll_seconds`; changes made in-process take effect at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from bot.clock import Clock
from bot.ids import new_id, new_ulid
from bot.store import tables as t
from bot.store.batch import Insert, Op, execute_ops
from bot.store.database import Database

log = structlog.get_logger("thinklio.platform")

STATUSES = ("online", "paused", "maintenance")
Listener = Callable[[str, str], Awaitable[None]]  # (old status, new status)


class PlatformState:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self.status = "online"
        self.revision = ""
        self._listeners: list[Callable[[], None]] = []
        self._status_listeners: list[Listener] = []
        self._task: asyncio.Task[None] | None = None

    def on_invalidate(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def on_status_change(self, callback: Listener) -> None:
        self._status_listeners.append(callback)

    async def load(self) -> None:
        rows = await self._db.all(select(t.platform_state.c.key, t.platform_state.c.value))
        values = {row.key: row.value for row in rows}
        await self._apply(values.get("status", "online"), values.get("revision", ""))

    async def _apply(self, status: str, revision: str) -> None:
        old_status, changed = self.status, revision != self.revision
        self.status, self.revision = status, revision
        if changed:
            for callback in self._listeners:
                callback()
        if status != old_status:
            log.info("platform_status_changed", old=old_status, new=status)
            for listener in self._status_listeners:
                await listener(old_status, status)

    async def change(
        self, ops: Sequence[Op] = (), *, actor: str, action: str, state: dict[str, str] | None = None,
        target_type: str | None = None, target_id: str | None = None, account_id: str | None = None,
        detail: dict[str, Any] | None = None, work: Callable[[Connection], None] | None = None,
    ) -> None:
        """Commit an admin change with its audit event and a new revision, then apply it here at once. `work`
        runs in the same transaction, for changes rows cannot say (a delete)."""
        now = self._clock.now()
        audit = {
            "id": new_id("aud"), "account_id": account_id, "actor": actor, "action": action,
            "target_type": target_type, "target_id": target_id, "detail": detail, "created_at": now,
        }
        values = {**(state or {}), "revision": new_ulid()}

        def commit(conn: Connection) -> None:
            if work is not None:
                work(conn)
            execute_ops(conn, [*ops, Insert(t.audit_event, audit)])
            for key, value in values.items():
                conn.execute(
                    update(t.platform_state).where(t.platform_state.c.key == key).values(value=value, updated_at=now)
                )

        await self._db.run(commit)
        await self.load()

    async def set_status(self, status: str, *, actor: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown platform status {status!r}")
        await self.change(actor=actor, action=f"platform.{status}", state={"status": status},
                          target_type="platform")

    def start_polling(self, interval: float) -> None:
        self._task = asyncio.create_task(self._poll(interval), name="platform-state-poll")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _poll(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.load()
            except Exception as exc:  # a transient store error must not end polling
                log.warning("platform_state_poll_failed", error=str(exc))
