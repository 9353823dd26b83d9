"""Asynchronous tool calls: a tool starts a `callback` job (state `waiting`) and hands its `call_id` to the
outside service; `POST /v1/callbacks/{call_id}` resolves it; the follow-up observer then starts a turn with the
originating agent, whose answer lands in the originating conversation.

The body (reference section 22.4): `{"job_reference": "...", "status": "completed" | "failed",
"result": {"output": ..., "error": "..."}}`. Unknown call ids are 404; finished ones 409, and nothing changes.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any, Literal

import structlog
from aiohttp import web
from pydantic import BaseModel

from bot.auth import require_scope
from bot.errors import ThinklioError
from bot.services import Services
from bot.turn import Turn
from bot.web import read_model
from jobs.events import JobStateChanged
from jobs.monitor import label
from jobs.scheduler import Scheduler
from jobs.store import JobRecord, JobStore

log = structlog.get_logger("thinklio.jobs")

OPEN = ("pending", "waiting", "running")
_RESOLVED = {"completed": "resolved", "succeeded": "resolved", "success": "resolved", "resolved": "resolved",
             "failed": "failed", "error": "failed"}
MAX_NOTE_CHARS = 4000


class CallbackResult(BaseModel):
    output: Any = None
    error: str | None = None


class CallbackBody(BaseModel):
    job_reference: str | None = None
    status: Literal["completed", "succeeded", "success", "resolved", "failed", "error"]
    result: CallbackResult | None = None


def useful(output: Any) -> bool:
    return output not in (None, "", [], {}) and not (isinstance(output, str) and not output.strip())


class Callbacks:
    def __init__(self, store: JobStore, scheduler: Scheduler, services: Services) -> None:
        self._store = store
        self._scheduler = scheduler
        self._s = services

    async def start(self, turn: Turn, *, tool: str, payload: dict[str, Any] | None = None,
                    timeout_seconds: float | None = None) -> JobRecord:
        """Open a job that a callback will resolve; give the outside service its `call_id`."""
        now = self._s.clock.now()
        timeout = timeout_seconds or self._s.settings.jobs_callback_timeout_seconds
        job = await self._store.create(
            type="callback", state="waiting", account_id=turn.channel.account_id, user_id=turn.user.id,
            agent_id=turn.agent.id, conversation_id=turn.conversation.id, channel_id=turn.channel.id,
            interaction_id=turn.interaction_id, timeout_at=now + timedelta(seconds=timeout),
            timezone=turn.timezone.key, payload={"tool": tool, **(payload or {})},
            observers=[{"kind": "follow_up"}], call_id="cb_" + secrets.token_urlsafe(24),
        )
        await self._scheduler.arm(job.timeout_at)
        return job

    async def http(self, request: web.Request) -> web.Response:
        """POST /v1/callbacks/{call_id}"""
        key = await self._s.api_keys.verify(request.headers.get("Authorization"))
        require_scope(key, "callbacks:write")
        call_id = request.match_info["call_id"]
        body = await read_model(request, CallbackBody, limit=self._s.settings.max_body_bytes)
        job = await self._store.by_call_id(call_id)
        if job is None or job.account_id != key.account_id:
            raise ThinklioError("not_found", f"no asynchronous call {call_id!r}")
        if job.state not in OPEN:
            raise ThinklioError("conflict", f"call {call_id!r} is already {job.state}",
                                details={"job_id": job.id, "state": job.state})
        job = await self.resolve(job, body)
        return web.json_response({"call_id": call_id, "job_id": job.id, "state": job.state,
                                  "has_useful_output": job.has_useful_output})

    async def resolve(self, job: JobRecord, body: CallbackBody) -> JobRecord:
        state = _RESOLVED[body.status]
        result = body.result or CallbackResult()
        values = {"result": {"output": result.output, "error": result.error, "job_reference": body.job_reference},
                  "has_useful_output": state == "resolved" and useful(result.output),
                  "error": (result.error or "failed")[:500] if state == "failed" else None}
        changed = await self._store.change(job.id, OPEN, state, **values)
        if changed is None:  # a timeout or another callback got there first
            current = await self._store.get(job.id)
            raise ThinklioError("conflict", f"call {job.call_id!r} is already {current.state if current else 'gone'}",
                                details={"job_id": job.id})
        return changed

    # the follow-up observer ------------------------------------------------------------------------------

    async def observe(self, event: JobStateChanged) -> None:
        """Subscribed to `job.state_changed`: a finished callback job with a follow-up observer starts a turn."""
        job = event.job
        if event.new not in ("resolved", "failed") or job.observed_at is not None:
            return
        if not any(o.get("kind") == "follow_up" for o in job.observers) or job.conversation_id is None:
            return
        # Marking first makes the follow-up at most once, also with two servers recovering the same job.
        if not await self._store.mark_observed(job.id):
            return
        ticket = await self._s.pipeline.follow_up(job.conversation_id, follow_up_note(job),
                                                  parent_interaction_id=job.interaction_id)
        log.info("job_follow_up_started", job_id=job.id, interaction_id=ticket.interaction_id)

    async def recover(self) -> int:
        """Finished jobs whose follow-up never started (the server stopped in between)."""
        jobs = await self._store.unobserved()
        for job in jobs:
            await self.observe(JobStateChanged(job, "running", job.state))
        return len(jobs)


def follow_up_note(job: JobRecord) -> str:
    result = job.result or {}
    if job.state == "failed":
        return (f"[{label(job)} failed: {result.get('error') or job.error or 'no reason given'}] "
                "Tell the user it did not work.")
    if not job.has_useful_output:
        return f"[{label(job)} finished without output] Tell the user it is done."
    output = result.get("output")
    text = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)
    return (f"[{label(job)} finished; its result: {text[:MAX_NOTE_CHARS]}] "
            "Answer the user's earlier request with it.")
