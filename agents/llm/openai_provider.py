"""Any OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM, llama.cpp server, ...) via the official SDK.

Retries are the SDK's own: it retries 408/409/429/5xx, connection errors and timeouts with exponential backoff and
jitter, and for 429/5xx it sleeps for the server's Retry-After (or retry-after-ms) when that is a positive delay the SDK
accepts (up to 60 s in 1.x, 120 s in 3.x); longer Retry-After values are not waited out but reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import openai

from agents.llm.base import ChatMessage, ChatResult, ProviderError, TextSink, ToolSpec, estimate_prompt_tokens
from agents.llm.openai_stream import StreamedAnswer
from agents.llm.openai_wire import messages_to_wire, parse_response, tools_to_wire
from config.settings import Settings

DEFAULT_MODEL = "gpt-4o-mini"
# OpenAI-compatible servers without authentication still need a non-empty key for the SDK to build its headers.
PLACEHOLDER_KEY = "thinklio-no-key"
# The final chunk then carries the usage, so a streamed answer is priced like any other.
STREAM_USAGE = {"stream_options": {"include_usage": True}}


class OpenAIProvider:
    name = "openai"

    def __init__(self, settings: Settings) -> None:
        self.default_model = settings.llm_model or DEFAULT_MODEL
        self._max_tokens = settings.llm_max_tokens
        self._timeout = settings.llm_timeout_seconds
        self._retries = settings.llm_max_retries
        self._where = settings.llm_base_url or "api.openai.com"
        self._client = openai.AsyncOpenAI(
            api_key=settings.llm_api_key or PLACEHOLDER_KEY,
            base_url=settings.llm_base_url,
            timeout=settings.llm_timeout_seconds,
            max_retries=settings.llm_max_retries,
        )
        # Models that refused `max_tokens` and want `max_completion_tokens` (OpenAI's reasoning models);
        # compatible servers mostly know only `max_tokens`, so that stays the default.
        self._completion_tokens_models: set[str] = set()

    async def chat(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = (), *,
                   model: str | None = None, max_tokens: int | None = None, on_text: TextSink | None = None,
                   repeat_penalty: float | None = None) -> ChatResult:
        # `repeat_penalty` is llama.cpp's; endpoint models do without it.
        model = model or self.default_model
        request: dict[str, Any] = {"model": model, "messages": messages_to_wire(messages)}
        if tools:
            request["tools"] = tools_to_wire(tools)
        limit = max_tokens or self._max_tokens
        try:
            if on_text is not None:
                return await self._post(request, model, limit, on_text)
            return parse_response(await self._post(request, model, limit, None), model)
        except openai.APIError as exc:
            raise self._translate(exc, model) from exc

    async def count_tokens(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = ()) -> int:
        return estimate_prompt_tokens(messages, tools)

    async def _post(self, request: dict[str, Any], model: str, limit: int, on_text: TextSink | None) -> Any:
        if model not in self._completion_tokens_models:
            try:
                return await self._send({**request, "max_tokens": limit}, on_text, model)
            except openai.BadRequestError as exc:
                if "max_completion_tokens" not in str(exc):
                    raise
                self._completion_tokens_models.add(model)
        return await self._send({**request, "max_completion_tokens": limit}, on_text, model)

    async def _send(self, body: dict[str, Any], on_text: TextSink | None, model: str) -> Any:
        # The client's generic post keeps its retries, Retry-After handling and error types but skips
        # `chat.completions.create`'s recursive re-typing of the request, which costs several ms of CPU per
        # call; our wire dicts are plain JSON already.
        if on_text is None:
            content: bytes = await self._client.post("/chat/completions", body=body, cast_to=bytes)
            return content
        stream = await self._client.post("/chat/completions", body={**body, "stream": True, **STREAM_USAGE},
                                         cast_to=object, stream=True, stream_cls=openai.AsyncStream[object])
        chunks = StreamedAnswer(model, on_text)
        async for chunk in stream:
            chunks.add(chunk)
        return chunks.result()

    def _translate(self, exc: openai.APIError, model: str) -> ProviderError:
        attempts = f"{self._retries + 1} attempt{'s' if self._retries else ''}"
        if isinstance(exc, openai.APITimeoutError):
            return ProviderError("provider_timeout", f"{self._where} gave no answer within {self._timeout:g}s "
                                 f"({attempts}); raise THINKLIO_LLM_TIMEOUT_SECONDS or use a smaller model")
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc
            return ProviderError("provider_unavailable", f"cannot reach {self._where} ({attempts}): {cause}; "
                                 "check THINKLIO_LLM_BASE_URL and that the server is running")
        if isinstance(exc, openai.APIStatusError):
            return self._translate_status(exc, model, attempts)
        return ProviderError("provider_bad_response", f"the answer from {self._where} is unusable: {exc}")

    def _translate_status(self, exc: openai.APIStatusError, model: str, attempts: str) -> ProviderError:
        status = exc.status_code
        detail = _error_detail(exc)
        if status == 429:
            after = exc.response.headers.get("retry-after")
            wait = f", server asks to wait {after}s" if after else ""
            return ProviderError("provider_unavailable", f"{self._where} is rate limiting ({attempts}{wait}): "
                                 f"{detail}; wait, or raise the account's limits")
        if status >= 500 or status in (408, 409):
            return ProviderError("provider_unavailable", f"{self._where} failed with HTTP {status} ({attempts}): "
                                 f"{detail}; the server is down or overloaded, try again later")
        hint = {
            401: "check THINKLIO_LLM_API_KEY",
            403: "the key lacks access to this model or endpoint; check THINKLIO_LLM_API_KEY",
            404: f"unknown model {model!r} or wrong endpoint; check THINKLIO_LLM_MODEL and THINKLIO_LLM_BASE_URL "
                 "(it usually ends in /v1)",
            413: "the request is too large; shorten the conversation",
        }.get(status, "the request was refused; the conversation may exceed the model's context window")
        return ProviderError("provider_rejected", f"{self._where} refused the request with HTTP {status}: "
                             f"{detail}; {hint}")

    async def close(self) -> None:
        await self._client.close()


def _error_detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error")  # the SDK usually unwraps {"error": {...}}, but not for every server's shape
        message = inner.get("message") if isinstance(inner, dict) else body.get("message")
        if message:
            return str(message)[:300]
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    return exc.message[:300]
