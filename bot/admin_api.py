"""The admin HTTP API (`/v1/admin/...`): the governance services behind an admin-scoped API key of the account.
Same checks, same audit and same changes as the chat commands; errors in the section-17 envelope."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from bot.admin_teams_api import install_team_routes
from bot.auth import require_scope
from bot.errors import ThinklioError
from bot.governance import Actor
from bot.governance.people import Member
from bot.services import Services
from bot.web import read_model

PAGE = 50


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str = Field(min_length=1, max_length=16)


class SuspendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    everywhere: bool = False


def install_admin_routes(app: web.Application, services: Services) -> None:
    api = AdminApi(services)
    app.router.add_get("/v1/admin/account", api.account)
    app.router.add_get("/v1/admin/users", api.users)
    app.router.add_get("/v1/admin/users/{user}", api.user)
    app.router.add_put("/v1/admin/users/{user}/role", api.grant)
    app.router.add_delete("/v1/admin/users/{user}/role", api.revoke)
    app.router.add_post("/v1/admin/users/{user}/suspend", api.suspend)
    app.router.add_post("/v1/admin/users/{user}/resume", api.resume)
    app.router.add_get("/v1/admin/audit", api.audit)
    install_team_routes(app, services)


async def admin_actor(services: Services, request: web.Request) -> Actor:
    """The account admin an admin-scoped API key stands for (401 without a key, 403 without the scope)."""
    caller = await services.api_keys.verify(request.headers.get("Authorization"))
    require_scope(caller, "admin")
    return Actor.of_key(caller)


def _member(member: Member) -> dict[str, Any]:
    return {"id": member.user.id, "name": member.user.display_name, "role": member.role,
            "status": member.status, "user_status": member.user.status}


def _int(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ThinklioError("bad_request", f"{name} must be a positive whole number")
    return int(raw)


class AdminApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    async def _actor(self, request: web.Request) -> Actor:
        return await admin_actor(self._s, request)

    async def _target(self, request: web.Request, actor: Actor) -> Member:
        return await self._s.governance.people.member(request.match_info["user"], actor.account_id)

    async def account(self, request: web.Request) -> web.Response:
        actor = await self._actor(request)
        since = self._s.clock.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        summary = await self._s.governance.accounts.summary(actor, since)
        return web.json_response({"slug": summary.slug, "name": summary.name, "status": summary.status,
                                  "roles": summary.roles,
                                  "agents": [{"slug": slug, "status": status} for slug, status in summary.agents],
                                  "teams": [{"slug": line.team.slug, "status": line.team.status,
                                             "members": line.members}
                                            for line in await self._s.governance.teams.listing(actor)],
                                  "usage": {"since": since.isoformat(), "interactions": summary.interactions,
                                            "cost_usd": summary.cost_usd}})

    async def users(self, request: web.Request) -> web.Response:
        actor = await self._actor(request)
        page = _int(request, "page", 1)
        members, total = await self._s.governance.people.members(
            actor.account_id, query=request.query.get("query", ""), limit=PAGE, offset=(page - 1) * PAGE)
        return web.json_response({"users": [_member(m) for m in members], "page": page, "total": total})

    async def user(self, request: web.Request) -> web.Response:
        actor = await self._actor(request)
        member = await self._target(request, actor)
        identities = await self._s.directory.identities(member.user.id)
        return web.json_response({**_member(member),
                                  "identities": [f"{kind}:{external}" for kind, external in identities]})

    async def grant(self, request: web.Request) -> web.Response:
        actor = await self._actor(request)
        body = await read_model(request, RoleIn, limit=self._s.settings.max_body_bytes)
        member = await self._target(request, actor)
        message = await self._s.governance.roles.grant(actor, member, body.role)
        return web.json_response({"message": message, **_member(await self._target(request, actor))})

    async def revoke(self, request: web.Request) -> web.Response:
        actor = await self._actor(request)
        member = await self._target(request, actor)
        message = await self._s.governance.roles.revoke(actor, member)
        return web.json_response({"message": message, **_member(await self._target(request, actor))})

    async def suspend(self, request: web.Request) -> web.Response:
        return await self._set_status(request, "suspended")

    async def resume(self, request: web.Request) -> web.Response:
        return await self._set_status(request, "active")

    async def _set_status(self, request: web.Request, status: str) -> web.Response:
        actor = await self._actor(request)
        body = (await read_model(request, SuspendIn, limit=self._s.settings.max_body_bytes)
                if request.can_read_body else SuspendIn())
        member = await self._target(request, actor)
        message = await self._s.governance.members.set_status(actor, member, status, everywhere=body.everywhere)
        return web.json_response({"message": message, **_member(await self._target(request, actor))})

    async def audit(self, request: web.Request) -> web.Response:
        actor = await self._actor(request)
        page = _int(request, "page", 1)
        since = None
        if "since" in request.query:
            try:
                since = datetime.fromisoformat(request.query["since"])
            except ValueError:
                raise ThinklioError("bad_request", "since must be an ISO 8601 date or time") from None
        events = await self._s.governance.audit.events(actor.account_id, since=since, who=request.query.get("who"),
                                                       limit=PAGE, offset=(page - 1) * PAGE)
        return web.json_response({"page": page, "events": [
            {"id": e.id, "at": e.created_at.isoformat(), "actor": e.actor, "action": e.action,
             "target_type": e.target_type, "target_id": e.target_id, "outcome": e.outcome, "detail": e.detail}
            for e in events]})
