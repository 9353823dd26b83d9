"""`/v1/admin/agents`: the agent service (`bot/governance/agents.py`) behind an admin-scoped API key, the same
checks, audit and changes as `/agent` in chat; errors in the section-17 envelope. `{agent}` is the agent's slug
in the key's account or its `agt_…` id (another account's id is refused, and the refusal audited)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from bot.admin_auth import admin_actor, positive_int
from bot.governance.agents import MAX_PROMPT, AgentAdmin, AgentChange, AgentDetail
from bot.records import AgentRecord
from bot.services import Services
from bot.web import read_model

PAGE = 50
Model = TypeVar("Model", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.Response]]


class CreateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slug: str = Field(min_length=1, max_length=64)
    template: str | None = Field(default=None, min_length=1, max_length=64)


class PromptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT)


class NameIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)


class ModelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str | None = Field(max_length=200)  # null or "default": the provider's default


class ToolIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    permission: str | None = Field(default=None, max_length=16)  # omitted: the level the tool needs


def install_agent_routes(app: web.Application, services: Services) -> None:
    api = AgentsApi(services)
    app.router.add_get("/v1/admin/agents", api.listing)
    app.router.add_post("/v1/admin/agents", api.create)
    app.router.add_get("/v1/admin/agents/{agent}", api.show)
    app.router.add_put("/v1/admin/agents/{agent}/prompt", api.prompt)
    app.router.add_put("/v1/admin/agents/{agent}/model", api.model)
    app.router.add_put("/v1/admin/agents/{agent}/name", api.name)
    app.router.add_put("/v1/admin/agents/{agent}/tools/{tool}", api.add_tool)
    app.router.add_delete("/v1/admin/agents/{agent}/tools/{tool}", api.remove_tool)
    for action, status in (("pause", "paused"), ("resume", "active"), ("archive", "archived")):
        app.router.add_post(f"/v1/admin/agents/{{agent}}/{action}", api.status_handler(status))


def _agent(agent: AgentRecord) -> dict[str, Any]:
    return {"id": agent.id, "slug": agent.slug, "name": agent.name, "status": agent.status, "model": agent.model,
            "system_prompt": agent.system_prompt}


def _changed(change: AgentChange, status: int = 200) -> web.Response:
    return web.json_response({"message": change.message, "cancelled_jobs": change.cancelled_jobs,
                              **_agent(change.agent)}, status=status)


def _detail(detail: AgentDetail) -> dict[str, Any]:
    usage = detail.usage
    return {**_agent(detail.agent), "account": detail.account,
            "tools": [{"name": tool.name, "permission": tool.permission, "trust": tool.trust}
                      for tool in detail.tools],
            "recent_interactions": [{"id": item.id, "at": item.created_at.isoformat(), "status": item.status,
                                     "tier": item.tier, "intent": item.intent, "cost_usd": item.cost_usd}
                                    for item in detail.recent],
            "recent_tool_calls": [{"at": call.created_at.isoformat(), "tool": call.tool, "status": call.status,
                                   "error": call.error} for call in detail.tool_calls],
            "active_jobs": detail.active_jobs, **detail.extras,
            "usage": {"since": usage.since.isoformat(), "interactions": usage.interactions,
                      "cost_usd": usage.cost_usd, "tokens_in": usage.tokens_in, "tokens_out": usage.tokens_out}}


class AgentsApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    @property
    def _agents(self) -> AgentAdmin:
        return self._s.governance.agents

    async def _body(self, request: web.Request, model: type[Model]) -> Model:
        return await read_model(request, model, limit=self._s.settings.max_body_bytes)

    async def listing(self, request: web.Request) -> web.Response:
        actor = await admin_actor(self._s, request)
        page = positive_int(request, "page", 1)
        listed = await self._agents.listing(actor)
        return web.json_response({"page": page, "total": len(listed), "agents": [
            {"slug": a.slug, "name": a.name, "status": a.status, "model": a.model, "tools": a.tools}
            for a in listed[(page - 1) * PAGE: page * PAGE]]})

    async def create(self, request: web.Request) -> web.Response:
        actor = await admin_actor(self._s, request)
        body = await self._body(request, CreateIn)
        return _changed(await self._agents.create(actor, body.slug, body.template), status=201)

    async def show(self, request: web.Request) -> web.Response:
        actor = await admin_actor(self._s, request)
        return web.json_response(_detail(await self._agents.show(actor, request.match_info["agent"])))

    async def prompt(self, request: web.Request) -> web.Response:
        actor = await admin_actor(self._s, request)
        body = await self._body(request, PromptIn)
        return _changed(await self._agents.set_prompt(actor, request.match_info["agent"], body.prompt))

    async def name(self, request: web.Request) -> web.Response:
        actor = await admin_actor(self._s, request)
        body = await self._body(request, NameIn)
        return _changed(await self._agents.rename(actor, request.match_info["agent"], body.name))

    async def model(self, request: web.Request) -> web.Response:
        actor = await admin_actor(self._s, request)
        body = await self._body(request, ModelIn)
        return _changed(await self._agents.set_model(actor, request.match_info["agent"], body.model))

    async def add_tool(self, request: web.Request) -> web.Response:
        actor = await admin_actor(self._s, request)
        body = await self._body(request, ToolIn) if request.can_read_body else ToolIn()
        return _changed(await self._agents.add_tool(actor, request.match_info["agent"], request.match_info["tool"],
                                                    body.permission))

    async def remove_tool(self, request: web.Request) -> web.Response:
        actor = await admin_actor(self._s, request)
        return _changed(await self._agents.remove_tool(actor, request.match_info["agent"],
                                                       request.match_info["tool"]))

    def status_handler(self, status: str) -> Handler:
        async def handle(request: web.Request) -> web.Response:
            actor = await admin_actor(self._s, request)
            return _changed(await self._agents.set_status(actor, request.match_info["agent"], status))

        return handle
