"""Jobs on Postgres: two servers sharing one database never fire a job twice (SKIP LOCKED claims), and a
restart delivers what it missed. Skipped where no PostgreSQL server binaries are installed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from bot.ids import new_id
from tests.conftest import make_settings
from tests.fakes import postgres
from tests.test_jobs import START, FakeClock, job_rows, jobs, say, started

pytestmark = pytest.mark.skipif(postgres.available() is not None, reason=str(postgres.available()))


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with postgres.postgres_server() as url:
        yield url


@pytest.fixture
async def database_url(server: str) -> str:
    name = f"j_{new_id('db').split('_')[1][-12:]}"
    conn = await asyncpg.connect(server.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return server.rsplit("/", 1)[0] + f"/{name}"


async def test_two_servers_on_postgres_never_double_fire(tmp_path: Path, database_url: str) -> None:
    clock = FakeClock()
    one, outlet_one = await started(make_settings(tmp_path / "a", database_url=database_url, jobs_batch_size=5),
                                    clock)
    two, outlet_two = await started(make_settings(tmp_path / "b", database_url=database_url, jobs_batch_size=5),
                                    clock)
    try:
        for n in range(30):
            await say(one if n % 2 else two, f"remind me in 10 minutes to do thing {n}", user=f"acc:u{n % 4}")
        clock.advance(minutes=10)
        await asyncio.gather(*(jobs(app).scheduler.run_due() for app in (one, two, one, two)))
        delivered = outlet_one.texts() + outlet_two.texts()
        assert sorted(delivered) == sorted(f"Reminder: do thing {n}" for n in range(30))
        rows = await job_rows(one)
        assert {row.state for row in rows} == {"resolved"} and {row.runs for row in rows} == {1}
        assert sorted(row.number for row in rows if row.user_id == rows[0].user_id) == list(range(1, 9))
    finally:
        await one.stop()
        await two.stop()


async def test_restart_on_postgres_delivers_late(tmp_path: Path, database_url: str) -> None:
    clock = FakeClock()
    settings = make_settings(tmp_path / "var", database_url=database_url)
    first, _ = await started(settings, clock)
    await say(first, "remind me to call mum at 6pm")
    await first.stop()
    clock.set(START.replace(hour=19))
    second, outlet = await started(settings, clock)
    try:
        await jobs(second).scheduler.run_due()
        assert outlet.texts() == ["Reminder: call mum (late: due at 18:00, the server was down)"]
    finally:
        await second.stop()
