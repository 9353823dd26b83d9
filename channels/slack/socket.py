"""Socket Mode: events over a websocket Slack opens for us (no public URL). slack_sdk's aiohttp client
reconnects by itself; each event envelope is acknowledged first, then handled; a slash command is acknowledged
with its answer, as the HTTP one is answered."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import ThinklioError

log = structlog.get_logger("thinklio.slack")

Handle = Callable[[dict[str, Any]], Awaitable[None]]
Command = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]  # a slash command -> the ack's payload


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
        if request.type == "slash_commands":
            await self._command(client, request)
            return
        # Ack before any work: Slack redelivers what is not acknowledged within 3 s.
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))
        try:
            if request.type == "events_api":
                await self._on_event(request.payload)
        except Exception:
            log.exception("slack_socket_event_failed", envelope_id=request.envelope_id)

    async def _command(self, client: SocketModeClient, request: SocketModeRequest) -> None:
        """A slash command is answered in its ack, as over HTTP: the message is stored first (quick), then the
        ack carries "Working on it…" (or what is wrong), and the reply follows in the channel."""
        try:
            payload: dict[str, Any] | None = await self._on_command(request.payload)
        except ThinklioError as exc:
            payload = {"response_type": "ephemeral", "text": exc.message}
        except Exception:
            log.exception("slack_socket_command_failed", envelope_id=request.envelope_id)
            payload = {"response_type": "ephemeral", "text": "Something went wrong; please try again."}
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id,
                                                                  payload=payload or None))
