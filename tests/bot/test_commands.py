"""The built-in slash commands (`bot/commands/basic.py`, `bot/commands/admin.py`) through a real app, over the
HTTP API with an API key.

Covered: /help (commands and skills, admin commands only for admins), /whoami, /timezone (show, set, an
unknown zone changes nothing), /status, /pause and /resume by a platform admin (platform state and an audit
event) and refused to a member and to an account owner (nothing changes), /maintenance on|off, /agent
pause|resume SLUG (usage, unknown slug) and /user suspend|resume USER (usage, unknown user, not oneself).
Refusals are audited.

The platform admin is "boss": `admins` names the HTTP identity `http:<account id>:boss`, so the settings are
made after a first look at the seeded store tells the account's id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.store import tables as t
from bot.store.batch import Update
from config.settings import Settings
from server.app import App
from tests.helpers import post, with_platform_admin

BOSS = "boss"  # the platform admin
Body = dict[str, Any]


@pytest.fixture
async def settings(tmp_path: Path) -> Settings:
    return await with_platform_admin(tmp_path / "var")


async def say(client: TestClient, auth: dict[str, str], text: str, *, user: str = "u1") -> Body:
    status, body = await post(client, auth, text, user=user)
    assert status == 200, body
    return body


def answered(body: Body, intent: str, error_code: str | None = None) -> str:
    """The command's reply text, after checking the turn was answered by that command."""
    assert (body["tier"], body["intent"], body["error_code"]) == ("command", intent, error_code), body
    assert body["status"] == "completed"
    reply = body["reply"]
    assert isinstance(reply, str)
    return reply


async def user_of(app: App, body: Body) -> str:
    row = await app.services.db.one(select(t.interaction.c.user_id).where(t.interaction.c.id == body["interaction_id"]))
    assert row is not None
    return str(row.user_id)


async def _events(app: App) -> list[Any]:
    return await app.services.db.all(
        select(t.audit_event).where(t.audit_event.c.action.not_like("api_key.%"))
        .order_by(t.audit_event.c.created_at, t.audit_event.c.id))


async def audit(app: App) -> list[tuple[str, str, str | None, str | None]]:
    """The changes made (refusals are audited too; `refused` lists them)."""
    return [(r.action, r.actor, r.target_type, r.target_id) for r in await _events(app)
            if (r.detail or {}).get("outcome") != "refused"]


async def refused(app: App) -> list[str]:
    return [r.action for r in await _events(app) if (r.detail or {}).get("outcome") == "refused"]


async def make_owner(app: App, user_id: str) -> None:
    row = await app.services.db.one(select(t.membership.c.id).where(t.membership.c.user_id == user_id))
    assert row is not None
    # Through an admin change, so the directory's cached role is dropped at once.
    await app.services.platform.change([Update(t.membership, row.id, {"role": "owner"})], actor="tests",
                                       action="membership.role")


# basic commands --------------------------------------------------------------------------------------------------


async def test_help_lists_commands_and_skills(client: TestClient, auth: dict[str, str]) -> None:
    lines = answered(await say(client, auth, "/help"), "/help").splitlines()
    assert lines[0].startswith("I'm Assistant. Commands")
    assert "/whoami - who you are to me" in lines
    assert "/timezone [Area/City] - show or set your time zone" in lines
    assert not [line for line in lines if line.startswith(("/pause", "/status", "/user"))]  # not for members
    skills = lines[lines.index("You can also just ask:") + 1:]
    assert any(line.startswith("- time: ") for line in skills)
    assert any(line.startswith("- undo: ") for line in skills)


async def test_help_shows_admin_commands_to_a_platform_admin(client: TestClient, auth: dict[str, str]) -> None:
    lines = answered(await say(client, auth, "/help", user=BOSS), "/help").splitlines()
    assert "/pause - stop all processing (kill switch)" in lines
    assert ("/agent show|create|name|prompt|model|tools|delegate|pause|resume|archive SLUG ... - show, create, "
            "configure, pause, resume or archive an agent") in lines


async def test_whoami(client: TestClient, auth: dict[str, str], app: App) -> None:
    body = await say(client, auth, "/whoami")
    user_id = await user_of(app, body)
    account = await app.services.directory.account_by_slug("default")
    assert account is not None
    assert answered(body, "/whoami").splitlines() == [
        f"You are Sam (user {user_id}).",
        "Role: member in account 'default'.",
        f"Talking to Assistant on channel 'api' (conversation {body['conversation_id']}).",
        "Time zone: UTC (server default).",
        "Language: not set (English).",
        f"Identities: http:{account.id}:u1",
    ]
    boss = answered(await say(client, auth, "/whoami", user=BOSS), "/whoami")
    assert "Role: platform admin in account 'default'." in boss.splitlines()


