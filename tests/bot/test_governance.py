"""Governance by chat and over /v1/admin: roles that mean something (owner, admin, member, readonly), who may
change them, suspension scoped to an account, users named by their channel identity, and every refusal in the
audit trail. The platform admin is "boss" (`THINKLIO_ADMINS=http:<account id>:boss`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.store import tables as t
from config.settings import Settings
from jobs.tables import task
from server.app import App
from tests.helpers import count, post, said, with_platform_admin

Body = dict[str, Any]


@pytest.fixture
async def settings(tmp_path: Path) -> Settings:
    return await with_platform_admin(tmp_path / "var")


say = said


async def role_of(app: App, user: str) -> tuple[str, str]:
    account = await app.services.directory.account_by_slug("default")
    assert account is not None
    row = await app.services.db.one(
        select(t.membership.c.role, t.membership.c.status)
        .join(t.channel_identity, t.channel_identity.c.user_id == t.membership.c.user_id)
        .where(t.channel_identity.c.external_id == f"{account.id}:{user}", t.membership.c.account_id == account.id))
    assert row is not None
    return row.role, row.status


async def refusals(app: App, action: str) -> list[Any]:
    rows = await app.services.db.all(select(t.audit_event).where(t.audit_event.c.action == action))
    return [row for row in rows if (row.detail or {}).get("outcome") == "refused"]


async def meet(client: TestClient, auth: dict[str, str], *users: str) -> None:
    for user in users:
        await say(client, auth, "hello", user)


async def test_roles_are_granted_by_the_right_people_only(app: App, client: TestClient, auth: dict[str, str]) -> None:
    await meet(client, auth, "alice", "bob", "carol")
    reply = (await say(client, auth, "/grant http:alice admin", "boss"))["reply"]
    assert "is now admin (was member)" in reply
    assert await role_of(app, "alice") == ("admin", "active")

    # an admin may make readonly members, not owners
    assert (await say(client, auth, "/grant http:bob readonly", "alice"))["error_code"] is None
    assert await role_of(app, "bob") == ("readonly", "active")
    refused = await say(client, auth, "/grant http:carol owner", "alice")
    assert refused["error_code"] == "forbidden" and "owner" in refused["reply"]
    assert await role_of(app, "carol") == ("member", "active")
    assert len(await refusals(app, "role.grant")) == 1

    # a member (here readonly) may not grant at all, and the refusal is audited
    denied = await say(client, auth, "/grant http:bob admin", "bob")
    assert denied["error_code"] == "forbidden"
    assert await role_of(app, "bob") == ("readonly", "active")
    assert len(await refusals(app, "command.grant")) == 1

    # the last owner stays an owner
    await say(client, auth, "/grant http:carol owner", "boss")
    last = await say(client, auth, "/revoke http:carol", "carol")
    assert last["error_code"] == "conflict" and "last owner" in last["reply"]
    assert await role_of(app, "carol") == ("owner", "active")
    await say(client, auth, "/grant http:alice owner", "carol")
    assert (await say(client, auth, "/revoke http:carol", "carol"))["error_code"] is None
    assert await role_of(app, "carol") == ("member", "active")

    bad = await say(client, auth, "/grant http:bob superuser", "alice")
    assert bad["error_code"] == "bad_request" and await role_of(app, "bob") == ("readonly", "active")


async def test_readonly_members_talk_but_change_nothing(app: App, client: TestClient, auth: dict[str, str]) -> None:
    await meet(client, auth, "reader")
    await say(client, auth, "/grant http:reader readonly", "boss")
    time = await say(client, auth, "what time is it?", "reader")
    assert time["tier"] == "triage" and time["error_code"] is None
    add = await say(client, auth, "add milk to my shopping list", "reader")
    assert add["error_code"] == "forbidden" and "readonly" in add["reply"]
    assert await count(app, task) == 0
    remember = await say(client, auth, "remember that my locker code is 4411", "reader")
    assert remember["error_code"] == "forbidden"
    undo = await say(client, auth, "/undo", "reader")
    assert undo["error_code"] == "forbidden"
    assert len(await refusals(app, "triage.task_add")) == 1
    assert len(await refusals(app, "command.undo")) == 1
    # a member of the same account adds as before
    await meet(client, auth, "writer")
    assert (await say(client, auth, "add milk to my shopping list", "writer"))["error_code"] is None
    assert await count(app, task) == 1


async def test_an_account_admin_suspends_here_a_platform_admin_everywhere(app: App, client: TestClient,
                                                                           auth: dict[str, str]) -> None:
    await meet(client, auth, "admin", "dave")
    await say(client, auth, "/grant http:admin admin", "boss")
    assert "suspended in this account" in (await say(client, auth, "/user suspend http:dave", "admin"))["reply"]
    blocked = await say(client, auth, "what time is it?", "dave")
    assert (blocked["status"], blocked["error_code"]) == ("rejected", "user_suspended")
    assert await role_of(app, "dave") == ("member", "suspended")
    dave = await app.services.governance.people.user("http:dave", (await app.services.directory.account_by_slug(
        "default")).id)  # type: ignore[union-attr]
    assert dave.status == "active"  # the profile, and so every other account, untouched

    everywhere = await say(client, auth, "/user suspend http:dave everywhere", "admin")
    assert everywhere["error_code"] == "forbidden"
    assert len(await refusals(app, "user.suspend")) == 1

    await say(client, auth, "/user resume http:dave", "admin")
    assert (await say(client, auth, "what time is it?", "dave"))["status"] == "completed"
    await say(client, auth, "/user suspend http:dave everywhere", "boss")
    assert (await say(client, auth, "what time is it?", "dave"))["error_code"] == "user_suspended"


async def test_users_are_named_as_people_know_them(app: App, client: TestClient, auth: dict[str, str]) -> None:
    await meet(client, auth, "u1", "u2")  # called "Sam" by the HTTP helper, like boss
    ambiguous = await say(client, auth, "/user show @Sam", "boss")
    assert ambiguous["error_code"] == "conflict" and ambiguous["reply"].count("usr_") == 3
    shown = await say(client, auth, "/user show http:u1", "boss")
    assert "http:" in shown["reply"] and "member" in shown["reply"]
    unknown = await say(client, auth, "/user show telegram:999", "boss")
    assert unknown["error_code"] == "not_found"
    listed = await say(client, auth, "/users", "boss")
    assert "Page 1 of 1 (3 in all)" in listed["reply"]  # u1, u2 and boss


async def test_another_accounts_people_are_out_of_reach(app: App, client: TestClient, auth: dict[str, str]) -> None:
    from bot.messages import InboundMessage, Sender
    from bot.store.seed import seed_catalogue
    from config.catalogue import ASSISTANT, AccountSeed, ChannelSeed

    seed = (AccountSeed(slug="other", name="Other", agents=(ASSISTANT,)),)
    await app.services.db.run(lambda conn: seed_catalogue(
        conn, seed, app.services.clock.now(),
        channels=(ChannelSeed(slug="other-api", type="http", agent="assistant", account="other"),)))
    app.services.directory.invalidate()
    await app.services.pipeline.handle(InboundMessage(channel="other-api", sender=Sender("stranger"), text="hi"))
    stranger = await app.services.db.one(select(t.channel_identity.c.user_id)
                                         .where(t.channel_identity.c.external_id == "stranger"))
    assert stranger is not None
    await meet(client, auth, "admin")
    await say(client, auth, "/grant http:admin admin", "boss")
    reply = await say(client, auth, f"/user suspend {stranger.user_id}", "admin")
    assert reply["error_code"] == "not_found"
    row = await app.services.db.one(select(t.membership.c.status).where(t.membership.c.user_id == stranger.user_id))
    assert row is not None and row.status == "active"


async def test_the_audit_trail_shows_changes_and_refusals(app: App, client: TestClient,
                                                          auth: dict[str, str]) -> None:
    await meet(client, auth, "alice")
    await say(client, auth, "/grant http:alice admin", "boss")
    await say(client, auth, "/pause", "alice")  # an account admin is not a platform admin
    trail = (await say(client, auth, "/audit", "alice"))["reply"]
    assert "role.grant" in trail and "[done]" in trail
    assert "platform.paused" in trail and "[refused" in trail
    only = (await say(client, auth, "/audit role.", "alice"))["reply"]
    assert "platform.paused" not in only and "role.grant" in only
    assert (await say(client, auth, "/audit", "u9"))["error_code"] == "forbidden"


async def test_the_same_operations_over_http(app: App, client: TestClient, auth: dict[str, str]) -> None:
    account = await app.services.directory.account_by_slug("default")
    assert account is not None
    _, admin_key = await app.services.api_keys.create(account.id, "admin", ("admin",), actor="tests")
    admin = {"Authorization": f"Bearer {admin_key}"}
    await meet(client, auth, "erin")

    response = await client.put("/v1/admin/users/http:erin/role", json={"role": "readonly"}, headers=admin)
    assert response.status == 200 and (await response.json())["role"] == "readonly"
    assert await role_of(app, "erin") == ("readonly", "active")

    bad = await client.put("/v1/admin/users/http:erin/role", json={"role": "emperor"}, headers=admin)
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "bad_request"
    extra = await client.put("/v1/admin/users/http:erin/role", json={"role": "admin", "x": 1}, headers=admin)
    assert extra.status == 400
    assert await role_of(app, "erin") == ("readonly", "active")

    no_scope = await client.put("/v1/admin/users/http:erin/role", json={"role": "admin"}, headers=auth)
    assert no_scope.status == 403 and (await no_scope.json())["error"]["code"] == "forbidden"
    owner = await client.put("/v1/admin/users/http:erin/role", json={"role": "owner"}, headers=admin)
    assert owner.status == 403  # an admin key is an admin, not an owner

    suspended = await client.post("/v1/admin/users/http:erin/suspend", headers=admin)
    assert suspended.status == 200 and (await suspended.json())["status"] == "suspended"
    missing = await client.post("/v1/admin/users/http:nobody/suspend", headers=admin)
    assert missing.status == 404

    users = await (await client.get("/v1/admin/users", headers=admin)).json()
    assert [u["role"] for u in users["users"] if u["status"] == "suspended"] == ["readonly"]
    audit = await (await client.get("/v1/admin/audit", headers=admin)).json()
    outcomes = {(event["action"], event["outcome"]) for event in audit["events"]}
    assert {("role.grant", "done"), ("role.grant", "refused"), ("user.suspend", "done")} <= outcomes
    summary = await (await client.get("/v1/admin/account", headers=admin)).json()
    assert summary["slug"] == "default" and summary["roles"]["readonly"] == 1


async def test_api_keys_by_chat_only_in_a_private_conversation(app: App, client: TestClient,
                                                              auth: dict[str, str]) -> None:
    await meet(client, auth, "alice", "bob")
    await say(client, auth, "/grant http:alice admin", "boss")
    before = await count(app, t.api_key)

    # a shared conversation (a group, a thread, a mail thread) never gets a key, and nothing is created
    status, shared = await post(client, auth, "/apikey create ci", user="alice", conversation_key="team-room")
    assert status == 200 and shared["error_code"] == "forbidden" and "private conversation" in shared["reply"]
    assert await count(app, t.api_key) == before
    assert len(await refusals(app, "api_key.create")) == 1
    # nor does a member, even in private
    assert (await say(client, auth, "/apikey create ci", "bob"))["error_code"] == "forbidden"
    assert await count(app, t.api_key) == before

    created = (await say(client, auth, "/apikey create ci messages:write", "alice"))["reply"]
    plaintext = created.splitlines()[-1]
    assert plaintext.startswith("thk_") and "shown only this once" in created
    caller = await app.services.api_keys.verify(f"Bearer {plaintext}")
    assert caller.scopes == ("messages:write",)
    assert plaintext not in (await say(client, auth, "/apikey list", "alice"))["reply"]  # never shown again

    revoked = (await say(client, auth, f"/apikey revoke {caller.key_id}", "alice"))["reply"]
    assert "is revoked" in revoked
    status, _ = await post(client, {"Authorization": f"Bearer {plaintext}"}, "hi", user="x")
    assert status == 401
    assert (await say(client, auth, "/apikey revoke key_nope", "alice"))["error_code"] == "not_found"
