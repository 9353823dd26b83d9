"""Agents administered (reference 33.1, "agent"; 40.2, "pause an agent"): list, show, create from a template, set
the prompt or the model, assign and remove tools, pause, resume and archive. One implementation behind `/agent`
in chat (`bot/commands/agents_admin.py`) and `/v1/admin/agents` (`bot/admin_agents_api.py`).

Who: the account's owners and admins, and platform administrators on any account. Members and readonly members
are refused, and so is an account admin naming another account's agent (`ACCOUNT/SLUG` or its `agt_…` id); each
refusal is audited, as each change is (through `PlatformState.change`, so every process sees the change).
The tools are those the tool registry knows; the registry lives a layer up (agents/), so the composition root
hands its catalogue over with `attach_tools` rather than the kernel importing it."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection

from bot.clock import Clock
from bot.errors import ThinklioError
from bot.governance.actor import Actor
from bot.governance.audit import Audit, done
from bot.governance.pending import PendingWork, WorkScope
from bot.ids import new_id
from bot.platform import PlatformState
from bot.records import AccountRecord, AgentRecord, record
from bot.store import tables as t
from bot.store.batch import Insert, Op, Update
from bot.store.database import Database
from config.catalogue import AgentSeed

ToolCatalogue = Callable[[], Mapping[str, str]]  # every registered tool's name -> its trust level
# What an extension counts for an agent, shown by /agent show ("knowledge": {"facts": 3, "documents": 1}).
Describer = Callable[[AgentRecord], Awaitable[dict[str, int]]]
LEVELS = ("read", "write", "admin")
_RANK = {level: rank for rank, level in enumerate(LEVELS)}
STATUSES = ("active", "paused", "archived")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,63}")
_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}")
MAX_PROMPT = 20_000
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


@dataclass(frozen=True, slots=True)
class AgentChange:
    agent: AgentRecord  # as it is now
    message: str  # the sentence chat replies with
    cancelled_jobs: int = 0


@dataclass(frozen=True, slots=True)
class _Template:
    system_prompt: str
    model: str | None
    tools: tuple[tuple[str, str], ...] = ()


class AgentAdmin:
    def __init__(self, db: Database, clock: Clock, platform: PlatformState, pending: PendingWork, audit: Audit,
                 templates: Sequence[AgentSeed]) -> None:
        self._db = db
        self._clock = clock
        self._platform = platform
        self._pending = pending
        self._audit = audit
        self._templates = {seed.slug: seed for seed in templates}
        self._catalogue: ToolCatalogue = dict
        self._installed: tuple[tuple[str, str], ...] = ()
        self._describers: dict[str, Describer] = {}

    def attach_tools(self, catalogue: ToolCatalogue, installed: Sequence[tuple[str, str]]) -> None:
        """The tool registry's catalogue, and the tools installed extensions give a catalogue template."""
        self._catalogue = catalogue
        self._installed = tuple(installed)

    def describe(self, name: str, describer: Describer) -> None:
        """An extension's counts for /agent show (the kernel does not know the extensions' tables)."""
        if name in self._describers:
            raise ValueError(f"agent describer {name!r} is registered twice")
        self._describers[name] = describer

    # reading ------------------------------------------------------------------------------------------------

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

    async def resolve(self, actor: Actor, ref: str, action: str) -> AgentRecord:
        """The agent `ref` names, once the actor may administer it (for other services: jobs by agent)."""
        return (await self._resolve(actor, ref, action))[0]

    def templates(self) -> list[str]:
        return sorted(self._templates)

    # changing -----------------------------------------------------------------------------------------------

    async def create(self, actor: Actor, ref: str, template: str | None = None) -> AgentChange:
        """A new agent `SLUG` (or `ACCOUNT/SLUG`) from a template: a catalogue agent (`assistant`) or an agent of
        the same account, whose prompt, model and tools are copied. Without one, the catalogue's default."""
        action = "agent.create"
        await self._require_admin(actor, action)
        account_slug, _, slug = ref.strip().rpartition("/")
        account = await self._account(actor, account_slug, action)
        if not _SLUG.fullmatch(slug):
            raise ThinklioError("bad_request", "An agent's slug is 2-64 lowercase letters, digits and dashes.")
        if await self._by_slug(account.id, slug) is not None:
            raise ThinklioError("conflict", f"Agent {slug!r} exists already in account {account.slug}.")
        # No template named: the catalogue's first agent, never a same-named agent someone customised.
        source = (await self._template(account.id, template.strip()) if template
                  else self._seed(next(iter(self._templates), "")))
        agent_id, now = new_id("agt"), self._clock.now()
        known = self._catalogue()
        ops: list[Op] = [Insert(t.agent, {
            "id": agent_id, "account_id": account.id, "slug": slug, "name": _title(slug),
            "system_prompt": source.system_prompt, "status": "active", "model": source.model, "config": {},
            "created_at": now})]
        ops += [Insert(t.agent_tool, {"id": new_id("atl"), "agent_id": agent_id, "tool": tool,
                                      "permission": permission, "created_at": now})
                for tool, permission in dict(source.tools).items() if tool in known]
        await self._platform.change(ops, actor=actor.label, action=action, target_type="agent", target_id=agent_id,
                                    account_id=account.id, detail=done(actor, slug=slug, template=template))
        agent = await self._reload(agent_id)
        tools = len(ops) - 1
        return AgentChange(agent, f"Created agent {slug} in account {account.slug} from {template or 'the default'}"
                                  f" template, with {tools} tool{'s' if tools != 1 else ''}. Talk to it by pointing a "
                                  "channel at it.")

    async def set_prompt(self, actor: Actor, ref: str, text: str) -> AgentChange:
        agent, _ = await self._resolve(actor, ref, "agent.prompt")
        prompt = text.strip()
        if not prompt:
            raise ThinklioError("bad_request", "Give the new system prompt after the agent's slug.")
        if len(prompt) > MAX_PROMPT:
            raise ThinklioError("bad_request", f"A system prompt is at most {MAX_PROMPT:,} characters "
                                               f"(this one has {len(prompt):,}).")
        await self._change(actor, agent, "agent.prompt", [Update(t.agent, agent.id, {"system_prompt": prompt})],
                           chars=len(prompt))
        return AgentChange(await self._reload(agent.id),
                           f"Agent {agent.slug}'s system prompt is updated ({len(prompt):,} characters).")

    async def rename(self, actor: Actor, ref: str, name: str) -> AgentChange:
        """The name people see ("Assistant is paused ..."); the slug stays, so channels and commands keep working."""
        agent, _ = await self._resolve(actor, ref, "agent.name")
        wanted = " ".join(name.split())
        if not wanted or len(wanted) > 200:
            raise ThinklioError("bad_request", "An agent's name is 1-200 characters.")
        await self._change(actor, agent, "agent.name", [Update(t.agent, agent.id, {"name": wanted})], name=wanted,
                           was=agent.name)
        return AgentChange(await self._reload(agent.id), f"Agent {agent.slug} is now called {wanted} (was "
                                                         f"{agent.name}).")

    async def set_model(self, actor: Actor, ref: str, model: str | None) -> AgentChange:
        """Set the agent's model; None, "" or "default": the provider's default model."""
        agent, _ = await self._resolve(actor, ref, "agent.model")
        wanted = (model or "").strip()
        value = None if wanted in ("", "default") else wanted
        if value is not None and not _MODEL.fullmatch(value):
            raise ThinklioError("bad_request", f"{wanted[:60]!r} is not a model name (letters, digits and . _ : / "
                                               "@ + -, up to 200), or 'default'.")
        await self._change(actor, agent, "agent.model", [Update(t.agent, agent.id, {"model": value})],
                           model=value, was=agent.model)
        return AgentChange(await self._reload(agent.id),
                           f"Agent {agent.slug} now uses {value or 'the default model'} (was "
                           f"{agent.model or 'the default'}).")

    async def add_tool(self, actor: Actor, ref: str, tool: str, level: str | None = None) -> AgentChange:
        """Assign `tool` with permission `level` (default: the trust the tool needs), or change its permission."""
        agent, _ = await self._resolve(actor, ref, "agent.tools.add")
        trust = self._known_tool(tool)
        permission = (level or trust).strip().lower()
        if permission not in _RANK:
            raise ThinklioError("bad_request", f"Unknown permission {permission!r}: one of {', '.join(LEVELS)}.")
        if _RANK[permission] < _RANK[trust]:
            raise ThinklioError("bad_request", f"{tool} needs {trust} access; with {permission} the agent could "
                                               "never use it.")
        row = await self._db.one(select(t.agent_tool.c.id, t.agent_tool.c.permission).where(
            t.agent_tool.c.agent_id == agent.id, t.agent_tool.c.tool == tool))
        if row is not None and row.permission == permission:
            return AgentChange(agent, f"Agent {agent.slug} already has {tool} ({permission}).")
        op: Op = (Update(t.agent_tool, row.id, {"permission": permission}) if row is not None else
                  Insert(t.agent_tool, {"id": new_id("atl"), "agent_id": agent.id, "tool": tool,
                                        "permission": permission, "created_at": self._clock.now()}))
        await self._change(actor, agent, "agent.tools.add", [op], tool=tool, permission=permission,
                           was=None if row is None else row.permission)
        was = "" if row is None else f" (was {row.permission})"
        return AgentChange(await self._reload(agent.id), f"Agent {agent.slug} may use {tool} ({permission}){was}.")

    async def remove_tool(self, actor: Actor, ref: str, tool: str) -> AgentChange:
        agent, _ = await self._resolve(actor, ref, "agent.tools.remove")
        a = t.agent_tool
        row = await self._db.one(select(a.c.id).where(a.c.agent_id == agent.id, a.c.tool == tool))
        if row is None:
            raise ThinklioError("not_found", f"Agent {agent.slug} has no tool {tool!r}.")

        def remove(conn: Connection) -> None:
            conn.execute(delete(a).where(a.c.id == row.id))

        await self._change(actor, agent, "agent.tools.remove", [], work=remove, tool=tool)
        return AgentChange(await self._reload(agent.id), f"Agent {agent.slug} no longer has {tool}.")

    async def add_delegate(self, actor: Actor, ref: str, other: str) -> AgentChange:
        """Let agent `ref` delegate to `other` (an agent of the same account): its model is offered `other` as a
        tool. Refused when it would close a cycle (`other` already reaches `ref` through delegations)."""
        action = "agent.delegate.add"
        agent, _ = await self._resolve(actor, ref, action)
        delegate = await self._delegate(agent, other)
        if delegate.id == agent.id:
            raise ThinklioError("bad_request", f"Agent {agent.slug} cannot delegate to itself.")
        edges = await self._delegations(agent.account_id)
        if delegate.id in edges.get(agent.id, set()):
            return AgentChange(agent, f"Agent {agent.slug} may already delegate to {delegate.slug}.")
        if _reaches(edges, delegate.id, agent.id):
            raise ThinklioError("conflict", f"{delegate.slug} already delegates to {agent.slug} (directly or through "
                                            "other agents); delegating back would make a cycle.")
        await self._change(actor, agent, action, [Insert(t.agent_delegation, {
            "id": new_id("adl"), "account_id": agent.account_id, "agent_id": agent.id,
            "delegate_agent_id": delegate.id, "created_at": self._clock.now()})], delegate=delegate.slug)
        return AgentChange(await self._reload(agent.id), f"Agent {agent.slug} may now delegate to {delegate.slug} "
                                                         f"(its model is offered the tool ask_{delegate.slug}).")

    async def remove_delegate(self, actor: Actor, ref: str, other: str) -> AgentChange:
        action = "agent.delegate.remove"
        agent, _ = await self._resolve(actor, ref, action)
        delegate = await self._delegate(agent, other)
        d = t.agent_delegation
        row = await self._db.one(select(d.c.id).where(d.c.agent_id == agent.id, d.c.delegate_agent_id == delegate.id))
        if row is None:
            raise ThinklioError("not_found", f"Agent {agent.slug} does not delegate to {delegate.slug}.")

        def remove(conn: Connection) -> None:
            conn.execute(delete(d).where(d.c.id == row.id))

        await self._change(actor, agent, action, [], work=remove, delegate=delegate.slug)
        return AgentChange(await self._reload(agent.id), f"Agent {agent.slug} no longer delegates to {delegate.slug}.")

    async def set_status(self, actor: Actor, ref: str, status: str) -> AgentChange:
        """Pause (no new interactions, pending jobs cancelled), archive (the same, for good: knowledge and audit
        stay) or resume (new work only: cancelled jobs stay cancelled)."""
        action = {"paused": "agent.pause", "archived": "agent.archive", "active": "agent.resume"}.get(status)
        if action is None:
            raise ThinklioError("bad_request", f"Unknown agent status {status!r}: one of {', '.join(STATUSES)}.")
        agent, _ = await self._resolve(actor, ref, action)
        if agent.status == status:
            return AgentChange(agent, f"Agent {agent.slug} is already {status}.")
        if status == "paused" and agent.status == "archived":
            raise ThinklioError("conflict", f"Agent {agent.slug} is archived; /agent resume {agent.slug} brings it "
                                            "back.")
        await self._change(actor, agent, action, [Update(t.agent, agent.id, {"status": status})], was=agent.status)
        cancelled = 0
        if status != "active":
            cancelled = await self._pending.cancel(WorkScope(agent_id=agent.id),
                                                   f"cancelled: agent {agent.slug} {status}")
        jobs = f" {cancelled} pending job{'s' if cancelled != 1 else ''} cancelled." if cancelled else ""
        message = {
            "paused": f"Agent {agent.slug} is paused: it takes no new messages.{jobs}",
            "archived": f"Agent {agent.slug} is archived: it takes no new messages; its knowledge and audit trail "
                        f"are kept.{jobs}",
            "active": f"Agent {agent.slug} is active again.",
        }[status]
        return AgentChange(await self._reload(agent.id), message, cancelled)

    # helpers ------------------------------------------------------------------------------------------------

    async def _require_admin(self, actor: Actor, action: str, *, platform: bool = False,
                             target_id: str | None = None) -> None:
        if platform and not actor.is_platform_admin:
            await self._refuse(actor, action, "only a platform administrator sees every account", target_id)
        if not actor.is_account_admin:
            await self._refuse(actor, action, "only the account's owners and admins administer agents", target_id)

    async def _refuse(self, actor: Actor, action: str, reason: str, target_id: str | None) -> None:
        await self._audit.refused(actor, action, reason, target_type="agent", target_id=target_id)
        raise ThinklioError("forbidden", f"You can't do that: {reason}.")

    async def _resolve(self, actor: Actor, ref: str, action: str) -> tuple[AgentRecord, AccountRecord]:
        """`SLUG` (the actor's account), `ACCOUNT/SLUG` or `agt_…`; the role is checked before anything is read."""
        await self._require_admin(actor, action)
        ref = ref.strip()
        if not ref:
            raise ThinklioError("bad_request", "Name an agent by its slug (see /agents).")
        if ref.startswith("agt_"):
            row = await self._db.one(select(t.agent).where(t.agent.c.id == ref))
            agent = None if row is None else record(AgentRecord, row)
        else:
            account_slug, _, slug = ref.rpartition("/")
            account = await self._account(actor, account_slug, action)
            agent = await self._by_slug(account.id, slug)
        if agent is None:
            raise ThinklioError("not_found", f"No agent {ref!r}. /agents lists this account's.")
        if agent.account_id != actor.account_id and not actor.is_platform_admin:
            await self._refuse(actor, action, "the agent belongs to another account", agent.id)
        owner = await self._db.one(select(t.account).where(t.account.c.id == agent.account_id))
        assert owner is not None
        return agent, record(AccountRecord, owner)

    async def _account(self, actor: Actor, slug: str, action: str) -> AccountRecord:
        """The account an `ACCOUNT/` prefix names (none: the actor's); another one only for platform admins."""
        query = select(t.account).where(t.account.c.slug == slug) if slug else select(t.account).where(
            t.account.c.id == actor.account_id)
        row = await self._db.one(query)
        if row is None:
            raise ThinklioError("not_found", f"No account {slug!r}.")
        account = record(AccountRecord, row)
        if account.id != actor.account_id and not actor.is_platform_admin:
            await self._refuse(actor, action, "the agent belongs to another account", None)
        return account

    async def _by_slug(self, account_id: str, slug: str) -> AgentRecord | None:
        row = await self._db.one(select(t.agent).where(t.agent.c.account_id == account_id, t.agent.c.slug == slug))
        return None if row is None else record(AgentRecord, row)

    async def _delegate(self, agent: AgentRecord, slug: str) -> AgentRecord:
        """The agent of `agent`'s account named `slug`: delegation stays inside one account."""
        delegate = await self._by_slug(agent.account_id, slug.strip())
        if delegate is None:
            raise ThinklioError("not_found", f"No agent {slug.strip()[:64]!r} in this account. /agents lists them.")
        return delegate

    async def _delegations(self, account_id: str) -> dict[str, set[str]]:
        d = t.agent_delegation
        edges: dict[str, set[str]] = {}
        for row in await self._db.all(select(d.c.agent_id, d.c.delegate_agent_id).where(d.c.account_id == account_id)):
            edges.setdefault(row.agent_id, set()).add(row.delegate_agent_id)
        return edges

    async def _reload(self, agent_id: str) -> AgentRecord:
        row = await self._db.one(select(t.agent).where(t.agent.c.id == agent_id))
        assert row is not None
        return record(AgentRecord, row)

    async def _template(self, account_id: str, name: str) -> _Template:
        """An agent of the account (a customised one is what an admin means by its name) or a catalogue one."""
        existing = await self._by_slug(account_id, name) if name else None
        if existing is not None:
            rows = await self._db.all(select(t.agent_tool.c.tool, t.agent_tool.c.permission)
                                      .where(t.agent_tool.c.agent_id == existing.id))
            return _Template(existing.system_prompt, existing.model,
                             tuple((row.tool, row.permission) for row in rows))
        return self._seed(name)

    def _seed(self, name: str) -> _Template:
        seed = self._templates.get(name)
        if seed is None:
            raise ThinklioError("not_found", f"No template {name!r}: use one of {', '.join(self.templates())} or "
                                             "an agent of this account.")
        tools = (*seed.tools, *(self._installed if seed.installed_tools else ()))
        return _Template(seed.system_prompt, None, tuple(tools))

    def _known_tool(self, tool: str) -> str:
        catalogue = self._catalogue()
        trust = catalogue.get(tool)
        if trust is None:
            raise ThinklioError("not_found", f"No tool {tool!r}. Tools: {', '.join(sorted(catalogue)) or 'none'}.")
        return trust

    async def _change(self, actor: Actor, agent: AgentRecord, action: str, ops: Sequence[Op], *,
                      work: Callable[[Connection], None] | None = None, **detail: object) -> None:
        await self._platform.change(ops, actor=actor.label, action=action, target_type="agent", target_id=agent.id,
                                    account_id=agent.account_id, detail=done(actor, slug=agent.slug, **detail),
                                    work=work)


def _title(slug: str) -> str:
    return " ".join(word.capitalize() for word in slug.split("-"))


def _reaches(edges: Mapping[str, set[str]], start: str, goal: str) -> bool:
    """Whether `goal` is reachable from `start` following delegations (a depth-first walk; the graph is small)."""
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        for nxt in edges.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False
