"""GDPR deletion of a user (`/user delete ID`, then `... confirm`): afterwards no row anywhere holds the person's
data (every table of the metadata is enumerated), their vectors are gone from Chroma, other people's
conversations read on, a crash mid-way completes on restart, asking again is harmless, and the wrong people are
refused, with the refusal audited. "boss" is a platform admin (`THINKLIO_ADMINS=http:boss`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import JSON, String, Text, func, select

from bot.governance import Actor
from bot.governance.erasure import REMOVED, TOMBSTONE, user_columns
from bot.messages import InboundMessage, Outcome, Sender
from bot.store import tables as t
from bot.store.columns import metadata
from jobs.tables import job
from knowledge import tables as kt
from knowledge.index import Partition
from server.app import App
from tests.fakes import postgres
from tests.knowledge.test_knowledge_helpers import knowledge_of, started

ALICE = "alice-qzk"  # her HTTP caller id
NAMES = {ALICE: "Alice Quinlan", "bob": "Bob", "boss": "Boss", "carol": "Carol", "dave": "Dave",
         "stranger": "Stranger"}
# Everything of Alice's that must not survive, in any column of any table (no hex: ids are hex).
SECRETS = ("Alice Quinlan", "Quinlan", "qzk", "kiwi-plum", "Zhivago", "oat milk", "ZEBRA-9", "blood type",
           "medical-notes")


async def boot(tmp_path: Path) -> App:
    return await started(tmp_path, admins=["http:boss"])


async def say(app: App, text: str, user: str = ALICE, *, channel: str = "api", room: str | None = None) -> Outcome:
    return await app.services.pipeline.handle(InboundMessage(channel=channel, sender=Sender(user, NAMES[user]),
                                                             text=text, conversation_key=room))


async def user_id_of(app: App, external: str) -> str:
    row = await app.services.db.one(select(t.channel_identity.c.user_id)
                                    .where(t.channel_identity.c.external_id == external))
    assert row is not None
    return str(row.user_id)


async def account_id(app: App, slug: str = "default") -> str:
    account = await app.services.directory.account_by_slug(slug)
    assert account is not None
    return account.id


async def populate(app: App) -> str:
    """Alice leaves traces of every kind: messages (her own chat and a group), facts, a document, a reminder, a
    pending question, a list, an undo entry, an API key she created. Bob talks in the group too."""
    await say(app, "hello", "boss")
    await say(app, "hello")
    alice = await user_id_of(app, ALICE)
    assert (await say(app, f"/grant {alice} admin", "boss")).error_code is None
    assert (await say(app, "remember that my locker code is kiwi-plum")).error_code is None
    assert (await say(app, "remind me to call Dr Zhivago tomorrow at 9am")).error_code is None
    assert (await say(app, "add oat milk to my shopping list")).error_code is None
    created = await say(app, "/apikey create ci-robot")
    assert created.error_code is None and "thk_" in (created.reply or "")
    await say(app, "remind me to buy oat milk")  # asks "when?": a pending question
    await say(app, "my secret plan is ZEBRA-9", room="team-room")
    await say(app, "sounds good to me", "bob", room="team-room")
    assert (await say(app, "/team create Sales", "boss")).error_code is None
    assert (await say(app, f"/team add Sales {alice}", "boss")).error_code is None
    assert (await say(app, f"/budget set user {alice} 5", "boss")).error_code is None
    knowledge = knowledge_of(app)
    await knowledge.documents.add(Partition(await account_id(app), "user", alice), title="medical-notes.txt",
                                  media_type="text/plain", data_size=40, chunks=["Alice's blood type is O negative"],
                                  now=app.services.clock.now())
    await knowledge.sync()
    await knowledge.drain()
    assert await count(app, kt.knowledge_fact, kt.knowledge_fact.c.scope_id == alice) >= 1
    assert await count(app, job, job.c.user_id == alice, job.c.state == "pending") == 1
    assert await count(app, t.pending_question, t.pending_question.c.user_id == alice) == 1
    assert await count(app, t.team_member, t.team_member.c.user_id == alice) == 1
    assert await count(app, t.budget, t.budget.c.subject_id == alice) == 1
    return alice


async def count(app: App, table: Any, *where: Any) -> int:
    row = await app.services.db.one(select(func.count()).select_from(table).where(*where))
    assert row is not None
    return int(row[0])


async def assert_nothing_left(app: App, alice: str) -> None:
    db = app.services.db
    # 1. every column that names a user: no row names Alice (her deletion record alone keeps her opaque id)
    kept = {rule.key for rule in app.services.governance.erasure.rules() if rule.how == "keep"}
    for table, column in user_columns(metadata):
        if (table.name, column.name) not in kept:
            assert await count(app, table, column == alice) == 0, f"{table.name}.{column.name} still names her"
    assert await count(app, t.user_profile, t.user_profile.c.id == alice) == 0
    for table in (t.budget, t.spend):  # budgets name their subject by a bare id
        assert await count(app, table, table.c.subject_id == alice) == 0
    # 2. no text of hers in any column of any table (her facts and documents are scoped by id, not by column)
    for table in metadata.sorted_tables:
        texts = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        for row in await db.all(select(*texts)):
            for value in row:
                assert not any(s in str(value) for s in SECRETS), f"{table.name}: {value!r}"
    assert await count(app, kt.knowledge_fact, kt.knowledge_fact.c.scope_id == alice) == 0
    assert await count(app, kt.knowledge_document, kt.knowledge_document.c.scope_id == alice) == 0
    assert await count(app, kt.knowledge_chunk, kt.knowledge_chunk.c.scope_id == alice) == 0
    # 3. no vector of hers in Chroma
    knowledge = knowledge_of(app)
    mine = [Partition(await account_id(app), "user", alice)]
    for probe in ("locker code", "blood type"):
        assert await knowledge.index.query(mine, await knowledge.embedder.embed_one(probe), 10) == []


async def test_every_user_column_has_a_rule(tmp_path: Path) -> None:
    """A new table with a user column fails here until the deletion knows what to do with it."""
    app = await boot(tmp_path)
    try:
        declared = {rule.key for rule in app.services.governance.erasure.rules()}
        assert {(table.name, column.name) for table, column in user_columns(metadata)} - declared == set()
    finally:
        await app.stop()


async def test_deletion_leaves_nothing_of_the_person(tmp_path: Path) -> None:
    app = await boot(tmp_path)
    try:
        alice = await populate(app)
        key = await app.services.db.one(select(t.api_key.c.id, t.api_key.c.revoked_at)
                                        .where(t.api_key.c.name == "ci-robot"))
        assert key is not None and key.revoked_at is None
        bob = await user_id_of(app, "bob")

        # the first step deletes nothing: it says what will go, by id only
        first = await say(app, f"/user delete {alice}", "boss")
        assert first.error_code is None and "confirm" in (first.reply or "") and "messages" in (first.reply or "")
        assert await count(app, t.user_profile, t.user_profile.c.id == alice) == 1
        done = await say(app, f"/user delete {alice} confirm", "boss")
        assert done.error_code is None and "is deleted" in (done.reply or ""), done

        await assert_nothing_left(app, alice)
        revoked = await app.services.db.one(select(t.api_key.c.revoked_at).where(t.api_key.c.id == key.id))
        assert revoked is not None and revoked.revoked_at is not None
        # the group reads on: Bob's message as he wrote it, a notice where Alice spoke, the room's key kept
        room = await app.services.db.one(select(t.conversation).where(t.conversation.c.external_key == "team-room"))
        assert room is not None
        texts = [(r.user_id, r.text) for r in await app.services.db.all(
            select(t.message.c.user_id, t.message.c.text).where(t.message.c.conversation_id == room.id,
                                                                 t.message.c.direction == "in")
            .order_by(t.message.c.id))]
        assert texts == [(TOMBSTONE, REMOVED), (bob, "sounds good to me")]
        assert (await say(app, "still here?", "bob", room="team-room")).conversation_id == room.id
        # the usage history adds up as before: her interactions stay, anonymised
        assert await count(app, t.interaction, t.interaction.c.user_id == TOMBSTONE) >= 7
        # the deletion is audited, with ids only (the scan above found no secret in audit_event either)
        events = await app.services.db.all(select(t.audit_event).where(t.audit_event.c.action == "user.delete",
                                                                       t.audit_event.c.target_id == alice)
                                           .order_by(t.audit_event.c.id))
        assert [(e.actor, e.detail["outcome"]) for e in events] == [(f"user:{await user_id_of(app, 'boss')}",
                                                                      "started"), (events[0].actor, "done")]
        assert events[1].detail["steps"] == ["work", "api_keys", "knowledge", "records"]

        # idempotent: asking again (either step) is answered, and changes nothing
        assert "deleted already" in ((await say(app, f"/user delete {alice}", "boss")).reply or "")
        again = await say(app, f"/user delete {alice} confirm", "boss")
        assert again.error_code is None and "nothing left to do" in (again.reply or "")
        assert await app.services.governance.erasure.resume() == 0
        # Alice writing again is a new person to us, with nothing of the old one
        await say(app, "hi again")
        assert await user_id_of(app, ALICE) != alice
    finally:
        await app.stop()


async def test_a_crash_mid_deletion_completes_on_restart(tmp_path: Path) -> None:
    app = await boot(tmp_path)
    try:
        alice = await populate(app)
        erasure = app.services.governance.erasure
        actor = Actor("user:boss", await account_id(app), None, is_platform_admin=True, channel="api")

        async def crash(user_id: str) -> None:
            raise RuntimeError("power cut")

        erasure._records = crash  # type: ignore[method-assign]  # the last step fails, after the others finished
        await erasure.propose(actor, alice)
        try:
            await erasure.confirm(actor, alice)
        except RuntimeError:
            pass
        else:
            raise AssertionError("the injected crash did not happen")
        row = await app.services.db.one(select(t.user_deletion).where(t.user_deletion.c.state == "running"))
        assert row is not None and row.steps == ["work", "api_keys", "knowledge"]
        assert await count(app, t.user_profile, t.user_profile.c.id == alice) == 1  # half-way indeed
        assert await count(app, kt.knowledge_fact, kt.knowledge_fact.c.scope_id == alice) == 0
    finally:
        await app.stop()

    app = await boot(tmp_path)  # the restart finishes it
    try:
        await assert_nothing_left(app, alice)
        d = t.user_deletion
        row = await app.services.db.one(select(d.c.state, d.c.steps).where(d.c.user_id == alice,
                                                                           d.c.state != "proposed"))
        assert row is not None and row.state == "done" and row.steps[-1] == "records"
        trail = await app.services.db.all(select(t.audit_event.c.detail).where(t.audit_event.c.action == "user.delete")
                                          .order_by(t.audit_event.c.id))
        assert [(e.detail["outcome"], e.detail.get("resumed")) for e in trail] == [("started", None), ("done", True)]
    finally:
        await app.stop()


async def refused(app: App, action: str) -> list[Any]:
    rows = await app.services.db.all(select(t.audit_event).where(t.audit_event.c.action == action))
    return [row for row in rows if (row.detail or {}).get("outcome") == "refused"]


async def test_confirmation_is_required(tmp_path: Path) -> None:
    app = await boot(tmp_path)
    try:
        await say(app, "hello", "boss")
        await say(app, "hello")
        alice = await user_id_of(app, ALICE)
        blind = await say(app, f"/user delete {alice} confirm", "boss")
        assert blind.error_code == "bad_request" and "first send /user delete" in (blind.reply or "")
        assert await count(app, t.user_profile, t.user_profile.c.id == alice) == 1
        # another admin's proposal is not this one's
        await say(app, "hello", "dave")
        await say(app, f"/grant {await user_id_of(app, 'dave')} admin", "boss")
        await say(app, f"/user delete {alice}", "dave")
        assert (await say(app, f"/user delete {alice} confirm", "boss")).error_code == "bad_request"
        assert (await say(app, f"/user delete {alice} now", "boss")).error_code == "bad_request"
        assert await count(app, t.user_profile, t.user_profile.c.id == alice) == 1
    finally:
        await app.stop()


async def test_the_wrong_people_are_refused_and_audited(tmp_path: Path) -> None:
    app = await boot(tmp_path)
    try:
        for user in ("boss", ALICE, "bob", "carol", "dave"):
            await say(app, "hello", user)
        alice, carol, dave = [await user_id_of(app, u) for u in (ALICE, "carol", "dave")]
        await say(app, f"/grant {carol} readonly", "boss")
        await say(app, f"/grant {dave} admin", "boss")

        for who in ("bob", "carol"):  # a member, a readonly member
            assert (await say(app, f"/user delete {alice}", who)).error_code == "forbidden"
            assert (await say(app, f"/user delete {alice} confirm", who)).error_code == "forbidden"
        assert len(await refused(app, "command.user")) == 4

        # an admin of another account cannot reach her (told "no such user", and audited)
        await say(app, "hi", "stranger", channel="other-api")
        await say(app, "hi", "boss", channel="other-api")
        stranger = await user_id_of(app, "stranger")
        await say(app, f"/grant {stranger} admin", "boss", channel="other-api")
        across = await say(app, f"/user delete {alice}", "stranger", channel="other-api")
        assert across.error_code == "not_found"
        assert [r.detail["reason"] for r in await refused(app, "user.delete")] == ["not a member of this account"]

        # an account admin cannot delete someone who is in another account too
        await say(app, "hi", ALICE, channel="other-api")
        shared = await say(app, f"/user delete {alice}", "dave")
        assert shared.error_code == "forbidden" and "platform administrator" in (shared.reply or "")
        # nor themselves, nor an account's last owner (here the platform admin asks)
        assert (await say(app, f"/user delete {dave}", "dave")).error_code == "bad_request"
        await say(app, f"/grant {alice} owner", "boss", channel="other-api")
        last = await say(app, f"/user delete {alice}", "boss")
        assert last.error_code == "conflict" and "last owner of account other" in (last.reply or "")
        reasons = [r.detail["reason"] for r in await refused(app, "user.delete")]
        assert reasons.count("a member of other accounts too") == 1 and "deleting oneself" in reasons
        assert "the last owner of an account" in reasons
        assert await count(app, t.user_profile, t.user_profile.c.id == alice) == 1
        assert await count(app, t.user_deletion) == 0  # no refusal left a proposal behind

        # an account admin deletes a member who is only in their account
        bob = await user_id_of(app, "bob")
        await say(app, f"/user delete {bob}", "dave")
        assert "is deleted" in ((await say(app, f"/user delete {bob} confirm", "dave")).reply or "")
        assert await count(app, t.user_profile, t.user_profile.c.id == bob) == 0
    finally:
        await app.stop()


@postgres.required()
async def test_deletion_on_postgres(tmp_path: Path, database_url: str) -> None:
    app = await started(tmp_path, admins=["http:boss"], database_url=database_url)
    try:
        alice = await populate(app)
        await say(app, f"/user delete {alice}", "boss")
        assert (await say(app, f"/user delete {alice} confirm", "boss")).error_code is None
        await assert_nothing_left(app, alice)
    finally:
        await app.stop()


def test_deletion_from_the_shell(tmp_path: Path) -> None:
    import re
    import sqlite3

    from tests.test_cli import run_cli

    chat = run_cli(tmp_path, "chat", stdin="remember that my locker code is 4411\n/whoami\n", timeout=180)
    found = re.search(r"\(user (usr_\w+)\)", chat.stdout)
    assert found is not None, chat.stderr
    user = found.group(1)
    dry = run_cli(tmp_path, "user", "delete", user, timeout=180)
    assert dry.returncode == 1 and "1 facts" in dry.stdout and "Nothing done" in dry.stdout, dry.stderr
    done = run_cli(tmp_path, "user", "delete", user, "--confirm", timeout=180)
    assert done.returncode == 0 and "is deleted" in done.stdout, done.stderr
    with sqlite3.connect(tmp_path / "thinklio.db") as db:
        assert db.execute("select count(*) from user_profile where id = ?", (user,)).fetchone() == (0,)
        assert db.execute("select count(*) from knowledge_fact").fetchone() == (0,)
        assert db.execute("select actor from audit_event where action = 'user.delete'").fetchall() == [("cli",)] * 2
    again = run_cli(tmp_path, "user", "delete", user, timeout=180)
    assert again.returncode == 0 and "deleted already" in again.stdout
