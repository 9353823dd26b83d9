"""Timeouts: a waiting or running job past its `timeout_at` becomes `timed_out`, and its conversation is told.

The sweep runs with every timer wake-up (the timer's next time includes the earliest timeout), so a timeout is as
punctual as a reminder. The state change is conditional, so a callback racing the timeout wins or loses cleanly.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import structlog

from bot.pipeline import Pipeline
from jobs.store import JobRecord, JobStore

log = structlog.get_logger("thinklio.jobs")


def label(job: JobRecord) -> str:
    """How a job is named to its user: 'reminder 3', or the tool that started it."""
    what = job.payload.get("tool") or job.type
    return f"{what} (job {job.number})"


class Monitor:
    def __init__(self, store: JobStore, pipeline: Pipeline, *, batch: int = 500) -> None:
        self._store = store
        self._pipeline = pipeline
        self._batch = batch

    async def sweep(self, now: datetime) -> int:
        timed_out = 0
        for job in await self._store.overdue(now, self._batch):
            changed = await self._store.change(job.id, (job.state,), "timed_out", observed_at=now,
                                               error="no result before the timeout")
            if changed is None:
                continue  # resolved (or cancelled) in the meantime
            timed_out += 1
            await self._tell(changed)
        return timed_out

    async def _tell(self, job: JobRecord) -> None:
        if job.conversation_id is None:
            return
        since = job.created_at.astimezone(ZoneInfo(job.timezone))
        text = (f"Sorry: {label(job)}, started at {since:%H:%M}, timed out before its result arrived. "
                "Ask me again if you still need it.")
        try:
            await self._pipeline.outlets.send(job.conversation_id, text,
                                              metadata={"job_id": job.id, "event": "timed_out"})
        except Exception as exc:
            log.warning("job_timeout_notice_failed", job_id=job.id, error=str(exc))