async def test_timezone_shows_sets_and_refuses_an_unknown_zone(client: TestClient, auth: dict[str, str],
                                                               app: App) -> None:
    shown = answered(await say(client, auth, "/timezone"), "/timezone")
    assert shown == "Your time zone is UTC. Change it with /timezone Europe/Berlin."
    body = await say(client, auth, "/timezone Asia/Tokyo")
    assert answered(body, "/timezone") == "Done: your time zone is now Asia/Tokyo."
    user_id = await user_of(app, body)

    async def stored_zone() -> str | None:
        row = await app.services.db.one(select(t.user_profile.c.timezone).where(t.user_profile.c.id == user_id))
        assert row is not None
        return row.timezone

    assert await stored_zone() == "Asia/Tokyo"
    refused = answered(await say(client, auth, "/timezone Nowhere/Atlantis"), "/timezone", "bad_request")
    assert refused.startswith("I don't know the time zone 'Nowhere/Atlantis'.")
    assert await stored_zone() == "Asia/Tokyo"
    assert "/timezone" in answered(await say(client, auth, "/timezone"), "/timezone")
    assert "Asia/Tokyo" in answered(await say(client, auth, "/whoami"), "/whoami")


# /status, /pause, /resume ----------------------------------------------------------------------------------------


async def test_status_for_admins_only(client: TestClient, auth: dict[str, str]) -> None:
    refused = answered(await say(client, auth, "/status"), "/status", "forbidden")
    assert refused == "/status is for administrators."
    shown = answered(await say(client, auth, "/status", user=BOSS), "/status")
    assert shown == "Platform: online. Agent assistant: active. Channel api (http): active."


async def test_platform_admin_pauses_and_resumes(client: TestClient, auth: dict[str, str], app: App) -> None:
    body = await say(client, auth, "/pause", user=BOSS)
    assert answered(body, "/pause") == ("Platform paused (kill switch): running turns stop after their current "
                                        "step and no new messages are processed until /resume.")
    boss = await user_of(app, body)
    assert app.services.platform.status == "paused"
    assert await audit(app) == [("platform.paused", f"user:{boss}", "platform", None)]

    member = await say(client, auth, "hi")
    assert (member["status"], member["tier"], member["error_code"]) == ("rejected", "gate", "platform_paused")
    # the admin's commands still get through, so /resume can be reached
    assert "Platform: paused." in answered(await say(client, auth, "/status", user=BOSS), "/status")

    assert answered(await say(client, auth, "/resume", user=BOSS), "/resume") == "Platform online."
    assert app.services.platform.status == "online"
    assert [a[0] for a in await audit(app)] == ["platform.paused", "platform.online"]
    assert (await say(client, auth, "hi"))["status"] == "completed"


async def test_pause_and_resume_are_refused_to_a_member_and_nothing_changes(
    client: TestClient, auth: dict[str, str], app: App
) -> None:
    assert answered(await say(client, auth, "/pause"), "/pause", "forbidden") == "/pause is for administrators."
    assert app.services.platform.status == "online"
    assert await audit(app) == [] and await refused(app) == ["command.pause"]
    await app.services.platform.set_status("paused", actor="tests")
    # a member's /resume does not even pass the gate of a paused platform
    gated = await say(client, auth, "/resume")
    assert (gated["tier"], gated["error_code"]) == ("gate", "platform_paused")
    assert app.services.platform.status == "paused"
    assert await audit(app) == [("platform.paused", "tests", "platform", None)]


async def test_an_account_owner_cannot_use_the_platform_kill_switch(client: TestClient, auth: dict[str, str],
                                                                    app: App) -> None:
    await make_owner(app, await user_of(app, await say(client, auth, "hi")))
    denied = answered(await say(client, auth, "/pause"), "/pause", "forbidden")
    assert denied == "You can't do that: only a platform administrator does that."
    assert answered(await say(client, auth, "/maintenance on"), "/maintenance", "forbidden") == denied
    assert app.services.platform.status == "online"
    assert [a[0] for a in await audit(app)] == ["membership.role"]  # nothing changed but the test's own setup
    assert await refused(app) == ["platform.paused", "platform.maintenance"]
    # an owner may see the state
    assert answered(await say(client, auth, "/status"), "/status").startswith("Platform: online.")


# /maintenance ----------------------------------------------------------------------------------------------------


async def test_maintenance_on_and_off(client: TestClient, auth: dict[str, str], app: App) -> None:
    assert answered(await say(client, auth, "/maintenance", user=BOSS), "/maintenance",
                    "bad_request") == "Usage: /maintenance on|off"
    assert answered(await say(client, auth, "/maintenance soon", user=BOSS), "/maintenance",
                    "bad_request") == "Usage: /maintenance on|off"
    assert app.services.platform.status == "online"
    on = answered(await say(client, auth, "/maintenance ON", user=BOSS), "/maintenance")
    assert on == "Maintenance on: messages are kept and answered when it ends (/maintenance off)."
    assert app.services.platform.status == "maintenance"
    status, held = await post(client, auth, "what time is it")
    assert (status, held["status"], held["error_code"]) == (202, "queued", "maintenance")
    off = answered(await say(client, auth, "/maintenance off", user=BOSS), "/maintenance")
    assert off == "Maintenance off: queued messages are being answered now."
    assert app.services.platform.status == "online"
    assert [a[0] for a in await audit(app)] == ["platform.maintenance", "platform.online"]


