"""Agent and job administration on a busy account: how long `/agent show` (recent interactions and tool calls,
30 days' usage with tokens, active jobs), `/agents` and `/jobs all` take when the account has many rows.

A fresh SQLite store gets --interactions interactions (default 200,000) of the assistant spread over 60 days,
each with a model step and every fourth with a tool call, and --jobs pending jobs (default 20,000), written
straight to the store. Then each command runs --runs times (default 20) through the pipeline, as a chat admin
would send it; the figures are the median and the slowest, in milliseconds.

    python tests/bench/agent_admin_bench.py
    python tests/bench/agent_admin_bench.py --interactions 20000 --jobs 2000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Connection

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.ids import new_id
from bot.logs import configure_logging
from bot.messages import InboundMessage, Sender
from bot.store import tables as t
from jobs import tables as jt
from server.app import App
from tests.conftest import make_settings

CHUNK = 5_000


async def fill(app: App, interactions: int, jobs: int) -> None:
    s = app.services
    seed = await s.pipeline.handle(InboundMessage("console", Sender("root", "Root"), "hello"))
    row = await s.db.one(select(t.interaction).where(t.interaction.c.id == seed.interaction_id))
    assert row is not None
    now = s.clock.now()

    def write(conn: Connection, start: int, stop: int) -> None:
        rows, steps = [], []
        for n in range(start, stop):
            at = now - timedelta(seconds=(n * 5_184_000) // interactions)  # over 60 days
            ix = new_id("ix")
            rows.append({"id": ix, "account_id": row.account_id, "agent_id": row.agent_id, "user_id": row.user_id,
                         "conversation_id": row.conversation_id, "channel_id": row.channel_id,
                         "inbound_message_id": row.inbound_message_id, "status": "completed", "tier": "llm",
                         "intent": None, "cost_usd": 0.001, "created_at": at, "completed_at": at})
            steps.append({"id": new_id("stp"), "interaction_id": ix, "seq": 1, "kind": "llm_call", "name": "m",
                          "status": "ok", "duration_ms": 1.0, "tokens_in": 100, "tokens_out": 20, "cost_usd": 0.001,
                          "created_at": at})
            if n % 4 == 0:
                steps.append({"id": new_id("stp"), "interaction_id": ix, "seq": 2, "kind": "tool_call",
                              "name": "current_time", "status": "ok", "duration_ms": 1.0, "tokens_in": 0,
                              "tokens_out": 0, "cost_usd": 0.0, "created_at": at})
        conn.execute(t.interaction.insert(), rows)
        conn.execute(t.step.insert(), steps)

    for start in range(0, interactions, CHUNK):
        stop = min(interactions, start + CHUNK)
        await s.db.run(lambda conn, a=start, b=stop: write(conn, a, b))
    job_rows = [{"id": new_id("job"), "number": n + 1, "type": "reminder", "state": "pending",
                 "account_id": row.account_id, "user_id": row.user_id, "agent_id": row.agent_id,
                 "due_at": now + timedelta(days=1, minutes=n), "timezone": "UTC", "payload": {"text": f"thing {n}"},
                 "observers": [], "has_useful_output": False, "runs": 0, "created_at": now, "updated_at": now}
                for n in range(jobs)]
    for start in range(0, jobs, CHUNK):
        chunk = job_rows[start:start + CHUNK]
        await s.db.run(lambda conn, c=chunk: conn.execute(jt.job.insert(), c))


async def timed(app: App, text: str, runs: int) -> tuple[float, float, int]:
    took = []
    length = 0
    for _ in range(runs):
        started = time.perf_counter()
        outcome = await app.services.pipeline.handle(InboundMessage("console", Sender("root", "Root"), text))
        took.append((time.perf_counter() - started) * 1000)
        assert outcome.error_code is None, outcome
        length = len(outcome.reply or "")
    return statistics.median(took), max(took), length


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=200_000)
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    configure_logging("error", "json", open(os.devnull, "w"))  # noqa: SIM115
    with tempfile.TemporaryDirectory() as tmp:
        app = App(make_settings(Path(tmp), log_level="error"))
        await app.start()
        try:
            started = time.perf_counter()
            await fill(app, args.interactions, args.jobs)
            print(f"filled {args.interactions:,} interactions and {args.jobs:,} jobs in "
                  f"{time.perf_counter() - started:.1f} s")
            for text in ("/agent show assistant", "/agents", "/jobs all", "/jobs all pending agent assistant 3"):
                median, worst, length = await timed(app, text, args.runs)
                print(f"{text:40} median {median:7.1f} ms  max {worst:7.1f} ms  reply {length:,} chars")
        finally:
            await app.stop()


if __name__ == "__main__":
    asyncio.run(main())
