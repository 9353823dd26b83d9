"""/users, /user show and /audit from chat, paged to fit one chat message, and the same over /v1/admin/users
(including the GDPR DELETE, which changes nothing without confirm=true)."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.commands.people import CHAT_LIMIT
from bot.store import tables as t
from server.app import App
from tests.bot.test_user_delete import ALICE, NAMES, boot, count, refused, say, user_id_of
from tests.helpers import post


async def test_users_are_paged_to_fit_a_chat_message(tmp_path: Path) -> None:
    app = await boot(tmp_path)
    try:
        await say(app, "hello", "boss")
        for n in range(60):  # names as long as a channel may send (200 characters)
            NAMES[f"p{n:02}"] = f"Person {n:02} " + "x" * 190
            await say(app, "hello", f"p{n:02}")
        seen: list[str] = []
        first = (await say(app, "/users", "boss")).reply or ""
        pages = int(re.search(r"Page 1 of (\d+) \(61 in all\)", first).group(1))  # type: ignore[union-attr]
        assert pages == 3 and "/users 2 for more" in first
        for page in range(1, pages + 1):
            reply = (await say(app, f"/users {page}", "boss")).reply or ""
            assert len(reply) <= CHAT_LIMIT and f"Page {page} of {pages}" in reply
            seen += re.findall(r"\((usr_\w+)\)", reply)
        assert len(seen) == len(set(seen)) == 61  # every member exactly once
        assert (await say(app, "/users 9", "boss")).reply == "There is no page 9: 3 in all."
        query = (await say(app, "/users person 07 x", "boss")).reply or ""  # a last number would be a page
        assert "Page 1 of 1 (1 in all)" in query and "Person 07" in query
        denied = await say(app, "/users", "p01")
        assert denied.error_code == "forbidden"

        # a platform admin sees everyone of every account, with how many accounts each is in
        await say(app, "hi", "p03", channel="other-api")
        everyone = (await say(app, "/users all person 03 x", "boss")).reply or ""
        assert "- 2 accounts" in everyone and "Page 1 of 1 (1 in all)" in everyone
        assert "Page 1 of 3 (61 in all)" in ((await say(app, "/users all", "boss")).reply or "")
        await say(app, f"/grant {await user_id_of(app, 'p04')} admin", "boss")
        assert (await say(app, "/users all", "p04")).error_code == "forbidden"  # an account admin: their own only
        assert [r.detail["reason"] for r in await refused(app, "user.list")] == [
            "only a platform administrator sees every account's people"]
    finally:
        await app.stop()


async def test_user_show_tells_an_admin_what_there_is(tmp_path: Path) -> None:
    app = await boot(tmp_path)
    try:
        for user in ("boss", ALICE, "dave"):
            await say(app, "hello", user)
        await say(app, "add oat milk to my shopping list")
        await say(app, "hi", ALICE, channel="other-api")
        alice, dave = await user_id_of(app, ALICE), await user_id_of(app, "dave")
        await say(app, f"/grant {dave} admin", "boss")

        shown = (await say(app, "/user show http:alice-qzk", "dave")).reply or ""
        assert f"Alice Quinlan ({alice}): active." in shown
        assert "Memberships: default: member; and 1 other account(s)." in shown  # an account admin sees their own
        assert "Identities: http:alice-qzk." in shown
        assert "Stored: 3 messages" in shown and "1 list items" in shown and "0 jobs" in shown
        assert re.search(r"Last seen: \d{4}-\d\d-\d\d \d\d:\d\d UTC", shown)
        everywhere = (await say(app, f"/user show {alice}", "boss")).reply or ""
        assert "Memberships: default: member; other: member." in everywhere  # a platform admin sees all
        assert (await say(app, f"/user show {alice} extra", "boss")).error_code == "bad_request"
        assert (await say(app, "/user show telegram:404", "boss")).error_code == "not_found"
    finally:
        await app.stop()


async def test_audit_filters_and_pages(tmp_path: Path) -> None:
    app = await boot(tmp_path)
    try:
        for user in ("boss", ALICE, "bob"):
            await say(app, "hello", user)
        alice = await user_id_of(app, ALICE)
        for _ in range(12):  # 24 role changes by boss
            await say(app, f"/grant {alice} admin", "boss")
            await say(app, f"/grant {alice} member", "boss")
        await say(app, "/pause", ALICE)  # refused: not an administrator
        first = (await say(app, "/audit", "boss")).reply or ""
        assert "Page 1 of 2 (25 in all); /audit 2 for more." in first and len(first) <= CHAT_LIMIT
        second = (await say(app, "/audit 2", "boss")).reply or ""
        assert "Page 2 of 2 (25 in all)." in second and len(second.splitlines()) == 6
        by_person = (await say(app, "/audit 1h http:alice-qzk", "boss")).reply or ""
        assert "command.pause" in by_person and "role.grant" not in by_person and "(1 in all)" in by_person
        by_type = (await say(app, "/audit role. 2", "boss")).reply or ""
        assert "Page 2 of 2 (24 in all)" in by_type and "command." not in by_type
        assert (await say(app, "/audit 3", "boss")).reply == "There is no page 3: 2 in all."
        assert "Nothing in the audit trail" in ((await say(app, "/audit 2099-01-01", "boss")).reply or "")
        assert (await say(app, "/audit 2026-13-45", "boss")).error_code == "bad_request"
        assert (await say(app, "/audit 7d role. extra", "boss")).error_code == "bad_request"
    finally:
        await app.stop()


async def test_users_over_http(app: App, client: TestClient, auth: dict[str, str]) -> None:
    account = await app.services.directory.account_by_slug("default")
    assert account is not None
    _, admin_key = await app.services.api_keys.create(account.id, "admin", ("admin",), actor="tests")
    admin = {"Authorization": f"Bearer {admin_key}"}
    for user in ("erin", "frank"):
        assert (await post(client, auth, "hello", user=user))[0] == 200
    erin = await user_id_of(app, f"{account.id}:erin")

    listed = await (await client.get("/v1/admin/users", headers=admin)).json()
    assert listed["total"] == 2 and listed["pages"] == 1
    shown = await client.get("/v1/admin/users/http:erin", headers=admin)
    body = await shown.json()
    assert shown.status == 200 and body["id"] == erin and body["counts"]["messages"] == 1
    assert body["memberships"] == [{"account": "default", "role": "member", "status": "active"}]
    assert body["last_seen"] is not None

    member = await client.delete("/v1/admin/users/http:erin?confirm=true", headers=auth)
    assert member.status == 403 and (await member.json())["error"]["code"] == "forbidden"
    unconfirmed = await client.delete("/v1/admin/users/http:erin", headers=admin)
    envelope = await unconfirmed.json()
    assert unconfirmed.status == 400 and envelope["error"]["code"] == "bad_request"
    assert envelope["error"]["details"]["counts"]["messages"] == 1 and "confirm=true" in envelope["error"]["message"]
    assert await count(app, t.user_profile, t.user_profile.c.id == erin) == 1
    assert await count(app, t.user_deletion) == 0  # nothing written
    bad = await client.delete("/v1/admin/users/http:erin?confirm=yes", headers=admin)
    assert bad.status == 400

    deleted = await client.delete("/v1/admin/users/http:erin?confirm=true", headers=admin)
    assert deleted.status == 200 and (await deleted.json())["already"] is False
    assert await count(app, t.user_profile, t.user_profile.c.id == erin) == 0
    again = await client.delete(f"/v1/admin/users/{erin}?confirm=true", headers=admin)
    assert again.status == 200 and (await again.json())["already"] is True
    gone = await client.get("/v1/admin/users/http:erin", headers=admin)
    assert gone.status == 404 and (await gone.json())["error"]["code"] == "not_found"
    trail = await app.services.db.all(select(t.audit_event.c.actor).where(t.audit_event.c.action == "user.delete"))
    assert len(trail) == 2 and all(event.actor.startswith("apikey:") for event in trail)  # started, done


async def test_audit_over_http_filters(app: App, client: TestClient, auth: dict[str, str]) -> None:
    account = await app.services.directory.account_by_slug("default")
    assert account is not None
    _, admin_key = await app.services.api_keys.create(account.id, "admin", ("admin",), actor="tests")
    admin = {"Authorization": f"Bearer {admin_key}"}
    await post(client, auth, "hello", user="gina")
    await client.put("/v1/admin/users/http:gina/role", json={"role": "readonly"}, headers=admin)
    status, _ = await post(client, auth, "/pause", user="gina")  # refused, audited with gina as the actor
    assert status == 200
    everything = await (await client.get("/v1/admin/audit?since=2020-01-01", headers=admin)).json()
    assert everything["total"] == 4 and everything["pages"] == 1  # two keys created, a grant, a refusal
    by_gina = await (await client.get("/v1/admin/audit?actor=http:gina", headers=admin)).json()
    assert [e["action"] for e in by_gina["events"]] == ["command.pause"]
    by_type = await (await client.get("/v1/admin/audit?action=role.", headers=admin)).json()
    assert [e["action"] for e in by_type["events"]] == ["role.grant"]
    nobody = await client.get("/v1/admin/audit?actor=http:nobody", headers=admin)
    assert nobody.status == 404 and (await nobody.json())["error"]["code"] == "not_found"
