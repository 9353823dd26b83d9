"""Platform controls and agent pause with the reference's semantics (33.1, 40.2): the kill switch halts every
agent interaction (in-flight ones stop after their current step), refuses new ones and cancels pending jobs;
pausing an agent does the same for that agent; resuming restores new work only (cancelled jobs stay
cancelled). Maintenance keeps messages and answers them when it ends."""

from __future__ import annotations

from bot.directory import Directory
from bot.errors import ThinklioError
from bot.governance.actor import Actor
from bot.governance.audit import Audit, done
from bot.governance.pending import PendingWork, WorkScope
from bot.platform import STATUSES, PlatformState
from bot.records import AgentRecord
from bot.store import tables as t
from bot.store.batch import Update


class Controls:
    def __init__(self, platform: PlatformState, directory: Directory, pending: PendingWork, audit: Audit) -> None:
        self._platform = platform
        self._directory = directory
        self._pending = pending
        self._audit = audit

    async def set_platform(self, actor: Actor, status: str) -> int:
        """Set online | paused | maintenance; the number of pending jobs the kill switch cancelled."""
        if not actor.is_platform_admin:
            await self._audit.refused(actor, f"platform.{status}", "only a platform administrator does that",
                                      target_type="platform")
            raise ThinklioError("forbidden", "You can't do that: only a platform administrator does that.")
        if status not in STATUSES:
            raise ThinklioError("bad_request", f"Unknown platform status {status!r}: one of {', '.join(STATUSES)}.")
        await self._platform.change(actor=actor.label, action=f"platform.{status}", state={"status": status},
                                    target_type="platform", detail=done(actor))
        if status != "paused":
            return 0
        return await self._pending.cancel(WorkScope(), "cancelled by the platform kill switch")

    async def set_agent(self, actor: Actor, slug: str, status: str) -> tuple[AgentRecord, int]:
        """Pause (cancelling the agent's pending jobs) or resume an agent of the actor's account."""
        action = f"agent.{'pause' if status == 'paused' else 'resume'}"
        agent = await self._directory.agent_by_slug(actor.account_id, slug)
        if not actor.is_account_admin:
            await self._audit.refused(actor, action, "only the account's owners and admins pause agents",
                                      target_type="agent", target_id=None if agent is None else agent.id)
            raise ThinklioError("forbidden", "You can't do that: only the account's owners and admins pause agents.")
        if agent is None:
            raise ThinklioError("not_found", f"No agent {slug!r} in this account.")
        await self._platform.change([Update(t.agent, agent.id, {"status": status})], actor=actor.label,
                                    action=action, target_type="agent", target_id=agent.id,
                                    account_id=agent.account_id, detail=done(actor))
        if status != "paused":
            return agent, 0
        return agent, await self._pending.cancel(WorkScope(agent_id=agent.id), f"cancelled: agent {slug} paused")
