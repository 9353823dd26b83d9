"""Every call to the language model goes through here: budget checked, priced, measured, recorded as a step
of its turn and charged to the account's and user's budgets as soon as it returns.

The harness calls the model through it, and so does work after a turn (fact extraction), so a model call
costs the same wherever it is made and nothing spends outside the budgets.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import structlog

from agents.llm.base import ChatMessage, ChatResult, Provider, ProviderError, TextSink, ToolSpec
from agents.llm.profiles import ModelProfile, Profiles
from agents.pricing import Prices
from bot.budgets import Budgets
from bot.directory import Directory
from bot.metrics import Metrics
from bot.turn import Turn

log = structlog.get_logger("thinklio.harness")


class ModelCalls:
    def __init__(self, provider: Provider | None, *, prices: Prices, budgets: Budgets, directory: Directory,
                 metrics: Metrics, profiles: Profiles) -> None:
        self.provider = provider
        self.profiles = profiles
        self._prices = prices
        self._budgets = budgets
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
        """A sentence saying which budget is used up, or None when the model may be called for this turn."""
        account = await self._directory.account(turn.channel.account_id)
        return await self._budgets.exceeded(account, turn.user)

    async def chat(self, turn: Turn, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = (), *,
                   model: str, max_tokens: int | None, purpose: str | None = None, on_text: TextSink | None = None,
                   repeat_penalty: float | None = None) -> ChatResult:
        """One model call; a ProviderError is recorded as a failed step and raised."""
        assert self.provider is not None
        started = time.perf_counter()
        try:
            result = await self.provider.chat(messages, tools, model=model, max_tokens=max_tokens, on_text=on_text,
                                              repeat_penalty=repeat_penalty)
        except ProviderError as exc:
            turn.record("llm_call", model, status="error", started=started, error=f"{exc.code}: {exc.message}"[:500],
                        detail={"purpose": purpose} if purpose else None)
            log.warning("llm_call_failed", model=model, code=exc.code, error=exc.message, purpose=purpose)
            raise
        seconds = time.perf_counter() - started
        used = result.model or model
        self._metrics.llm_call_duration.labels(used).observe(seconds)
        cost = self._prices.cost(used, result.usage)
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
            self._budgets.add(turn.channel.account_id, turn.user.id, cost)
            self._metrics.interaction_cost.inc(cost)
        return result

    async def close(self) -> None:
        if self.provider is not None:
            await self.provider.close()
