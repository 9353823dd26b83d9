"""Translation between the provider types and the OpenAI chat-completions wire format.

The response is parsed from the raw JSON here rather than through the SDK's models, because the SDK builds its models
without validation: a body lacking `choices` would surface as an AttributeError deep in the caller instead of as
provider_bad_response."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from agents.llm.base import ChatMessage, ChatResult, ProviderError, ToolCall, ToolSpec, Usage


def tools_to_wire(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": t.name, "description": t.description,
                                              "parameters": t.parameters}} for t in tools]


def messages_to_wire(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    return [_message_to_wire(m) for m in messages]


def _message_to_wire(m: ChatMessage) -> dict[str, Any]:
    if m.role == "tool":
        if not m.tool_call_id:
            raise ValueError("a tool message needs the tool_call_id of the call it answers")
        return {"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content or ""}
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.role == "assistant" and m.tool_calls:
        out["tool_calls"] = [_call_to_wire(c) for c in m.tool_calls]
    elif m.content is None:
        out["content"] = ""  # only assistant messages with tool calls may have null content
    return out


def _call_to_wire(c: ToolCall) -> dict[str, Any]:
    # Unusable arguments are replayed as "{}": several OpenAI-compatible servers (Ollama, vLLM) re-parse history
    # and would reject the whole conversation; the model learns what went wrong from the tool result instead.
    args = json.dumps(c.arguments, ensure_ascii=False) if c.arguments is not None else "{}"
    return {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": args}}


def parse_arguments(raw: Any) -> tuple[dict[str, Any] | None, str | None, str]:
    """(arguments, error, raw text) for one tool call's `arguments` field."""
    if isinstance(raw, dict):  # some compatible servers send an object rather than a JSON string
        return raw, None, json.dumps(raw, ensure_ascii=False)
    if not isinstance(raw, str):
        return None, f"arguments must be a JSON object, got {type(raw).__name__}", "" if raw is None else str(raw)
    if not raw.strip():
        return {}, None, raw  # models calling a parameterless tool often send nothing at all
    try:
        value = json.loads(raw)
    except ValueError as exc:
        return None, f"arguments are not valid JSON ({exc.msg} at position {exc.pos}); send a JSON object", raw
    if not isinstance(value, dict):
        return None, f"arguments must be a JSON object, got {type(value).__name__}", raw
    return value, None, raw


def parse_response(content: bytes, requested_model: str) -> ChatResult:
    try:
        data = json.loads(content)
    except ValueError:
        raise _bad(f"the body is not JSON: {_snippet(content)}") from None
    if not isinstance(data, dict):
        raise _bad(f"expected a JSON object, got {type(data).__name__}")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise _bad(f"no choices in the answer: {_snippet(content)}")
    message = choices[0].get("message")
    if not isinstance(message, dict):
        raise _bad("the first choice has no message")
    text = message.get("content")
    if text is not None and not isinstance(text, str):
        raise _bad(f"message content is a {type(text).__name__}, not text")
    calls = tuple(_parse_call(i, c) for i, c in enumerate(message.get("tool_calls") or ()))
    return ChatResult(
        text=text,
        tool_calls=calls,
        usage=parse_usage(data.get("usage")),
        model=str(data.get("model") or requested_model),
        finish_reason=choices[0].get("finish_reason"),
    )


def _parse_call(index: int, call: Any) -> ToolCall:
    fn = call.get("function") if isinstance(call, dict) else None
    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
        raise _bad(f"tool call #{index} has no function name")
    arguments, error, raw = parse_arguments(fn.get("arguments"))
    # Some local servers omit ids; the harness needs one to pair the tool result with its call.
    call_id = call.get("id") if isinstance(call.get("id"), str) and call.get("id") else f"call_{uuid.uuid4().hex[:12]}"
    return ToolCall(id=call_id, name=fn["name"], arguments=arguments, arguments_error=error, raw_arguments=raw)


def parse_usage(usage: Any) -> Usage:
    if not isinstance(usage, dict):
        return Usage()
    return Usage(tokens_in=_int(usage.get("prompt_tokens")), tokens_out=_int(usage.get("completion_tokens")))


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _bad(message: str) -> ProviderError:
    return ProviderError("provider_bad_response", f"the model server's answer is unusable: {message}")


def _snippet(content: bytes, limit: int = 200) -> str:
    text = content.decode("utf-8", "replace").strip()
    return repr(text[:limit] + ("…" if len(text) > limit else "")) if text else "(empty)"
