"""`POST /v1/channels/telegram/webhook`: Telegram pushes each update here with the secret it was given.

Answers 200 once the update is stored (or deliberately ignored); a store failure answers 500 so Telegram
delivers it again. aiogram's own `SimpleRequestHandler` is not used: it answers a bad secret with a bare 401,
not the project's error envelope, and hands the update to a dispatcher we do not need.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.errors import ThinklioError

PATH = "/v1/channels/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def default_secret(token: str) -> str:
    """A secret derived from the token: stable across restarts and instances, unguessable without the token."""
    return hmac.new(token.encode(), b"thinklio-telegram-webhook", hashlib.sha256).hexdigest()


def handler(secret: str, handle: Callable[[dict[str, Any]], Awaitable[None]], *,
            limit: int) -> Callable[[web.Request], Awaitable[web.Response]]:
    expected = secret.encode()

    async def webhook(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            raise ThinklioError("unauthenticated", f"missing {SECRET_HEADER} header")
        if not hmac.compare_digest(given.encode(), expected):
            raise ThinklioError("forbidden", f"wrong {SECRET_HEADER}")
        body = await request.read()
        if len(body) > limit:
            raise ThinklioError("bad_request", f"the request body is larger than {limit} bytes", status=413)
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ThinklioError("bad_request", f"the body is not valid JSON: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise ThinklioError("bad_request", "the body is not a Telegram update")
        await handle(data)
        return web.json_response({})

    return webhook
