"""The platform HTTP API: health, metrics, and reading interactions and conversations."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.admin_agents_api import install_agent_routes
from bot.admin_api import install_admin_routes
from bot.auth import require_scope
from bot.errors import ThinklioError, not_found
from bot.services import Services
from bot.store import tables as t

VERSION = "0.1.0"
MAX_PAGE = 200


def install_routes(app: web.Application, services: Services) -> None:
    api = PlatformApi(services)
    app.router.add_get("/health", api.health)
    app.router.add_get("/metrics", api.metrics)
    app.router.add_get("/v1/interactions/{interaction_id}", api.interaction)
    app.router.add_get("/v1/conversations/{conversation_id}/messages", api.conversation_messages)
    install_admin_routes(app, services)
    install_agent_routes(app, services)


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


class PlatformApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    async def health(self, request: web.Request) -> web.Response:
        store_ok = await self._s.db.ping()
        channels = {adapter.type: adapter.health() for adapter in self._s.channels}
        body = {
            "status": "ok" if store_ok else "degraded",
            "version": VERSION,
            "uptime_seconds": round(time.monotonic() - self._s.started_monotonic, 3),
            "store": {"status": "ok" if store_ok else "unreachable", "dialect": self._s.db.dialect},
            "platform": self._s.platform.status,
            "channels": channels,
        }
        return web.json_response(body, status=200 if store_ok else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=self._s.metrics.render(), content_type="text/plain", charset="utf-8",
                            headers={"X-Content-Type-Options": "nosniff"})

    async def interaction(self, request: web.Request) -> web.Response:
        key = await self._s.api_keys.verify(request.headers.get("Authorization"))
        require_scope(key, "messages:read")
        interaction_id = request.match_info["interaction_id"]
        row = await self._s.db.one(select(t.interaction).where(t.interaction.c.id == interaction_id))
        if row is None or row.account_id != key.account_id:
            raise not_found(f"interaction {interaction_id!r}")
        reply = None
        if row.reply_message_id:
            reply = await self._s.db.one(select(t.message.c.text).where(t.message.c.id == row.reply_message_id))
        steps = await self._s.db.all(
            select(t.step).where(t.step.c.interaction_id == interaction_id).order_by(t.step.c.seq)
        )
        return web.json_response({
            "interaction_id": row.id, "conversation_id": row.conversation_id, "status": row.status,
            "tier": row.tier, "intent": row.intent, "error_code": row.error_code,
            "reply": None if reply is None else reply.text, "cost_usd": row.cost_usd,
            "duration_ms": row.duration_ms, "created_at": _iso(row.created_at),
            "completed_at": _iso(row.completed_at), "parent_interaction_id": row.parent_interaction_id,
            "steps": [
                {"seq": s.seq, "kind": s.kind, "name": s.name, "status": s.status, "duration_ms": s.duration_ms,
                 "tokens_in": s.tokens_in, "tokens_out": s.tokens_out, "cost_usd": s.cost_usd, "error": s.error}
                for s in steps
            ],
        })

    async def conversation_messages(self, request: web.Request) -> web.Response:
        key = await self._s.api_keys.verify(request.headers.get("Authorization"))
        require_scope(key, "messages:read")
        conversation_id = request.match_info["conversation_id"]
        conversation = await self._s.directory.conversation_by_id(conversation_id)
        if conversation is None or conversation.account_id != key.account_id:
            raise not_found(f"conversation {conversation_id!r}")
        limit = _int_param(request, "limit", default=50, low=1, high=MAX_PAGE)
        cursor = request.query.get("cursor")
        query = select(t.message).where(t.message.c.conversation_id == conversation_id)
        if cursor:
            query = query.where(t.message.c.id > cursor)
        rows = await self._s.db.all(query.order_by(t.message.c.id).limit(limit + 1))
        page = rows[:limit]
        return web.json_response({
            "conversation_id": conversation_id,
            "messages": [
                {"id": m.id, "direction": m.direction, "text": m.text, "external_id": m.external_id,
                 "created_at": _iso(m.created_at)}
                for m in page
            ],
            "next_cursor": page[-1].id if len(rows) > limit else None,
        })


def _int_param(request: web.Request, name: str, *, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ThinklioError("bad_request", f"{name} must be an integer") from None
    if not low <= value <= high:
        raise ThinklioError("bad_request", f"{name} must be between {low} and {high}")
    return value
