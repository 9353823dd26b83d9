"""The default catalogue a fresh install is seeded with: accounts and agents. Seeding creates what is missing
and leaves what exists alone, so re-running is safe. Channels bring their own rows (`ChannelSpec.seeds`) and
extensions the tools the default agent starts with (`Kit.assignments`); the composition root adds them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AgentSeed:
    slug: str
    name: str
    system_prompt: str
    tools: tuple[tuple[str, str], ...] = ()  # (tool name, permission: read | write | admin)
    installed_tools: bool = True  # also the tools the installed extensions assign by default


@dataclass(frozen=True, slots=True)
class ChannelSeed:
    slug: str
    type: str
    agent: str
    account: str = "default"


@dataclass(frozen=True, slots=True)
class AccountSeed:
    slug: str
    name: str
    agents: tuple[AgentSeed, ...] = ()


ASSISTANT = AgentSeed(
    slug="assistant",
    name="Assistant",
    system_prompt=(
        "You are Thinklio, a helpful assistant. Answer briefly and plainly. "
        "Use a tool when it gives a better answer than you can."
    ),
)

DEFAULT_ACCOUNT = AccountSeed(slug="default", name="Default", agents=(ASSISTANT,))

CATALOGUE: tuple[AccountSeed, ...] = (DEFAULT_ACCOUNT,)
