"""Who may administer which agent: the account's owners and admins, and platform administrators on any account.
Members and readonly members are refused, and so is an account admin naming another account's agent
(`ACCOUNT/SLUG` or its `agt_…` id); each refusal is audited. Resolving an agent reference, the role check and
the tool catalogue are shared by the read side (`agent_reads.py`) and the changes (`agent_changes.py`), which
`AgentAdmin` (`agents.py`) puts together.

The tools are those the tool registry knows; the registry lives a layer up (agents/), so the composition root
hands its catalogue over with `attach_tools` rather than the kernel importing it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import NoReturn

from sqlalchemy import select

from bot.clock import Clock
from bot.errors import ThinklioError
from bot.governance.actor import Actor
from bot.governance.audit import Audit
from bot.governance.pending import PendingWork
from bot.platform import PlatformState
from bot.records import AccountRecord, AgentRecord, record
from bot.store import tables as t
from bot.store.database import Database

ToolCatalogue = Callable[[], Mapping[str, str]]  # every registered tool's name -> its trust level


class AgentAccess:
    """The state and checks the agent service's halves share (a base: `AgentAdmin` builds it)."""

    _db: Database
    _clock: Clock
    _platform: PlatformState
    _pending: PendingWork
    _audit: Audit
    _catalogue: ToolCatalogue
    _installed: tuple[tuple[str, str], ...]

    def attach_tools(self, catalogue: ToolCatalogue, installed: Sequence[tuple[str, str]]) -> None:
        """The tool registry's catalogue, and the tools installed extensions give a catalogue template."""
        self._catalogue = catalogue
        self._installed = tuple(installed)

    async def resolve(self, actor: Actor, ref: str, action: str) -> AgentRecord:
        """The agent `ref` names, once the actor may administer it (for other services: jobs by agent)."""
        return (await self._resolve(actor, ref, action))[0]

    async def _require_admin(self, actor: Actor, action: str, *, platform: bool = False) -> None:
        if platform and not actor.is_platform_admin:
            await self._refuse(actor, action, "only a platform administrator sees every account", None)
        if not actor.is_account_admin:
            await self._refuse(actor, action, "only the account's owners and admins administer agents", None)

    async def _refuse(self, actor: Actor, action: str, reason: str, target_id: str | None) -> NoReturn:
        await self._audit.refuse(actor, action, reason, target_type="agent", target_id=target_id)

    async def _resolve(self, actor: Actor, ref: str, action: str) -> tuple[AgentRecord, AccountRecord]:
        """`SLUG` (the actor's account), `ACCOUNT/SLUG` or `agt_…`; the role is checked before anything is read."""
        await self._require_admin(actor, action)
        ref = ref.strip()
        if not ref:
            raise ThinklioError("bad_request", "Name an agent by its slug (see /agents).")
        account: AccountRecord | None = None  # read once: by the ACCOUNT/ prefix, or else for the agent found
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
        if account is None:
            owner = await self._db.one(select(t.account).where(t.account.c.id == agent.account_id))
            assert owner is not None
            account = record(AccountRecord, owner)
        return agent, account

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

    async def _reload(self, agent_id: str) -> AgentRecord:
        row = await self._db.one(select(t.agent).where(t.agent.c.id == agent_id))
        assert row is not None
        return record(AgentRecord, row)

