"""Jobs administered from chat: /jobs all [STATE] for the account's admins (platform admins: the platform),
/job cancel ID audited and scoped, /jobs cancel agent SLUG. Members and readonly members are refused, another
account's jobs are out of reach, and every refusal is in the audit trail. "acc:boss" is the platform admin,
"acc:alice" an account admin, "acc:bob" a member, "acc:rita" readonly; "stranger" lives in another account."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.governance import Actor
from bot.messages import InboundMessage, Sender
from bot.store import tables as t
from bot.store.seed import seed_catalogue
from config.catalogue import ASSISTANT, AccountSeed, ChannelSeed
from jobs import tables as jt
from server.app import App
from tests.fakes.clock import START, FakeClock
from tests.jobs.test_jobs import jobs, say, started
from tests.jobs.test_kill_switch import BOSS, admin_settings


async def setup(tmp_path: Path) -> App:
    app, _ = await started(admin_settings(tmp_path), FakeClock())
    for user in ("acc:alice", "acc:bob", "acc:rita"):
        await say(app, "hello", user=user)
    assert (await say(app, "/grant http:acc:alice admin", user=BOSS)).error_code is None
    assert (await say(app, "/grant http:acc:rita readonly", user=BOSS)).error_code is None
    seed = (AccountSeed(slug="other", name="Other", agents=(ASSISTANT,)),)
    await app.services.db.run(lambda conn: seed_catalogue(
        conn, seed, app.services.clock.now(),
        channels=(ChannelSeed(slug="other-api", type="http", agent="assistant", account="other"),)))
    app.services.directory.invalidate()
    return app


async def remind(app: App, user: str, what: str, channel: str = "api") -> Any:
    outcome = await app.services.pipeline.handle(InboundMessage(channel, Sender(user, "Sam"),
                                                                f"remind me to {what} in 2 hours"))
    assert outcome.tier == "triage", outcome
    row = await app.services.db.one(select(jt.job).where(jt.job.c.payload["text"].as_string() == what))
    assert row is not None
    return row


async def state(app: App, job_id: str) -> str:
    row = await app.services.db.one(select(jt.job.c.state).where(jt.job.c.id == job_id))
    assert row is not None
    return str(row.state)


async def audited(app: App, action: str) -> list[tuple[str, str, str | None]]:
    rows = await app.services.db.all(select(t.audit_event).where(t.audit_event.c.action == action)
                                     .order_by(t.audit_event.c.id))
    return [(row.actor.split(":")[0], row.detail["outcome"], row.detail.get("reason")) for row in rows]


async def test_admins_list_their_accounts_jobs_and_platform_admins_every_job(tmp_path: Path) -> None:
    app = await setup(tmp_path)
    try:
        await remind(app, "acc:bob", "call mum")
        await remind(app, "acc:alice", "water the plants")
        await remind(app, "stranger", "feed the cat", channel="other-api")
        for user in ("acc:bob", "acc:rita"):
            assert (await say(app, "/jobs all", user=user)).error_code == "forbidden"
        assert [outcome for _, outcome, _ in await audited(app, "job.list")] == ["refused", "refused"]

        mine = (await say(app, "/jobs all", user="acc:alice")).reply or ""
        assert mine.startswith("2 jobs in this account:")
        assert "call mum" in mine and "water the plants" in mine and "feed the cat" not in mine
        everything = (await say(app, "/jobs all", user=BOSS)).reply or ""
        assert everything.startswith("3 jobs on the platform:") and "feed the cat" in everything

        assert (await say(app, "/jobs all cancelled", user="acc:alice")).reply == "No jobs match."
        assert "call mum" in ((await say(app, "/jobs all pending", user="acc:alice")).reply or "")
        bad = await say(app, "/jobs all sleeping", user="acc:alice")
        assert bad.error_code == "bad_request" and "one of active, all" in (bad.reply or "")
        assert (await say(app, "/jobs everything", user="acc:alice")).error_code == "bad_request"
    finally:
        await app.stop()


async def test_job_cancel_is_scoped_and_audited(tmp_path: Path) -> None:
    app = await setup(tmp_path)
    try:
        first = await remind(app, "acc:bob", "call mum")
        second = await remind(app, "acc:bob", "buy bread")
        alices = await remind(app, "acc:alice", "water the plants")
        rita = await app.services.db.one(select(t.channel_identity.c.user_id)
                                         .where(t.channel_identity.c.external_id == "acc:rita"))
        assert rita is not None  # a readonly member sets no reminder herself: one set before her role changed
        ritas = await jobs(app).store.create(type="reminder", account_id=first.account_id, user_id=rita.user_id,
                                             agent_id=first.agent_id, due_at=START + timedelta(hours=5))
        strangers = await remind(app, "stranger", "feed the cat", channel="other-api")

        assert (await say(app, "/job cancel 1", user="acc:bob")).reply == "Cancelled reminder (job 1)."
        assert await state(app, first.id) == "cancelled"
        assert await audited(app, "job.cancel") == [("user", "done", None)]

        # someone else's job looks like a missing one, and the attempt is audited
        theirs = await say(app, f"/job cancel {alices.id}", user="acc:bob")
        assert theirs.error_code == "not_found" and await state(app, alices.id) == "pending"
        # readonly members change nothing, not even their own jobs
        assert (await say(app, "/job cancel 1", user="acc:rita")).error_code == "forbidden"
        assert await state(app, ritas.id) == "pending"
        # an account admin cancels the account's jobs, not another account's
        assert (await say(app, f"/job cancel {second.id}", user="acc:alice")).error_code is None
        assert await state(app, second.id) == "cancelled"
        across = await say(app, f"/job cancel {strangers.id}", user="acc:alice")
        assert across.error_code == "not_found" and await state(app, strangers.id) == "pending"
        again = await say(app, f"/job cancel {first.id}", user="acc:alice")
        assert again.error_code == "conflict" and "already cancelled" in (again.reply or "")
        assert (await say(app, "/job cancel job_nope", user="acc:alice")).error_code == "not_found"
        # a platform admin reaches every account
        assert (await say(app, f"/job cancel {strangers.id}", user=BOSS)).error_code is None
        assert await state(app, strangers.id) == "cancelled"

        assert await audited(app, "job.cancel") == [
            ("user", "done", None), ("user", "refused", "not their job"),
            ("user", "refused", "a readonly member changes nothing"), ("user", "done", None),
            ("user", "refused", "the job belongs to another account"), ("user", "done", None)]
    finally:
        await app.stop()


async def test_cancel_all_of_one_agents_pending_jobs(tmp_path: Path) -> None:
    app = await setup(tmp_path)
    try:
        assistant = await remind(app, "acc:bob", "call mum")
        alice = Actor("user:alice", assistant.account_id, "admin", channel="test")
        researcher = (await app.services.governance.agents.create(alice, "researcher")).agent
        theirs = await jobs(app).store.create(type="reminder", account_id=assistant.account_id,
                                              user_id=assistant.user_id, agent_id=researcher.id,
                                              due_at=START + timedelta(hours=5))

        assert (await say(app, "/jobs cancel agent researcher", user="acc:bob")).error_code == "forbidden"
        assert (await say(app, "/jobs cancel agent nobody", user="acc:alice")).error_code == "not_found"
        assert (await say(app, "/jobs cancel agent other/assistant", user="acc:alice")).error_code == "forbidden"
        assert (await say(app, "/jobs cancel researcher", user="acc:alice")).error_code == "bad_request"
        assert {await state(app, assistant.id), await state(app, theirs.id)} == {"pending"}

        history = (await say(app, "/jobs all all agent researcher", user="acc:alice")).reply or ""
        assert history.startswith("1 job in this account:") and theirs.id in history and assistant.id not in history
        assert (await say(app, "/jobs all agent nobody", user="acc:alice")).error_code == "not_found"
        done = await say(app, "/jobs cancel agent researcher", user="acc:alice")
        assert done.reply == "Cancelled 1 pending job of agent researcher."
        assert (await state(app, assistant.id), await state(app, theirs.id)) == ("pending", "cancelled")
        assert await audited(app, "job.cancel_agent") == [
            ("user", "refused", "only the account's owners and admins administer agents"),
            ("user", "refused", "the agent belongs to another account"), ("user", "done", None)]
    finally:
        await app.stop()