# /agent ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", ["", "pause", "pause  ", "stop assistant", "assistant"])
async def test_agent_bad_usage(client: TestClient, auth: dict[str, str], app: App, args: str) -> None:
    body = await say(client, auth, f"/agent {args}", user=BOSS)
    usage = answered(body, "/agent", "bad_request")
    assert usage.startswith("Usage: /agent ") and "pause" in usage
    assert await audit(app) == []


async def test_agent_unknown_slug_is_not_found(client: TestClient, auth: dict[str, str], app: App) -> None:
    reply = answered(await say(client, auth, "/agent pause ghost", user=BOSS), "/agent", "not_found")
    assert reply == "No agent 'ghost'. /agents lists this account's."
    assert await audit(app) == []


async def test_agent_pause_and_resume(client: TestClient, auth: dict[str, str], app: App) -> None:
    body = await say(client, auth, "/agent pause assistant", user=BOSS)
    assert answered(body, "/agent") == "Agent assistant is paused: it takes no new messages."
    account = await app.services.directory.account_by_slug("default")
    assert account is not None
    agent = await app.services.directory.agent_by_slug(account.id, "assistant")
    assert agent is not None and agent.status == "paused"
    assert await audit(app) == [("agent.pause", f"user:{await user_of(app, body)}", "agent", agent.id)]

    member = await say(client, auth, "hi")
    assert (member["status"], member["error_code"]) == ("rejected", "agent_paused")
    assert member["reply"] == "Assistant is paused by an administrator and is not taking messages right now."
    # an admin's command passes the paused agent's gate
    assert answered(await say(client, auth, "/agent resume assistant", user=BOSS), "/agent") == \
        "Agent assistant is active again."
    resumed = await app.services.directory.agent_by_slug(account.id, "assistant")
    assert resumed is not None and resumed.status == "active"
    assert (await say(client, auth, "hi"))["status"] == "completed"


async def test_agent_command_is_refused_to_a_member(client: TestClient, auth: dict[str, str], app: App) -> None:
    assert answered(await say(client, auth, "/agent pause assistant"), "/agent", "forbidden") == \
        "/agent is for administrators."
    assert (await say(client, auth, "hi"))["status"] == "completed"
    assert await audit(app) == [] and await refused(app) == ["command.agent"]


# /user -----------------------------------------------------------------------------------------------------------


async def test_user_suspend_and_resume(client: TestClient, auth: dict[str, str], app: App) -> None:
    target = await user_of(app, await say(client, auth, "hi"))
    body = await say(client, auth, f"/user suspend {target}", user=BOSS)
    assert answered(body, "/user") == f"Sam ({target}) is now suspended in this account."
    boss = await user_of(app, body)
    assert await audit(app) == [("user.suspend", f"user:{boss}", "user_profile", target)]
    blocked = await say(client, auth, "hi")
    assert (blocked["status"], blocked["error_code"]) == ("rejected", "user_suspended")
    assert (await say(client, auth, "hi", user="u2"))["status"] == "completed"  # only that user

    assert answered(await say(client, auth, f"/user resume {target}", user=BOSS), "/user") == \
        f"Sam ({target}) is now active in this account."
    assert (await say(client, auth, "hi"))["status"] == "completed"
    assert [a[0] for a in await audit(app)] == ["user.suspend", "user.resume"]


@pytest.mark.parametrize("args", ["", "suspend", "ban usr_x", "usr_x"])
async def test_user_bad_usage(client: TestClient, auth: dict[str, str], app: App, args: str) -> None:
    reply = answered(await say(client, auth, f"/user {args}", user=BOSS), "/user", "bad_request")
    assert reply == "Usage: /user show|suspend|resume|delete USER [everywhere|confirm]"
    assert await audit(app) == []


async def test_user_unknown_is_not_found_and_oneself_is_refused(client: TestClient, auth: dict[str, str],
                                                                app: App) -> None:
    assert answered(await say(client, auth, "/user suspend usr_nobody", user=BOSS), "/user",
                    "not_found") == "No user usr_nobody."
    boss = await user_of(app, await say(client, auth, "/help", user=BOSS))
    assert answered(await say(client, auth, f"/user suspend {boss}", user=BOSS), "/user",
                    "bad_request") == "You cannot suspend yourself."
    assert await audit(app) == []
    assert (await say(client, auth, "/help", user=BOSS))["status"] == "completed"


async def test_user_command_is_refused_to_a_member(client: TestClient, auth: dict[str, str], app: App) -> None:
    target = await user_of(app, await say(client, auth, "hi", user="u2"))
    assert answered(await say(client, auth, f"/user suspend {target}"), "/user", "forbidden") == \
        "/user is for administrators."
    assert (await say(client, auth, "hi", user="u2"))["status"] == "completed"
    assert await audit(app) == [] and await refused(app) == ["command.user"]
