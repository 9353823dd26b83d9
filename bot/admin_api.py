"""The admin HTTP API (`/v1/admin/...`): the governance services behind an admin-scoped API key of the account.
Same checks, same audit and same changes as the chat commands; errors in the section-17 envelope."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from bot.admin_auth import admin_actor, positive_int
from bot.admin_money import install_money_routes
from bot.admin_teams_api import install_team_routes
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
    app.router.add_delete("/v1/admin/users/{user}", api.delete_user)
    app.router.add_put("/v1/admin/users/{user}/role", api.grant)
    app.router.add_delete("/v1/admin/users/{user}/role", api.revoke)
    app.router.add_post("/v1/admin/users/{user}/suspend", api.suspend)
    app.router.add_post("/v1/admin/users/{user}/resume", api.resume)
    app.router.add_get("/v1/admin/audit", api.audit)
    install_team_routes(app, services)
    install_money_routes(app, services)


def _member(member: Member) -> dict[str, Any]:
    return {"id": member.user.id, "name": member.user.display_name, "role": member.role,
            "status": member.status, "user_status": member.user.status}


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
        page = positive_int(request, "page", 1)
        members, total = await self._s.governance.users.listing(
            actor, query=request.query.get("query", ""), limit=PAGE, offset=(page - 1) * PAGE)
        return web.json_response({"users": [_member(m) for m in members], "page": page,
                                  "pages": max(1, -(-total // PAGE)), "total": total})

    async def user(self, request: web.Request) -> web.Response:
        actor = await self._actor(request)
        detail = await self._s.governance.users.show(actor, request.match_info["user"])
        return web.json_response({
            "id": detail.user.id, "name": detail.user.display_name, "user_status": detail.user.status,
            "identities": detail.identities, "counts": detail.counts,
            "memberships": [{"account": m.account_slug, "role": m.role, "status": m.status}
                            for m in detail.memberships],
            "last_seen": detail.last_seen.isoformat() if detail.last_seen else None,
            "timezone": detail.user.timezone, "locale": detail.user.locale})

    async def delete_user(self, request: web.Request) -> web.Response:
        """GDPR deletion. Without `?confirm=true` nothing happens: the answer (400) says what would be deleted."""
        actor = await self._actor(request)
        ref = request.match_info["user"]
        erasure = self._s.governance.erasure
        confirm = request.query.get("confirm", "")
        if confirm not in ("", "true"):
            raise ThinklioError("bad_request", "confirm must be 'true'")
        if confirm != "true":
            preview = await erasure.inspect(actor, ref)
            if preview is not None:
                raise ThinklioError("bad_request", f"{preview.describe()} Repeat with ?confirm=true to delete.",
                                    details={"user": preview.user_id, "counts": preview.counts})
        outcome = await erasure.confirm(actor, ref, proposed=False)
        return web.json_response({"id": outcome.user_id, "deleted": True, "already": outcome.already,
                                  "steps": outcome.steps})

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
        """?since=ISO&who=&actor=USER&action=PREFIX&page=: `actor` is an audit actor (user:…, apikey:…) or a user
        named as anywhere else (usr_…, telegram:12345, http:42, @name)."""
        actor = await self._actor(request)
        page = positive_int(request, "page", 1)
        since = None
        if "since" in request.query:
            try:
                since = datetime.fromisoformat(request.query["since"])
            except ValueError:
                raise ThinklioError("bad_request", "since must be an ISO 8601 date or time") from None
            since = since if since.tzinfo else since.replace(tzinfo=UTC)
        who = request.query.get("actor")
        if who and not who.startswith(("user:", "apikey:")):
            who = f"user:{(await self._s.governance.people.user(who, actor.account_id)).id}"
        audit, filters = self._s.governance.audit, {"since": since, "who": request.query.get("who"), "actor": who,
                                                    "action": request.query.get("action")}
        events = await audit.events(actor.account_id, **filters, limit=PAGE, offset=(page - 1) * PAGE)
        total = await audit.count(actor.account_id, **filters)
        return web.json_response({"page": page, "pages": max(1, -(-total // PAGE)), "total": total, "events": [
            {"id": e.id, "at": e.created_at.isoformat(), "actor": e.actor, "action": e.action,
             "target_type": e.target_type, "target_id": e.target_id, "outcome": e.outcome, "detail": e.detail}
            for e in events]})
