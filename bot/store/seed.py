"""Seed the default catalogue: rows that are missing are created, rows that exist are left as they are."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot.ids import new_id
from bot.store import tables as t
from config.catalogue import AccountSeed, ChannelSeed


def seed_catalogue(conn: Connection, catalogue: Sequence[AccountSeed], now: datetime, *,
                   installed_tools: Sequence[tuple[str, str]] = (), channels: Sequence[ChannelSeed] = ()) -> int:
    """Accounts, agents with their tool assignments (their own, and `installed_tools` for those that take
    them), then `channels`, each in its account. Returns how many rows were created."""
    created = 0
    agent_ids: dict[tuple[str, str], str] = {}
    for account_seed in catalogue:
        account_id = conn.scalar(select(t.account.c.id).where(t.account.c.slug == account_seed.slug))
        if account_id is None:
            account_id = new_id("acc")
            conn.execute(
                t.account.insert().values(
                    id=account_id, slug=account_seed.slug, name=account_seed.name, status="active",
                    created_at=now,
                )
            )
            created += 1
        for agent_seed in account_seed.agents:
            agent_id = conn.scalar(
                select(t.agent.c.id).where(t.agent.c.account_id == account_id, t.agent.c.slug == agent_seed.slug)
            )
            if agent_id is None:
                agent_id = new_id("agt")
                conn.execute(
                    t.agent.insert().values(
                        id=agent_id, account_id=account_id, slug=agent_seed.slug, name=agent_seed.name,
                        system_prompt=agent_seed.system_prompt, status="active", config={}, created_at=now,
                    )
                )
                created += 1
            agent_ids[account_seed.slug, agent_seed.slug] = agent_id
            assigned = set(
                conn.execute(select(t.agent_tool.c.tool).where(t.agent_tool.c.agent_id == agent_id)).scalars()
            )
            tools = [*agent_seed.tools, *(installed_tools if agent_seed.installed_tools else ())]
            for tool, permission in dict(tools).items():
                if tool not in assigned:
                    conn.execute(t.agent_tool.insert().values(id=new_id("atl"), agent_id=agent_id, tool=tool,
                                                              permission=permission, created_at=now))
                    created += 1
    for channel_seed in channels:
        exists = conn.scalar(select(t.channel.c.id).where(t.channel.c.slug == channel_seed.slug))
        if exists is None:
            account_id = conn.scalar(select(t.account.c.id).where(t.account.c.slug == channel_seed.account))
            conn.execute(
                t.channel.insert().values(
                    id=new_id("chn"), slug=channel_seed.slug, type=channel_seed.type, account_id=account_id,
                    agent_id=agent_ids[channel_seed.account, channel_seed.agent], status="active", config={},
                    created_at=now,
                )
            )
            created += 1
    return created


PLATFORM_DEFAULTS = {"status": "online", "revision": "0"}


def seed_platform_state(conn: Connection, now: datetime) -> None:
    present = set((conn.execute(select(t.platform_state.c.key))).scalars())
    for key, value in PLATFORM_DEFAULTS.items():
        if key not in present:
            conn.execute(t.platform_state.insert().values(key=key, value=value, updated_at=now))
