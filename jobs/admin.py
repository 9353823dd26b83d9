"""Jobs administered (reference 33.1, "job"): every job of the account (platform administrators: the platform)
by state, cancelling one job, and cancelling all of one agent's pending jobs. One service behind `/jobs all`,
`/job cancel` and `/jobs cancel agent` in chat and `/v1/admin/jobs` over HTTP; each cancellation and each refusal
is audited with who, through which channel, on what.

A member may cancel their own jobs (readonly members may not: a cancel is a change); someone else's job, or
another account's, is refused as if it did not exist, so job ids cannot be probed, and the refusal audited."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.admin_auth import admin_actor, positive_int
from bot.errors import ThinklioError
from bot.governance import Actor, WorkScope
from bot.governance.audit import done
from bot.records import AgentRecord
from bot.services import Services
from jobs.store import ACTIVE, FINISHED, JobRecord, JobStore

STATES = (*ACTIVE, *FINISHED)
PAGE = 50


@dataclass(frozen=True, slots=True)
class JobPage:
    jobs: list[JobRecord]
    total: int
    everywhere: bool  # the whole platform, not one account


class JobAdmin:
    def __init__(self, store: JobStore, services: Services) -> None:
        self._store = store
        self._s = services

    async def listing(self, actor: Actor, state: str | None = None, *, agent: str | None = None,
                      limit: int = PAGE, offset: int = 0) -> JobPage:
        """Jobs in `state` (None: the active ones; "all": any), the account's or, for platform admins, all;
        `agent` (a slug, ACCOUNT/SLUG or id) narrows them to one agent's: its job history."""
        if not actor.is_account_admin:
            await self._refuse(actor, "job.list", "only the account's owners and admins see everyone's jobs")
        states = _states(state)
        account = None if actor.is_platform_admin else actor.account_id
        agent_id = None if agent is None else (await self._s.governance.agents.resolve(actor, agent, "job.list")).id
        jobs = await self._store.listing(account_id=account, states=states, limit=limit, offset=offset,
                                         agent_id=agent_id)
        total = await self._store.count(account_id=account, states=states, agent_id=agent_id)
        return JobPage(jobs, total, account is None)

    async def cancel(self, actor: Actor, ref: str) -> JobRecord:
        """Cancel a job by id (or, in chat, by the actor's own job number)."""
        ref = ref.strip()
        job = await (self._store.by_number(actor.user_id, int(ref)) if ref.isdigit() and actor.user_id
                     else self._store.get(ref))
        if job is None:
            raise ThinklioError("not_found", f"No job {ref!r}. /jobs lists yours.")
        if not self._may_cancel(actor, job):
            await self._refuse(actor, "job.cancel", "not their job" if job.account_id == actor.account_id
                               else "the job belongs to another account", job.id, code="not_found",
                               message=f"No job {ref!r}. /jobs lists yours.")
        if actor.role == "readonly" and not actor.is_platform_admin:
            await self._refuse(actor, "job.cancel", "a readonly member changes nothing", job.id)
        cancelled = await self._store.change(job.id, ACTIVE, "cancelled", error=f"cancelled by {actor.label}")
        if cancelled is None:
            raise ThinklioError("conflict", f"Job {ref} is already {job.state}.")
        await self._s.platform.change(actor=actor.label, action="job.cancel", target_type="job", target_id=job.id,
                                      account_id=job.account_id, detail=done(actor, type=job.type, was=job.state))
        return cancelled

    async def cancel_agent(self, actor: Actor, ref: str) -> tuple[AgentRecord, int]:
        """Cancel every pending or waiting job of an agent (running ones finish their step)."""
        agent = await self._s.governance.agents.resolve(actor, ref, "job.cancel_agent")
        count = await self._store.cancel_pending(WorkScope(agent_id=agent.id),
                                                 f"cancelled by {actor.label}: all of agent {agent.slug}'s jobs")
        await self._s.platform.change(actor=actor.label, action="job.cancel_agent", target_type="agent",
                                      target_id=agent.id, account_id=agent.account_id,
                                      detail=done(actor, slug=agent.slug, cancelled=count))
        return agent, count

    @staticmethod
    def _may_cancel(actor: Actor, job: JobRecord) -> bool:
        return (actor.is_platform_admin or (job.account_id == actor.account_id
                                            and (actor.is_account_admin or job.user_id == actor.user_id)))

    async def _refuse(self, actor: Actor, action: str, reason: str, target_id: str | None = None, *,
                      code: str = "forbidden", message: str | None = None) -> None:
        await self._s.governance.audit.refused(actor, action, reason, target_type="job", target_id=target_id)
        raise ThinklioError(code, message or f"You can't do that: {reason}.")


def _states(state: str | None) -> tuple[str, ...]:
    if state is None or state == "active":
        return ACTIVE
    if state == "all":
        return STATES
    if state not in STATES:
        raise ThinklioError("bad_request", f"Unknown job state {state!r}: one of active, all, {', '.join(STATES)}.")
    return (state,)


def job_json(job: JobRecord) -> dict[str, object]:
    return {"id": job.id, "number": job.number, "type": job.type, "state": job.state, "user_id": job.user_id,
            "agent_id": job.agent_id, "account_id": job.account_id,
            "due_at": None if job.due_at is None else job.due_at.isoformat(), "error": job.error,
            "text": job.payload.get("text") or job.payload.get("tool")}


def install_job_routes(app: web.Application, services: Services, admin: JobAdmin) -> None:
    """`GET /v1/admin/jobs[?state=&agent=&page=]`, `POST /v1/admin/jobs/{job}/cancel`,
    `POST /v1/admin/agents/{agent}/jobs/cancel`: the same service over HTTP, with an admin-scoped key."""

    async def listing(request: web.Request) -> web.Response:
        actor = await admin_actor(services, request)
        page = positive_int(request, "page", 1)
        found = await admin.listing(actor, request.query.get("state"), agent=request.query.get("agent"),
                                    offset=(page - 1) * PAGE)
        return web.json_response({"page": page, "total": found.total, "jobs": [job_json(j) for j in found.jobs]})

    async def cancel(request: web.Request) -> web.Response:
        actor = await admin_actor(services, request)
        if request.match_info["job"].isdigit():  # numbers are a chat user's own; a key names jobs by id
            raise ThinklioError("bad_request", "name the job by its id (job_…)")
        return web.json_response(job_json(await admin.cancel(actor, request.match_info["job"])))

    async def cancel_agent(request: web.Request) -> web.Response:
        actor = await admin_actor(services, request)
        agent, count = await admin.cancel_agent(actor, request.match_info["agent"])
        return web.json_response({"slug": agent.slug, "cancelled_jobs": count})

    app.router.add_get("/v1/admin/jobs", listing)
    app.router.add_post("/v1/admin/jobs/{job}/cancel", cancel)
    app.router.add_post("/v1/admin/agents/{agent}/jobs/cancel", cancel_agent)
