"""The read side of agent administration: the account's agents listed, and one agent shown in full (its tools,
delegations, recent interactions and tool calls, active jobs, 30 days' usage, and what extensions count for it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.governance.actor import Actor
from bot.governance.agent_access import AgentAccess
from bot.governance.pending import WorkScope
from bot.records import AgentRecord
from bot.store import tables as t

# What an extension counts for an agent, shown by /agent show ("knowledge": {"facts": 3, "documents": 1}).
Describer = Callable[[AgentRecord], Awaitable[dict[str, int]]]
USAGE_DAYS = 30
RECENT = 5
TOOL_CALL_WINDOW = 500  # interactions looked through for the recent tool calls


@dataclass(frozen=True, slots=True)
class AgentLine:
    account: str  # the account's slug
    slug: str
    name: str
    status: str
    model: str | None
    tools: int


@dataclass(frozen=True, slots=True)
class ToolLine:
    name: str
    permission: str  # what the agent may use it for
    trust: str | None  # what the tool needs; None: no installed extension provides it any more


@dataclass(frozen=True, slots=True)
class RecentInteraction:
    id: str
    created_at: datetime
    status: str
    tier: str | None
    intent: str | None
    cost_usd: float


@dataclass(frozen=True, slots=True)
class ToolCallLine:
    created_at: datetime
    tool: str
    status: str  # ok | error | denied | skipped
    error: str | None


@dataclass(frozen=True, slots=True)
class AgentUsage:
    since: datetime
    interactions: int
    cost_usd: float
    tokens_in: int
    tokens_out: int


@dataclass(frozen=True, slots=True)
class AgentDetail:
    agent: AgentRecord
    account: str
    tools: list[ToolLine]
    recent: list[RecentInteraction]
    tool_calls: list[ToolCallLine]  # the latest first
    active_jobs: int
    usage: AgentUsage
    extras: dict[str, dict[str, int]]  # what extensions count for it, by their name
    delegates: list[str] = field(default_factory=list)  # the slugs of the agents it may delegate to
    delegated_by: list[str] = field(default_factory=list)  # the slugs of the agents that may delegate to it


class AgentReads(AgentAccess):
    _describers: dict[str, Describer]

    def describe(self, name: str, describer: Describer) -> None:
        """An extension's counts for /agent show (the kernel does not know the extensions' tables)."""
        if name in self._describers:
            raise ValueError(f"agent describer {name!r} is registered twice")
        self._describers[name] = describer

    async def listing(self, actor: Actor, *, everywhere: bool = False) -> list[AgentLine]:
        """The actor's account's agents by slug; `everywhere` (platform administrators): every account's."""
        await self._require_admin(actor, "agent.list", platform=everywhere)
        a, acc, tool = t.agent, t.account, t.agent_tool
        tools = select(func.count()).where(tool.c.agent_id == a.c.id).scalar_subquery()
        query = select(acc.c.slug.label("account"), a.c.slug, a.c.name, a.c.status, a.c.model, tools.label("tools")
                       ).join(acc, acc.c.id == a.c.account_id).order_by(acc.c.slug, a.c.slug)
        if not everywhere:
            query = query.where(a.c.account_id == actor.account_id)
        return [AgentLine(row.account, row.slug, row.name, row.status, row.model, int(row.tools))
                for row in await self._db.all(query)]

    async def show(self, actor: Actor, ref: str) -> AgentDetail:
        agent, account = await self._resolve(actor, ref, "agent.show")
        catalogue = self._catalogue()
        rows = await self._db.all(select(t.agent_tool.c.tool, t.agent_tool.c.permission)
                                  .where(t.agent_tool.c.agent_id == agent.id).order_by(t.agent_tool.c.tool))
        tools = [ToolLine(row.tool, row.permission, catalogue.get(row.tool)) for row in rows]
        i, s = t.interaction, t.step
        mine = (i.c.account_id == agent.account_id, i.c.agent_id == agent.id)  # the account's index narrows it
        recent = [RecentInteraction(row.id, row.created_at, row.status, row.tier, row.intent, float(row.cost_usd))
                  for row in await self._db.all(select(i.c.id, i.c.created_at, i.c.status, i.c.tier, i.c.intent,
                                                       i.c.cost_usd).where(*mine)
                                                .order_by(i.c.created_at.desc(), i.c.id.desc()).limit(RECENT))]
        # Tool calls of the agent's latest interactions only: read through the account's (account, created_at)
        # index and the step's interaction index, not every step the agent ever took.
        latest = (select(i.c.id).where(*mine).order_by(i.c.created_at.desc()).limit(TOOL_CALL_WINDOW)
                  .scalar_subquery())
        calls = [ToolCallLine(row.created_at, row.name or "?", row.status, row.error)
                 for row in await self._db.all(select(s.c.created_at, s.c.name, s.c.status, s.c.error)
                                               .where(s.c.interaction_id.in_(latest), s.c.kind == "tool_call")
                                               .order_by(s.c.created_at.desc(), s.c.id.desc()).limit(RECENT))]
        since = self._clock.now() - timedelta(days=USAGE_DAYS)
        totals = await self._db.one(select(func.count(), func.coalesce(func.sum(i.c.cost_usd), 0.0))
                                    .where(*mine, i.c.created_at >= since))
        tokens = await self._db.one(select(func.coalesce(func.sum(s.c.tokens_in), 0),
                                           func.coalesce(func.sum(s.c.tokens_out), 0))
                                    .join(i, i.c.id == s.c.interaction_id).where(*mine, i.c.created_at >= since))
        usage = AgentUsage(since, int(totals[0]) if totals else 0, float(totals[1]) if totals else 0.0,
                           int(tokens[0]) if tokens else 0, int(tokens[1]) if tokens else 0)
        active = await self._pending.count(WorkScope(agent_id=agent.id))
        extras = {name: await describe(agent) for name, describe in self._describers.items()}
        d, other = t.agent_delegation, t.agent.alias("other")
        delegates = [row.slug for row in await self._db.all(
            select(other.c.slug).join(d, d.c.delegate_agent_id == other.c.id).where(d.c.agent_id == agent.id)
            .order_by(other.c.slug))]
        delegated_by = [row.slug for row in await self._db.all(
            select(other.c.slug).join(d, d.c.agent_id == other.c.id).where(d.c.delegate_agent_id == agent.id)
            .order_by(other.c.slug))]
        return AgentDetail(agent, account.slug, tools, recent, calls, active, usage, extras, delegates, delegated_by)

