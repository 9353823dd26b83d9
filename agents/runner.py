"""Run an agent on a turn and get its reply without storing or delivering it: the seam delegation plugs into.

A tool or an extension holding a turn asks another agent of the same account (or the turn's own agent) to answer
some text. The run gets a turn of its own (same user and conversation, its own steps), so its model calls are
priced and charged to the same budgets as any other; the caller decides what to keep of its reply and steps.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from agents.harness import Harness
from bot.directory import Directory
from bot.gates import AGENT_ARCHIVED, AGENT_PAUSED
from bot.turn import Reply, StepRecord, Turn


@dataclass(frozen=True, slots=True)
class AgentRun:
    reply: Reply
    steps: list[StepRecord]


class AgentRunner:
    def __init__(self, harness: Harness, directory: Directory) -> None:
        self._harness = harness
        self._directory = directory

    async def run(self, turn: Turn, *, agent: str | None = None, text: str | None = None) -> AgentRun:
        """`agent` is a slug in the turn's account (default: the turn's own); `text` what it is asked (default:
        the turn's message). LookupError when there is no such agent."""
        target = turn.agent
        if agent is not None and agent != turn.agent.slug:
            found = await self._directory.agent_by_slug(turn.channel.account_id, agent)
            if found is None:
                raise LookupError(f"no agent {agent!r} in this account")
            target = found
        if target.status in ("paused", "archived"):  # a paused or archived agent takes no new work, asked or not
            refusal = (AGENT_PAUSED if target.status == "paused" else AGENT_ARCHIVED).format(name=target.name)
            return AgentRun(Reply(refusal, tier="gate", status="rejected", error_code=f"agent_{target.status}"), [])
        sub = replace(turn, agent=target, text=turn.text if text is None else text, collected=[], steps=[])
        reply = await self._harness.answer(sub)
        return AgentRun(reply, sub.steps)
