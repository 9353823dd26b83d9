"""What every `/v1/admin` route reads first: who the admin-scoped API key stands for, and its paging."""

from __future__ import annotations

from aiohttp import web

from bot.auth import require_scope
from bot.errors import ThinklioError
from bot.governance import Actor
from bot.services import Services


async def admin_actor(services: Services, request: web.Request) -> Actor:
    """The account admin an admin-scoped API key stands for (401 without a key, 403 without the scope)."""
    caller = await services.api_keys.verify(request.headers.get("Authorization"))
    require_scope(caller, "admin")
    return Actor.of_key(caller)


def positive_int(request: web.Request, name: str, default: int) -> int:
    """A whole-number query parameter of at least 1 (`page`), or a 400 naming it."""
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ThinklioError("bad_request", f"{name} must be a positive whole number")
    return int(raw)
