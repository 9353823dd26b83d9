"""Teams and account settings, by chat and over /v1/admin: who may create, staff and archive a team (account
owners and admins; team admins for their team's members), nothing across accounts, every refusal audited;
an archived team's agents refuse new messages; settings validated with nothing changed on bad input; and the
0010 migration up and down on SQLite. The platform admin is "boss" (`THINKLIO_ADMINS=http:<account id>:boss`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from alembic import command
from sqlalchemy import create_engine, inspect, select

from bot.account_settings import default_language, delegation_depth
from bot.governance import Actor, WorkScope
from bot.store import tables as t
from bot.store.migrate import alembic_config, upgrade_async
from config.settings import Settings
from server.app import App
from server.settings import migration_folders
from tests.helpers import count, said, with_platform_admin

Body = dict[str, Any]


@pytest.fixture
async def settings(tmp_path: Path) -> Settings:
    return await with_platform_admin(tmp_path / "var")


say = said


async def meet(client: TestClient, auth: dict[str, str], *users: str) -> None:
    for user in users:
        await say(client, auth, "hello", user)


async def refusals(app: App, action: str) -> list[Any]:
    rows = await app.services.db.all(select(t.audit_event).where(t.audit_event.c.action == action))
    return [row for row in rows if (row.detail or {}).get("outcome") == "refused"]


async def seats(app: App) -> dict[str, str]:
    """team slug/user's external id -> role, for every seat."""
    tm, team, ci = t.team_member, t.team, t.channel_identity
    rows = await app.services.db.all(select(team.c.slug, ci.c.external_id, tm.c.role)
                                     .join(team, team.c.id == tm.c.team_id)
                                     .join(ci, ci.c.user_id == tm.c.user_id))
    return {f"{row.slug}/{row.external_id.split(':')[-1]}": row.role for row in rows}


async def default_account(app: App) -> str:
    account = await app.services.directory.account_by_slug("default")
    assert account is not None
    return account.id


async def test_team_roles_allowed_and_refused(app: App, client: TestClient, auth: dict[str, str]) -> None:
    await meet(client, auth, "alice", "bob", "carol", "dave", "erin")
    await say(client, auth, "/grant http:alice admin", "boss")
    await say(client, auth, "/grant http:erin readonly", "boss")

    # only the account's owners and admins create teams; the refusal is audited and nothing is created
    denied = await say(client, auth, "/team create Ops", "bob")
    assert denied["error_code"] == "forbidden" and await count(app, t.team) == 0
    assert len(await refusals(app, "team.create")) == 1
    created = await say(client, auth, "/team create Sales Team", "alice")
    assert created["error_code"] is None and "sales-team" in created["reply"]
    again = await say(client, auth, "/team create sales team", "alice")
    assert again["error_code"] == "conflict" and await count(app, t.team) == 1

    # an account admin staffs it; a team admin adds and removes members of their team
    assert (await say(client, auth, "/team add sales-team http:bob admin", "alice"))["error_code"] is None
    assert (await say(client, auth, "/team add sales-team http:carol", "bob"))["error_code"] is None
    assert await seats(app) == {"sales-team/bob": "admin", "sales-team/carol": "member"}
    # a plain team member may not, nor may a team admin do account-admin things (assign an agent, archive)
    for text, user, action in (("/team add sales-team http:dave", "carol", "team.add"),
                               ("/team agent sales-team assistant", "bob", "team.agent"),
                               ("/team archive sales-team", "bob", "team.archive")):
        refused = await say(client, auth, text, user)
        assert refused["error_code"] == "forbidden", (text, refused)
        assert len(await refusals(app, action)) == 1, action
    # a readonly account member is refused even as a team admin
    await say(client, auth, "/team add sales-team http:erin admin", "alice")
    assert (await say(client, auth, "/team remove sales-team http:carol", "erin"))["error_code"] == "forbidden"
    assert len(await refusals(app, "team.remove")) == 1
    assert (await say(client, auth, "/team remove sales-team http:carol", "bob"))["error_code"] is None
    assert await seats(app) == {"sales-team/bob": "admin", "sales-team/erin": "admin"}

    # bad input: a clear reply, nothing changed
    for text in ("/team add sales-team http:dave boss", "/team add nowhere http:dave", "/team add sales-team",
                 "/team frobnicate", "/team add sales-team http:nobody"):
        bad = await say(client, auth, text, "alice")
        assert bad["error_code"] in ("bad_request", "not_found"), (text, bad)
    assert await seats(app) == {"sales-team/bob": "admin", "sales-team/erin": "admin"}

    shown = (await say(client, auth, "/team show sales-team", "bob"))["reply"]
    assert "Sales Team" in shown and "admin" in shown
    assert (await say(client, auth, "/team show sales-team", "dave"))["error_code"] == "forbidden"
    assert "sales-team" in (await say(client, auth, "/teams", "bob"))["reply"]
    assert "not in any team" in (await say(client, auth, "/teams", "dave"))["reply"]
    helped = (await say(client, auth, "/help team", "dave"))["reply"]
    assert "Team roles: admin, member, readonly" in helped
    assert "Teams: sales-team (2 members)." in (await say(client, auth, "/account", "alice"))["reply"]
    audit = (await say(client, auth, "/audit team.", "alice"))["reply"]
    assert "team.create" in audit and "team.add" in audit and "[refused" in audit


