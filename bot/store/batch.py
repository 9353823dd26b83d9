"""Group commit: every write of the server goes through one writer that commits many callers at once.

A caller submits a *unit* (rows to insert and update, optionally guarded by an insert that may conflict, or a
function to run on the connection) and awaits its commit. The writer takes everything queued, runs it in one
transaction (rows grouped per table into `executemany` calls, tables in foreign-key order) and commits once.
Throughput comes from amortising the commit; durability is unchanged, because nobody is answered before the
commit that holds their rows.

Invariant the callers keep: a unit is only submitted after the units it depends on have committed, so two
units of one batch never touch the same row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store.tables import metadata

log = structlog.get_logger("thinklio.store")

_TABLE_ORDER = {table.name: index for index, table in enumerate(metadata.sorted_tables)}


@dataclass(slots=True)
class Insert:
    table: Table
    row: dict[str, Any]


@dataclass(slots=True)
class Update:
    """`UPDATE table SET values WHERE id = row_id`."""

    table: Table
    row_id: str
    values: dict[str, Any]


Op = Insert | Update
ConnectionCall = Callable[[AsyncConnection], Awaitable[Any]]


@dataclass(slots=True)
class _Unit:
    ops: Sequence[Op] = ()
    guard: Insert | None = None
    call: ConnectionCall | None = None
    future: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class WriteBatcher:
    def __init__(self, engine: AsyncEngine, *, max_batch: int = 2000) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._pending: list[_Unit] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.batches = 0
        self.units = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="store-writer")

    async def close(self) -> None:
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def write(self, ops: Sequence[Op], *, guard: Insert | None = None) -> bool:
        """Commit `guard` and `ops` together. False (and nothing written) when the guard row conflicts."""
        return bool(await self._enqueue(_Unit(ops=ops, guard=guard)))

    async def run(self, call: ConnectionCall) -> Any:
        """Run `call(conn)` inside the next transaction (in a savepoint of its own) and return its result."""
        return await self._enqueue(_Unit(call=call))

    def _enqueue(self, unit: _Unit) -> asyncio.Future[Any]:
        if self._closing:
            raise RuntimeError("the store is closing")
        if self._task is None:
            self.start()
        self._pending.append(unit)
        self._wakeup.set()
        return unit.future

    async def _loop(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._flush(batch)
            if self._closing:
                return

    async def _flush(self, batch: list[_Unit]) -> None:
        try:
            async with self._engine.begin() as conn:
                results = await self._apply(conn, batch, savepoints=True)
        except Exception as exc:  # one bad unit must not sink the others: retry them one by one
            if len(batch) > 1:
                log.warning("batch_flush_failed", units=len(batch), error=str(exc))
                for unit in batch:
                    await self._flush([unit])
            elif not batch[0].future.done():
                batch[0].future.set_exception(exc)
            return
        self.batches += 1
        self.units += len(batch)
        for unit, result in zip(batch, results, strict=True):
            if unit.future.done():
                continue
            if isinstance(result, BaseException):
                unit.future.set_exception(result)
            else:
                unit.future.set_result(result)

    async def _apply(self, conn: AsyncConnection, batch: list[_Unit], *, savepoints: bool) -> list[Any]:
        results: list[Any] = [True] * len(batch)
        for index, unit in enumerate(batch):
            if unit.call is None:
                continue
            if not savepoints or len(batch) == 1:
                results[index] = await unit.call(conn)
                continue
            try:
                async with conn.begin_nested():
                    results[index] = await unit.call(conn)
            except Exception as exc:
                results[index] = exc

        guarded = [(i, u.guard) for i, u in enumerate(batch) if u.guard is not None]
        if guarded:
            inserted = await self._insert_guards(conn, [g for _, g in guarded])
            for (index, _guard), ok in zip(guarded, inserted, strict=True):
                if not ok:
                    results[index] = False

        ops = [
            op for index, unit in enumerate(batch)
            if unit.call is None and results[index] is not False
            for op in unit.ops
        ]
        await execute_ops(conn, ops)
        return results

    async def _insert_guards(self, conn: AsyncConnection, guards: list[Insert]) -> list[bool]:
        """Insert-or-ignore each guard row; report which rows this batch wrote (ids are fresh per call)."""
        dialect = conn.dialect.name
        by_table: dict[str, list[Insert]] = {}
        for guard in guards:
            by_table.setdefault(guard.table.name, []).append(guard)
        written: set[str] = set()
        for rows in sorted(by_table.values(), key=lambda r: _TABLE_ORDER[r[0].table.name]):
            table = rows[0].table
            insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
            await conn.execute(insert.on_conflict_do_nothing(), [r.row for r in rows])
            ids = [r.row["id"] for r in rows]
            found = await conn.execute(select(table.c.id).where(table.c.id.in_(ids)))
            written.update(found.scalars())
        return [g.row["id"] in written for g in guards]


async def execute_ops(conn: AsyncConnection, ops: Sequence[Op]) -> None:
    """Inserts grouped per table and column set, in foreign-key order; then updates, grouped likewise."""
    await _execute_inserts(conn, [op for op in ops if isinstance(op, Insert)])
    await _execute_updates(conn, [op for op in ops if isinstance(op, Update)])


async def _execute_inserts(conn: AsyncConnection, inserts: list[Insert]) -> None:
    groups: dict[tuple[str, tuple[str, ...]], list[Insert]] = {}
    for op in inserts:
        groups.setdefault((op.table.name, tuple(op.row)), []).append(op)
    for (_name, _), ops in sorted(groups.items(), key=lambda item: _TABLE_ORDER[item[0][0]]):
        await conn.execute(ops[0].table.insert(), [op.row for op in ops])


async def _execute_updates(conn: AsyncConnection, updates: list[Update]) -> None:
    groups: dict[tuple[str, tuple[str, ...]], list[Update]] = {}
    for op in updates:
        groups.setdefault((op.table.name, tuple(op.values)), []).append(op)
    for (_, columns), ops in groups.items():
        table = ops[0].table
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id_"))
            .values({column: bindparam(f"v_{column}") for column in columns})
        )
        params = [{"row_id_": op.row_id, **{f"v_{k}": v for k, v in op.values.items()}} for op in ops]
        await conn.execute(statement, params)
