"""Jobs on Postgres: two servers sharing one database never fire a job twice (SKIP LOCKED claims), and a
restart delivers what it missed. Skipped where no PostgreSQL server binaries are installed (never in CI)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.conftest import make_settings
from tests.fakes import postgres
from tests.fakes.clock import START, FakeClock
from tests.jobs.test_jobs import job_rows, jobs, say, started

pytestmark = postgres.required()




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
