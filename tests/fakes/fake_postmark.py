"""A fake Postmark API on loopback: the real `postmarker` client talks to it through `root_api_url`
(`THINKLIO_POSTMARK_API_BASE`). Records every `POST /email` and can be told to fail the next calls with a
status (500: Postmark down) or one of Postmark's own error codes (422 with `ErrorCode`, as Postmark does)."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

TOKEN = "postmark-server-token"


@dataclass
class FakePostmark:
    url: str = ""
    sent: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0

    def __post_init__(self) -> None:
        self._failures: deque[tuple[int, int | None]] = deque()
        self._runner: web.AppRunner | None = None

    def fail(self, status: int, *, error_code: int | None = None, times: int = 1) -> None:
        self._failures.extend([(status, error_code)] * times)

    async def start(self) -> FakePostmark:
        app = web.Application()
        app.router.add_post("/email", self._email)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/"  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _email(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if request.headers.get("X-Postmark-Server-Token") != TOKEN:
            return web.json_response({"ErrorCode": 10, "Message": "Bad or missing Server API token."}, status=401)
        if self._failures:
            status, code = self._failures.popleft()
            if code is None:
                return web.Response(status=status, text="Service Unavailable")
            return web.json_response({"ErrorCode": code, "Message": f"error {code}"}, status=status)
        body = await request.json()
        self.sent.append(body)
        return web.json_response({"To": body.get("To"), "SubmittedAt": "2026-11-26T10:00:00Z",
                                  "MessageID": f"pm-{len(self.sent)}", "ErrorCode": 0, "Message": "OK"})


@pytest.fixture
async def fake_postmark() -> AsyncIterator[FakePostmark]:
    fake = await FakePostmark().start()
    yield fake
    await fake.close()
