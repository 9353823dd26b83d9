"""Tool calling for the embedded model, which has no native tool format: the tools are listed in the system prompt
and the output is constrained by llama.cpp's JSON-schema grammar to one of

    {"tool": "<one tool's name>", "arguments": {<that tool's parameters>}}
    {"answer": "<text>"}

so even a 135M model can only produce a well-formed call to a real tool, or a plain answer."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from agents.llm.base import ChatMessage, ProviderError, ToolCall, ToolSpec

ANY_OBJECT: dict[str, Any] = {"type": "object"}


def output_schema(tools: Sequence[ToolSpec], accepts: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The anyOf schema; `accepts` says whether llama.cpp's converter can compile a parameters schema. A tool whose
    schema it cannot compile gets free-form object arguments rather than silently losing the whole constraint
    (llama-cpp-python falls back to unconstrained JSON when any part of the schema fails)."""
    branches: list[dict[str, Any]] = []
    for tool in tools:
        params = tool.parameters if tool.parameters and accepts(tool.parameters) else ANY_OBJECT
        branches.append({"type": "object", "properties": {"tool": {"const": tool.name}, "arguments": params},
                         "required": ["tool", "arguments"]})
    branches.append({"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]})
    return {"anyOf": branches}


def tool_prompt(tools: Sequence[ToolSpec]) -> str:
    # Short on purpose: every token of instructions is context the tiny model cannot spend on the conversation.
    lines = ["Tools:"]
    for tool in tools:
        props = tool.parameters.get("properties") or {}
        args = ", ".join(f"{name}: {spec.get('type', 'any')}" for name, spec in props.items() if isinstance(spec, dict))
        lines.append(f"- {tool.name}({args}): {tool.description}".rstrip(": "))
    # Of the wordings tried on SmolLM2-135M this one routed best (7/12 vs 4/12 on a small probe); it is still weak.
    lines.append('Reply with JSON. To use a tool: {"tool": "<name>", "arguments": {...}}. To reply directly: '
                 '{"answer": "<reply>"}. Use a tool only when it matches the request.')
    return "\n".join(lines)


def messages_for_model(messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> list[dict[str, str]]:
    """Plain role/content messages: one leading system message, tool calls and results spelled out as text in the
    same JSON the model is asked to write, since small chat templates know no tool roles."""
    system = [m.content for m in messages if m.role == "system" and m.content]
    if tools:
        system.append(tool_prompt(tools))
    out = [{"role": "system", "content": "\n\n".join(system)}] if system else []
    for m in messages:
        if m.role == "system":
            continue
        if m.role == "tool":
            out.append({"role": "user", "content": f"Result of {m.name or 'the tool'}: {m.content or ''}"})
        elif m.role == "assistant" and m.tool_calls:
            calls = [json.dumps({"tool": c.name, "arguments": c.arguments or {}}) for c in m.tool_calls]
            out.append({"role": "assistant", "content": "\n".join(calls)})
        else:
            out.append({"role": m.role, "content": m.content or ""})
    return out


def parse_output(text: str, truncated: bool) -> tuple[str | None, tuple[ToolCall, ...]]:
    """(answer text, tool calls) from the constrained output."""
    try:
        data = json.loads(text)
    except ValueError:
        if truncated:
            # Like OpenAI with finish_reason "length": a cut-off answer is still an answer, and a cut-off call is a
            # call with unusable arguments, which the harness reports back to the model.
            partial = _partial_answer(text)
            if partial is not None:
                return partial, ()
            call = _partial_call(text)
            if call is not None:
                return None, (call,)
        raise ProviderError("provider_bad_response",
                            f"the local model's reply is not the JSON the grammar demands: {text[:200]!r}") from None
    if isinstance(data, dict) and isinstance(data.get("answer"), str):
        return data["answer"], ()
    if isinstance(data, dict) and isinstance(data.get("tool"), str):
        args = data.get("arguments")
        raw = json.dumps(args)
        call_id = f"call_{uuid.uuid4().hex[:12]}"
        if isinstance(args, dict):
            return None, (ToolCall(id=call_id, name=data["tool"], arguments=args, raw_arguments=raw),)
        return None, (ToolCall(id=call_id, name=data["tool"], arguments=None, raw_arguments=raw,
                               arguments_error="arguments must be a JSON object"),)
    raise ProviderError("provider_bad_response", f"the local model's reply has neither tool nor answer: {text[:200]!r}")


_ANSWER_START = re.compile(r'^\s*\{\s*"answer"\s*:\s*"')
_CALL_START = re.compile(r'^\s*\{\s*"tool"\s*:\s*"(?P<name>[^"\\]+)"\s*,\s*"arguments"\s*:\s*')


def _partial_call(text: str) -> ToolCall | None:
    match = _CALL_START.match(text)
    if not match:
        return None
    return ToolCall(id=f"call_{uuid.uuid4().hex[:12]}", name=match["name"], arguments=None,
                    raw_arguments=text[match.end():],
                    arguments_error="the arguments were cut off by the output token limit; send shorter arguments")


def _partial_answer(text: str) -> str | None:
    match = _ANSWER_START.match(text)
    if not match:
        return None
    rest = text[match.end():]
    for cut in range(min(len(rest), 6) + 1):  # drop a dangling escape such as \ or \u00
        try:
            return str(json.loads('"' + rest[: len(rest) - cut] + '"'))
        except ValueError:
            continue
    return None
