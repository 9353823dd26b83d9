"""The jobs extension: reminders, tasks, callbacks and timeouts, plugged in through the kit."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from bot.clock import Clock
from bot.extensions import Kit
from bot.questions import Questions
from bot.undo import UndoLog
from jobs.callbacks import Callbacks
from jobs.commands import build_commands
from jobs.events import Events
from jobs.handlers import direct_handlers, undo_restorers
from jobs.monitor import Monitor
from jobs.reminders import Reminders
from jobs.scheduler import Scheduler
from jobs.store import JobStore
from jobs.tasks import Tasks
from jobs.tools import build_tools

log = structlog.get_logger("thinklio.jobs")

SKILLS = (
    ("reminders", "'remind me to call mum at 6pm', 'every weekday at 9 remind me to stand up', 'show my reminders'"),
    ("lists", "'add milk to my shopping list', 'what's on my list?', 'show me my lists', 'make a packing list'"),
)


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


class JobsExtension:
    name = "jobs"
    intents = frozenset({"reminder_set", "reminder_list", "task_add", "task_list", "task_done", "task_remove",
                         "task_clear", "list_create"})

    def install(self, kit: Kit) -> None:
        s = kit.services
        events = Events()
        store = JobStore(s.db, s.clock, events)
        scheduler = Scheduler(store, Monitor(store, s.pipeline, batch=s.settings.jobs_batch_size), s.platform,
                              s.settings)
        reminders = Reminders(store, scheduler, s.pipeline, s.clock)
        scheduler.runner("reminder", reminders.fire)
        callbacks = Callbacks(store, scheduler, s)
        events.subscribe(callbacks.observe)
        service = JobsService(s.clock, events, store, scheduler, reminders, Tasks(s.db, s.clock, kit.undo), callbacks,
                              kit.questions, kit.undo)
        kit.extras["jobs"] = service
        undo_restorers(service)
        for intent, handler in direct_handlers(service).items():
            kit.answer(intent, handler)
        kit.tools.register(*build_tools(service))
        kit.commands.register_all(build_commands(service))
        kit.web.router.add_post("/v1/callbacks/{call_id}", callbacks.http)
        kit.on_ready.append(service.start)
        kit.on_stop.append(service.stop)
        kit.skills.extend(SKILLS)
