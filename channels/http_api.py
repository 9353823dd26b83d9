"""The HTTP channel API: `POST /v1/channels/{channel}/messages` with an API key.

Answers 200 with the reply when it is ready within `reply_wait_seconds`, else 202 with the ids to poll
(`GET /v1/interactions/{id}`). The caller's user ids are namespaced by the key's account, so two accounts'
user "42" are two different people. A caller keeps several conversations with one user apart either by the
`conversation_id` the first reply gave, or by a `conversation_key` of its own (a ticket number, a thread id),
namespaced by the user, so two users' "support-1" are two conversations.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any, ClassVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.auth import require_scope
from bot.errors import not_found
from bot.i18n import normalise
from bot.messages import InboundMessage, OutboundMessage, Outcome, Sender
from bot.services import Services
from bot.web import read_model
from channels.base import BaseChannel, ChannelSpec
from config.catalogue import ChannelSeed

METADATA_LIMIT = 4096
# Always on: every server answers its HTTP API.
CHANNEL = ChannelSpec(type="http", adapter="channels.http_api:HttpChannel",
                      seeds=(ChannelSeed(slug="api", type="http", agent="assistant"),))


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    id: str = Field(min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    locale: str | None = Field(default=None, max_length=35)  # BCP 47 ("es", "pt-BR"): the first guess of a language


    @field_validator("locale")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is not None and normalise(value) is None:
            raise ValueError("not a language tag this server knows (use BCP 47, e.g. 'es' or 'pt-BR')")
        return value


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1)
    user: UserIn
    message_id: str | None = Field(default=None, min_length=1, max_length=255)
    conversation_id: str | None = Field(default=None, min_length=1, max_length=64)
    conversation_key: str | None = Field(default=None, min_length=1, max_length=255)
    metadata: dict[str, Any] | None = None  # kept with the message, given back with its interaction

    @field_validator("metadata")
    @classmethod
    def _small(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(json.dumps(value)) > METADATA_LIMIT:
            raise ValueError(f"at most {METADATA_LIMIT} bytes of JSON")
        return value

    @model_validator(mode="after")
    def _one_conversation(self) -> MessageIn:
        if self.conversation_id is not None and self.conversation_key is not None:
            raise ValueError("give conversation_id or conversation_key, not both")
        return self


class HttpChannel(BaseChannel):
    type: ClassVar[str] = "http"

    def __init__(self, services: Services, web_app: web.Application) -> None:
        self._s = services
        self._accepted = 0
        web_app.router.add_post("/v1/channels/{channel}/messages", self.post_message)

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
        sender = Sender(external_id=f"{key.account_id}:{body.user.id}", display_name=body.user.name,
                        locale=body.user.locale)
        inbound = InboundMessage(
            channel=slug,
            sender=sender,
            text=body.text,
            external_id=body.message_id,
            conversation_id=body.conversation_id,
            conversation_key=None if body.conversation_key is None else conversation_key(sender, body.conversation_key),
            metadata=body.metadata or {},
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


def conversation_key(sender: Sender, key: str) -> str:
    """The stored key of a caller's conversation: the user's id and theirs, hashed when that is too long. The
    length prefix keeps ("a#b", "c") and ("a", "b#c") apart; "key:" keeps it apart from a user's default key
    (their id, which starts with the account's)."""
    sender_id = sender.external_id
    plain = f"key:{len(sender_id)}:{sender_id}:{key}"
    if len(plain) <= 255:
        return plain
    return f"key:sha256:{hashlib.sha256(plain.encode()).hexdigest()}"


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
