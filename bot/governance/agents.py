"""Agents administered (reference 33.1, "agent"; 40.2, "pause an agent"): list, show, create from a template, set
the prompt or the model, assign and remove tools, delegate, pause, resume and archive. One service, `AgentAdmin`
(`Governance.agents`), behind `/agent` in chat (`bot/commands/agents_admin.py`) and `/v1/admin/agents`
(`bot/admin_agents_api.py`); callers import from here.

It is put together from three parts: who may administer which agent and how a reference resolves
(`agent_access.py`), the read side (`agent_reads.py`) and the changes (`agent_changes.py`)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.clock import Clock
from bot.governance.agent_changes import LEVELS, MAX_PROMPT, STATUSES, AgentChange, AgentChanges
from bot.governance.agent_reads import USAGE_DAYS, AgentDetail, AgentLine, AgentReads
from bot.governance.audit import Audit
from bot.governance.pending import PendingWork
from bot.platform import PlatformState
from bot.store.database import Database
from config.catalogue import AgentSeed


class AgentAdmin(AgentReads, AgentChanges):
    def __init__(self, db: Database, clock: Clock, platform: PlatformState, pending: PendingWork, audit: Audit,
                 templates: Sequence[AgentSeed]) -> None:
        self._db = db
        self._clock = clock
        self._platform = platform
        self._pending = pending
        self._audit = audit
        self._templates = {seed.slug: seed for seed in templates}
        self._catalogue = dict
        self._installed = ()
        self._describers = {}


__all__ = ["LEVELS", "MAX_PROMPT", "STATUSES", "USAGE_DAYS", "AgentAdmin", "AgentChange", "AgentDetail", "AgentLine"]
