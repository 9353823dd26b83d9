"""What teams cost a turn: the sender's teams are read once per user (`Directory.teams_of`, then cached until an
admin change), and every knowledge read carries one partition more per team.

N users, each in 3 of 20 teams of one account. Prints the cold read of a user's teams (the first turn after a
change), the cached read (every other turn), and a triage recall ("what is the X") with and without team
partitions in the turn's scopes.

    python tests/bench/teams_bench.py --users 2000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.clock import SystemClock
from bot.ids import new_id
from bot.logs import configure_logging
from bot.store import tables as t
from bot.store.batch import Insert
from knowledge.facts import FactStore, Scopes
from knowledge.index import Partition
from server.app import App
from server.settings import CHANNELS
from tests.conftest import make_settings

TEAMS = 20


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    return (f"median {statistics.median(ordered) * 1000:.3f} ms, p95 {ordered[int(len(ordered) * 0.95)] * 1000:.3f} ms"
            f" ({len(ordered)} reads)")


async def run(users: int) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        app = App(make_settings(Path(data_dir)), channels=CHANNELS.builder(()))
        await app.open_store()
        try:
            s = app.services
            account = await s.directory.account_by_slug("default")
            assert account is not None
            now = SystemClock().now()
            teams = [new_id("team") for _ in range(TEAMS)]
            user_ids = [new_id("usr") for _ in range(users)]
            ops: list[Insert] = [Insert(t.team, {"id": team, "account_id": account.id, "slug": f"t{n}",
                                                 "name": f"T{n}", "status": "active", "created_at": now})
                                 for n, team in enumerate(teams)]
            for n, user in enumerate(user_ids):
                ops.append(Insert(t.user_profile, {"id": user, "display_name": f"u{n}", "status": "active",
                                                   "created_at": now}))
                ops.append(Insert(t.membership, {"id": new_id("mem"), "account_id": account.id, "user_id": user,
                                                 "role": "member", "status": "active", "created_at": now}))
                ops.extend(Insert(t.team_member, {"id": new_id("tmm"), "team_id": teams[(n + k) % TEAMS],
                                                  "user_id": user, "role": "member", "created_at": now})
                           for k in range(3))
            await s.db.write(ops)
            facts = FactStore(s.db)
            for n, team in enumerate(teams):
                await facts.remember(Partition(account.id, "team", team), "discount code", f"CODE{n}", now=now,
                                     source="bench")

            cold, warm, plain, teamed = [], [], [], []
            for user in user_ids:
                started = time.perf_counter()
                mine = await s.directory.teams_of(account.id, user)
                cold.append(time.perf_counter() - started)
                started = time.perf_counter()
                await s.directory.teams_of(account.id, user)
                warm.append(time.perf_counter() - started)
                base = (Partition(account.id, "user", user), Partition(account.id, "account", account.id))
                started = time.perf_counter()
                await facts.about(Scopes(account.id, base), "discount code")
                plain.append(time.perf_counter() - started)
                with_teams = (*base, *(Partition(account.id, "team", team) for team in mine))
                started = time.perf_counter()
                found = await facts.about(Scopes(account.id, with_teams), "discount code")
                teamed.append(time.perf_counter() - started)
                assert len(found) == 3
            print(f"{users} users, {TEAMS} teams, 3 teams each (SQLite)")
            print(f"teams_of, cold (first turn after a change): {_ms(cold)}")
            print(f"teams_of, cached (every other turn):        {_ms(warm)}")
            print(f"recall without team partitions:            {_ms(plain)}")
            print(f"recall with the user's 3 team partitions:   {_ms(teamed)}")
        finally:
            await app.close_store()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=2000)
    args = parser.parse_args()
    configure_logging("warning")
    asyncio.run(run(args.users))


if __name__ == "__main__":
    main()
