"""The changes of agent administration: create from a template, name, prompt, model, tools, delegation, pause,
resume and archive. Each is audited with the change (through `PlatformState.change`, so every process sees it)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from bot.errors import ThinklioError
from bot.governance.actor import Actor
from bot.governance.agent_access import AgentAccess
from bot.governance.audit import done
from bot.governance.pending import WorkScope
from bot.ids import new_id
from bot.records import AgentRecord
from bot.store import tables as t
from bot.store.batch import Insert, Op, Update
from config.catalogue import AgentSeed

LEVELS = ("read", "write", "admin")
_RANK = {level: rank for rank, level in enumerate(LEVELS)}
STATUSES = ("active", "paused", "archived")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,63}")
_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}")
MAX_PROMPT = 20_000


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


class AgentChanges(AgentAccess):
    _templates: dict[str, AgentSeed]

    def templates(self) -> list[str]:
        return sorted(self._templates)

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
