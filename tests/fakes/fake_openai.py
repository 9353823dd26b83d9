"""A scripted OpenAI-compatible chat server over real HTTP, so provider tests exercise the real client, its retries
and its timeouts rather than a mocked transport.

    fake.reply("hi", tokens_in=10, tokens_out=3)
    fake.tool_call("current_time", '{"timezone": "UTC"}')
    fake.status(429, retry_after=1)
    fake.hang(5)
    fake.malformed()
    settings = Settings(..., llm_base_url=fake.url)

Each request consumes the next scripted step; with the script empty the server answers `default_text`. A request
with `"stream": true` gets a scripted completion as server-sent events, the way OpenAI streams: the text in
pieces, each tool call in fragments, then the usage, then `[DONE]`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass(slots=True)
class Step:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    hang_seconds: float = 0.0
    streamable: bool = False  # a well-formed completion, which a streaming request gets as events


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    body: Any  # the parsed JSON body, or the raw text when it was not JSON
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival, to check retry spacing


class FakeOpenAI:
    def __init__(self, *, model: str = "fake-model", default_text: str = "default answer") -> None:
        self.model = model
        self.default_text = default_text
        self.requests: list[RecordedRequest] = []
        self._script: deque[Step] = deque()
        self._ids = itertools.count(1)
        self._server: TestServer | None = None
        self._closing = asyncio.Event()

    # -- lifecycle -------------------------------------------------------------------------------------------------

    async def start(self) -> FakeOpenAI:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        self._server = TestServer(app, host="127.0.0.1", port=0)
        await self._server.start_server()
        return self

    async def close(self) -> None:
        # Hanging handlers outlive the client's disconnect; wake them so shutdown does not wait them out.
        self._closing.set()
        if self._server is not None:
            await self._server.close()
            self._server = None

    async def __aenter__(self) -> FakeOpenAI:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def url(self) -> str:
        assert self._server is not None, "FakeOpenAI is not started"
        return f"http://127.0.0.1:{self._server.port}/v1"

    @property
    def bodies(self) -> list[Any]:
        return [r.body for r in self.requests]

    @property
    def pending(self) -> int:
        return len(self._script)

    # -- script ----------------------------------------------------------------------------------------------------

    def reply(self, text: str, *, tokens_in: int | None = 10, tokens_out: int | None = 5,
              finish_reason: str = "stop") -> FakeOpenAI:
        message = {"role": "assistant", "content": text}
        return self.completion(message, tokens_in=tokens_in, tokens_out=tokens_out, finish_reason=finish_reason)

    def tool_call(self, name: str, arguments: str, *, call_id: str | None = None, text: str | None = None,
                  tokens_in: int | None = 10, tokens_out: int | None = 5) -> FakeOpenAI:
        """`arguments` goes out verbatim, so it may be malformed JSON; `name` need not be a known tool."""
        return self.tool_calls([(name, arguments)], ids=[call_id] if call_id else None, text=text,
                               tokens_in=tokens_in, tokens_out=tokens_out)

    def tool_calls(self, calls: Sequence[tuple[str, str]], *, ids: Sequence[str] | None = None,
                   text: str | None = None, tokens_in: int | None = 10, tokens_out: int | None = 5) -> FakeOpenAI:
        ids = list(ids) if ids else [f"call_{next(self._ids)}" for _ in calls]
        message = {
            "role": "assistant",
            "content": text,
            "tool_calls": [
                {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
                for cid, (name, args) in zip(ids, calls, strict=True)
            ],
        }
        return self.completion(message, tokens_in=tokens_in, tokens_out=tokens_out, finish_reason="tool_calls")

    def completion(self, message: dict[str, Any], *, tokens_in: int | None = 10, tokens_out: int | None = 5,
                   finish_reason: str = "stop") -> FakeOpenAI:
        """Any assistant message; usage is left out entirely when both token counts are None."""
        self._script.append(self._completion_step(message, tokens_in, tokens_out, finish_reason))
        return self

    def _completion_step(self, message: dict[str, Any], tokens_in: int | None, tokens_out: int | None,
                         finish_reason: str) -> Step:
        body: dict[str, Any] = {
            "id": f"chatcmpl-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        }
        if tokens_in is not None or tokens_out is not None:
            t_in, t_out = tokens_in or 0, tokens_out or 0
            body["usage"] = {"prompt_tokens": t_in, "completion_tokens": t_out, "total_tokens": t_in + t_out}
        return Step(body=json.dumps(body).encode(), streamable=True)

    def status(self, code: int, *, retry_after: float | str | None = None, message: str | None = None) -> FakeOpenAI:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        error = {"error": {"message": message or f"fake error {code}", "type": "fake_error", "code": str(code)}}
        return self.json(code, error, headers=headers)

    def hang(self, seconds: float) -> FakeOpenAI:
        """Say nothing for `seconds` (longer than the client's timeout), then answer the default text."""
        self._script.append(Step(hang_seconds=seconds))
        return self

    def malformed(self, body: bytes = b"{this is not json", content_type: str = "application/json") -> FakeOpenAI:
        return self.custom(200, body, content_type=content_type)

    def json(self, status: int, body: Any, *, headers: dict[str, str] | None = None) -> FakeOpenAI:
        return self.custom(status, json.dumps(body).encode(), headers=headers)

    def custom(self, status: int, body: bytes | str, *, content_type: str = "application/json",
               headers: dict[str, str] | None = None) -> FakeOpenAI:
        raw = body.encode() if isinstance(body, str) else body
        self._script.append(Step(status=status, body=raw, content_type=content_type, headers=dict(headers or {})))
        return self

    # -- server ----------------------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.text()
        try:
            parsed: Any = json.loads(raw)
        except ValueError:
            parsed = raw
        self.requests.append(RecordedRequest(parsed, dict(request.headers), time.monotonic()))
        step = self._script.popleft() if self._script else None
        if step is not None and step.hang_seconds:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), step.hang_seconds)
            step = None
        if step is None:
            step = self._completion_step({"role": "assistant", "content": self.default_text}, 10, 5, "stop")
        if isinstance(parsed, dict) and parsed.get("stream") and step.status == 200 and step.streamable:
            return await self._stream(request, json.loads(step.body))
        return web.Response(status=step.status, body=step.body, content_type=step.content_type,
                            headers=step.headers)

    async def _stream(self, request: web.Request, completion: dict[str, Any]) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        choice = completion["choices"][0]
        message = choice["message"]
        head = {"id": completion["id"], "object": "chat.completion.chunk", "created": completion["created"],
                "model": completion["model"]}

        async def send(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> None:
            chunk = {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        await send({"role": "assistant", "content": ""})
        text = message.get("content") or ""
        for start in range(0, len(text), 5):
            await send({"content": text[start:start + 5]})
        for index, call in enumerate(message.get("tool_calls") or ()):
            arguments = call["function"]["arguments"]
            await send({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                        "function": {"name": call["function"]["name"], "arguments": ""}}]})
            for start in range(0, len(arguments), 7):
                await send({"tool_calls": [{"index": index, "function": {"arguments": arguments[start:start + 7]}}]})
        await send({}, choice["finish_reason"])
        if "usage" in completion:
            await response.write(f"data: {json.dumps({**head, 'choices': [], 'usage': completion['usage']})}\n\n"
                                 .encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


@pytest_asyncio.fixture(name="fake_openai")  # explicit, so importing it under another name still registers it
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake
