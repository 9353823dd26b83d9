"""Platform controls with the reference's semantics (33.1, 40.2): the kill switch halts every agent interaction
(in-flight ones stop after their current step), refuses new ones and cancels pending jobs; resuming restores new
work only (cancelled jobs stay cancelled). Maintenance keeps messages and answers them when it ends. Pausing one
agent does the same for that agent: `agent_changes.py` (`AgentAdmin.set_status`)."""

from __future__ import annotations

from bot.directory import Directory
from bot.errors import ThinklioError
from bot.governance.actor import Actor
from bot.governance.audit import Audit, done
from bot.governance.pending import PendingWork, WorkScope
from bot.platform import STATUSES, PlatformState


class Controls:
    def __init__(self, platform: PlatformState, directory: Directory, pending: PendingWork, audit: Audit) -> None:
        self._platform = platform
        self._directory = directory
        self._pending = pending
        self._audit = audit

    async def set_platform(self, actor: Actor, status: str) -> int:
        """Set online | paused | maintenance; the number of pending jobs the kill switch cancelled."""
        if not actor.is_platform_admin:
            await self._audit.refuse(actor, f"platform.{status}", "only a platform administrator does that",
                                     target_type="platform")
        if status not in STATUSES:
            raise ThinklioError("bad_request", f"Unknown platform status {status!r}: one of {', '.join(STATUSES)}.")
        await self._platform.change(actor=actor.label, action=f"platform.{status}", state={"status": status},
                                    target_type="platform", detail=done(actor))
        if status != "paused":
            return 0
        return await self._pending.cancel(WorkScope(), "cancelled by the platform kill switch")
