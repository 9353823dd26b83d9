"""Alembic environment: migrates the database named by the config's `sqlalchemy.url` (SQLite through the
stdlib driver, anything else through its async driver)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from bot.store.database import is_sqlite, sqlite_engine
from bot.store.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def _main() -> None:
    if context.is_offline_mode():
        raise SystemExit("offline migrations are not supported; run `python run.py migrate`")
    url = config.get_main_option("sqlalchemy.url")
    if is_sqlite(url):
        engine = sqlite_engine(url)
        try:
            with engine.connect() as connection:
                _run(connection)
                connection.commit()
        finally:
            engine.dispose()
    else:
        asyncio.run(_run_async(url))


_main()
