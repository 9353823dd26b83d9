"""Who and where: channels, agents, accounts, users (by channel identity) and conversations.

Reads are cached because every message needs them; changes made in this process update the cache at once,
changes made by another process (the CLI) reach it through `invalidate()`, called by the platform state poller.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot.cache import LRU
from bot.clock import Clock
from bot.errors import ThinklioError
from bot.i18n import normalise
from bot.ids import new_id
from bot.messages import Sender
from bot.records import (
    AccountRecord,
    AgentRecord,
    ChannelRecord,
    ConversationRecord,
    Membership,
    TeamRecord,
    UserRecord,
    record,
)
from bot.store import tables as t
from bot.store.batch import Update
from bot.store.database import Database

R = TypeVar("R")


class Directory:
    def __init__(self, db: Database, clock: Clock, *, capacity: int = 100_000) -> None:
        self._db = db
        self._clock = clock
        self._channels: dict[str, ChannelRecord] = {}
        self._agents: dict[str, AgentRecord] = {}
        self._accounts: dict[str, AccountRecord] = {}
        self._identities: LRU[tuple[str, str], str] = LRU(capacity)
        self._users: LRU[str, UserRecord] = LRU(capacity)
        self._members: LRU[tuple[str, str], Membership] = LRU(capacity)
        self._conversations: LRU[tuple[str, str], ConversationRecord] = LRU(capacity)
        self._conversations_by_id: LRU[str, ConversationRecord] = LRU(capacity)
        self._agent_tools: dict[str, dict[str, str]] = {}
        self._delegates: dict[str, tuple[str, ...]] = {}
        self._teams: dict[str, TeamRecord] = {}
        self._teams_of: LRU[tuple[str, str], dict[str, str]] = LRU(capacity)

    def invalidate(self) -> None:
        for cache in (self._channels, self._agents, self._accounts, self._identities, self._users,
                      self._members, self._conversations, self._conversations_by_id, self._agent_tools,
                      self._delegates, self._teams, self._teams_of):
            cache.clear()

    # channels, agents, accounts -------------------------------------------------------------------------

    async def _cached(self, cache: Any, key: str, column: Any, kind: type[R]) -> R | None:
        """The record whose `column` is `key`, from `cache` or else from the store (then cached)."""
        found = cache.get(key)
        if found is None:
            row = await self._db.one(select(column.table).where(column == key))
            if row is None:
                return None
            found = cache[key] = record(kind, row)
        return found

    async def channel(self, slug: str) -> ChannelRecord | None:
        return await self._cached(self._channels, slug, t.channel.c.slug, ChannelRecord)

    async def channel_by_id(self, channel_id: str) -> ChannelRecord | None:
        found = next((c for c in self._channels.values() if c.id == channel_id), None)
        if found is None:
            row = await self._db.one(select(t.channel).where(t.channel.c.id == channel_id))
            if row is None:
                return None
            found = self._channels[row.slug] = record(ChannelRecord, row)
        return found

    async def agent(self, agent_id: str) -> AgentRecord:
        found = await self._cached(self._agents, agent_id, t.agent.c.id, AgentRecord)
        if found is None:
            raise LookupError(f"agent {agent_id} does not exist")
        return found

    async def agent_by_slug(self, account_id: str, slug: str) -> AgentRecord | None:
        row = await self._db.one(
            select(t.agent).where(t.agent.c.account_id == account_id, t.agent.c.slug == slug)
        )
        return None if row is None else record(AgentRecord, row)

    async def agent_tools(self, agent_id: str) -> dict[str, str]:
        """The agent's tool assignments: tool name -> permission (read, write or admin)."""
        found = self._agent_tools.get(agent_id)
        if found is None:
            rows = await self._db.all(
                select(t.agent_tool.c.tool, t.agent_tool.c.permission).where(t.agent_tool.c.agent_id == agent_id)
            )
            found = self._agent_tools[agent_id] = {row.tool: row.permission for row in rows}
        return found

    async def agent_delegates(self, agent_id: str) -> tuple[str, ...]:
        """The ids of the agents this agent may delegate to (`/agent delegate`), in the order they were added."""
        found = self._delegates.get(agent_id)
        if found is None:
            d = t.agent_delegation
            rows = await self._db.all(select(d.c.delegate_agent_id).where(d.c.agent_id == agent_id)
                                      .order_by(d.c.created_at, d.c.id))
            found = self._delegates[agent_id] = tuple(row.delegate_agent_id for row in rows)
        return found

    async def account(self, account_id: str) -> AccountRecord:
        found = await self._cached(self._accounts, account_id, t.account.c.id, AccountRecord)
        if found is None:
            raise LookupError(f"account {account_id} does not exist")
        return found

    async def account_by_slug(self, slug: str) -> AccountRecord | None:
        row = await self._db.one(select(t.account).where(t.account.c.slug == slug))
        return None if row is None else record(AccountRecord, row)

    # teams (changed through bot/governance/teams.py, whose platform changes invalidate these) -------------

    async def team(self, team_id: str) -> TeamRecord | None:
        return await self._cached(self._teams, team_id, t.team.c.id, TeamRecord)

    async def team_by_slug(self, account_id: str, slug: str) -> TeamRecord | None:
        row = await self._db.one(select(t.team).where(t.team.c.account_id == account_id, t.team.c.slug == slug))
        return None if row is None else record(TeamRecord, row)

    async def teams_of(self, account_id: str, user_id: str) -> dict[str, str]:
        """The user's active teams in the account: team id -> their role in it (asked on every turn)."""
        found = self._teams_of.get((account_id, user_id))
        if found is None:
            tm, team = t.team_member, t.team
            rows = await self._db.all(select(tm.c.team_id, tm.c.role).join(team, team.c.id == tm.c.team_id).where(
                tm.c.user_id == user_id, team.c.account_id == account_id, team.c.status == "active"))
            found = {row.team_id: row.role for row in rows}
            self._teams_of.put((account_id, user_id), found)
        return found

    # users --------------------------------------------------------------------------------------------

    async def user(self, user_id: str) -> UserRecord | None:
        return await self._cached(self._users, user_id, t.user_profile.c.id, UserRecord)

    async def identify(self, channel_type: str, sender: Sender, account_id: str) -> UserRecord:
        """The user behind `sender` on this kind of channel, created (with a membership) on first contact."""
        key = (channel_type, sender.external_id)
        user_id = self._identities.get(key)
        if user_id is None:
            user_id = await self._db.run(lambda conn: self._find_or_create_user(conn, channel_type, sender))
            self._identities.put(key, user_id)
        if self._members.get((account_id, user_id)) is None:
            member = await self._db.run(lambda conn: self._ensure_membership(conn, account_id, user_id))
            self._members.put((account_id, user_id), member)
        user = await self.user(user_id)
        assert user is not None
        if user.locale is None and sender.locale and (guess := normalise(sender.locale)) is not None:
            user = await self.update_user(user_id, locale=guess)  # once: a user's own choice is never overridden
        return user

    async def membership(self, account_id: str, user_id: str) -> Membership | None:
        """The user's role and standing in the account; None when they are not a member."""
        member = self._members.get((account_id, user_id))
        if member is None:
            row = await self._db.one(
                select(t.membership.c.role, t.membership.c.status).where(
                    t.membership.c.account_id == account_id, t.membership.c.user_id == user_id
                )
            )
            if row is None:
                return None
            member = Membership(row.role, row.status)
            self._members.put((account_id, user_id), member)
        return member

    async def role(self, account_id: str, user_id: str) -> str | None:
        member = await self.membership(account_id, user_id)
        return None if member is None else member.role

    async def identities(self, user_id: str) -> list[tuple[str, str]]:
        rows = await self._db.all(
            select(t.channel_identity.c.channel_type, t.channel_identity.c.external_id).where(
                t.channel_identity.c.user_id == user_id
            )
        )
        return [(row.channel_type, row.external_id) for row in rows]

    async def update_user(self, user_id: str, **values: Any) -> UserRecord:
        await self._db.write([Update(t.user_profile, user_id, values)])
        self._users.pop(user_id)
        user = await self.user(user_id)
        if user is None:
            raise LookupError(f"user {user_id} does not exist")
        return user

    def _find_or_create_user(self, conn: Connection, channel_type: str, sender: Sender) -> str:
        found = conn.scalar(
            select(t.channel_identity.c.user_id).where(
                t.channel_identity.c.channel_type == channel_type,
                t.channel_identity.c.external_id == sender.external_id,
            )
        )
        if found is not None:
            return str(found)
        now = self._clock.now()
        user_id = new_id("usr")
        name = (sender.display_name or sender.external_id)[:200]
        conn.execute(
            t.user_profile.insert().values(id=user_id, display_name=name, status="active", created_at=now)
        )
        conn.execute(
            t.channel_identity.insert().values(
                id=new_id("cid"), channel_type=channel_type, external_id=sender.external_id,
                user_id=user_id, display_name=sender.display_name, created_at=now,
            )
        )
        return user_id

    def _ensure_membership(self, conn: Connection, account_id: str, user_id: str) -> Membership:
        row = conn.execute(
            select(t.membership.c.role, t.membership.c.status).where(
                t.membership.c.account_id == account_id, t.membership.c.user_id == user_id
            )
        ).first()
        if row is not None:
            return Membership(row.role, row.status)
        conn.execute(
            t.membership.insert().values(
                id=new_id("mem"), account_id=account_id, user_id=user_id, role="member", status="active",
                created_at=self._clock.now(),
            )
        )
        return Membership("member", "active")

    # conversations ------------------------------------------------------------------------------------

    async def conversation(self, channel: ChannelRecord, user: UserRecord, key: str) -> ConversationRecord:
        cache_key = (channel.id, key)
        found = self._conversations.get(cache_key)
        if found is None:
            found = await self._db.run(lambda conn: self._find_or_create_conversation(conn, channel, user, key))
            self._conversations.put(cache_key, found)
        return found

    async def conversation_and_channel(self, conversation_id: str) -> tuple[ConversationRecord, ChannelRecord]:
        """A conversation and its channel; `not_found` when there is no such conversation."""
        conversation = await self.conversation_by_id(conversation_id)
        if conversation is None:
            raise ThinklioError("not_found", f"conversation {conversation_id!r} not found")
        channel = await self.channel_by_id(conversation.channel_id)
        assert channel is not None
        return conversation, channel

    async def conversation_by_id(self, conversation_id: str) -> ConversationRecord | None:
        return await self._cached(self._conversations_by_id, conversation_id, t.conversation.c.id,
                                  ConversationRecord)

    def _find_or_create_conversation(
        self, conn: Connection, channel: ChannelRecord, user: UserRecord, key: str
    ) -> ConversationRecord:
        row = (
            conn.execute(
                select(t.conversation).where(
                    t.conversation.c.channel_id == channel.id, t.conversation.c.external_key == key
                )
            )
        ).first()
        if row is not None:
            return record(ConversationRecord, row)
        values: dict[str, Any] = {
            "id": new_id("cnv"), "channel_id": channel.id, "account_id": channel.account_id,
            "agent_id": channel.agent_id, "user_id": user.id, "external_key": key,
        }
        created: datetime = self._clock.now()
        conn.execute(t.conversation.insert().values(**values, created_at=created))
        return ConversationRecord(**values)
