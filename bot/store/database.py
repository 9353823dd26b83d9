"""The store: SQLite in WAL mode by default, Postgres (asyncpg) through the same SQLAlchemy Core statements.

How it talks to each:
- Postgres: an `AsyncEngine`; reads await the pool, write batches run in `AsyncConnection.run_sync`.
- SQLite lives in this process, where a thread hop per statement (what an async driver does) costs far more
  than the statement. So writes run as whole batches on one writer thread (one hop per batch), and reads (small
  and indexed, never blocked by the writer in WAL mode) run directly on a connection of the event loop's thread.

Every write goes through the group-commit `WriteBatcher`; units of work are plain functions of a SQLAlchemy
`Connection`, the same for both databases.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Engine, event, text
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import Connection, Row
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import Executable

from bot.store.batch import Insert, Op, WriteBatcher

T = TypeVar("T")
Work = Callable[[Connection], T]


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sync_sqlite_url(url: str) -> str:
    """Any SQLite URL (`sqlite:///path`, `sqlite+aiosqlite:///path`) -> the stdlib driver's URL for the same file."""
    return "sqlite+pysqlite" + url[url.index(":"):]


def sqlite_engine(url: str, *, synchronous: str = "NORMAL", busy_timeout_ms: int = 5000) -> Engine:
    engine = create_sync_engine(sync_sqlite_url(url), poolclass=NullPool,
                                connect_args={"check_same_thread": False})

    # The driver's implicit transactions break SAVEPOINT; take BEGIN into our hands (SQLAlchemy's recipe).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


class _SQLiteBackend:
    def __init__(self, url: str, synchronous: str, busy_timeout_ms: int) -> None:
        self.engine = sqlite_engine(url, synchronous=synchronous, busy_timeout_ms=busy_timeout_ms)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._writer: Connection | None = None
        self._reader: Connection | None = None
        self._reader_thread: int | None = None

    async def transaction(self, work: Work[T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._in_transaction, work)

    def _in_transaction(self, work: Work[T]) -> T:
        if self._writer is None:
            self._writer = self.engine.connect()
        with self._writer.begin():
            return work(self._writer)

    async def read(self, work: Work[T]) -> T:
        if self._reader is None or self._reader_thread != threading.get_ident():
            self._reader = self.engine.connect()
            self._reader_thread = threading.get_ident()
        try:
            return work(self._reader)
        finally:
            self._reader.rollback()  # end the read transaction: never pin an old WAL snapshot

    async def close(self) -> None:
        def close_writer() -> None:
            if self._writer is not None:
                self._writer.close()

        await asyncio.get_running_loop().run_in_executor(self._thread, close_writer)
        self._thread.shutdown(wait=True)
        if self._reader is not None:
            self._reader.close()
        self.engine.dispose()


class _AsyncBackend:
    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)

    async def transaction(self, work: Work[T]) -> T:
        async with self.engine.begin() as conn:
            return await conn.run_sync(work)

    async def read(self, work: Work[T]) -> T:
        async with self.engine.connect() as conn:
            return await conn.run_sync(work)

    async def close(self) -> None:
        await self.engine.dispose()


class Database:
    def __init__(self, url: str, *, synchronous: str = "NORMAL", busy_timeout_ms: int = 5000,
                 max_batch: int = 2000) -> None:
        self.url = url
        self._backend: _SQLiteBackend | _AsyncBackend = (
            _SQLiteBackend(url, synchronous, busy_timeout_ms) if is_sqlite(url) else _AsyncBackend(url)
        )
        self.writer = WriteBatcher(self._backend.transaction, max_batch=max_batch)

    @property
    def dialect(self) -> str:
        return self._backend.engine.dialect.name

    def start(self) -> None:
        self.writer.start()

    async def close(self) -> None:
        await self.writer.close()
        await self._backend.close()

    async def write(self, ops: Sequence[Op], *, guard: Insert | None = None) -> bool:
        """Commit `ops` (and `guard`, an insert that may conflict) together; False if the guard conflicted."""
        return await self.writer.write(ops, guard=guard)

    async def run(self, work: Work[T]) -> T:
        """Run `work(conn)` in the next write transaction and return its result."""
        return await self.writer.run(work)

    async def read(self, work: Work[T]) -> T:
        return await self._backend.read(work)

    async def one(self, statement: Executable) -> Row[Any] | None:
        return await self._backend.read(lambda conn: conn.execute(statement).first())

    async def all(self, statement: Executable) -> list[Row[Any]]:
        return await self._backend.read(lambda conn: list(conn.execute(statement).all()))

    async def fetch_row(self, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """One row of a plain SQL query with `:name` parameters, for the few reads on every request's path.
        SQLite runs it on the driver directly (microseconds instead of the ORM layer's ~0.2 ms); values come back
        as the driver gives them."""
        rows = await self.fetch_rows(sql, params, limit=1)
        return rows[0] if rows else None

    async def fetch_rows(self, sql: str, params: dict[str, Any], *, limit: int | None = None) -> list[tuple[Any, ...]]:
        """All rows (or the first `limit`) of a plain SQL query, the same fast way as `fetch_row`."""
        if isinstance(self._backend, _SQLiteBackend):
            def run(conn: Connection) -> list[tuple[Any, ...]]:
                cursor = conn.connection.dbapi_connection.execute(sql, params)  # type: ignore[union-attr]
                return cursor.fetchall() if limit is None else cursor.fetchmany(limit)

            return await self._backend.read(run)
        result = await self._backend.read(
            lambda conn: [tuple(r) for r in conn.execute(text(sql), params).all()[:limit]])
        return result

    async def ping(self) -> bool:
        try:
            await self._backend.read(lambda conn: conn.exec_driver_sql("SELECT 1").scalar())
            return True
        except Exception:
            return False
