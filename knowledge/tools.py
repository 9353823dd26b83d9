"""The harness's memory tools: `memory_store` (write) and `memory_search` (read), bound to one service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from agents.tools import Tool, ToolContext, tool
from bot.errors import ThinklioError
from knowledge.facts import Scopes
from knowledge.index import Partition
from knowledge.teams import writable_team

if TYPE_CHECKING:
    from knowledge.service import Knowledge

LOAD_TIMEOUT = 90.0
# What a fresh install assigns to the default agent: reads `read`, writes `write`.
TOOL_PERMISSIONS: tuple[tuple[str, str], ...] = (("memory_store", "write"), ("memory_search", "read"))


def memory_tools(knowledge: Knowledge) -> tuple[Tool, Tool]:
    # The first call in a process may load the model (seconds on a busy machine): more than the default timeout.
    # The value must be the user's words: never a search result, a document passage or the model's own guess.
    @tool(trust="write", name="memory_store", timeout=LOAD_TIMEOUT, grounded=("value",))
    async def memory_store(ctx: ToolContext, subject: str, value: str, category: str | None = None,
                           scope: Literal["user", "team", "agent", "account"] = "user") -> str:
        """Remember a fact for later, e.g. subject 'wifi password', value 'hunter2'. A new value for the same
        subject replaces the old one.

        Args:
            subject: what the fact is about, short, e.g. 'favourite colour'.
            value: the fact's value, e.g. 'green'.
            category: optional grouping such as 'profile', 'preference', 'contact'.
            scope: 'user' (this user only, default), 'team' (the user's team sees it), 'agent', 'account' (admins).
        """
        turn = ctx.turn
        account = turn.channel.account_id
        if scope == "team":
            try:
                owner = await writable_team(turn, ctx.services.directory)
            except ThinklioError as exc:
                return f"error: {exc.message}"
        elif scope != "user" and not turn.is_account_admin:
            return "error: only an account admin may store facts for the whole agent or account"
        else:
            scope_id = {"user": turn.user.id, "agent": turn.agent.id, "account": account}[scope]
            owner = Partition(account, scope, scope_id)
        saved = await knowledge.facts.remember(
            owner, subject, value, now=knowledge.clock.now(), source="tool",
            category=category, confidence=0.9, locale=turn.user.locale, agent_id=turn.agent.id,
            interaction_id=turn.interaction_id)
        await knowledge.sync()
        # Written for the user: a write tool's result is shown with the answer.
        if saved.unchanged:
            return f"I already knew that {saved.fact.text}."
        if saved.previous is not None:
            return (f"Remembered that {saved.fact.text} (it was {saved.previous.value}; /forget {saved.fact.id} "
                    "undoes it).")
        return f"Remembered that {saved.fact.text} (/forget {saved.fact.id} undoes it)."

    @tool(trust="read", name="memory_search", timeout=LOAD_TIMEOUT)
    async def memory_search(ctx: ToolContext, query: str, limit: int = 5) -> str:
        """Search what you know (facts you were told, documents you were given) by meaning.

        Args:
            query: what to look for, e.g. 'wifi' or 'where did I park'.
            limit: how many results, at most 20.
        """
        hits = await knowledge.search(Scopes.of_turn(ctx.turn), query, limit=max(1, min(limit, 20)))
        if not hits:
            return "nothing found"
        lines = []
        for hit in hits:
            where = f" (from document '{hit.title}')" if hit.title else ""
            lines.append(f"- [{hit.id}] {hit.text}{where} (relevance {hit.score:.2f})")
        return "\n".join(lines)

    return memory_store, memory_search
