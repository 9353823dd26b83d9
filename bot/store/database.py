"""The store: one async SQLAlchemy engine (SQLite in WAL mode by default, Postgres through the same code) and
the group-commit writer every write goes through."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.sql import Executable

from bot.store.batch import ConnectionCall, Insert, Op, WriteBatcher


def create_engine(url: str, *, synchronous: str = "NORMAL", busy_timeout_ms: int = 5000) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, pool_size=4, max_overflow=4)
        _configure_sqlite(engine, synchronous, busy_timeout_ms)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _configure_sqlite(engine: AsyncEngine, synchronous: str, busy_timeout_ms: int) -> None:
    # The driver's own implicit transactions break SAVEPOINT; take BEGIN into our hands (SQLAlchemy's recipe).
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")


class Database:
    """Reads go straight to the pool; writes are queued on the writer and committed in groups."""

    def __init__(self, engine: AsyncEngine, *, max_batch: int = 2000) -> None:
        self.engine = engine
        self.writer = WriteBatcher(engine, max_batch=max_batch)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def start(self) -> None:
        self.writer.start()

    async def close(self) -> None:
        await self.writer.close()
        await self.engine.dispose()

    async def write(self, ops: Sequence[Op], *, guard: Insert | None = None) -> bool:
        return await self.writer.write(ops, guard=guard)

    async def run(self, call: ConnectionCall) -> Any:
        return await self.writer.run(call)

    async def one(self, statement: Executable) -> Row[Any] | None:
        async with self.engine.connect() as conn:
            result = await conn.execute(statement)
            return result.first()

    async def all(self, statement: Executable) -> list[Row[Any]]:
        async with self.engine.connect() as conn:
            result = await conn.execute(statement)
            return list(result.all())

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
            return True
        except Exception:
            return False
