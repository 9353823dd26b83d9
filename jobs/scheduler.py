"""The timer: APScheduler (`AsyncIOScheduler`) holds one date job for the earliest due time and one interval job
that polls; the store holds everything else.

Start-up costs three index seeks (MIN over (state, due_at) and (state, timeout_at)) whatever the number of
pending jobs: there is no APScheduler job per row. When the timer fires, `run_due` claims due jobs from the
store in batches (atomically: see `JobStore.claim_due`), runs them, writes their outcomes in one transaction,
times out overdue ones, then re-arms for the next earliest time. The poll catches jobs other servers created.
Tests drive `run_due` directly with a controllable clock.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.platform import PlatformState
from jobs.monitor import Monitor
from jobs.settings import JobsSettings
from jobs.store import JobRecord, JobStore

log = structlog.get_logger("thinklio.jobs")

# A runner delivers a claimed job and says what becomes of it: (new state, column values).
Runner = Callable[[JobRecord, "Firing"], Awaitable[tuple[str, dict[str, Any]]]]
_WAKE = "jobs-next-due"
_POLL = "jobs-poll"


class Firing:
    """How late a job runs, and why: what a reminder says when it comes after its time."""

    def __init__(self, now: datetime, started_at: datetime, late_after: float) -> None:
        self.now = now
        self.started_at = started_at
        self.late_after = late_after

    def late(self, job: JobRecord) -> bool:
        return job.due_at is not None and (self.now - job.due_at).total_seconds() > self.late_after

    def while_down(self, job: JobRecord) -> bool:
        return job.due_at is not None and job.due_at < self.started_at


class Scheduler:
    def __init__(self, store: JobStore, monitor: Monitor, platform: PlatformState, settings: JobsSettings) -> None:
        self._store = store
        self._monitor = monitor
        self._platform = platform
        self._settings = settings
        self._runners: dict[str, Runner] = {}
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:64]
        self._timer: AsyncIOScheduler | None = None
        self._lock = asyncio.Lock()
        self._armed_for: datetime | None = None
        self._started_at = store.clock.now()
        self._tasks: set[asyncio.Task[None]] = set()

    def runner(self, type: str, run: Runner) -> None:
        """What to do when a job of `type` is due; it gets the claimed job and finishes (or reschedules) it."""
        self._runners[type] = run

    async def start(self) -> None:
        self._started_at = self._store.clock.now()
        requeued = await self._store.requeue_stale(self._started_at, self._settings.jobs_claim_lease_seconds,
                                                   tuple(self._runners))
        timer = AsyncIOScheduler(timezone=UTC, job_defaults={"misfire_grace_time": None, "coalesce": True,
                                                             "max_instances": 1})
        timer.start()
        timer.add_job(self._on_poll, IntervalTrigger(seconds=self._settings.jobs_poll_seconds, timezone=UTC),
                      id=_POLL, replace_existing=True)
        self._timer = timer
        await self.arm()
        log.info("jobs_scheduler_started", worker=self.worker, requeued=requeued, next_due=self._armed_for)

    async def stop(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.shutdown(wait=False)
        self._timer = None
        async with self._lock:  # let a run in progress finish its deliveries
            pass
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5)

    async def arm(self, due: datetime | None = None) -> None:
        """Set the timer to the earliest due time: the store's, or `due` when a new job comes earlier."""
        if self._timer is None:
            return
        if due is None:
            due = await self._store.next_wake()
        elif self._armed_for is not None and self._armed_for <= due:
            return
        self._armed_for = due
        if due is None:
            if self._timer.get_job(_WAKE) is not None:
                self._timer.remove_job(_WAKE)
            return
        # The delay is measured on the app's clock, the wake-up on the real one: a test clock stays consistent.
        delay = max(0.0, (due - self._store.clock.now()).total_seconds())
        when = datetime.now(UTC) + timedelta(seconds=delay)
        self._timer.add_job(self._on_timer, DateTrigger(run_date=when, timezone=UTC), id=_WAKE,
                            replace_existing=True)

    async def _on_timer(self, poll: bool = False) -> None:
        # Work happens in our own task: the timer callback returns at once, so APScheduler never skips a wake-up
        # as "still running".
        task = asyncio.create_task(self._timer_run(poll), name="jobs-run-due")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_poll(self) -> None:
        await self._on_timer(poll=True)

    async def _timer_run(self, poll: bool) -> None:
        try:
            if poll:  # a server that died mid-run left claims behind; another one takes them over
                await self._store.requeue_stale(self._store.clock.now(), self._settings.jobs_claim_lease_seconds,
                                                tuple(self._runners))
            await self.run_due()
        except Exception:
            log.exception("jobs_run_failed")
            await asyncio.sleep(1)  # a store hiccup: back off before the poll tries again
        finally:
            # In maintenance nothing runs; re-arming for a time already past would spin, so the poll retries.
            if self._timer is not None and self._platform.status != "maintenance":
                self._armed_for = None
                await self.arm()

    async def run_due(self) -> int:
        """Fire everything due now (claimed in batches), time out what is overdue; returns how many jobs ran.
        The entry point the timer calls, and tests with a controllable clock."""
        if self._platform.status == "maintenance":
            return 0
        async with self._lock:
            fired = 0
            while True:
                now = self._store.clock.now()
                jobs = await self._store.claim_due(self.worker, now, self._settings.jobs_batch_size)
                if not jobs:
                    break
                firing = Firing(now, self._started_at, self._settings.jobs_late_after_seconds)
                await self._run_all(jobs, firing)
                fired += len(jobs)
                if len(jobs) < self._settings.jobs_batch_size:
                    break
            await self._monitor.sweep(self._store.clock.now())
            return fired

    async def _run_all(self, jobs: list[JobRecord], firing: Firing) -> None:
        gate = asyncio.Semaphore(self._settings.jobs_concurrency)

        async def one(job: JobRecord) -> tuple[JobRecord, str, dict[str, Any]]:
            async with gate:
                run = self._runners.get(job.type)
                try:
                    if run is None:
                        raise RuntimeError(f"no runner for job type {job.type!r}")
                    state, values = await run(job, firing)
                    return job, state, values
                except Exception as exc:
                    log.exception("job_failed", job_id=job.id, type=job.type)
                    return job, "failed", {"error": str(exc)[:500]}

        # Outcomes are written together: one transaction per batch instead of one per job.
        await self._store.complete(self.worker, await asyncio.gather(*(one(job) for job in jobs)))
