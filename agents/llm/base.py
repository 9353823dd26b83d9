"""The one small interface every language model provider implements: messages and tool schemas in; text,
tool calls and token usage out."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Role = Literal["system", "user", "assistant", "tool"]
# Receives the answer so far, each time it grows, while a provider streams it (not called for tool calls).
TextSink = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as the model sees it: name, description and a JSON schema of its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any] | None  # None when the model's arguments were not a JSON object
    arguments_error: str | None = None  # why they could not be used, returned to the model as the tool result
    raw_arguments: str = ""


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str | None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None  # for role "tool": which call this answers
    name: str | None = None  # for role "tool": the tool's name


@dataclass(frozen=True, slots=True)
class Usage:
    tokens_in: int = 0
    tokens_out: int = 0


@dataclass(frozen=True, slots=True)
class ChatResult:
    text: str | None
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    finish_reason: str | None = None


class ProviderError(Exception):
    """The model could not be reached or answered nonsense, after the provider's own retries.

    `code`: provider_unavailable (connection refused, 5xx, 429 after retries), provider_timeout,
    provider_bad_response (not the shape the API promises), provider_rejected (4xx other than 429: bad key,
    unknown model), provider_context (the prompt does not fit the model's window: retrying cannot help)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Provider(Protocol):
    name: str  # "openai" | "local"
    default_model: str

    async def chat(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = (), *,
                   model: str | None = None, max_tokens: int | None = None, on_text: TextSink | None = None,
                   repeat_penalty: float | None = None) -> ChatResult:
        """One model call. Raises ProviderError; never returns a half-parsed result. With `on_text`, the answer
        is streamed to it as it is generated, where the provider can."""
        ...

    async def count_tokens(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = ()) -> int:
        """The prompt's size in the model's tokens: exact where the provider has the tokenizer, else an estimate
        that errs high."""
        ...

    async def close(self) -> None: ...


def estimate_tokens(text: str) -> int:
    """About four characters a token for English; a little over, to err on the safe side of a window."""
    return len(text) * 10 // 35 + 1


def estimate_prompt_tokens(messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = ()) -> int:
    """For providers without a tokenizer: the texts, the tool calls and schemas, and a few tokens a message."""
    total = 3
    for m in messages:
        total += 4 + estimate_tokens(m.content or "")
        for call in m.tool_calls:
            total += 8 + estimate_tokens(call.name + json.dumps(call.arguments or {}))
    for spec in tools:
        total += 10 + estimate_tokens(spec.name + spec.description + json.dumps(spec.parameters))
    return total
