"""Which agent a mail is for: the address it was sent to.

Every agent reachable by mail has its own channel row of type `email` (the seeded `email` row for the default
agent, `email-<agent>` for the others), so conversations, the audit and /status stay per agent. An address
reaches an agent when it is the channel's address (`THINKLIO_EMAIL_ADDRESS`), one of its aliases, an agent's
own address (`THINKLIO_EMAIL_AGENTS`), or one of those with a `+tag` naming an agent of the same account
(`assistant+research@…`, Postmark's MailboxHash): plus-addressing needs no configuration. Anything else is
unknown and rejected before anything is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from bot.clock import Clock
from bot.directory import Directory
from bot.ids import new_id
from bot.records import ChannelRecord
from bot.store import tables as t
from bot.store.batch import Insert
from bot.store.database import Database
from channels.email.settings import EmailSettings, Policy

log = structlog.get_logger("thinklio.email")

DEFAULT_SLUG = "email"
TYPE = "email"


def split_address(address: str) -> tuple[str, str | None, str]:
    """`local+tag@domain` -> (local, tag, domain), lower-cased; the tag is None without a plus."""
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    base, plus, tag = local.partition("+")
    return base, (tag or None) if plus else None, domain


def base_of(address: str) -> str:
    local, _, domain = split_address(address)
    return f"{local}@{domain}"


@dataclass(frozen=True, slots=True)
class Box:
    """One configured address: the channel row behind it and who may write to it."""

    slug: str
    address: str  # the agent's own address: replies come from it
    policy: Policy
    allow: frozenset[str]
    agent: str | None = None  # the agent slug, for `email-<agent>` rows created at start


@dataclass(frozen=True, slots=True)
class Destination:
    box: Box
    channel: ChannelRecord
    reply_from: str  # the address written to, +tag kept, so a reply to the reply reaches the same agent


class Router:
    def __init__(self, settings: EmailSettings, db: Database, directory: Directory, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._directory = directory
        allow = frozenset(settings.email_allow)
        default = Box(DEFAULT_SLUG, settings.email_address, settings.email_sender_policy, allow)
        self._boxes: dict[str, Box] = {settings.email_address: default}
        for alias in settings.email_aliases:
            self._boxes.setdefault(base_of(alias), default)
        for agent, entry in settings.agent_addresses().items():
            box = Box(f"{DEFAULT_SLUG}-{agent}", entry.address, entry.policy or settings.email_sender_policy,
                      frozenset(entry.allow) if entry.allow is not None else allow, agent)
            self._boxes[base_of(entry.address)] = box
        self._by_slug: dict[str, Box] = {box.slug: box for box in self._boxes.values()}

    @property
    def addresses(self) -> list[str]:
        return sorted(self._boxes)

    def is_ours(self, address: str) -> bool:
        """Mail from one of our own addresses (any +tag) is never answered: it would be a loop."""
        return base_of(address) in self._boxes

    def box(self, slug: str) -> Box | None:
        return self._by_slug.get(slug)

    async def prepare(self) -> None:
        """Create the channel rows of the agents named in `THINKLIO_EMAIL_AGENTS` (missing rows only)."""
        default = await self._directory.channel(DEFAULT_SLUG)
        if default is None:
            log.error("email_channel_missing", slug=DEFAULT_SLUG)
            return
        for box in self._by_slug.values():
            if box.agent is not None and await self._ensure(default, box.slug, box.agent) is None:
                log.error("email_agent_unknown", agent=box.agent, address=box.address)

    async def resolve(self, address: str) -> Destination | None:
        """The agent `address` reaches, or None (unknown: rejected)."""
        local, tag, domain = split_address(address)
        box = self._boxes.get(f"{local}@{domain}")
        if box is None:
            return None
        channel = await self._directory.channel(box.slug)
        if channel is None or channel.status != "active":
            return None
        written_to = f"{local}+{tag}@{domain}" if tag else f"{local}@{domain}"
        if tag is None:
            return Destination(box, channel, written_to)
        agent = await self._directory.agent(channel.agent_id)
        if tag == agent.slug:
            return Destination(box, channel, written_to)
        tagged = await self._ensure(channel, f"{DEFAULT_SLUG}-{tag}", tag)
        if tagged is None or tagged.status != "active":
            return None
        # The tagged agent answers under the rules of the address it was reached through.
        return Destination(Box(tagged.slug, written_to, box.policy, box.allow, tag), tagged, written_to)

    async def _ensure(self, base: ChannelRecord, slug: str, agent_slug: str) -> ChannelRecord | None:
        """The `email-<agent>` channel row, created on first use when the agent exists in `base`'s account."""
        found = await self._directory.channel(slug)
        if found is not None:
            return found if found.type == TYPE and found.account_id == base.account_id else None
        agent = await self._directory.agent_by_slug(base.account_id, agent_slug)
        if agent is None:
            return None
        row: dict[str, Any] = {"id": new_id("chn"), "slug": slug, "type": TYPE, "account_id": base.account_id,
                               "agent_id": agent.id, "status": "active", "config": {},
                               "created_at": self._clock.now()}
        await self._db.write([], guard=Insert(t.channel, row))  # another process may have made it: fine
        log.info("email_channel_created", slug=slug, agent=agent_slug)
        return await self._directory.channel(slug)
