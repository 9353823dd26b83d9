"""One server process for tests/bot/test_budgets_shared.py: a whole App on the database it is given, with a priced
scripted model that takes a moment per call (so the processes overlap), answering turns from many users at once
until told to stop. Prints READY, waits for "go" on stdin, then prints RESULT and what its turns ended as (JSON); its
log lines come in between."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from agents.core import CoreExtension
from agents.llm.base import ChatMessage, ChatResult, TextSink, ToolSpec, Usage, estimate_prompt_tokens
from bot.messages import InboundMessage, Sender
from server.app import App
from server.settings import CHANNELS
from tests.conftest import make_settings
from tests.fakes.scripted_provider import ScriptedProvider

PRICES = {"scripted-model": (100.0, 200.0)}  # USD per million tokens: a turn costs a few cents
ANSWER_TOKENS = 40


class SlowProvider(ScriptedProvider):
    """Counts tokens the way the provider's estimate does (about four characters a token), answers in 40."""

    def __init__(self) -> None:
        super().__init__(lambda messages, tools: ChatResult(
            "fine", (), Usage(estimate_prompt_tokens(messages, tools), ANSWER_TOKENS), "scripted-model"))

    async def chat(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = (), *,
                   model: str | None = None, max_tokens: int | None = None, on_text: TextSink | None = None,
                   repeat_penalty: float | None = None) -> ChatResult:
        await asyncio.sleep(0.02)
        return await super().chat(messages, tools, model=model, max_tokens=max_tokens, on_text=on_text)


async def main(url: str, data_dir: str, name: str, turns: int, concurrency: int, limit: float) -> None:
    settings = make_settings(Path(data_dir), database_url=url, llm_prices=PRICES, llm_max_tokens=ANSWER_TOKENS,
                             account_monthly_budget_usd=limit, state_poll_seconds=0.2)
    # The kernel and its core commands only: budgets are the kernel's, and the knowledge extension's retrieval
    # does not run on Postgres yet ("NOT archived" on an integer column).
    app = App(settings, channels=CHANNELS.builder(()), provider=SlowProvider(), extensions=[CoreExtension()])
    await app.start()
    print("READY", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    gate = asyncio.Semaphore(concurrency)
    ended: Counter[str] = Counter()

    async def turn(number: int) -> None:
        async with gate:
            outcome = await app.services.pipeline.handle(InboundMessage(
                channel="api", sender=Sender(f"acc:{name}-{number}", "Sam"), text=f"tell me something, {number}"))
            ended[outcome.error_code or outcome.status] += 1

    await asyncio.gather(*(turn(number) for number in range(turns)))
    await app.stop()
    print("RESULT", json.dumps(ended), flush=True)


if __name__ == "__main__":
    url, data_dir, name, turns, concurrency, limit = sys.argv[1:7]
    asyncio.run(main(url, data_dir, name, int(turns), int(concurrency), float(limit)))
