"""Socket Mode: events over a websocket Slack opens for us (no public URL). slack_sdk's aiohttp client
reconnects by itself; each envelope is acknowledged first, then handled."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import structlog
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

log = structlog.get_logger("thinklio.slack")

Handle = Callable[[dict[str, Any]], Awaitable[None]]
Command = Callable[[bytes], Awaitable[Any]]


class SocketMode:
    def __init__(self, app_token: str, web_client: AsyncWebClient, *, on_event: Handle, on_command: Command,
                 ping_interval: float = 5.0) -> None:
        self.client = SocketModeClient(app_token=app_token, web_client=web_client, auto_reconnect_enabled=True,
                                       ping_interval=ping_interval)
        self.client.socket_mode_request_listeners.append(self._handle)  # type: ignore[arg-type]
        self._on_event = on_event
        self._on_command = on_command
        self.connected = False

    async def start(self) -> None:
        await self.client.connect()

    async def stop(self) -> None:
        await self.client.close()

    async def refresh(self) -> bool:
        self.connected = await self.client.is_connected()
        return self.connected

    async def _handle(self, client: SocketModeClient, request: SocketModeRequest) -> None:
        # Ack before any work: Slack redelivers what is not acknowledged within 3 s.
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))
        try:
            if request.type == "events_api":
                await self._on_event(request.payload)
            elif request.type == "slash_commands":
                await self._on_command(urlencode(request.payload).encode())
        except Exception:
            log.exception("slack_socket_event_failed", envelope_id=request.envelope_id)
