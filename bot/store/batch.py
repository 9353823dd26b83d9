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
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from bot.store import sqlite_fast
from bot.store.tables import metadata

log = structlog.get_logger("thinklio.store")

_table_order: dict[str, int] = {}


def _order(name: str) -> int:
    """A table's place in foreign-key order. Computed when first needed (and again for a table added since):
    extensions define their tables on the same metadata after this module is imported."""
    if name not in _table_order:
        _table_order.clear()
        _table_order.update({table.name: index for index, table in enumerate(metadata.sorted_tables)})
    return _table_order[name]


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
Work = Callable[[Connection], Any]


@dataclass(slots=True)
class _Unit:
    ops: Sequence[Op] = ()
    guard: Insert | None = None
    work: Work | None = None
    future: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class WriteBatcher:
    """Queues units and commits them in groups through `transaction`, which runs a sync function of a
    `Connection` inside one database transaction (on the store's writer thread, or via `run_sync`)."""

    def __init__(self, transaction: Callable[[Work], Awaitable[Any]], *, max_batch: int = 2000) -> None:
        self._transaction = transaction
        self._max_batch = max_batch
        self._pending: list[_Unit] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.batches = 0
        self.units = 0

    def start(self) -> None:
        if self._task is None:
            self._closing = False
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

    async def run(self, work: Work) -> Any:
        """Run `work(conn)` inside the next transaction (in a savepoint of its own) and return its result."""
        return await self._enqueue(_Unit(work=work))

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
            results = await self._transaction(lambda conn: _apply(conn, batch))
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


def _apply(conn: Connection, batch: list[_Unit]) -> list[Any]:
    results: list[Any] = [True] * len(batch)
    for index, unit in enumerate(batch):
        if unit.work is None:
            continue
        if len(batch) == 1:
            results[index] = unit.work(conn)
            continue
        try:
            with conn.begin_nested():
                results[index] = unit.work(conn)
        except Exception as exc:
            results[index] = exc

    guarded = [(i, u.guard) for i, u in enumerate(batch) if u.guard is not None]
    if guarded:
        inserted = _insert_guards(conn, [g for _, g in guarded if g is not None])
        for (index, _guard), ok in zip(guarded, inserted, strict=True):
            if not ok:
                results[index] = False

    ops = [
        op for index, unit in enumerate(batch)
        if unit.work is None and results[index] is not False
        for op in unit.ops
    ]
    execute_ops(conn, ops)
    return results


def _insert_guards(conn: Connection, guards: list[Insert]) -> list[bool]:
    """Insert-or-ignore each guard row; report which rows this batch wrote (ids are fresh per call)."""
    dialect = conn.dialect.name
    by_table: dict[str, list[Insert]] = {}
    for guard in guards:
        by_table.setdefault(guard.table.name, []).append(guard)
    written: set[str] = set()
    for rows in sorted(by_table.values(), key=lambda r: _order(r[0].table.name)):
        table = rows[0].table
        ids = [r.row["id"] for r in rows]
        if dialect == "sqlite":
            for columns, group in _by_columns(rows).items():
                sqlite_fast.insert_many(conn, table, columns, group, ignore_conflicts=True)
            written.update(sqlite_fast.existing_ids(conn, table, ids))
            continue
        conn.execute(postgresql.insert(table).on_conflict_do_nothing(), [r.row for r in rows])
        written.update(conn.execute(select(table.c.id).where(table.c.id.in_(ids))).scalars())
    return [g.row["id"] in written for g in guards]


def _by_columns(rows: list[Insert]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for op in rows:
        groups.setdefault(tuple(op.row), []).append(op.row)
    return groups


def execute_ops(conn: Connection, ops: Sequence[Op]) -> None:
    """Inserts grouped per table and column set, in foreign-key order; then updates, grouped likewise."""
    inserts: dict[tuple[str, tuple[str, ...]], list[Insert]] = {}
    updates: dict[tuple[str, tuple[str, ...]], list[Update]] = {}
    for op in ops:
        if isinstance(op, Insert):
            inserts.setdefault((op.table.name, tuple(op.row)), []).append(op)
        else:
            updates.setdefault((op.table.name, tuple(op.values)), []).append(op)
    raw = conn.dialect.name == "sqlite"
    for (_, columns), group in sorted(inserts.items(), key=lambda item: _order(item[0][0])):
        table = group[0].table
        if raw:
            sqlite_fast.insert_many(conn, table, columns, [op.row for op in group])
        else:
            conn.execute(table.insert(), [op.row for op in group])
    for (_, columns), group in updates.items():
        table = group[0].table
        if raw:
            sqlite_fast.update_many(conn, table, columns, [(op.row_id, op.values) for op in group])
            continue
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id_"))
            .values({column: bindparam(f"v_{column}") for column in columns})
        )
        conn.execute(statement, [{"row_id_": op.row_id, **{f"v_{k}": v for k, v in op.values.items()}}
                                 for op in group])