async def test_another_accounts_teams_and_people_are_out_of_reach(app: App, client: TestClient,
                                                                  auth: dict[str, str]) -> None:
    from bot.messages import InboundMessage, Sender
    from bot.store.seed import seed_catalogue
    from config.catalogue import ASSISTANT, AccountSeed, ChannelSeed

    await app.services.db.run(lambda conn: seed_catalogue(
        conn, (AccountSeed(slug="other", name="Other", agents=(ASSISTANT,)),), app.services.clock.now(),
        channels=(ChannelSeed(slug="other-api", type="http", agent="assistant", account="other"),)))
    app.services.directory.invalidate()
    await app.services.pipeline.handle(InboundMessage(channel="other-api", sender=Sender("stranger"), text="hi"))
    stranger = await app.services.db.one(select(t.channel_identity.c.user_id)
                                         .where(t.channel_identity.c.external_id == "stranger"))
    other = await app.services.directory.account_by_slug("other")
    assert stranger is not None and other is not None
    theirs = await app.services.governance.teams.create(Actor("tests", other.id, "owner"), "Theirs")

    await meet(client, auth, "alice", "bob")
    await say(client, auth, "/grant http:alice admin", "boss")
    await say(client, auth, "/team create Ours", "alice")
    # their team, even named by its id, is "not found" here, and the attempt is in the audit trail
    reply = await say(client, auth, f"/team add {theirs.id} http:bob", "alice")
    assert reply["error_code"] == "not_found"
    assert [row.detail["reason"] for row in await refusals(app, "team.add")] == ["the team is in another account"]
    # their member cannot be put in our team
    reply = await say(client, auth, f"/team add ours {stranger.user_id}", "alice")
    assert reply["error_code"] == "not_found"
    assert len(await refusals(app, "team.add")) == 2
    assert await count(app, t.team_member) == 0
    # the same slug in the other account is another team
    assert (await say(client, auth, "/team show theirs", "alice"))["error_code"] == "not_found"


async def test_archiving_a_team_stops_its_agents_and_keeps_the_rest(app: App, client: TestClient,
                                                                     auth: dict[str, str]) -> None:
    cancelled: list[WorkScope] = []

    async def canceller(scope: WorkScope, reason: str) -> int:
        cancelled.append(scope)
        return 2

    app.services.governance.pending.register(canceller)
    await meet(client, auth, "alice", "bob")
    await say(client, auth, "/grant http:alice admin", "boss")
    await say(client, auth, "/team create Support", "alice")
    await say(client, auth, "/team add support http:bob", "alice")
    assigned = await say(client, auth, "/team agent support assistant", "alice")
    assert assigned["error_code"] is None, assigned
    assert (await say(client, auth, "what time is it?", "bob"))["status"] == "completed"

    archived = await say(client, auth, "/team archive support", "alice")
    assert "archived" in archived["reply"] and "2 pending jobs cancelled" in archived["reply"]
    agent = await app.services.directory.agent_by_slug(await default_account(app), "assistant")
    assert agent is not None and cancelled == [WorkScope(agent_id=agent.id)]
    for user in ("bob", "alice"):  # members and admins alike: the agent takes no new interactions
        blocked = await say(client, auth, "what time is it?", user)
        assert (blocked["status"], blocked["error_code"]) == ("rejected", "team_archived"), blocked
        assert "Support" in blocked["reply"] and "archived" in blocked["reply"]
    # an account admin still reaches the commands; the team, its seats and the audit trail are kept
    assert "archived" in (await say(client, auth, "/team show support", "alice"))["reply"]
    assert await seats(app) == {"support/bob": "member"}
    assert agent.status == "active"  # deactivated through its team, not paused: /agent resume cannot undo it
    assert (await say(client, auth, "/team add support http:alice", "alice"))["error_code"] == "conflict"
    assert "team.archive" in (await say(client, auth, "/audit team.archive", "alice"))["reply"]


