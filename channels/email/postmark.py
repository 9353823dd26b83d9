"""Postmark's inbound webhook: `POST /v1/channels/email/postmark`.

Postmark does not sign inbound posts, so the route is protected by HTTP basic auth (the user and password set
on the webhook's URL in Postmark), compared in constant time; wrong or missing is 401 with nothing read
further. Postmark posts attachments inline as base64, so the body is read as a stream with its own limit
(`THINKLIO_EMAIL_MAX_MAIL_BYTES`) instead of the server's small default.

Answers: 200 once the mail is stored, and also when it is deliberately left out (unknown recipient, automated,
refused sender: Postmark must not retry those); 429 when the sender is over the rate limit, so Postmark retries
later; 400 for a body that is not a Postmark payload. A bounce or other delivery event posted here is
acknowledged: a hard bounce marks the address so no more replies go there until it writes again.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
from typing import Any

import structlog
from aiohttp import web

from bot.errors import ThinklioError
from bot.messages import too_large
from channels.email.mail import MailError
from channels.email.postmark_inbound import parse_postmark
from channels.email.receiver import Receiver

log = structlog.get_logger("thinklio.email")

PATH = "/v1/channels/email/postmark"
CHUNK = 64 * 1024
THREAD_ABOVE = 256 * 1024  # parse bigger bodies on a worker thread
HARD_BOUNCES = frozenset({"HardBounce", "BadEmailAddress", "ManuallyDeactivated", "SpamComplaint"})


def _credentials(header: str) -> tuple[bytes, bytes] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(b":")
    return (user, password) if colon else None


def is_bounce(payload: dict[str, Any]) -> bool:
    """A bounce webhook posted to the inbound URL (the rest, delivery and open events, the parser tells)."""
    return payload.get("RecordType") == "Bounce" or "BouncedAt" in payload


class PostmarkWebhook:
    def __init__(self, channel: Receiver, *, user: str, password: str, limit: int) -> None:
        self._channel = channel
        self._user = user.encode()
        self._password = password.encode()
        self._limit = limit

    def _authorized(self, request: web.Request) -> bool:
        given = _credentials(request.headers.get("Authorization", ""))
        if given is None:
            return False
        # Both compared every time: how far a guess got must not show in the timing.
        user_ok = hmac.compare_digest(given[0], self._user)
        password_ok = hmac.compare_digest(given[1], self._password)
        return user_ok and password_ok

    async def _body(self, request: web.Request) -> bytearray:
        if request.content_length is not None and request.content_length > self._limit:
            raise ThinklioError("bad_request", f"the mail is too large: {too_large(self._limit)}", status=413)
        body = bytearray()
        async for chunk in request.content.iter_chunked(CHUNK):
            body += chunk
            if len(body) > self._limit:
                raise ThinklioError("bad_request", f"the mail is too large: {too_large(self._limit)}", status=413)
        return body  # not copied: json reads a bytearray as it is

    async def handle(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            log.warning("email_postmark_unauthorized", peer=request.remote)
            raise ThinklioError("unauthenticated", "wrong or missing credentials for the Postmark webhook",
                                headers={"WWW-Authenticate": 'Basic realm="thinklio"'})
        body = await self._body(request)
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ThinklioError("bad_request", f"the body is not valid JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise ThinklioError("bad_request", "the body is not a Postmark inbound payload")
        if is_bounce(payload):
            return web.json_response({"status": await self._bounce(payload)})
        now = self._channel.now()
        try:
            if len(body) > THREAD_ABOVE:
                mail = await asyncio.to_thread(parse_postmark, payload, received_at=now)
            else:
                mail = parse_postmark(payload, received_at=now)
        except MailError as exc:
            if exc.reason == "postmark_event":
                log.info("email_postmark_event_ignored", record=payload.get("RecordType"),
                         message_id=payload.get("MessageID"))
                return web.json_response({"status": "ignored"})
            log.warning("email_unreadable", via="postmark", error=str(exc), message_id=payload.get("MessageID"))
            raise ThinklioError("bad_request", f"the payload is not a readable mail: {exc}") from None
        del body, payload  # the attachments' bytes now live in `mail` only
        outcome = await self._channel.receive(mail)
        if outcome == "limited":
            raise ThinklioError("rate_limited", "too many mails from this sender; try again later",
                                headers={"Retry-After": "600"})
        return web.json_response({"status": outcome})

    async def _bounce(self, payload: dict[str, Any]) -> str:
        """A bounce of one of our replies: a hard one stops replies to that address until it writes again."""
        address = str(payload.get("Email") or "").strip().lower()
        kind = str(payload.get("Type") or "")
        log.info("email_bounce", type=kind, address=address, message_id=payload.get("MessageID"))
        if address and kind in HARD_BOUNCES:
            await self._channel.blocklist.block(address, f"{kind}: {payload.get('Description') or ''}"[:300])
            return "blocked"
        return "bounce"
