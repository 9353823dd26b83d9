"""The admin HTTP API for money and feature flags: `/v1/admin/usage`, `/v1/admin/budgets`, `/v1/admin/flags`,
the same services as `/usage`, `/budget` and `/flags` in chat; errors in the section-17 envelope."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from bot.admin_auth import admin_actor
from bot.governance import Actor
from bot.governance.money import BudgetLine
from bot.services import Services
from bot.web import read_model


class BudgetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_usd: float | str | None  # None or "none": no limit, not even the server's default


class FlagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool


def install_money_routes(app: web.Application, services: Services) -> None:
    api = MoneyApi(services)
    app.router.add_get("/v1/admin/usage", api.usage)
    app.router.add_get("/v1/admin/budgets", api.budgets)
    app.router.add_put("/v1/admin/budgets/{scope}/{subject}", api.set_budget)
    app.router.add_get("/v1/admin/flags", api.flags)
    app.router.add_put("/v1/admin/flags/{name}", api.set_flag)


def _budget(line: BudgetLine) -> dict[str, Any]:
    s = line.standing
    return {"scope": s.scope, "id": s.subject_id, "name": line.label, "spent_usd": round(s.spent_usd, 6),
            "limit_usd": None if s.limit is None else s.limit.limit_usd,
            "source": None if s.limit is None else s.limit.source}


class MoneyApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    async def _actor(self, request: web.Request) -> Actor:
        return await admin_actor(self._s, request)

    async def usage(self, request: web.Request) -> web.Response:
        actor = await self._actor(request)
        report = await self._s.governance.money.usage(actor, request.query.get("period", "month"),
                                                      request.query.get("by", "account"))
        return web.json_response({"period": report.period, "since": report.since.isoformat(), "by": report.by,
                                  "lines": [{"id": line.key, "name": line.label, "interactions": line.interactions,
                                             "model_calls": line.model_calls, "tokens_in": line.tokens_in,
                                             "tokens_out": line.tokens_out, "cost_usd": round(line.cost_usd, 6)}
                                            for line in report.lines]})

    async def budgets(self, request: web.Request) -> web.Response:
        actor = await self._actor(request)
        lines = await self._s.governance.money.listing(actor)
        return web.json_response({"budgets": [_budget(line) for line in lines]})

    async def set_budget(self, request: web.Request) -> web.Response:
        actor = await self._actor(request)
        body = await read_model(request, BudgetIn, limit=self._s.settings.max_body_bytes)
        amount = "none" if body.amount_usd is None else str(body.amount_usd)
        message = await self._s.governance.money.set_budget(actor, request.match_info["scope"],
                                                            request.match_info["subject"], amount)
        return web.json_response({"message": message, "budgets": [
            _budget(line) for line in await self._s.governance.money.listing(actor)]})

    async def flags(self, request: web.Request) -> web.Response:
        actor = await self._actor(request)
        return web.json_response({"flags": [
            {"name": state.flag.name, "enabled": state.enabled, "default": state.flag.default,
             "summary": state.flag.summary, "updated_by": state.updated_by,
             "updated_at": state.updated_at.isoformat() if state.updated_at else None}
            for state in await self._s.governance.flags.states(actor)]})

    async def set_flag(self, request: web.Request) -> web.Response:
        actor = await self._actor(request)
        body = await read_model(request, FlagIn, limit=self._s.settings.max_body_bytes)
        state = await self._s.governance.flags.set(actor, request.match_info["name"], body.enabled)
        return web.json_response({"name": state.flag.name, "enabled": state.enabled})