async def test_account_settings_are_validated_and_nothing_changes_on_bad_input(app: App, client: TestClient,
                                                                                auth: dict[str, str]) -> None:
    await meet(client, auth, "alice", "bob")
    await say(client, auth, "/grant http:alice admin", "boss")
    shown = (await say(client, auth, "/account settings", "alice"))["reply"]
    assert "delegation_depth = 3 (default)" in shown and "default_language = en (default)" in shown

    for text in ("/account set delegation_depth 9", "/account set delegation_depth -1",
                 "/account set delegation_depth two", "/account set colour blue",
                 "/account set default_language xx-notalanguage", "/account set delegation_depth"):
        bad = await say(client, auth, text, "alice")
        assert bad["error_code"] == "bad_request", (text, bad)
    account = await app.services.directory.account(await default_account(app))
    assert account.settings is None and delegation_depth(account) == 3
    assert await count(app, t.audit_event, t.audit_event.c.action == "account.settings") == 0

    # members may not; the refusal is audited and nothing changes
    assert (await say(client, auth, "/account set delegation_depth 1", "bob"))["error_code"] == "forbidden"
    assert len(await refusals(app, "command.account")) == 1

    assert (await say(client, auth, "/account set delegation_depth 0", "alice"))["reply"] == \
        "Done: delegation_depth is now 0."
    assert "pt-BR" in (await say(client, auth, "/account set default_language pt_br", "alice"))["reply"]
    account = await app.services.directory.account(await default_account(app))
    assert (delegation_depth(account), default_language(account)) == (0, "pt-BR")
    assert "delegation_depth = 0 -" in (await say(client, auth, "/account settings", "alice"))["reply"]
    assert await count(app, t.audit_event, t.audit_event.c.action == "account.settings") == 2


async def test_teams_and_settings_over_http(app: App, client: TestClient, auth: dict[str, str]) -> None:
    account_id = await default_account(app)
    _, admin_key = await app.services.api_keys.create(account_id, "admin", ("admin",), actor="tests")
    admin = {"Authorization": f"Bearer {admin_key}"}
    await meet(client, auth, "erin")

    no_scope = await client.post("/v1/admin/teams", json={"name": "Ops"}, headers=auth)
    assert no_scope.status == 403 and (await no_scope.json())["error"]["code"] == "forbidden"
    bad = await client.post("/v1/admin/teams", json={"name": "Ops", "colour": "red"}, headers=admin)
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "bad_request"
    assert await count(app, t.team) == 0
    created = await client.post("/v1/admin/teams", json={"name": "Ops"}, headers=admin)
    assert created.status == 201 and (await created.json())["slug"] == "ops"
    conflict = await client.post("/v1/admin/teams", json={"name": "ops"}, headers=admin)
    assert conflict.status == 409 and (await conflict.json())["error"]["code"] == "conflict"

    seat = await client.put("/v1/admin/teams/ops/members/http:erin", json={"role": "readonly"}, headers=admin)
    assert seat.status == 200 and (await seat.json())["members"][0]["role"] == "readonly"
    wrong = await client.put("/v1/admin/teams/ops/members/http:erin", json={"role": "emperor"}, headers=admin)
    assert wrong.status == 400 and await seats(app) == {"ops/erin": "readonly"}
    missing = await client.put("/v1/admin/teams/nope/members/http:erin", headers=admin)
    assert missing.status == 404 and (await missing.json())["error"]["code"] == "not_found"
    agent = await client.put("/v1/admin/teams/ops/agents/assistant", headers=admin)
    assert agent.status == 200 and (await agent.json())["agents"] == [{"slug": "assistant", "status": "active"}]
    summary = await (await client.get("/v1/admin/account", headers=admin)).json()
    assert summary["teams"] == [{"slug": "ops", "status": "active", "members": 1}]
    listed = await (await client.get("/v1/admin/teams", headers=admin)).json()
    assert listed["teams"] == [{"id": listed["teams"][0]["id"], "slug": "ops", "name": "Ops", "status": "active",
                                "members": 1, "agents": 1}]
    removed = await client.delete("/v1/admin/teams/ops/members/http:erin", headers=admin)
    assert removed.status == 200 and (await removed.json())["members"] == []
    archived = await client.post("/v1/admin/teams/ops/archive", headers=admin)
    assert archived.status == 200 and (await archived.json())["status"] == "archived"

    settings = await (await client.get("/v1/admin/account/settings", headers=admin)).json()
    assert settings == {"settings": {"delegation_depth": 3, "default_language": "en"},
                        "defaults": ["default_language", "delegation_depth"]}
    for body in ({"delegation_depth": 6}, {"delegation_depth": True}, {"delegation_depth": 2, "nope": 1},
                 {"default_language": 5}, {}, ["delegation_depth"]):
        refused = await client.patch("/v1/admin/account/settings", json=body, headers=admin)
        assert refused.status == 400 and (await refused.json())["error"]["code"] == "bad_request", body
    assert (await app.services.directory.account(account_id)).settings is None  # one bad key: nothing stored
    changed = await client.patch("/v1/admin/account/settings", json={"delegation_depth": "2"}, headers=admin)
    assert changed.status == 200 and (await changed.json())["settings"]["delegation_depth"] == 2
    member_key = await client.get("/v1/admin/account/settings", headers=auth)
    assert member_key.status == 403


