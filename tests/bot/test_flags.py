"""Feature flags: read through one service, set by platform administrators only (refusals audited, bad input
changes nothing), and a flip in one server process seen by another on the same database without a restart. The
`llm` flag stops every model call (triage and commands still answer); `attachments` stops reading files."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import select

from agents.llm.base import ChatResult, Usage
from bot.messages import Attachment, InboundMessage, Outcome, Sender
from bot.store import tables as t
from server.app import App
from server.settings import CHANNELS
from tests.conftest import make_settings
from tests.fakes.scripted_provider import ScriptedProvider
from tests.helpers import count


async def two_servers(tmp_path: Path) -> tuple[App, App, ScriptedProvider, str]:
    """Two Apps (two server processes' worth of services) on one SQLite database; and the default account id."""
    probe = App(make_settings(tmp_path / "var"), channels=CHANNELS.builder(()))
    await probe.open_store()
    account = await probe.services.directory.account_by_slug("default")
    await probe.close_store()
    assert account is not None
    provider = ScriptedProvider(lambda messages, tools: ChatResult("A story.", (), Usage(10, 10), "scripted-model"))
    apps = []
    for _ in range(2):
        settings = make_settings(tmp_path / "var", admins=[f"http:{account.id}:boss"], state_poll_seconds=0.05)
        app = App(settings, channels=CHANNELS.builder(()), provider=provider)
        await app.start()
        apps.append(app)
    return apps[0], apps[1], provider, account.id


async def say(app: App, account_id: str, text: str, user: str = "u1", **extra: Any) -> Outcome:
    return await app.services.pipeline.handle(InboundMessage(
        channel="api", sender=Sender(f"{account_id}:{user}", "Sam"), text=text, **extra))


async def refused(app: App, action: str) -> int:
    rows = await app.services.db.all(select(t.audit_event.c.detail).where(t.audit_event.c.action == action))
    return sum(1 for row in rows if (row.detail or {}).get("outcome") == "refused")


async def test_a_flip_in_one_process_is_seen_by_the_other_without_a_restart(tmp_path: Path) -> None:
    one, two, provider, account = await two_servers(tmp_path)
    try:
        assert (await say(two, account, "tell me a story")).reply == "A story."  # two has read the flags
        flipped = await say(one, account, "/flag llm off", "boss")
        assert flipped.reply == "Flag llm is off on every server now."
        assert not await one.flags.enabled("llm")  # this process: at once

        await two.services.platform.load()  # what two's poll does every state_poll_seconds
        assert not await two.flags.enabled("llm")
        off = await say(two, account, "tell me another story")
        assert (off.status, off.error_code) == ("rejected", "model_off")
        assert "switched off by an administrator" in (off.reply or "")
        assert len(provider.calls) == 1  # no model call with the flag off
        time = await say(two, account, "what time is it?")
        assert (time.tier, time.error_code) == ("triage", None)  # triage still answers
        assert "llm: off (set by user:" in ((await say(two, account, "/flags", "boss")).reply or "")

        # back on from the other process, seen by the first through its own polling (no load called here)
        await say(two, account, "/flag llm on", "boss")
        for _ in range(200):
            if await one.flags.enabled("llm"):
                break
            await asyncio.sleep(0.05)
        assert await one.flags.enabled("llm")
        assert (await say(one, account, "tell me a story")).reply == "A story."
    finally:
        await one.stop()
        await two.stop()


async def test_only_platform_admins_set_flags_and_bad_input_changes_nothing(tmp_path: Path) -> None:
    one, two, _, account = await two_servers(tmp_path)
    try:
        await say(one, account, "hello", "alice")
        await say(one, account, "/grant http:alice admin", "boss")
        denied = await say(one, account, "/flag llm off", "alice")  # an account admin: not platform-wide
        assert denied.error_code == "forbidden" and "platform administrator" in (denied.reply or "")
        member = await say(one, account, "/flag llm off", "u1")
        assert member.error_code == "forbidden"
        assert await refused(one, "flag.off") == 1 and await refused(one, "command.flag") == 1
        assert "llm: on (default)" in ((await say(one, account, "/flags", "alice")).reply or "")

        unknown = await say(one, account, "/flag turbo on", "boss")
        assert unknown.error_code == "not_found" and "the flags are: attachments, llm" in (unknown.reply or "")
        bad = await say(one, account, "/flag llm maybe", "boss")
        assert bad.error_code == "bad_request"
        assert (await say(one, account, "/flag llm", "boss")).reply == "Usage: /flag NAME on|off"
        assert await count(one, t.feature_flag) == 0
        assert await one.flags.enabled("llm")
    finally:
        await one.stop()
        await two.stop()


async def test_attachments_off_refuses_files_with_a_clear_reply(tmp_path: Path) -> None:
    one, two, _, account = await two_servers(tmp_path)
    try:
        await say(one, account, "/flag attachments off", "boss")
        outcome = await say(one, account, "", attachments=(Attachment("file-1", "notes.pdf", "application/pdf", 10),))
        assert (outcome.status, outcome.error_code) == ("rejected", "attachments_off")
        assert "Reading files is switched off" in (outcome.reply or "")
    finally:
        await one.stop()
        await two.stop()


async def test_flags_over_http(tmp_path: Path, aiohttp_client: Any) -> None:
    app = App(make_settings(tmp_path / "var"), channels=CHANNELS.builder(("http",)))
    client = await aiohttp_client(app.web)
    account = await app.services.directory.account_by_slug("default")
    assert account is not None
    _, key = await app.services.api_keys.create(account.id, "admin", ("admin",), actor="tests")
    headers = {"Authorization": f"Bearer {key}"}
    listed = await client.get("/v1/admin/flags", headers=headers)
    assert listed.status == 200
    flags = {flag["name"]: flag for flag in (await listed.json())["flags"]}
    assert (flags["llm"]["enabled"], flags["llm"]["default"], flags["llm"]["updated_by"]) == (True, True, None)
    # an account's admin key is never platform-wide: refused, in the envelope, and audited
    response = await client.put("/v1/admin/flags/llm", json={"enabled": False}, headers=headers)
    assert response.status == 403 and (await response.json())["error"]["code"] == "forbidden"
    assert await refused(app, "flag.off") == 1
    response = await client.put("/v1/admin/flags/llm", json={"enabled": "perhaps"}, headers=headers)
    assert response.status == 400 and (await response.json())["error"]["code"] == "bad_request"
    assert await count(app, t.feature_flag) == 0 and await app.flags.enabled("llm")
    _, chat_key = await app.services.api_keys.create(account.id, "chat", ("messages:write",), actor="tests")
    response = await client.get("/v1/admin/flags", headers={"Authorization": f"Bearer {chat_key}"})
    assert response.status == 403
