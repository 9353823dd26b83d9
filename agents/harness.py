"""Tier 3, the harness: everything triage does not answer.

Assemble the context, call the model, run the tools it asks for (each with a timeout and within the agent's
permission), loop until it answers or the step limit is reached. Every model call and tool call is a step
with its duration, tokens and cost; the interaction's cost is their sum. Budgets are checked before the model
is called at all.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import structlog

from agents.context import ContextBuilder
from agents.llm.base import ChatMessage, ProviderError, ToolCall, ToolSpec
from agents.model_calls import ModelCalls
from agents.tools import TRUST_RANK, Tool, ToolContext, ToolRegistry, validate_arguments
from bot.directory import Directory
from bot.metrics import Metrics
from bot.store import tables as t
from bot.store.batch import Update
from bot.store.database import Database
from bot.turn import Reply, Turn
from config.settings import Settings

log = structlog.get_logger("thinklio.harness")

NO_MODEL = ("I can't answer that yet: no language model is configured on this server. "
            "I can tell you the time or the date, and /help lists what else I can do.")
PROVIDER_DOWN = "I couldn't get an answer from the language model just now: {reason}. Please try again in a moment."
# What users are told; the provider's own message (endpoints, hints about keys) is for the logs.
PROVIDER_REASONS = {
    "provider_timeout": "it took too long to answer",
    "provider_unavailable": "the model service is not reachable",
    "provider_rejected": "the model service refused the request",
    "provider_bad_response": "the model service sent an answer I could not read",
}
OVER_BUDGET = "I can't use the language model right now: {reason}. An administrator can raise the budget."
MAX_STEPS = ("I worked on this for {steps} steps without reaching an answer, so I stopped. "
             "Try asking in a simpler or more specific way.")
MAX_TOOL_RESULT_CHARS = 4000


class Harness:
    def __init__(self, *, model: ModelCalls, tools: ToolRegistry, context: ContextBuilder, directory: Directory,
                 db: Database, metrics: Metrics, settings: Settings, services: Any = None) -> None:
        self._model = model
        self._tools = tools
        self._context = context
        self._directory = directory
        self._db = db
        self._metrics = metrics
        self._settings = settings
        self.services = services  # set once the container exists; tools receive it

    async def __call__(self, turn: Turn) -> Reply:
        if self._model.provider is None:
            turn.record("llm_call", None, status="error", error="no_model")
            return Reply(NO_MODEL, tier="llm", status="unanswered", error_code="no_model")
        reason = await self._model.refusal(turn)
        if reason is not None:
            turn.record("budget", None, status="denied", error="budget_exceeded")
            return Reply(OVER_BUDGET.format(reason=reason), tier="llm", status="rejected",
                         error_code="budget_exceeded")
        # Marked so that a restart in the middle of a model call closes the turn honestly instead of re-running it.
        # The commit overlaps the first model call instead of delaying it; it is awaited before the turn ends.
        marking = asyncio.ensure_future(
            self._db.write([Update(t.interaction, turn.interaction_id, {"status": "running"})]))
        try:
            return await self._loop(turn)
        finally:
            await marking

    async def _loop(self, turn: Turn) -> Reply:
        assigned = await self._directory.agent_tools(turn.agent.id)
        offered = [tool for name in sorted(assigned) if (tool := self._tools.get(name)) is not None]
        specs: list[ToolSpec] = [tool.spec() for tool in offered]
        messages = await self._context.messages(turn)
        model = self._model.model_for(turn)
        for _ in range(self._settings.harness_max_steps):
            try:
                result = await self._model.chat(turn, messages, specs, model=model,
                                                max_tokens=self._settings.llm_max_tokens)
            except ProviderError as exc:
                reason = PROVIDER_REASONS.get(exc.code, "it failed")
                return Reply(PROVIDER_DOWN.format(reason=reason), tier="llm", status="failed", error_code=exc.code)
            if not result.tool_calls:
                text = (result.text or "").strip()
                if not text:
                    return Reply("I'm sorry, I have no answer to that.", tier="llm", status="completed",
                                 error_code="empty_answer")
                return Reply(text, tier="llm")
            messages.append(ChatMessage("assistant", result.text, tool_calls=result.tool_calls))
            for call in result.tool_calls:
                output = await self._run_tool(turn, call, assigned)
                messages.append(ChatMessage("tool", output, tool_call_id=call.id, name=call.name))
        return Reply(MAX_STEPS.format(steps=self._settings.harness_max_steps), tier="llm", status="completed",
                     error_code="max_steps")

    async def _run_tool(self, turn: Turn, call: ToolCall, assigned: dict[str, str]) -> str:
        """Run one requested call and return what the model sees; every refusal or failure is a step too."""
        started = time.perf_counter()
        tool = self._tools.get(call.name)
        if tool is None or call.name not in assigned:
            turn.record("tool_call", call.name[:64], status="error", started=started, error="unknown_tool")
            return f"error: there is no tool named {call.name!r}"
        if TRUST_RANK[tool.trust] > TRUST_RANK.get(assigned[call.name], -1):
            turn.record("tool_call", tool.name, status="denied", started=started, error="policy_denied",
                        detail={"trust": tool.trust, "permission": assigned[call.name]})
            return f"error: policy_denied: this agent may not use {tool.name!r} ({tool.trust} access needed)"
        if call.arguments is None:
            turn.record("tool_call", tool.name, status="error", started=started, error="bad_arguments")
            return f"error: the arguments were not valid JSON: {call.arguments_error or call.raw_arguments!r}"
        problem = validate_arguments(tool, call.arguments)
        if problem is not None:
            turn.record("tool_call", tool.name, status="error", started=started, error=f"bad_arguments: {problem}")
            return f"error: {problem}"
        return await self._execute(turn, tool, call.arguments, started)

    async def _execute(self, turn: Turn, tool: Tool, arguments: dict[str, Any], started: float) -> str:
        timeout = tool.timeout or self._settings.tool_timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                value = await tool.handler(ToolContext(turn, self.services), **arguments)
        except TimeoutError:
            turn.record("tool_call", tool.name, status="error", started=started, error="timeout")
            return f"error: {tool.name} did not answer within {timeout:g} s"
        except Exception as exc:  # a tool's failure is the model's information, not the turn's end
            log.warning("tool_failed", tool=tool.name, error=str(exc))
            turn.record("tool_call", tool.name, status="error", started=started, error=str(exc)[:500])
            return f"error: {tool.name} failed: {exc}"
        finally:
            self._metrics.tool_duration.labels(tool.name).observe(time.perf_counter() - started)
        turn.record("tool_call", tool.name, started=started, detail={"arguments": arguments})
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        return text[:MAX_TOOL_RESULT_CHARS]
