"""The real OpenAIProvider (official SDK, its retries and timeouts) against a scripted server over HTTP."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from agents.llm import ChatMessage, ProviderError, ToolCall, ToolSpec
from agents.llm.openai_provider import OpenAIProvider
from config.settings import Settings
from tests.fakes.fake_openai import FakeOpenAI
from tests.fakes.fake_openai import fake_openai as _fake_openai_fixture  # noqa: F401  (registers the fixture)

TIME_TOOL = ToolSpec(
    name="current_time",
    description="The current time in a timezone.",
    parameters={"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]},
)
HELLO = [ChatMessage("system", "Be brief."), ChatMessage("user", "hello")]

MakeProvider = Callable[..., OpenAIProvider]


@pytest.fixture
async def make_provider(tmp_path: Path, fake_openai: FakeOpenAI) -> AsyncIterator[MakeProvider]:
    made: list[OpenAIProvider] = []

    def make(**overrides: Any) -> OpenAIProvider:
        values: dict[str, Any] = {
            "data_dir": tmp_path, "llm_provider": "openai", "llm_base_url": fake_openai.url,
            "llm_api_key": "test", "llm_model": "fake-model", "llm_timeout_seconds": 5.0, "llm_max_retries": 2,
        }
        values.update(overrides)
        provider = OpenAIProvider(Settings(_env_file=None, **values))  # type: ignore[call-arg]
        made.append(provider)
        return provider

    yield make
    for provider in made:
        await provider.close()


async def expect_error(provider: OpenAIProvider, code: str) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await provider.chat(HELLO)
    assert info.value.code == code, info.value.message
    return info.value


async def test_text_reply_with_usage(fake_openai: FakeOpenAI, make_provider: MakeProvider) -> None:
    fake_openai.reply("hi there", tokens_in=10, tokens_out=3)
    result = await make_provider().chat(HELLO, max_tokens=64)
    assert result.text == "hi there"
    assert result.tool_calls == ()
    assert (result.usage.tokens_in, result.usage.tokens_out) == (10, 3)
    assert result.model == "fake-model" and result.finish_reason == "stop"
    body = fake_openai.requests[0].body
    assert body["model"] == "fake-model" and body["max_tokens"] == 64
    assert body["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}]
    assert "tools" not in body
    assert fake_openai.requests[0].headers["Authorization"] == "Bearer test"


async def test_missing_usage_counts_zero(fake_openai: FakeOpenAI, make_provider: MakeProvider) -> None:
    fake_openai.reply("ok", tokens_in=None, tokens_out=None)
    result = await make_provider().chat(HELLO)
    assert (result.usage.tokens_in, result.usage.tokens_out) == (0, 0)


async def test_no_api_key_sends_a_placeholder(fake_openai: FakeOpenAI, make_provider: MakeProvider) -> None:
    result = await make_provider(llm_api_key=None).chat(HELLO)
    assert result.text == fake_openai.default_text
    assert fake_openai.requests[0].headers["Authorization"].startswith("Bearer ")


async def test_tool_call_round_trip(fake_openai: FakeOpenAI, make_provider: MakeProvider) -> None:
    provider = make_provider()
    fake_openai.tool_call("current_time", '{"timezone": "UTC"}', call_id="call_1", tokens_in=20, tokens_out=7)
    first = await provider.chat(HELLO, [TIME_TOOL])
    assert first.text is None and first.finish_reason == "tool_calls"
    assert first.tool_calls == (ToolCall(id="call_1", name="current_time", arguments={"timezone": "UTC"},
                                         raw_arguments='{"timezone": "UTC"}'),)
    assert fake_openai.requests[0].body["tools"] == [{"type": "function", "function": {
        "name": "current_time", "description": TIME_TOOL.description, "parameters": TIME_TOOL.parameters}}]

    fake_openai.reply("It is noon in UTC.")
    history = [*HELLO, ChatMessage("assistant", None, tool_calls=first.tool_calls),
               ChatMessage("tool", "12:00", tool_call_id="call_1", name="current_time")]
    second = await provider.chat(history, [TIME_TOOL])
    assert second.text == "It is noon in UTC."
    sent = fake_openai.requests[1].body["messages"]
    assert sent[2] == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "current_time", "arguments": '{"timezone": "UTC"}'}}]}
    assert sent[3] == {"role": "tool", "tool_call_id": "call_1", "content": "12:00"}


async def test_unknown_tool_name_is_passed_through(fake_openai: FakeOpenAI,
                                                   make_provider: MakeProvider) -> None:
    # Deciding what an unknown tool means is the harness's job; the provider only reports what the model said.
    fake_openai.tool_call("launch_rockets", "{}")
    result = await make_provider().chat(HELLO, [TIME_TOOL])
    assert result.tool_calls[0].name == "launch_rockets" and result.tool_calls[0].arguments == {}


@pytest.mark.parametrize("raw", ['{"timezone": "UTC"', '["UTC"]', "null", "timezone=UTC"])
async def test_malformed_tool_arguments(fake_openai: FakeOpenAI, make_provider: MakeProvider,
                                        raw: str) -> None:
    fake_openai.tool_calls([("current_time", raw), ("current_time", '{"timezone": "CET"}')])
    result = await make_provider().chat(HELLO, [TIME_TOOL])
    bad, good = result.tool_calls
    assert bad.arguments is None and bad.arguments_error and bad.raw_arguments == raw
    assert good.arguments == {"timezone": "CET"} and good.arguments_error is None
    assert bad.id != good.id


async def test_429_waits_for_retry_after(fake_openai: FakeOpenAI, make_provider: MakeProvider) -> None:
    fake_openai.status(429, retry_after=1).reply("after the wait")
    started = time.monotonic()
    result = await make_provider().chat(HELLO)
    assert result.text == "after the wait"
    assert len(fake_openai.requests) == 2
    assert fake_openai.requests[1].at - fake_openai.requests[0].at >= 0.9
    assert time.monotonic() - started >= 0.9


async def test_500_then_success(fake_openai: FakeOpenAI, make_provider: MakeProvider) -> None:
    fake_openai.status(500).reply("recovered")
    result = await make_provider().chat(HELLO)
    assert result.text == "recovered" and len(fake_openai.requests) == 2


async def test_persistent_500_is_unavailable(fake_openai: FakeOpenAI, make_provider: MakeProvider) -> None:
    for _ in range(3):
        fake_openai.status(500)
    error = await expect_error(make_provider(llm_max_retries=2), "provider_unavailable")
    assert len(fake_openai.requests) == 3
    assert "500" in error.message


async def test_persistent_429_is_unavailable(fake_openai: FakeOpenAI, make_provider: MakeProvider) -> None:
    fake_openai.status(429, retry_after=0.1).status(429, retry_after=0.1)
    error = await expect_error(make_provider(llm_max_retries=1), "provider_unavailable")
    assert "rate limit" in error.message and len(fake_openai.requests) == 2


async def test_hang_is_a_timeout(fake_openai: FakeOpenAI, make_provider: MakeProvider) -> None:
    fake_openai.hang(10).hang(10)
    started = time.monotonic()
    error = await expect_error(make_provider(llm_timeout_seconds=0.3, llm_max_retries=1), "provider_timeout")
    assert len(fake_openai.requests) == 2
    assert time.monotonic() - started < 5
    assert "THINKLIO_LLM_TIMEOUT_SECONDS" in error.message


async def test_hang_then_success_on_retry(fake_openai: FakeOpenAI, make_provider: MakeProvider) -> None:
    fake_openai.hang(10).reply("second try")
    result = await make_provider(llm_timeout_seconds=0.3, llm_max_retries=1).chat(HELLO)
    assert result.text == "second try"


@pytest.mark.parametrize("step", [
    lambda f: f.malformed(),
    lambda f: f.malformed(b"<html>bad gateway</html>", content_type="text/html"),
    lambda f: f.json(200, {"id": "x", "object": "chat.completion"}),
    lambda f: f.json(200, {"choices": []}),
    lambda f: f.json(200, {"choices": [{"index": 0}]}),
    lambda f: f.json(200, [1, 2]),
    lambda f: f.completion({"role": "assistant", "tool_calls": [{"id": "c", "function": {"arguments": "{}"}}]}),
])
async def test_bad_bodies(fake_openai: FakeOpenAI, make_provider: MakeProvider,
                          step: Callable[[FakeOpenAI], object]) -> None:
    step(fake_openai)
    await expect_error(make_provider(), "provider_bad_response")


@pytest.mark.parametrize(("status", "hint"), [(401, "THINKLIO_LLM_API_KEY"), (403, "THINKLIO_LLM_API_KEY"),
                                              (404, "THINKLIO_LLM_MODEL"), (400, "context")])
async def test_client_errors_are_rejected_without_retry(fake_openai: FakeOpenAI,
                                                        make_provider: MakeProvider, status: int, hint: str) -> None:
    fake_openai.status(status, message="nope")
    error = await expect_error(make_provider(), "provider_rejected")
    assert len(fake_openai.requests) == 1
    assert hint in error.message and "nope" in error.message


async def test_connection_refused_is_unavailable(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, llm_provider="openai",  # type: ignore[call-arg]
                        llm_base_url="http://127.0.0.1:9/v1", llm_max_retries=0)
    provider = OpenAIProvider(settings)
    try:
        with pytest.raises(ProviderError) as info:
            await provider.chat(HELLO)
    finally:
        await provider.close()
    assert info.value.code == "provider_unavailable" and "THINKLIO_LLM_BASE_URL" in info.value.message


async def test_falls_back_to_max_completion_tokens(fake_openai: FakeOpenAI,
                                                   make_provider: MakeProvider) -> None:
    provider = make_provider()
    fake_openai.status(400, message="Unsupported parameter: 'max_tokens' is not supported with this model. "
                                    "Use 'max_completion_tokens' instead.").reply("ok").reply("again")
    assert (await provider.chat(HELLO, max_tokens=99)).text == "ok"
    assert (await provider.chat(HELLO, max_tokens=99)).text == "again"
    sent = [(r.body.get("max_tokens"), r.body.get("max_completion_tokens")) for r in fake_openai.requests]
    assert sent == [(99, None), (None, 99), (None, 99)]


async def test_a_streamed_answer_arrives_in_pieces_and_whole(make_provider: MakeProvider,
                                                             fake_openai: FakeOpenAI) -> None:
    fake_openai.reply("The tide turns twice a day.", tokens_in=12, tokens_out=7)
    pieces: list[str] = []
    result = await make_provider().chat(HELLO, on_text=pieces.append)
    assert result.text == "The tide turns twice a day." and result.usage.tokens_in == 12
    assert len(pieces) > 2 and pieces[-1] == result.text and all(result.text.startswith(p) for p in pieces)
    assert fake_openai.bodies[0]["stream"] is True


async def test_a_streamed_tool_call_is_put_together_from_its_fragments(make_provider: MakeProvider,
                                                                       fake_openai: FakeOpenAI) -> None:
    fake_openai.tool_call("current_time", '{"timezone": "Asia/Tokyo"}', call_id="call_7")
    pieces: list[str] = []
    result = await make_provider().chat(HELLO, [TIME_TOOL], on_text=pieces.append)
    assert result.tool_calls == (ToolCall("call_7", "current_time", {"timezone": "Asia/Tokyo"}, None,
                                          '{"timezone": "Asia/Tokyo"}'),)
    assert result.finish_reason == "tool_calls" and pieces == []


async def test_a_streamed_error_is_the_same_error(make_provider: MakeProvider, fake_openai: FakeOpenAI) -> None:
    fake_openai.status(401, message="bad key")
    with pytest.raises(ProviderError) as info:
        await make_provider(llm_max_retries=0).chat(HELLO, on_text=lambda _: None)
    assert info.value.code == "provider_rejected"
