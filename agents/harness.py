"""Tier 3, the harness: everything triage does not answer.

Fit the request to the model's profile (window, tools it may be offered, steps), call the model, run the tools
it asks for (each with a timeout and within the agent's permission), loop until it answers or the step limit
is reached. Every model call and tool call is a step with its duration, tokens and cost; budgets are checked
before the model is called at all.

Three guards keep a weak or confused model from doing harm: a call repeated with the same arguments is not
run again (the model gets the earlier result), a turn that makes no progress for three steps ends with an honest
reply, and a write tool's user-facing arguments must be the user's own words (agents/tools/grounding.py).
Whatever the model's writes did is shown to the user in the reply.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any, Protocol

import structlog

from agents.context import ContextBuilder, ContextTooLong, Prompt
from agents.harness_replies import (
    MODEL_SWITCHED_OFF,
    NO_MODEL,
    OVER_BUDGET,
    TurnLog,
    answered,
    halted,
    over_budget,
    provider_failed,
    stopped,
    too_long,
)
from agents.llm.base import ChatMessage, ProviderError, TextSink, ToolCall
from agents.model_calls import MODEL_OFF, BudgetExceeded, ModelCalls
from agents.tools import TRUST_RANK, Tool, ToolContext, ToolRegistry, validate_arguments
from agents.tools.grounding import ungrounded
from bot.directory import Directory
from bot.i18n import _
from bot.metrics import Metrics
from bot.platform import PlatformState
from bot.store import tables as t
from bot.store.batch import Update
from bot.store.database import Database
from bot.turn import Reply, Turn
from config.settings import Settings

log = structlog.get_logger("thinklio.harness")

MAX_TOOL_RESULT_CHARS = 4000
MAX_UNPRODUCTIVE_STEPS = 3  # steps in a row whose every call failed, was refused or repeated
REPEATED = "\n(You already called {name} with these arguments; this is the same result. Answer the user now.)"
Drafts = Callable[[Turn], TextSink | None]


class DelegateTools(Protocol):
    """The other agents a turn's agent may ask, as tools (agents/delegation.py, which needs the runner, which
    needs the harness: so the harness knows it only by this)."""

    async def tools(self, turn: Turn) -> list[Tool]: ...


class Harness:
    def __init__(self, *, model: ModelCalls, tools: ToolRegistry, context: ContextBuilder, directory: Directory,
                 db: Database, metrics: Metrics, settings: Settings, services: Any = None,
                 drafts: Drafts | None = None, platform: PlatformState | None = None) -> None:
        self._model = model
        self._tools = tools
        self._context = context
        self._directory = directory
        self._db = db
        self._metrics = metrics
        self._settings = settings
        self._drafts = drafts  # where a channel shows the answer while it is written
        self._platform = platform  # the kill switch, checked between steps
        self.services = services  # tools receive it
        self.delegation: DelegateTools | None = None  # the other agents offered as tools; set once the runner exists

    async def __call__(self, turn: Turn) -> Reply:
        """The pipeline's model route: the turn's interactions are marked running while the model works, so a
        restart in the middle closes them honestly instead of running them again."""
        if self._model.provider is None or await self._model.refusal(turn) is not None:
            return await self.answer(turn)  # refused before any work: nothing to mark
        # The commit overlaps the first model call instead of delaying it; it is awaited before the turn ends.
        marking = asyncio.ensure_future(self._db.write(
            [Update(t.interaction, i, {"status": "running"}) for i in _interactions(turn)]))
        try:
            return await self.answer(turn)
        finally:
            await marking

    async def answer(self, turn: Turn) -> Reply:
        """The agent's reply to the turn, its steps recorded on it; nothing stored, nothing delivered."""
        if self._model.provider is None:
            turn.record("llm_call", None, status="error", error="no_model")
            return Reply(_(NO_MODEL), tier="llm", status="unanswered", error_code="no_model")
        reason = await self._model.refusal(turn)
        if reason == MODEL_OFF:
            turn.record("llm_call", None, status="denied", error="model_off")
            return Reply(_(MODEL_SWITCHED_OFF), tier="llm", status="rejected", error_code="model_off")
        if reason is not None:
            turn.record("budget", None, status="denied", error="budget_exceeded")
            return Reply(_(OVER_BUDGET).format(reason=reason), tier="llm", status="rejected",
                         error_code="budget_exceeded")
        reply = await self._loop(turn)
        if turn.notices and reply.text:  # a budget nearly used up: said at the end of every model reply
            reply.text = "\n\n".join([reply.text, *turn.notices.values()])
        return reply

    async def _loop(self, turn: Turn) -> Reply:
        model = self._model.model_for(turn)
        profile = self._model.profile_for(model)
        assigned = await self._directory.agent_tools(turn.agent.id)
        access = profile.tools
        if turn.is_readonly:  # readonly members get the read tools only, offered and allowed
            assigned = {name: "read" for name in assigned}
            access = "none" if access == "none" else "read"
        offered = {tool.name: tool for tool in self._tools.offered(assigned, access)}
        if self.delegation is not None and access != "none":  # the delegation relation is their assignment
            delegates = [item for item in await self.delegation.tools(turn) if item.name not in offered]
            offered.update((item.name, item) for item in delegates)
            assigned = {**assigned, **{item.name: item.trust for item in delegates}}
        # A delegate gets no more model calls than its caller has left (agents/delegation.py).
        limit = profile.max_steps if turn.steps_left is None else max(0, min(profile.max_steps, turn.steps_left))
        started = time.perf_counter()
        story = TurnLog(profile)
        try:
            prompt = await self._context.build(turn, profile, [tool.spec() for tool in offered.values()],
                                               self._model.count_tokens)
        except ContextTooLong as exc:
            turn.record("context", profile.name, status="error", started=started, error="context_too_long",
                        detail={"tokens": exc.tokens, "budget": exc.budget})
            return too_long(story, exc.tokens, exc.budget)
        if prompt.dropped_tools or prompt.dropped_history:  # worth a step only when the window cut something
            turn.record("context", profile.name, started=started, detail={
                "tokens": prompt.tokens, "budget": prompt.budget, "history": prompt.history,
                "tools": len(prompt.tools), "dropped_tools": prompt.dropped_tools,
                "dropped_history": prompt.dropped_history})
        sendable = {spec.name for spec in prompt.tools}
        # A delegate's run is not the person's answer: nothing of it is shown while it is written.
        draft = self._drafts(turn) if self._drafts is not None and not turn.delegation_depth else None
        outputs: dict[str, str] = {}  # (name + arguments) -> what the tool answered, for repeats
        unproductive = 0
        for step in range(limit):
            if step and (code := await self._halted(turn)) is not None:
                return halted(story, code, turn.agent.name)
            if step and not await prompt.refit(self._model.count_tokens):
                return stopped(story, "context_full") if story.said else provider_failed(
                    story, ProviderError("provider_context", "the turn outgrew the model's window"))
            try:
                result = await self._model.chat(turn, prompt.messages, prompt.tools, model=model,
                                                max_tokens=profile.max_answer_tokens, on_text=draft,
                                                repeat_penalty=profile.repeat_penalty)
            except BudgetExceeded as exc:  # spent meanwhile, by this turn or another process's
                return over_budget(story, exc.reason)
            except ProviderError as exc:
                return provider_failed(story, exc)
            if not result.tool_calls:
                return answered(story, result.text)
            if result.text and result.text.strip():
                story.said = result.text
            prompt.messages.append(ChatMessage("assistant", result.text, tool_calls=result.tool_calls))
            turn.steps_left = limit - step - 1  # what a delegation asked for now may still use
            progressed = False
            for call in result.tool_calls:
                output, ok = await self._call(turn, call, {n: offered[n] for n in sendable}, assigned, story,
                                              outputs, prompt)
                progressed |= ok
                prompt.messages.append(ChatMessage("tool", output, tool_call_id=call.id, name=call.name))
            unproductive = 0 if progressed else unproductive + 1
            if unproductive >= MAX_UNPRODUCTIVE_STEPS:
                return stopped(story, "no_progress")
        return stopped(story, "max_steps")

    async def _halted(self, turn: Turn) -> str | None:
        """Why the turn must stop before its next step: the platform or the agent was paused meanwhile."""
        if self._platform is not None and self._platform.status == "paused":
            return "platform_paused"
        status = (await self._directory.agent(turn.agent.id)).status
        if status in ("paused", "archived"):
            return f"agent_{status}"
        return None

    async def _call(self, turn: Turn, call: ToolCall, offered: dict[str, Tool], assigned: dict[str, str],
                    story: TurnLog, outputs: dict[str, str], prompt: Prompt) -> tuple[str, bool]:
        """Run one requested call: (what the model sees, whether it got anywhere). Refusals are steps too."""
        started = time.perf_counter()
        tool = offered.get(call.name)
        if tool is None:
            turn.record("tool_call", call.name[:64], status="error", started=started, error="unknown_tool")
            return f"error: there is no tool named {call.name!r}", False
        story.tool_called(tool.name)
        if TRUST_RANK[tool.trust] > TRUST_RANK.get(assigned.get(call.name, ""), -1):
            turn.record("tool_call", tool.name, status="denied", started=started, error="policy_denied",
                        detail={"trust": tool.trust, "permission": assigned.get(call.name)})
            return f"error: policy_denied: this agent may not use {tool.name!r} ({tool.trust} access needed)", False
        if call.arguments is None:
            turn.record("tool_call", tool.name, status="error", started=started, error="bad_arguments")
            return f"error: the arguments were not valid JSON: {call.arguments_error or call.raw_arguments!r}", False
        key = f"{tool.name}\x00{json.dumps(call.arguments, sort_keys=True, default=str)}"
        if key in outputs:
            turn.record("tool_call", tool.name, status="skipped", started=started, error="repeated_call")
            return outputs[key] + REPEATED.format(name=tool.name), False
        problem = validate_arguments(tool, call.arguments)
        if problem is not None:
            turn.record("tool_call", tool.name, status="error", started=started, error=f"bad_arguments: {problem}")
            outputs[key] = f"error: {problem}"
            return outputs[key], False
        refusal = self._ungrounded(turn, tool, call.arguments, outputs)
        if refusal is not None:
            turn.record("tool_call", tool.name, status="denied", started=started,
                        error=f"ungrounded_argument: {refusal}"[:500])
            outputs[key] = f"error: {refusal}"
            return outputs[key], False
        output, ok = await self._execute(turn, tool, call.arguments, started, limit=_result_chars(prompt))
        outputs[key] = output
        if ok and TRUST_RANK[tool.trust] >= TRUST_RANK["write"]:
            story.changed(output)
        return output, ok

    def _ungrounded(self, turn: Turn, tool: Tool, arguments: dict[str, Any], outputs: dict[str, str]) -> str | None:
        """Why a write would put words in the user's mouth, or None. A turn no one typed has no words to use."""
        said = turn.user_texts if turn.origin == "user" else []
        for name in tool.grounded:
            value = arguments.get(name)
            if not isinstance(value, str) or value == tool.parameters["properties"][name].get("default"):
                continue
            missing = ungrounded(value, said)
            if not missing:
                continue
            if len(ungrounded(" ".join(missing), outputs.values())) <= len(missing) // 2:
                source = "it came from a tool result, not from the user"  # mostly: ids and scores differ
            else:
                source = f"the user did not say {', '.join(repr(w) for w in missing[:5])}"
            return (f"refused: {name}={value[:80]!r} is not in the user's words ({source}). Use the user's own "
                    f"words for {name}, or ask the user; nothing was changed.")
        return None

    async def _execute(self, turn: Turn, tool: Tool, arguments: dict[str, Any], started: float, *,
                       limit: int) -> tuple[str, bool]:
        timeout = tool.timeout or self._settings.tool_timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                value = await tool.handler(ToolContext(turn, self.services), **arguments)
        except TimeoutError:
            turn.record("tool_call", tool.name, status="error", started=started, error="timeout")
            return f"error: {tool.name} did not answer within {timeout:g} s", False
        except Exception as exc:  # a tool's failure is the model's information, not the turn's end
            log.warning("tool_failed", tool=tool.name, error=str(exc))
            turn.record("tool_call", tool.name, status="error", started=started, error=str(exc)[:500])
            return f"error: {tool.name} failed: {exc}", False
        finally:
            self._metrics.tool_duration.labels(tool.name).observe(time.perf_counter() - started)
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        failed = text.startswith("error:")
        turn.record("tool_call", tool.name, status="error" if failed else "ok", started=started,
                    detail={"arguments": arguments}, **({"error": text[:500]} if failed else {}))
        return text[:limit], not failed


def _interactions(turn: Turn) -> list[str]:
    return [turn.interaction_id, *(c.interaction_id for c in turn.collected)]


def _result_chars(prompt: Prompt) -> int:
    """A tool result may take a quarter of what the prompt may hold: a small window cannot take a long one."""
    return max(200, min(MAX_TOOL_RESULT_CHARS, prompt.budget * 35 // 40))
