"""Agents that call agents (reference 21.5): each agent an agent may delegate to (`/agent delegate`, the
`agent_delegation` table) is offered to its model as a tool `ask_<slug>(task)`, whose call runs the delegate
through the agent runner on a sub-turn and returns its reply as the tool result.

The sub-run is the same person's turn one level deeper: its model calls are checked against and charged to the
same account and user budgets, and the delegate's own; its steps are added to the caller's (so to the person's
interaction and its cost), each marked with the delegate's slug and depth. It never delivers (agents/runner.py).
Bounds, each refused as a tool error the model reads, so the turn goes on: the account's delegation depth, an
agent already on the call path (A asked B, B asks A), the number of delegations in one person's turn (the whole
tree, `delegations_per_turn`) and the caller's remaining model calls (a delegate gets no more than those, and a
caller with none left could not use the answer).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from agents.runner import AgentRunner, DelegationRefused
from agents.tools.registry import Tool, ToolContext
from bot.directory import Directory
from bot.records import AgentRecord
from bot.turn import StepRecord, Turn

PREFIX = "ask_"
MAX_NAME = 64  # what model APIs take as a tool name
TASK = ("What you want it to do or answer, complete in itself; it sees this conversation, but not your other "
        "tool results.")


def tool_name(slug: str) -> str:
    return (PREFIX + slug.replace("-", "_"))[:MAX_NAME]


class Delegation:
    def __init__(self, runner: AgentRunner, directory: Directory, *, per_turn: int, timeout: float) -> None:
        self._runner = runner
        self._directory = directory
        self._per_turn = per_turn
        self._timeout = timeout

    async def tools(self, turn: Turn) -> list[Tool]:
        """A tool per agent the turn's agent may delegate to and that takes work (a paused or archived one is
        not offered; one paused meanwhile is refused by the runner)."""
        offered: dict[str, Tool] = {}
        for agent_id in await self._directory.agent_delegates(turn.agent.id):
            try:
                agent = await self._directory.agent(agent_id)
            except LookupError:
                continue
            name = tool_name(agent.slug)
            if agent.status == "active" and agent.account_id == turn.agent.account_id and name not in offered:
                offered[name] = self._tool(agent, name)
        return list(offered.values())

    def _tool(self, agent: AgentRecord, name: str) -> Tool:
        async def ask(ctx: ToolContext, task: str) -> str:
            return await self.delegate(ctx.turn, agent, task)

        purpose = " ".join(agent.system_prompt.split())[:240]
        description = (f"Ask the agent {agent.name} ({agent.slug}) to do a task and get its answer back. "
                       f"Its instructions begin: {purpose}")
        parameters: dict[str, Any] = {"type": "object", "properties": {"task": {"type": "string", "description": TASK}},
                                      "required": ["task"], "additionalProperties": False}
        return Tool(name, description, parameters, "read", ask, timeout=self._timeout)

    async def delegate(self, turn: Turn, agent: AgentRecord, task: str) -> str:
        """The delegate's answer to `task`, or `error: ...` saying why there is none (for the model to read)."""
        path = (*turn.lineage, turn.agent.id)
        if agent.id in path:
            return (f"error: delegation_cycle: {agent.name} is already on this call path (it asked for this work); "
                    "answer without it")
        if len(turn.delegations) >= self._per_turn:
            return (f"error: delegation_limit: this turn has asked other agents {len(turn.delegations)} times, the "
                    "most allowed; answer with what you have")
        if turn.steps_left is not None and turn.steps_left < 1:
            return "error: no_steps_left: you have no model calls left to use an answer; answer now"
        if not task.strip():
            return "error: say what the task is"
        turn.delegations.append(agent.slug)
        try:
            run = await self._runner.run(turn, agent=agent.slug, text=task, steps=turn.steps_left)
        except DelegationRefused as exc:
            return f"error: delegation_refused: {exc}"
        except LookupError as exc:
            return f"error: {exc}"
        depth = turn.delegation_depth + 1
        turn.steps.extend(_adopted(turn.steps, run.steps, agent.slug, depth))
        reply = run.reply
        if reply.status != "completed" or not (reply.text or "").strip():
            return f"error: {reply.error_code or reply.status}: {agent.name} gave no answer: {reply.text or ''}".strip()
        return reply.text or ""


def _adopted(parent: list[StepRecord], steps: list[StepRecord], slug: str, depth: int) -> list[StepRecord]:
    """The delegate's steps renumbered after the caller's, each naming the delegate (a deeper one keeps its own)."""
    return [replace(step, seq=len(parent) + n, detail={"delegate": slug, "depth": depth, **(step.detail or {})})
            for n, step in enumerate(steps, start=1)]
