"""An in-process provider for harness logic tests (the idea of pydantic-ai's FunctionModel): each call is
answered by a function of the messages and tools, and every call is recorded."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from agents.llm.base import ChatMessage, ChatResult, TextSink, ToolSpec, estimate_prompt_tokens

Answer = Callable[[Sequence[ChatMessage], Sequence[ToolSpec]], ChatResult]


class ScriptedProvider:
    name = "scripted"
    default_model = "scripted-model"

    def __init__(self, answer: Answer | Sequence[ChatResult]) -> None:
        self.calls: list[tuple[list[ChatMessage], list[ToolSpec]]] = []
        if callable(answer):
            self._answer = answer
        else:
            script = list(answer)
            self._answer = lambda messages, tools: script.pop(0)

    async def chat(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = (), *,
                   model: str | None = None, max_tokens: int | None = None, on_text: TextSink | None = None,
                   repeat_penalty: float | None = None) -> ChatResult:
        self.calls.append((list(messages), list(tools)))
        result = self._answer(messages, tools)
        if on_text is not None and result.text and not result.tool_calls:
            for end in range(1, len(result.text) + 1, 8):  # streamed in pieces, as a real model would
                on_text(result.text[:end])
            on_text(result.text)
        return result

    async def count_tokens(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = ()) -> int:
        return estimate_prompt_tokens(messages, tools)

    async def close(self) -> None:
        return None
