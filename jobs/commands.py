"""/jobs, /job ID, /job cancel ID, and /cancel N (cancel a reminder by chat, without a model); for administrators
/jobs all [STATE] and /jobs cancel agent SLUG. Cancelling and the admin views go through `jobs/admin.py`."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.commands import Command, CommandContext, CommandError
from bot.commands.paging import page_number, paginate
from bot.governance import Actor
from bot.turn import Turn
from jobs.admin import JobAdmin
from jobs.handlers import cancel_reminder
from jobs.monitor import label
from jobs.reminders import when_text
from jobs.store import ACTIVE, JobRecord

if TYPE_CHECKING:
    from jobs.service import JobsService


CHAT_JOBS = 500  # jobs a chat listing pages through (the rest: narrow by state or agent, or /v1/admin/jobs)
JOBS_USAGE = "Usage: /jobs | /jobs all [STATE] [agent SLUG] [PAGE] | /jobs cancel agent SLUG"


def build_commands(service: JobsService, admin: JobAdmin) -> tuple[Command, ...]:
    store = service.store

    def line(job: JobRecord, turn: Turn, *, mine: bool) -> str:
        zone = ZoneInfo(job.timezone)
        what = job.payload.get("text") or job.payload.get("tool") or ""
        due = f", due {when_text(job.due_at, zone, service.clock.now())}" if job.due_at else ""
        head = f"{job.number}." if mine else f"{job.id} (user {job.user_id})"
        return f"{head} {job.type} {job.state}{due}: {what}".rstrip(": ")

    async def find(turn: Turn, ref: str) -> JobRecord:
        """A job by the user's own number or, for admins, by id; others' jobs look like missing ones."""
        job = await (store.by_number(turn.user.id, int(ref)) if ref.isdigit() else store.get(ref))
        if job is None or not (job.user_id == turn.user.id or turn.is_platform_admin
                               or (turn.is_account_admin and job.account_id == turn.channel.account_id)):
            raise CommandError(f"No job {ref!r}. /jobs lists yours.", code="not_found")
        return job

    async def jobs_command(ctx: CommandContext) -> str:
        words = ctx.args.split()
        if words and words[0].lower() == "all":
            return await all_jobs(ctx, words[1:])
        if words and words[0].lower() == "cancel":
            if len(words) != 3 or words[1].lower() != "agent":
                raise CommandError(JOBS_USAGE)
            agent, count = await admin.cancel_agent(Actor.of_turn(ctx.turn), words[2])
            return f"Cancelled {count} pending job{'s' if count != 1 else ''} of agent {agent.slug}."
        if words:
            raise CommandError(JOBS_USAGE)
        turn = ctx.turn
        own = await store.listing(user_id=turn.user.id, states=ACTIVE)
        lines = ["Your jobs:", *(line(j, turn, mine=True) for j in own)] if own else ["You have no active jobs."]
        if turn.is_account_admin:
            account = None if turn.is_platform_admin else turn.channel.account_id
            others = [j for j in await store.listing(account_id=account, states=ACTIVE, limit=100)
                      if j.user_id != turn.user.id]
            if others:
                lines += ["Everyone else's:", *(line(j, turn, mine=False) for j in others)]
        return "\n".join(lines)

    async def all_jobs(ctx: CommandContext, words: list[str]) -> str:
        words, page = page_number(words)
        agent = None
        if len(words) >= 2 and words[-2].lower() == "agent":
            agent, words = words[-1], words[:-2]
        if len(words) > 1:
            raise CommandError(JOBS_USAGE)
        found = await admin.listing(Actor.of_turn(ctx.turn), words[0].lower() if words else None, agent=agent,
                                    limit=CHAT_JOBS)
        if not found.jobs:
            return "No jobs match."
        where = "on the platform" if found.everywhere else "in this account"
        if found.total > len(found.jobs):
            where += f" (the first {len(found.jobs)} here; narrow by state or agent for the rest)"
        again = " ".join(["/jobs all", *words, *(("agent", agent) if agent else ())])
        return paginate([line(job, ctx.turn, mine=False) for job in found.jobs], page, again,
                        header=f"{found.total} job{'s' if found.total != 1 else ''} {where}:")

    async def job_command(ctx: CommandContext) -> str:
        words = ctx.args.split()
        if len(words) == 2 and words[0].lower() == "cancel":
            job = await admin.cancel(Actor.of_turn(ctx.turn), words[1])
            return f"Cancelled {label(job)}."
        if len(words) != 1:
            raise CommandError("Usage: /job ID or /job cancel ID")
        job = await find(ctx.turn, words[0])
        zone = ZoneInfo(job.timezone)
        now = service.clock.now()
        details = [f"Job {job.number} ({job.id}): {job.type}, {job.state}"]
        if job.type == "reminder":
            details.append(f"Reminder: {service.reminders.describe(job)}")
        if job.timeout_at and job.state in ACTIVE:
            details.append(f"Times out {when_text(job.timeout_at, zone, now)}")
        details.append(f"Created {when_text(job.created_at, zone, now)}")
        if job.error:
            details.append(f"Error: {job.error}")
        if job.result and job.has_useful_output:
            details.append(f"Result: {str(job.result.get('output'))[:500]}")
        return "\n".join(details)

    async def cancel_command(ctx: CommandContext) -> str:
        if not ctx.args.isdigit():
            raise CommandError("Usage: /cancel N, N being the reminder's number (ask 'show my reminders').")
        return await cancel_reminder(service, ctx.turn, int(ctx.args))

    return (
        Command("jobs", "your reminders and other pending work (admins: everyone's)", jobs_command,
                usage="[all [STATE] [agent SLUG] [PAGE] | cancel agent SLUG]",
                help="all: every job of the account (platform administrators: the platform), active ones unless "
                     "STATE is all, pending, running, waiting, resolved, failed, cancelled or timed_out; "
                     "agent SLUG: only that agent's (its job history with STATE all). "
                     "cancel agent SLUG: cancel all of that agent's pending jobs. Both for owners and admins."),
        Command("job", "one job's details, or cancel it", job_command, usage="ID | cancel ID"),
        Command("cancel", "cancel reminder N", cancel_command, usage="N", writes=True),
    )
