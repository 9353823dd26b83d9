"""A fake Slack Web API on loopback: the real `AsyncWebClient` talks to it through `base_url`. Records every
call, answers `users.info` from `users`, and can be told to answer a method with 429 (Retry-After), 500 or
an error of Slack's own (`channel_not_found` with 200, as Slack does)."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import WSMsgType, web

BOT_TOKEN = "xoxb-test-token"
SIGNING_SECRET = "test-signing-secret"
BOT_USER = "UBOT0001"
TEAM = "T0001"


@dataclass
class FakeSlack:
    url: str = ""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    acks: list[str] = field(default_factory=list)  # envelope ids the socket-mode client acknowledged
    ack_payloads: dict[str, Any] = field(default_factory=dict)  # envelope id -> the payload its ack carried
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # user id -> the `user` users.info returns
    connections: int = 0
    downloads: list[tuple[str, str | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._failures: dict[str, deque[tuple[int, int | None, str | None]]] = defaultdict(deque)
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._ws: web.WebSocketResponse | None = None

    def fail(self, method: str, status: int, *, retry_after: int | None = None, times: int = 1,
             error: str | None = None) -> None:
        for _ in range(times):
            self._failures[method].append((status, retry_after, error))

    def posted(self) -> list[dict[str, Any]]:
        return [params for method, params in self.calls if method == "chat.postMessage" and "_failed" not in params]

    def called(self, *methods: str) -> list[tuple[str, dict[str, Any]]]:
        """The calls of these methods, in order (failed ones included, marked `_failed`)."""
        return [(method, params) for method, params in self.calls if method in methods]

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_post("/api/{method}", self._handle)
        app.router.add_get("/api/{method}", self._handle)  # users.info and a few others are GETs
        app.router.add_get("/files/{name}", self._file)
        app.router.add_get("/ws", self._socket)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/api/"  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def push_envelope(self, payload: dict[str, Any], *, kind: str = "events_api") -> str:
        """Send an envelope over the current socket-mode connection (waiting for one)."""
        await wait_for(lambda: self._ws is not None and not self._ws.closed, message="a socket-mode connection")
        assert self._ws is not None
        envelope = f"env-{next(self._ts)}"
        await self._ws.send_json({"envelope_id": envelope, "type": kind, "payload": payload,
                                  "accepts_response_payload": False, "retry_attempt": 0, "retry_reason": ""})
        return envelope

    async def drop_connection(self) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections += 1
        self._ws = ws
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0001"}})
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                ack = json.loads(message.data)
                self.acks.append(ack.get("envelope_id"))
                if ack.get("payload") is not None:
                    self.ack_payloads[ack["envelope_id"]] = ack["payload"]
        return ws

    def add_file(self, name: str, data: bytes) -> str:
        """Host a file as Slack does; returns its `url_private`."""
        self.files[name] = data
        return self.url.replace("/api/", f"/files/{name}")

    async def _file(self, request: web.Request) -> web.Response:
        self.downloads.append((request.match_info["name"], request.headers.get("Authorization")))
        if request.headers.get("Authorization") != f"Bearer {BOT_TOKEN}":
            return web.Response(status=403)
        return web.Response(body=self.files[request.match_info["name"]])

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)  # slack_sdk sends some methods' arguments in the URL
        if request.method == "POST" and request.content_type == "application/json":
            params |= dict(await request.json())
        elif request.method == "POST":
            params |= {k: str(v) for k, v in (await request.post()).items()}
        if self._failures[method]:
            status, retry_after, error = self._failures[method].popleft()
            self.calls.append((method, {**params, "_failed": error or status}))
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            error = error or ("ratelimited" if status == 429 else "internal_error")
            return web.json_response({"ok": False, "error": error}, status=status, headers=headers)
        self.calls.append((method, params))
        if method == "apps.connections.open":
            return web.json_response({"ok": True, "url": self.url.replace("http://", "ws://").replace("/api/", "/ws")})
        if method == "auth.test":
            return web.json_response({"ok": True, "user_id": BOT_USER, "team_id": TEAM, "bot_id": "B0001"})
        if method == "users.info":
            user = self.users.get(str(params.get("user")))
            return web.json_response({"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"})
        if method == "chat.postMessage":
            ts = f"1700000000.{next(self._ts):06d}"
            return web.json_response({"ok": True, "channel": params.get("channel"), "ts": ts})
        return web.json_response({"ok": True})


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.close()


def slack_overrides(fake: FakeSlack) -> dict[str, Any]:
    return {"slack_bot_token": BOT_TOKEN, "slack_signing_secret": SIGNING_SECRET, "slack_api_base": fake.url,
            "slack_retry_seconds": 0.05}


async def wait_for(condition: Callable[[], bool], *, timeout: float = 10.0, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        await asyncio.sleep(0.02)
