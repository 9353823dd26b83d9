"""The jobs extension: reminders, tasks, callbacks and timeouts, plugged in through the kit."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from agents.extensions import Kit
from jobs.admin import JobAdmin, install_job_routes
from jobs.callbacks import Callbacks
from jobs.commands import build_commands
from jobs.events import Events
from jobs.handlers import direct_handlers, undo_restorers
from jobs.monitor import Monitor
from jobs.reminders import Reminders
from jobs.scheduler import Scheduler
from jobs.service import JobsService
from jobs.settings import JobsSettings
from jobs.store import JobStore
from jobs.tasks import Tasks
from jobs.tools import PERMISSIONS, build_tools

SKILLS = (
    ("reminders", "'remind me to call mum at 6pm', 'every weekday at 9 remind me to stand up', 'show my reminders'"),
    ("lists", "'add milk to my shopping list', 'what's on my list?', 'show me my lists', 'make a packing list'"),
)


WRITES = frozenset({"reminder_set", "task_add", "task_done", "task_remove", "task_clear", "list_create"})


class JobsExtension:
    intents = frozenset({"reminder_set", "reminder_list", "task_add", "task_list", "task_done", "task_remove",
                         "task_clear", "list_create"})
    settings: ClassVar[type[JobsSettings]] = JobsSettings
    migrations: ClassVar[Path] = Path(__file__).with_name("migrations") / "versions"

    def install(self, kit: Kit) -> None:
        s = kit.services
        settings = kit.settings(JobsSettings)
        events = Events()
        store = JobStore(s.db, s.clock, events)
        scheduler = Scheduler(store, Monitor(store, s.pipeline, batch=settings.jobs_batch_size), s.platform,
                              settings)
        reminders = Reminders(store, scheduler, s.pipeline, s.clock, s.catalogue, s.directory)
        scheduler.runner("reminder", reminders.fire)
        callbacks = Callbacks(store, scheduler, s)
        events.subscribe(callbacks.observe)
        service = JobsService(s.clock, events, store, scheduler, reminders, Tasks(s.db, s.clock, kit.undo), callbacks,
                              kit.questions, kit.undo)
        kit.extras["jobs"] = service
        undo_restorers(service)
        for intent, handler in direct_handlers(service).items():
            # "cancel reminder 3" is answered even when triage is unsure, once the reminder is found.
            kit.answer(intent, handler, look_first=intent == "reminder_list", writes=intent in WRITES)
        kit.tools.register(*build_tools(service))
        kit.assignments.extend(PERMISSIONS)
        admin = JobAdmin(store, s)
        kit.commands.register_all(build_commands(service, admin))
        install_job_routes(kit.web, s, admin)
        kit.web.router.add_post("/v1/callbacks/{call_id}", callbacks.http)
        s.governance.pending.register(store.cancel_pending, store.count_active)
        kit.on_ready.append(service.start)
        kit.on_stop.append(service.stop)
        kit.skills.extend(SKILLS)
