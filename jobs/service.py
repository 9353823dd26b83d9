"""What the jobs extension offers the rest of the server, as one object (`kit.extras["jobs"]`)."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from bot.clock import Clock
from bot.questions import Questions
from bot.undo import UndoLog
from jobs.callbacks import Callbacks
from jobs.events import Events
from jobs.reminders import Reminders
from jobs.scheduler import Scheduler
from jobs.store import JobStore
from jobs.tasks import Tasks

log = structlog.get_logger("thinklio.jobs")


@dataclass
class JobsService:
    """What the extension offers others (`kit.extras["jobs"]`): e.g. `callbacks.start(turn, tool=...)` for a
    tool that answers later through `POST /v1/callbacks/{call_id}`."""

    clock: Clock
    events: Events
    store: JobStore
    scheduler: Scheduler
    reminders: Reminders
    tasks: Tasks
    callbacks: Callbacks
    questions: Questions | None = None
    undo: UndoLog | None = None

    async def start(self) -> None:
        # A ready step: channels are up (due reminders can be delivered) and the app has already re-run the
        # interactions a crash left unfinished, so a follow-up started here is not run twice.
        await self.scheduler.start()
        await self.recover_follow_ups()

    async def recover_follow_ups(self) -> int:
        recovered = await self.callbacks.recover()
        if recovered:
            log.info("job_follow_ups_recovered", count=recovered)
        return recovered

    async def stop(self) -> None:
        await self.scheduler.stop()
