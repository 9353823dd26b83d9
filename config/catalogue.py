"""The default catalogue a fresh install is seeded with. Seeding upserts by slug, so re-running is safe."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class AgentSeed:
    slug: str
    name: str
    system_prompt: str
    tools: tuple[tuple[str, str], ...] = ()  # (tool name, permission: read | write | admin)


@dataclass(frozen=True, slots=True)
class ChannelSeed:
    slug: str
    type: str
    agent: str


@dataclass(frozen=True, slots=True)
class AccountSeed:
    slug: str
    name: str
    agents: tuple[AgentSeed, ...] = ()
    channels: tuple[ChannelSeed, ...] = field(default_factory=tuple)


ASSISTANT = AgentSeed(
    slug="assistant",
    name="Assistant",
    system_prompt=(
        "You are Thinklio, a helpful assistant. Answer briefly and plainly. "
        "Use a tool when it gives a better answer than you can."
    ),
    tools=(("current_time", "read"), ("memory_store", "write"), ("memory_search", "read"),
           # jobs/tools.py: reminders and lists
           ("reminder_set", "write"), ("reminder_list", "read"), ("reminder_cancel", "write"), ("task_add", "write"),
           ("task_list", "read"), ("task_done", "write"), ("task_remove", "write"), ("task_clear", "write")),
)

DEFAULT_ACCOUNT = AccountSeed(
    slug="default",
    name="Default",
    agents=(ASSISTANT,),
    channels=(
        ChannelSeed(slug="api", type="http", agent="assistant"),
        ChannelSeed(slug="console", type="console", agent="assistant"),
        ChannelSeed(slug="telegram", type="telegram", agent="assistant"),
    ),
)

CATALOGUE: tuple[AccountSeed, ...] = (DEFAULT_ACCOUNT,)
