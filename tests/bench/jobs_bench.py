"""Jobs under load: lateness of many reminders due within a minute, and the cost of start-up with many pending.

1. Lateness: an app with the real clock; N reminders (default 10,000) for 100 users, due evenly over --spread
   seconds (default 60) starting 5 s from now, written straight to the store. The timer wakes for the earliest,
   `run_due` claims what is due in batches and delivers; a recording outlet notes when each arrives. Lateness =
   delivered (wall clock) - due. Runs for real (about spread + 10 s), bounded by --max-seconds.
2. Start-up: a fresh store with --pending jobs (default 100,000) due in the future; the time `App.start()` takes
   with them, against an empty store, and the time of the jobs start step alone.

    python tests/bench/jobs_bench.py
    python tests/bench/jobs_bench.py --reminders 2000 --spread 10 --pending 20000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agents.core import CoreExtension
from bot.ids import new_id
from bot.logs import configure_logging
from bot.messages import InboundMessage, OutboundMessage, Sender
from channels.base import BaseChannel
from jobs import tables as jt
from jobs.extension import JobsExtension
from jobs.service import JobsService
from server.app import App
from tests.conftest import make_settings


class Recorder(BaseChannel):
    type = "http"

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}

    async def deliver(self, message: OutboundMessage) -> None:
        job_id = message.metadata.get("job_id")
        if job_id:
            self.arrivals[job_id] = time.time()


def build(data_dir: Path) -> App:
    settings = make_settings(data_dir, log_level="error")
    return App(settings, extensions=[CoreExtension(), JobsExtension()])


def service(app: App) -> JobsService:
    found = app.kit.extras["jobs"]
    assert isinstance(found, JobsService)
    return found


async def conversations(app: App, users: int) -> list[Any]:
    """One conversation per user, made the ordinary way (a message each)."""
    made = []
    for n in range(users):
        outcome = await app.services.pipeline.handle(InboundMessage("api", Sender(f"bench:{n}", f"U{n}"), "hi"))
        made.append(await app.services.directory.conversation_by_id(outcome.conversation_id))
    return made


async def insert_reminders(app: App, places: list[Any], dues: list[datetime]) -> list[str]:
    """Rows as `Reminders.create` writes them, in bulk (the bench measures firing, not creating)."""
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for n, due in enumerate(dues):
        place = places[n % len(places)]
        rows.append({
            "id": new_id("job"), "number": n // len(places) + 1, "type": "reminder", "state": "pending",
            "account_id": place.account_id, "user_id": place.user_id, "agent_id": place.agent_id,
            "conversation_id": place.id, "channel_id": place.channel_id, "interaction_id": None, "due_at": due,
            "timeout_at": None, "timezone": "UTC", "recurrence": None,
            "payload": {"text": f"thing {n}", "first_due": due.isoformat()}, "observers": [], "result": None,
            "has_useful_output": False, "call_id": None, "claimed_by": None, "claimed_at": None, "runs": 0,
            "error": None, "created_at": now, "updated_at": now, "finished_at": None, "observed_at": None,
        })

    def write(conn: Connection) -> None:
        for start in range(0, len(rows), 10_000):
            conn.execute(jt.job.insert(), rows[start:start + 10_000])

    await app.services.db.run(write)
    return [row["id"] for row in rows]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def lateness(args: argparse.Namespace, root: Path) -> None:
    app = build(root / "lateness")
    await app.start()
    recorder = Recorder()
    app.services.pipeline.outlets["http"] = recorder
    try:
        places = await conversations(app, 100)
        first = datetime.now(UTC) + timedelta(seconds=5)
        step = args.spread / max(1, args.reminders - 1)
        dues = [first + timedelta(seconds=n * step) for n in range(args.reminders)]
        ids = await insert_reminders(app, places, dues)
        await service(app).scheduler.arm()
        deadline = time.monotonic() + args.max_seconds
        while len(recorder.arrivals) < len(ids) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        due_by_id = dict(zip(ids, dues, strict=True))
        late = [recorder.arrivals[i] - due_by_id[i].timestamp() for i in ids if i in recorder.arrivals]
        print(f"lateness: {len(late)}/{len(ids)} reminders delivered, due over {args.spread:.0f} s")
        if late:
            print(f"  p50 {pct(late, 0.5) * 1000:.1f} ms   p99 {pct(late, 0.99) * 1000:.1f} ms   "
                  f"max {max(late) * 1000:.1f} ms   mean {statistics.fmean(late) * 1000:.1f} ms")
    finally:
        await app.stop()


async def startup(args: argparse.Namespace, root: Path) -> None:
    empty_dir, full_dir = root / "empty", root / "full"
    for data_dir, count in ((empty_dir, 0), (full_dir, args.pending)):
        app = build(data_dir)
        await app.start()
        if count:
            places = await conversations(app, 100)
            base = datetime.now(UTC) + timedelta(days=1)
            began = time.perf_counter()
            await insert_reminders(app, places, [base + timedelta(seconds=17 * n) for n in range(count)])
            print(f"start-up: wrote {count} pending jobs in {time.perf_counter() - began:.1f} s")
        await app.stop()
    timings: dict[str, float] = {}
    step = 0.0
    for label, data_dir in (("empty", empty_dir), ("full", full_dir)):
        app = build(data_dir)
        jobs = service(app)
        original = jobs.start

        async def timed_start(original: Any = original) -> None:
            nonlocal step
            began = time.perf_counter()
            await original()
            step = time.perf_counter() - began

        app.kit.on_ready[app.kit.on_ready.index(original)] = timed_start
        began = time.perf_counter()
        await app.start()
        timings[label] = time.perf_counter() - began
        timings[f"{label}_step"] = step
        await app.stop()
    print(f"start-up: App.start() {timings['full']:.3f} s with {args.pending} pending jobs, "
          f"{timings['empty']:.3f} s with none; the jobs step itself {timings['full_step'] * 1000:.1f} ms "
          f"({timings['empty_step'] * 1000:.1f} ms empty)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--spread", type=float, default=60.0, help="seconds over which they fall due")
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument("--skip", choices=("lateness", "startup"), default=None)
    parser.add_argument("--log-level", default="info", help="the server's default; JSON lines go to /dev/null")
    args = parser.parse_args()
    # As `run.py serve` logs (JSON, one line per event), so the bench pays what a server pays.
    configure_logging(args.log_level, "json", open(os.devnull, "w"))  # noqa: SIM115
    with tempfile.TemporaryDirectory(prefix="jobs-bench-") as tmp:
        if args.skip != "startup":
            await startup(args, Path(tmp))
        if args.skip != "lateness":
            await lateness(args, Path(tmp))


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
