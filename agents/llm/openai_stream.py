"""A streamed chat completion, put together chunk by chunk: the answer's text is handed on as it grows, tool
calls are assembled from their fragments, and the end result is the same `ChatResult` a plain call gives."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from agents.llm.base import ChatResult, ProviderError, TextSink, ToolCall, Usage
from agents.llm.openai_wire import parse_arguments, parse_usage


@dataclass(slots=True)
class _CallParts:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class StreamedAnswer:
    def __init__(self, model: str, on_text: TextSink) -> None:
        self._model = model
        self._on_text = on_text
        self._text: list[str] = []
        self._calls: dict[int, _CallParts] = {}
        self._usage = Usage()
        self._finish: str | None = None
        self._chunks = 0

    def add(self, chunk: Any) -> None:
        if not isinstance(chunk, dict):
            raise ProviderError("provider_bad_response", f"a streamed chunk is a {type(chunk).__name__}, not an object")
        self._chunks += 1
        self._model = str(chunk.get("model") or self._model)
        if chunk.get("usage"):
            self._usage = parse_usage(chunk["usage"])
        choices = chunk.get("choices") or []
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return  # the usage-only chunk at the end, or a keep-alive
        choice = choices[0]
        self._finish = choice.get("finish_reason") or self._finish
        delta = choice.get("delta") or {}
        if not isinstance(delta, dict):
            return
        content = delta.get("content")
        if isinstance(content, str) and content:
            self._text.append(content)
            self._on_text("".join(self._text))
        for fragment in delta.get("tool_calls") or ():
            if isinstance(fragment, dict):
                self._add_call(fragment)

    def _add_call(self, fragment: dict[str, Any]) -> None:
        index = fragment.get("index", len(self._calls))
        parts = self._calls.setdefault(index if isinstance(index, int) else len(self._calls), _CallParts())
        if isinstance(fragment.get("id"), str) and fragment["id"]:
            parts.id = fragment["id"]
        function = fragment.get("function") or {}
        if isinstance(function, dict):
            if isinstance(function.get("name"), str):
                parts.name += function["name"]
            if isinstance(function.get("arguments"), str):
                parts.arguments.append(function["arguments"])

    def result(self) -> ChatResult:
        if not self._chunks:
            raise ProviderError("provider_bad_response", "the model server's stream ended without a chunk")
        calls = []
        for index in sorted(self._calls):
            parts = self._calls[index]
            if not parts.name:
                raise ProviderError("provider_bad_response", f"streamed tool call #{index} has no function name")
            arguments, error, raw = parse_arguments("".join(parts.arguments))
            calls.append(ToolCall(id=parts.id or f"call_{uuid.uuid4().hex[:12]}", name=parts.name,
                                  arguments=arguments, arguments_error=error, raw_arguments=raw))
        text = "".join(self._text) or None
        return ChatResult(text=text, tool_calls=tuple(calls), usage=self._usage, model=self._model,
                          finish_reason=self._finish)
