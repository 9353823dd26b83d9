"""The HTTP channel API: `POST /v1/channels/{channel}/messages` with an API key.

Answers 200 with the reply when it is ready within `reply_wait_seconds`, else 202 with the ids to poll
(`GET /v1/interactions/{id}`). The caller's user ids are namespaced by the key's account, so two accounts'
user "42" are two different people.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from bot.auth import require_scope
from bot.errors import not_found
from bot.messages import InboundMessage, OutboundMessage, Outcome, Sender
from bot.services import Services
from bot.web import read_model


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    id: str = Field(min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=200)


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1)
    user: UserIn
    message_id: str | None = Field(default=None, min_length=1, max_length=255)
    conversation_id: str | None = Field(default=None, min_length=1, max_length=64)


class HttpChannel:
    type: ClassVar[str] = "http"

    def __init__(self, services: Services, web_app: web.Application) -> None:
        self._s = services
        self._accepted = 0
        web_app.router.add_post("/v1/channels/{channel}/messages", self.post_message)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def deliver(self, message: OutboundMessage) -> None:
        # Replies are read back over the API; pushing them out is the job of outbound webhooks.
        return None

    def health(self) -> dict[str, Any]:
        return {"status": "running", "accepted": self._accepted}

    async def post_message(self, request: web.Request) -> web.Response:
        key = await self._s.api_keys.verify(request.headers.get("Authorization"))
        require_scope(key, "messages:write")
        slug = request.match_info["channel"]
        channel = await self._s.directory.channel(slug)
        if channel is None or channel.type != self.type or channel.account_id != key.account_id:
            raise not_found(f"channel {slug!r}")
        body = await read_model(request, MessageIn, limit=self._s.settings.max_body_bytes)
        inbound = InboundMessage(
            channel=slug,
            sender=Sender(external_id=f"{key.account_id}:{body.user.id}", display_name=body.user.name),
            text=body.text,
            external_id=body.message_id,
            conversation_id=body.conversation_id,
        )
        ticket = await self._s.pipeline.accept(inbound)
        self._accepted += 1
        # asyncio.wait never cancels the ticket: the turn goes on when the wait is over.
        await asyncio.wait((ticket.done,), timeout=self._s.settings.reply_wait_seconds)
        if not ticket.done.done():
            return web.json_response({"interaction_id": ticket.interaction_id,
                                      "conversation_id": ticket.conversation_id, "status": "processing",
                                      "duplicate": ticket.duplicate}, status=202)
        outcome = ticket.done.result()
        # Held for maintenance: accepted, and answered when it ends.
        status = 202 if outcome.status == "queued" else 200
        return web.json_response(_outcome_body(outcome, ticket.duplicate), status=status)


def _outcome_body(outcome: Outcome, duplicate: bool) -> dict[str, Any]:
    return {
        "interaction_id": outcome.interaction_id,
        "conversation_id": outcome.conversation_id,
        "status": outcome.status,
        "tier": outcome.tier,
        "intent": outcome.intent,
        "reply": outcome.reply,
        "error_code": outcome.error_code,
        "notice": outcome.notice,  # e.g. why the answer waits (maintenance): the reply comes later
        "duplicate": duplicate,
    }
