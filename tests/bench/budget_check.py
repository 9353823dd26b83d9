"""What the shared budget check adds to each model call (bot/budgets.py), on SQLite and on Postgres.

Three figures per database: the check when no budget applies (a cached lookup, no store access); reserve +
settle one call at a time with three budgets applying (account, user, agent: one transaction before the call,
one after); and the same with many calls at once (the group-commit writer shares the commits).

    python tests/bench/budget_check.py --calls 2000 [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import update

from bot.budgets import Budgets
from bot.clock import SystemClock
from bot.ids import new_id
from bot.logs import configure_logging
from bot.store import tables as t
from bot.store.batch import Insert
from bot.store.database import Database
from server.app import App
from server.settings import CHANNELS
from tests.conftest import make_settings
from tests.fakes import postgres


async def _bench(url: str, data_dir: Path, calls: int, concurrency: int) -> dict[str, float]:
    app = App(make_settings(data_dir, database_url=url), channels=CHANNELS.builder(()))
    await app.open_store()
    account = await app.services.directory.account_by_slug("default")
    assert account is not None
    agent = await app.services.directory.agent_by_slug(account.id, "assistant")
    assert agent is not None
    await app.close_store()
    db, clock = Database(url), SystemClock()
    db.start()
    try:
        free = Budgets(db, clock, account_default=None, user_default=None)
        started = time.perf_counter()
        for _ in range(calls):
            assert await free.reserve(account.id, "usr_x", agent.id, 0.01) is None
        none_us = (time.perf_counter() - started) / calls * 1e6

        # The floor to compare with: two write transactions of one single-row UPDATE each.
        state = t.platform_state
        touch = update(state).where(state.c.key == "status").values(updated_at=clock.now())
        started = time.perf_counter()
        for _ in range(calls):
            await db.run(lambda conn: conn.execute(touch))
            await db.run(lambda conn: conn.execute(touch))
        floor_ms = (time.perf_counter() - started) / calls * 1000

        budgets = Budgets(db, clock, account_default=1e9, user_default=1e9)
        await db.write([Insert(t.budget, {"id": new_id("bud"), "account_id": account.id, "scope": "agent",
                                          "subject_id": agent.id, "limit_usd": 1e9, "updated_at": clock.now()})])
        await budgets.settle(await budgets.reserve(account.id, "usr_x", agent.id, 0.01), 0.01)  # rows made
        started = time.perf_counter()
        for _ in range(calls):
            await budgets.settle(await budgets.reserve(account.id, "usr_x", agent.id, 0.01), 0.005)
        serial_ms = (time.perf_counter() - started) / calls * 1000

        gate = asyncio.Semaphore(concurrency)

        async def one(number: int) -> None:
            async with gate:
                user = f"usr_{number % 50}"  # fifty people, one account and agent: the contended rows
                await budgets.settle(await budgets.reserve(account.id, user, agent.id, 0.01), 0.005)

        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(calls)))
        per_second = calls / (time.perf_counter() - started)
        return {"no_budget_us": none_us, "floor_ms": floor_ms, "serial_ms": serial_ms,
                "concurrent_calls_per_s": per_second}
    finally:
        await db.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--postgres", action="store_true", help="also on a throwaway Postgres server")
    args = parser.parse_args()
    configure_logging("warning")
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite:///{tmp}/bench.db"
        results = {"sqlite": await _bench(sqlite_url, Path(tmp) / "a", args.calls, args.concurrency)}
        if args.postgres:
            with postgres.postgres_server() as url:
                results["postgres"] = await _bench(url, Path(tmp) / "b", args.calls, args.concurrency)
    for name, figures in results.items():
        print(f"{name}: no budget applies {figures['no_budget_us']:.1f} us/call; three budgets, one call at a time "
              f"{figures['serial_ms']:.2f} ms/call (reserve + settle; two one-row write transactions take "
              f"{figures['floor_ms']:.2f} ms); {args.concurrency} at once "
              f"{figures['concurrent_calls_per_s']:.0f} calls/s")


if __name__ == "__main__":
    asyncio.run(main())
