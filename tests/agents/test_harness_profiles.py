"""The harness asks of each model what its profile says it can do: the embedded model gets no tools, no history
and a short prompt, and when it cannot help the reply says how to use a better model."""

from __future__ import annotations

from pathlib import Path

from agents.harness_replies import BETTER_MODEL
from agents.llm.base import ChatResult, ProviderError, Usage
from tests.agents.test_harness import ask, started
from tests.fakes.scripted_provider import ScriptedProvider


class EmbeddedLike(ScriptedProvider):
    name = "local"
    default_model = "SmolLM2-135M-Instruct.Q4_1"


def answer(text: str) -> ChatResult:
    return ChatResult(text, (), Usage(5, 5), "SmolLM2-135M-Instruct.Q4_1")


async def test_the_embedded_model_gets_no_tools_no_history_and_a_short_prompt(tmp_path: Path) -> None:
    joke = "Why did the cat sit on the laptop? To keep an eye on the mouse."
    provider = EmbeddedLike([answer("Paris."), answer(joke)])
    app = await started(tmp_path, provider)
    try:
        await ask(app, "what is the capital of France?")
        outcome = await ask(app, "tell me a joke")
        assert outcome.reply == joke
        messages, tools = provider.calls[-1]
        assert tools == []
        assert [m.role for m in messages] == ["system", "user"]
        assert messages[0].content == "You are Assistant, a helpful assistant. Give short, correct answers."
    finally:
        await app.stop()


async def test_a_decline_or_failure_of_the_embedded_model_points_to_a_better_one(tmp_path: Path) -> None:
    def script(messages: object, tools: object) -> ChatResult:
        raise ProviderError("provider_context", "too long")

    provider = EmbeddedLike([answer("I'm sorry, but I cannot help with tax law.")])
    app = await started(tmp_path, provider)
    try:
        declined = await ask(app, "explain the tax rules for freelancers in Portugal")
        assert declined.reply == f"I'm sorry, but I cannot help with tax law.\n\n{BETTER_MODEL}"
        assert "THINKLIO_LLM_BASE_URL" in BETTER_MODEL
        app.model.provider = EmbeddedLike(script)
        failed = await ask(app, "and for employees?")
        assert failed.status == "failed" and "too long for the language model" in (failed.reply or "")
        assert (failed.reply or "").endswith(BETTER_MODEL)
        assert "try again in a moment" not in (failed.reply or "")  # retrying cannot help a full window
    finally:
        await app.stop()


async def test_an_endpoint_model_gets_its_tools_and_no_hint(tmp_path: Path) -> None:
    provider = ScriptedProvider([ChatResult("I can't say.", (), Usage(5, 5), "scripted-model")])
    app = await started(tmp_path, provider)
    try:
        outcome = await ask(app, "what will the weather be next year?")
        assert outcome.reply == "I can't say."
        assert {spec.name for spec in provider.calls[0][1]} >= {"current_time", "task_add", "memory_search"}
    finally:
        await app.stop()