async def test_migration_0010_up_and_down_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    await upgrade_async(url, migration_folders())
    engine = create_engine(url)

    def shape() -> tuple[set[str], set[str], set[str]]:
        found = inspect(engine)
        return (set(found.get_table_names()), {c["name"] for c in found.get_columns("agent")},
                {c["name"] for c in found.get_columns("account")})

    tables, agent, account = shape()
    assert {"team", "team_member"} <= tables and "team_id" in agent and "settings" in account
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO account (id, slug, name, status, settings, created_at) "
                             "VALUES ('acc_1', 'kept', 'Kept', 'active', '{\"delegation_depth\": 1}', '2026-12-04')")
    config = alembic_config(url, migration_folders())
    command.downgrade(config, "0009")
    tables, agent, account = shape()
    assert not {"team", "team_member"} & tables and "team_id" not in agent and "settings" not in account
    with engine.begin() as conn:
        assert conn.exec_driver_sql("SELECT slug FROM account").scalar() == "kept"
    command.upgrade(config, "heads")
    tables, agent, account = shape()
    assert {"team", "team_member"} <= tables and "team_id" in agent and "settings" in account
    engine.dispose()


async def test_delegation_stops_at_the_accounts_depth_and_at_deactivated_agents(app: App, client: TestClient,
                                                                                 auth: dict[str, str]) -> None:
    from dataclasses import replace

    from agents.runner import DelegationRefused
    from bot.messages import Sender
    from bot.turn import Turn

    s = app.services
    await meet(client, auth, "alice")
    await say(client, auth, "/grant http:alice admin", "boss")
    channel = await s.directory.channel("api")
    assert channel is not None
    user = await s.directory.identify("http", Sender("solo"), channel.account_id)
    turn = Turn(interaction_id="ix_1", message_id="msg_1", text="hi", channel=channel,
                agent=await s.directory.agent(channel.agent_id), user=user,
                conversation=await s.directory.conversation(channel, user, "solo"), sender_external_id="solo",
                received_at=s.clock.now())
    runner = app.kit.agents
    assert (await runner.run(turn)).reply.error_code == "no_model"  # allowed: it reaches the harness
    deep = replace(turn, delegation_depth=3)
    with pytest.raises(DelegationRefused, match="3 levels deep"):
        await runner.run(deep)
    await say(client, auth, "/account set delegation_depth 4", "alice")
    assert (await runner.run(deep)).reply.error_code == "no_model"
    await say(client, auth, "/account set delegation_depth 0", "alice")
    with pytest.raises(DelegationRefused, match="0 levels deep"):
        await runner.run(turn)

    await say(client, auth, "/account set delegation_depth 3", "alice")
    await say(client, auth, "/team create Ops", "alice")
    await say(client, auth, "/team agent ops assistant", "alice")
    await say(client, auth, "/team archive ops", "alice")
    archived = replace(turn, agent=await s.directory.agent(channel.agent_id))
    with pytest.raises(DelegationRefused, match="not taking work"):
        await runner.run(archived, agent="assistant")


async def test_a_chain_of_delegations_stops_at_the_depth(app: App) -> None:
    """An agent that always delegates again (a cycle at run time) goes exactly `delegation_depth` levels down."""
    from agents.runner import AgentRunner, DelegationRefused
    from bot.messages import Sender
    from bot.turn import Reply, Turn

    s = app.services
    await app.open_store()
    try:
        levels: list[int] = []

        class Delegating:
            async def answer(self, turn: Turn) -> Reply:
                levels.append(turn.delegation_depth)
                try:
                    await runner.run(turn)
                except DelegationRefused as exc:
                    return Reply(str(exc), tier="llm")
                return Reply("done", tier="llm")

        runner = AgentRunner(Delegating(), s.directory)  # type: ignore[arg-type]
        channel = await s.directory.channel("api")
        assert channel is not None
        user = await s.directory.identify("http", Sender("solo"), channel.account_id)
        turn = Turn(interaction_id="ix_1", message_id="msg_1", text="hi", channel=channel,
                    agent=await s.directory.agent(channel.agent_id), user=user,
                    conversation=await s.directory.conversation(channel, user, "solo"), sender_external_id="solo",
                    received_at=s.clock.now())
        await runner.run(turn)
        assert levels == [1, 2, 3]
    finally:
        await app.close_store()
