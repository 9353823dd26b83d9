"""The jobs extension's settings block (`THINKLIO_JOBS_*`)."""

from __future__ import annotations

from pydantic import Field

from config.settings import Settings


class JobsSettings(Settings):
    """Reminders, asynchronous tool calls, timeouts. The store is the truth; the timer holds only the earliest
    due time, and the poll also picks up jobs other servers sharing the database created."""

    jobs_poll_seconds: float = Field(5.0, gt=0)
    jobs_batch_size: int = Field(500, ge=1)  # due jobs claimed per store round trip
    jobs_concurrency: int = Field(200, ge=1)  # due jobs delivered at once
    jobs_late_after_seconds: float = Field(60.0, ge=0)  # later than this, a reminder says it is late
    jobs_claim_lease_seconds: float = Field(300.0, gt=0)  # a claim older than this: its server died; retaken
    jobs_callback_timeout_seconds: float = Field(3600.0, gt=0)  # default wait for a callback

