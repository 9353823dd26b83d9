"""The admin HTTP API for teams and account settings, beside `bot/admin_api.py` and installed by it: the same
services as `/team` and `/account settings` in chat, an admin-scoped API key of the account, errors in the
section-17 envelope.

    GET    /v1/admin/teams                          the account's teams
    POST   /v1/admin/teams                          {"name": "Sales"} -> 201
    GET    /v1/admin/teams/{team}                   members and agents
    POST   /v1/admin/teams/{team}/archive
    PUT    /v1/admin/teams/{team}/members/{user}    {"role": "admin|member|readonly"} (default member)
    DELETE /v1/admin/teams/{team}/members/{user}
    PUT    /v1/admin/teams/{team}/agents/{slug}     the agent works for the team
    GET    /v1/admin/account/settings
    PATCH  /v1/admin/account/settings               {"delegation_depth": 2, ...}: all valid, or nothing changes
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, RootModel

from bot.admin_auth import admin_actor
from bot.governance import Actor
from bot.governance.teams import TeamDetail, TeamLine
from bot.records import TeamRecord
from bot.services import Services
from bot.web import read_model


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)


class SeatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str = Field(default="member", min_length=1, max_length=16)


class SettingsIn(RootModel[dict[str, Any]]):
    """Checked by the settings service itself (keys and values), so chat and HTTP refuse the same things."""


def _team(team: TeamRecord) -> dict[str, Any]:
    return {"id": team.id, "slug": team.slug, "name": team.name, "status": team.status}


def _line(line: TeamLine) -> dict[str, Any]:
    return {**_team(line.team), "members": line.members, "agents": line.agents}


def _detail(detail: TeamDetail) -> dict[str, Any]:
    return {**_team(detail.team),
            "members": [{"id": s.user.id, "name": s.user.display_name, "role": s.role} for s in detail.members],
            "agents": [{"slug": slug, "status": status} for slug, status in detail.agents]}


def install_team_routes(app: web.Application, services: Services) -> None:
    api = TeamsApi(services)
    app.router.add_get("/v1/admin/teams", api.listing)
    app.router.add_post("/v1/admin/teams", api.create)
    app.router.add_get("/v1/admin/teams/{team}", api.show)
    app.router.add_post("/v1/admin/teams/{team}/archive", api.archive)
    app.router.add_put("/v1/admin/teams/{team}/members/{user}", api.add)
    app.router.add_delete("/v1/admin/teams/{team}/members/{user}", api.remove)
    app.router.add_put("/v1/admin/teams/{team}/agents/{slug}", api.agent)
    app.router.add_get("/v1/admin/account/settings", api.settings)
    app.router.add_patch("/v1/admin/account/settings", api.set_settings)


class TeamsApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    async def _actor(self, request: web.Request) -> Actor:
        return await admin_actor(self._s, request)

    async def _show(self, actor: Actor, team: str, **extra: Any) -> web.Response:
        return web.json_response({**extra, **_detail(await self._s.governance.teams.show(actor, team))})

    async def listing(self, request: web.Request) -> web.Response:
        actor = await self._actor(request)
        return web.json_response({"teams": [_line(line) for line in await self._s.governance.teams.listing(actor)]})

    async def create(self, request: web.Request) -> web.Response:
        actor = await self._actor(request)
        body = await read_model(request, TeamIn, limit=self._s.settings.max_body_bytes)
        team = await self._s.governance.teams.create(actor, body.name)
        return web.json_response(_team(team), status=201)

    async def show(self, request: web.Request) -> web.Response:
        return await self._show(await self._actor(request), request.match_info["team"])

    async def archive(self, request: web.Request) -> web.Response:
        actor = await self._actor(request)
        team, cancelled = await self._s.governance.teams.archive(actor, request.match_info["team"])
        return await self._show(actor, team.slug, cancelled_jobs=cancelled)

    async def add(self, request: web.Request) -> web.Response:
        actor = await self._actor(request)
        body = (await read_model(request, SeatIn, limit=self._s.settings.max_body_bytes)
                if request.can_read_body else SeatIn())
        message = await self._s.governance.teams.add(actor, request.match_info["team"], request.match_info["user"],
                                                     body.role)
        return await self._show(actor, request.match_info["team"], message=message)

    async def remove(self, request: web.Request) -> web.Response:
        actor = await self._actor(request)
        message = await self._s.governance.teams.remove(actor, request.match_info["team"],
                                                        request.match_info["user"])
        return await self._show(actor, request.match_info["team"], message=message)

    async def agent(self, request: web.Request) -> web.Response:
        actor = await self._actor(request)
        await self._s.governance.teams.assign_agent(actor, request.match_info["team"], request.match_info["slug"])
        return await self._show(actor, request.match_info["team"])

    async def settings(self, request: web.Request) -> web.Response:
        actor = await self._actor(request)
        shown = await self._s.governance.settings.show(actor)
        return web.json_response({"settings": {key: value for key, (value, _) in shown.items()},
                                  "defaults": sorted(key for key, (_, default) in shown.items() if default)})

    async def set_settings(self, request: web.Request) -> web.Response:
        actor = await self._actor(request)
        body = await read_model(request, SettingsIn, limit=self._s.settings.max_body_bytes)
        return web.json_response({"settings": await self._s.governance.settings.set(actor, body.root)})
