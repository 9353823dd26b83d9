"""`job.state_changed`: a small in-process bus. Every state change is emitted after its transaction commits, as a
`job_state_changed` log event and to the subscribers (observers such as the follow-up that answers a callback).
Outbound webhooks can subscribe here later."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog

log = structlog.get_logger("thinklio.jobs")

JOB_STATE_CHANGED = "job.state_changed"


@dataclass(frozen=True, slots=True)
class JobStateChanged:
    job: Any  # jobs.store.JobRecord, as it is after the change
    old: str
    new: str
    name: str = JOB_STATE_CHANGED


Subscriber = Callable[[JobStateChanged], Awaitable[None]]


class Events:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    async def emit(self, event: JobStateChanged) -> None:
        log.info("job_state_changed", job_id=event.job.id, type=event.job.type, old=event.old, new=event.new)
        for subscriber in self._subscribers:
            try:
                await subscriber(event)
            except Exception:
                # One failing observer must not undo a committed change nor starve the others.
                log.exception("job_observer_failed", job_id=event.job.id)
