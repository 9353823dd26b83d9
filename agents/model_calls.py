"""Every call to the language model goes through here: the `llm` feature flag and the budgets checked (a
reservation of the call's largest possible cost, shared by every server process: bot/budgets.py), priced,
measured, recorded as a step of its turn and charged to the account's, user's and agent's budgets as soon as it
returns.

The harness calls the model through it, and so does work after a turn (fact extraction), so a model call
costs the same wherever it is made and nothing spends outside the budgets.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import structlog

from agents.llm.base import ChatMessage, ChatResult, Provider, ProviderError, TextSink, ToolSpec, Usage
from agents.llm.profiles import ModelProfile, Profiles
from agents.pricing import Prices
from bot.budgets import Budgets, OverBudget
from bot.directory import Directory
from bot.flags import LLM, Flags
from bot.metrics import Metrics
from bot.turn import Turn

log = structlog.get_logger("thinklio.harness")

MODEL_OFF = "the language model is switched off by an administrator"
DEFAULT_ANSWER_TOKENS = 4096  # reserved for a call that sets no limit of its own


class BudgetExceeded(ProviderError):
    """A budget was used up when the call was about to be made: the model was not called."""

    def __init__(self, reason: str) -> None:
        super().__init__("budget_exceeded", reason)
        self.reason = reason


class ModelSwitchedOff(ProviderError):
    def __init__(self) -> None:
        super().__init__("model_off", MODEL_OFF)


class ModelCalls:
    def __init__(self, provider: Provider | None, *, prices: Prices, budgets: Budgets, directory: Directory,
                 metrics: Metrics, profiles: Profiles, flags: Flags) -> None:
        self.provider = provider
        self.profiles = profiles
        self._prices = prices
        self._budgets = budgets
        self._flags = flags
        self._directory = directory
        self._metrics = metrics

    @property
    def provider_name(self) -> str | None:
        return self.provider.name if self.provider is not None else None

    def model_for(self, turn: Turn) -> str:
        assert self.provider is not None
        return turn.agent.model or self.provider.default_model

    def profile_for(self, model: str) -> ModelProfile:
        assert self.provider is not None
        return self.profiles.for_model(self.provider.name, model)

    async def count_tokens(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = ()) -> int:
        assert self.provider is not None
        return await self.provider.count_tokens(messages, tools)

    async def refusal(self, turn: Turn) -> str | None:
        """Why the model may not be called for this turn (switched off, a budget used up), or None. A read:
        `chat` checks again, atomically, before every call."""
        if not await self._flags.enabled(LLM.name):
            return MODEL_OFF
        return await self._budgets.exceeded(turn.channel.account_id, turn.user.id, turn.agent.id)

    async def _most(self, turn: Turn, model: str, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec],
                    max_tokens: int | None) -> float:
        """The most this call can cost: the prompt as the provider counts it (exact, or an estimate that errs
        high) and the longest answer allowed. Counted only when a budget applies and the model has a price."""
        if not self._prices.priced(model) or not await self._budgets.limits(
                turn.channel.account_id, turn.user.id, turn.agent.id):
            return 0.0
        assert self.provider is not None
        tokens_in = await self.provider.count_tokens(messages, tools)
        return self._prices.cost(model, Usage(tokens_in, max_tokens or DEFAULT_ANSWER_TOKENS))

    async def chat(self, turn: Turn, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = (), *,
                   model: str, max_tokens: int | None, purpose: str | None = None, on_text: TextSink | None = None,
                   repeat_penalty: float | None = None) -> ChatResult:
        """One model call; a ProviderError is recorded as a failed step and raised. BudgetExceeded and
        ModelSwitchedOff (ProviderErrors too) mean the model was not called."""
        assert self.provider is not None
        if not await self._flags.enabled(LLM.name):
            turn.record("llm_call", model, status="denied", error="model_off")
            raise ModelSwitchedOff()
        try:
            hold = await self._budgets.reserve(turn.channel.account_id, turn.user.id, turn.agent.id,
                                               await self._most(turn, model, messages, tools, max_tokens))
        except OverBudget as exc:
            turn.record("budget", exc.limit.scope, status="denied", error="budget_exceeded",
                        detail={"purpose": purpose} if purpose else None)
            raise BudgetExceeded(exc.reason) from None
        started, cost = time.perf_counter(), 0.0
        try:
            result = await self.provider.chat(messages, tools, model=model, max_tokens=max_tokens, on_text=on_text,
                                              repeat_penalty=repeat_penalty)
            seconds = time.perf_counter() - started
            cost = self._prices.cost(result.model or model, result.usage)
        except ProviderError as exc:
            turn.record("llm_call", model, status="error", started=started, error=f"{exc.code}: {exc.message}"[:500],
                        detail={"purpose": purpose} if purpose else None)
            log.warning("llm_call_failed", model=model, code=exc.code, error=exc.message, purpose=purpose)
            raise
        finally:
            turn.notices.update(await self._budgets.settle(hold, cost))  # the latest figure per budget
        used = result.model or model
        self._metrics.llm_call_duration.labels(used).observe(seconds)
        detail: dict[str, Any] = {}
        if purpose:
            detail["purpose"] = purpose
        if result.tool_calls:
            detail["tool_calls"] = [call.name for call in result.tool_calls]
        turn.record("llm_call", used, started=started, tokens_in=result.usage.tokens_in,
                    tokens_out=result.usage.tokens_out, cost_usd=cost, detail=detail or None)
        log.info("step_completed", step="llm_call", duration_ms=round(seconds * 1000, 3), purpose=purpose,
                 tokens_in=result.usage.tokens_in, tokens_out=result.usage.tokens_out, cost=cost)
        if cost:
            self._metrics.interaction_cost.inc(cost)
        return result

    async def close(self) -> None:
        if self.provider is not None:
            await self.provider.close()
