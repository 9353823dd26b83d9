"""`/v1/admin/agents` and `/v1/admin/jobs`: the same services as /agent and /jobs in chat, behind an API key with
the `admin` scope; errors in the section-17 envelope, and a refused or bad request changes nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.store import tables as t
from bot.store.seed import seed_catalogue
from config.catalogue import ASSISTANT, AccountSeed
from jobs import tables as jt
from jobs.service import JobsService
from server.app import App
from tests.bot.test_agent_admin import agents_tables, tools_of
from tests.conftest import make_settings
from tests.fakes import postgres
from tests.helpers import post

Headers = dict[str, str]


async def admin_key(app: App, account_slug: str = "default") -> Headers:
    account = await app.services.directory.account_by_slug(account_slug)
    assert account is not None
    _, plaintext = await app.services.api_keys.create(account.id, "admin", ("admin",), actor="tests")
    return {"Authorization": f"Bearer {plaintext}"}


async def error(response: Any, status: int, code: str) -> str:
    body = await response.json()
    assert response.status == status, body
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    return str(body["error"]["message"])


async def test_every_agent_operation_over_http(app: App, client: TestClient, auth: Headers) -> None:
    admin = await admin_key(app)
    await post(client, auth, "what time is it?", user="u1")  # an interaction to show

    listed = await (await client.get("/v1/admin/agents", headers=admin)).json()
    assert [a["slug"] for a in listed["agents"]] == ["assistant"] and listed["total"] == 1
    shown = await client.get("/v1/admin/agents/assistant", headers=admin)
    detail = await shown.json()
    assert shown.status == 200 and detail["account"] == "default"
    assert {"name": "current_time", "permission": "read", "trust": "read"} in detail["tools"]
    assert detail["recent_interactions"] and detail["usage"]["interactions"] >= 1 and detail["active_jobs"] == 0
    assert detail["knowledge"] == {"facts": 0, "documents": 0}

    created = await client.post("/v1/admin/agents", json={"slug": "helper"}, headers=admin)
    assert created.status == 201 and (await created.json())["status"] == "active"
    prompt = await client.put("/v1/admin/agents/helper/prompt", json={"prompt": "Be brief."}, headers=admin)
    assert prompt.status == 200 and (await prompt.json())["system_prompt"] == "Be brief."
    named = await client.put("/v1/admin/agents/helper/name", json={"name": "Helpful"}, headers=admin)
    assert named.status == 200 and (await named.json())["name"] == "Helpful"
    model = await client.put("/v1/admin/agents/helper/model", json={"model": "tiny"}, headers=admin)
    assert (await model.json())["model"] == "tiny"
    assert (await (await client.put("/v1/admin/agents/helper/model", json={"model": None},
                                    headers=admin)).json())["model"] is None
    removed = await client.delete("/v1/admin/agents/helper/tools/task_add", headers=admin)
    assert removed.status == 200 and "task_add" not in await tools_of(app, "helper")
    added = await client.put("/v1/admin/agents/helper/tools/task_add", json={"permission": "admin"}, headers=admin)
    assert added.status == 200 and (await tools_of(app, "helper"))["task_add"] == "admin"
    assert (await client.put("/v1/admin/agents/helper/tools/task_add", headers=admin)).status == 200  # its own level
    assert (await tools_of(app, "helper"))["task_add"] == "write"

    for action, status in (("pause", "paused"), ("archive", "archived"), ("resume", "active")):
        response = await client.post(f"/v1/admin/agents/helper/{action}", headers=admin)
        assert response.status == 200 and (await response.json())["status"] == status
    audit = await app.services.db.all(select(t.audit_event.c.action, t.audit_event.c.actor, t.audit_event.c.detail)
                                      .where(t.audit_event.c.action.startswith("agent.")))
    assert {row.action for row in audit} == {"agent.create", "agent.name", "agent.prompt", "agent.model",
                                             "agent.tools.remove", "agent.tools.add", "agent.pause", "agent.archive",
                                             "agent.resume"}
    assert all(row.actor.startswith("apikey:") and row.detail["channel"] == "http" for row in audit)


async def test_refused_and_bad_requests_use_the_envelope_and_change_nothing(app: App, client: TestClient,
                                                                            auth: Headers) -> None:
    admin = await admin_key(app)
    other = (AccountSeed(slug="other", name="Other", agents=(ASSISTANT,)),)
    await app.services.db.run(lambda conn: seed_catalogue(conn, other, app.services.clock.now()))
    theirs = await app.services.db.one(select(t.agent.c.id).join(t.account, t.account.c.id == t.agent.c.account_id)
                                       .where(t.account.c.slug == "other"))
    assert theirs is not None
    before = await agents_tables(app)

    await error(await client.get("/v1/admin/agents"), 401, "unauthenticated")
    await error(await client.get("/v1/admin/agents", headers=auth), 403, "forbidden")  # no admin scope
    await error(await client.post("/v1/admin/agents/assistant/pause", headers=auth), 403, "forbidden")
    await error(await client.get("/v1/admin/agents/nobody", headers=admin), 404, "not_found")
    await error(await client.get("/v1/admin/agents?page=0", headers=admin), 400, "bad_request")
    await error(await client.post("/v1/admin/agents", json={"slug": "Bad Slug"}, headers=admin), 400, "bad_request")
    await error(await client.post("/v1/admin/agents", json={"slug": "assistant"}, headers=admin), 409, "conflict")
    await error(await client.post("/v1/admin/agents", json={"slug": "x2", "template": "nope"}, headers=admin), 404,
                "not_found")
    await error(await client.post("/v1/admin/agents", json={"slug": "x3", "extra": 1}, headers=admin), 400,
                "bad_request")
    await error(await client.put("/v1/admin/agents/assistant/prompt", json={"prompt": ""}, headers=admin), 400,
                "bad_request")
    await error(await client.put("/v1/admin/agents/assistant/prompt", data=b"{not json", headers=admin), 400,
                "bad_request")
    await error(await client.put("/v1/admin/agents/assistant/model", json={"model": "a b"}, headers=admin), 400,
                "bad_request")
    await error(await client.put("/v1/admin/agents/assistant/name", json={"name": ""}, headers=admin), 400,
                "bad_request")
    message = await error(await client.put("/v1/admin/agents/assistant/tools/nope", headers=admin), 404, "not_found")
    assert "current_time" in message
    await error(await client.put("/v1/admin/agents/assistant/tools/task_add", json={"permission": "root"},
                                 headers=admin), 400, "bad_request")
    await error(await client.delete("/v1/admin/agents/assistant/tools/nope", headers=admin), 404, "not_found")
    # another account's agent, by its id: refused and audited
    await error(await client.post(f"/v1/admin/agents/{theirs.id}/pause", headers=admin), 403, "forbidden")
    await error(await client.get(f"/v1/admin/agents/{theirs.id}", headers=admin), 403, "forbidden")
    assert await agents_tables(app) == before
    refusals = await app.services.db.all(select(t.audit_event).where(t.audit_event.c.target_id == theirs.id))
    assert [(row.action, row.detail["outcome"], row.detail["channel"]) for row in refusals] == [
        ("agent.pause", "refused", "http"), ("agent.show", "refused", "http")]


async def test_jobs_over_http(app: App, client: TestClient, auth: Headers) -> None:
    admin = await admin_key(app)
    await post(client, auth, "remind me to call mum in 2 hours", user="u1")
    service = app.kit.extras["jobs"]
    assert isinstance(service, JobsService)
    (job,) = await app.services.db.all(select(jt.job))
    other = (AccountSeed(slug="other", name="Other", agents=(ASSISTANT,)),)
    await app.services.db.run(lambda conn: seed_catalogue(conn, other, app.services.clock.now()))
    account = await app.services.directory.account_by_slug("other")
    assert account is not None
    stranger = await service.store.create(type="reminder", account_id=account.id, user_id=job.user_id,
                                          due_at=app.services.clock.now() + timedelta(hours=1))

    listed = await (await client.get("/v1/admin/jobs", headers=admin)).json()
    assert [j["id"] for j in listed["jobs"]] == [job.id] and listed["total"] == 1  # not the other account's
    await error(await client.get("/v1/admin/jobs?state=sleeping", headers=admin), 400, "bad_request")
    await error(await client.get("/v1/admin/jobs?agent=nobody", headers=admin), 404, "not_found")
    by = await (await client.get("/v1/admin/jobs?agent=assistant&state=all", headers=admin)).json()
    assert [j["id"] for j in by["jobs"]] == [job.id]
    await error(await client.get("/v1/admin/jobs", headers=auth), 403, "forbidden")
    await error(await client.post(f"/v1/admin/jobs/{stranger.id}/cancel", headers=admin), 404, "not_found")
    await error(await client.post("/v1/admin/jobs/1/cancel", headers=admin), 400, "bad_request")
    states = {row.id: row.state for row in await app.services.db.all(select(jt.job))}
    assert states == {job.id: "pending", stranger.id: "pending"}

    cancelled = await client.post(f"/v1/admin/jobs/{job.id}/cancel", headers=admin)
    assert cancelled.status == 200 and (await cancelled.json())["state"] == "cancelled"
    await error(await client.post(f"/v1/admin/jobs/{job.id}/cancel", headers=admin), 409, "conflict")
    by_agent = await client.post("/v1/admin/agents/assistant/jobs/cancel", headers=admin)
    assert (await by_agent.json()) == {"slug": "assistant", "cancelled_jobs": 0}
    assert [(j["id"], j["state"]) for j in (await (await client.get("/v1/admin/jobs?state=cancelled",
                                                                     headers=admin)).json())["jobs"]] == [
        (job.id, "cancelled")]
    outcomes = [(row.action, row.detail["outcome"]) for row in await app.services.db.all(
        select(t.audit_event).where(t.audit_event.c.action.startswith("job.")).order_by(t.audit_event.c.id))]
    assert outcomes == [("job.cancel", "refused"), ("job.cancel", "done"), ("job.cancel_agent", "done")]


@postgres.required()
async def test_agent_administration_on_postgres(aiohttp_client: Any, tmp_path: Path, database_url: str,
                                                make_app: Any) -> None:
    """The same statements on Postgres: the tool removal (a delete in the audited commit), the tool-call window
    (a LIMIT inside IN), the usage sums, the job listing by agent."""
    app = make_app(make_settings(tmp_path / "var", database_url=database_url))
    client = await aiohttp_client(app.web)
    admin = await admin_key(app)
    assert (await client.post("/v1/admin/agents", json={"slug": "helper"}, headers=admin)).status == 201
    assert (await client.delete("/v1/admin/agents/helper/tools/task_add", headers=admin)).status == 200
    assert "task_add" not in await tools_of(app, "helper")
    shown = await (await client.get("/v1/admin/agents/assistant", headers=admin)).json()
    assert shown["usage"]["interactions"] == 0 and shown["recent_tool_calls"] == []
    assert (await client.post("/v1/admin/agents/helper/archive", headers=admin)).status == 200
    listed = await client.get("/v1/admin/jobs?agent=helper&state=all", headers=admin)
    assert listed.status == 200 and (await listed.json())["jobs"] == []
    events = await app.services.db.all(select(t.audit_event.c.action)
                                       .where(t.audit_event.c.action.startswith("agent.")))
    assert sorted(row.action for row in events) == ["agent.archive", "agent.create", "agent.tools.remove"]
