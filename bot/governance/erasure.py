"""Deleting a user for good (GDPR; reference 19.6 and 33.1 "delete user"): their knowledge hard-deleted, their
contributions anonymised, their identities and memberships removed, their waiting work cancelled, the API keys
they created revoked, and the deletion audited with ids and counts only.

What "anonymised" means here: the rows that make other people's history and the account's usage add up
(conversations, messages, interactions and their steps, with their costs) stay, pointed at one shared
placeholder profile (`usr_deleted`, "deleted user"); every text that came from or went to the person (their
messages, the replies to them, everything in a conversation that was theirs alone, tool arguments) is replaced
by a fixed notice, and attachments, channel metadata and platform message ids are dropped. A group conversation
keeps its key and the other members' messages, so it reads on with a gap where the person spoke.

Safe across a crash: the deletion is a `user_deletion` row that records each step as it finishes; every step
is idempotent, and `resume()` (run at start-up) finishes any deletion a crash interrupted. The last step (the
rows) is one transaction.

Every table with a column that refers to a user has a declared rule (`Rule`): the kernel's are in
`erasure_rows.py`, extensions declare theirs through `declare`; a test enumerates the metadata so a new user
column fails until it has one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.engine import Connection

from bot.clock import Clock
from bot.directory import Directory
from bot.errors import ThinklioError
from bot.governance.actor import Actor
from bot.governance.audit import Audit
from bot.governance.erasure_rows import HOWS, KERNEL_RULES, REMOVED, TOMBSTONE, Rule, erase_rows, position, user_columns
from bot.governance.pending import PendingWork, WorkScope
from bot.governance.people import People
from bot.ids import new_id
from bot.platform import PlatformState
from bot.records import UserRecord
from bot.store import tables as t
from bot.store.batch import Insert, Update
from bot.store.database import Database

PROPOSAL_TTL = timedelta(minutes=10)
# What the counts are called in replies (the deleted tables' names otherwise).
LABELS = {"messages": "messages", "facts": "facts", "documents": "documents", "job": "jobs", "task": "list items",
          "task_list": "lists", "pending_question": "open questions", "undo_entry": "undo entries"}

Erase = Callable[[str], Awaitable[Any]]  # user id -> anything; must be idempotent
Count = Callable[[str], Awaitable[dict[str, int]]]


@dataclass(frozen=True, slots=True)
class Extra:
    name: str
    erase: Erase
    count: Count | None


@dataclass(frozen=True, slots=True)
class Preview:
    user_id: str
    counts: dict[str, int]
    accounts: int

    def describe(self) -> str:
        shown = ", ".join(f"{n} {LABELS.get(what, what)}" for what, n in self.counts.items() if n) or "no stored data"
        return (f"Deleting {self.user_id} removes for good: {shown}; their identities and memberships "
                f"({self.accounts} account{'s' if self.accounts != 1 else ''}) are removed, their pending jobs and "
                "reminders cancelled, the API keys they created revoked, and their messages anonymised.")


@dataclass(frozen=True, slots=True)
class Outcome:
    user_id: str
    already: bool  # it had been deleted before this request
    steps: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.already:
            return f"User {self.user_id} is deleted (nothing left to do)."
        return f"User {self.user_id} is deleted: knowledge, identities and memberships removed, messages anonymised."


class Erasure:
    def __init__(self, db: Database, clock: Clock, directory: Directory, platform: PlatformState, audit: Audit,
                 pending: PendingWork, people: People) -> None:
        self._db = db
        self._clock = clock
        self._directory = directory
        self._platform = platform
        self._audit = audit
        self._pending = pending
        self._people = people
        self._rules: dict[tuple[str, str], Rule] = {rule.key: rule for rule in KERNEL_RULES}
        self._extras: list[Extra] = []

    # declarations (extensions call these from `install`) -----------------------------------------------

    def declare(self, table: Table, column: str = "user_id", how: str = "delete") -> None:
        if how not in HOWS or column not in table.c:
            raise ValueError(f"bad erasure rule {table.name}.{column}: {how}")
        rule = Rule(table, column, how)
        self._rules[rule.key] = rule

    def register(self, name: str, erase: Erase, count: Count | None = None) -> None:
        """A step of the extension's own (its data is not a user column: the knowledge index, say)."""
        self._extras.append(Extra(name, erase, count))

    def rules(self) -> list[Rule]:
        return list(self._rules.values())

    # the two steps of the command ----------------------------------------------------------------------

    async def inspect(self, actor: Actor, ref: str) -> Preview | None:
        """Check the actor may delete the user and count what would go; nothing is written but a refusal.
        None: the user was deleted already."""
        if await self._finished(actor, ref) is not None:
            return None
        return await self.preview((await self._target(actor, ref)).id)

    async def propose(self, actor: Actor, ref: str) -> Preview | None:
        """`inspect`, and remember the proposal: `confirm` by the same actor within 10 minutes deletes."""
        preview = await self.inspect(actor, ref)
        if preview is not None:
            await self._db.write([Insert(t.user_deletion, {
                "id": new_id("del"), "user_id": preview.user_id, "account_id": actor.account_id or None,
                "actor": actor.label, "state": "proposed", "steps": [], "created_at": self._clock.now()})])
        return preview

    async def confirm(self, actor: Actor, ref: str, *, proposed: bool = True) -> Outcome:
        """Delete. `proposed`: only after this actor's `propose` (chat); False: the request is the confirmation
        (an HTTP DELETE with confirm=true)."""
        if (finished := await self._finished(actor, ref)) is not None:
            return finished
        user = await self._target(actor, ref)
        running = await self._db.one(select(t.user_deletion).where(
            t.user_deletion.c.user_id == user.id, t.user_deletion.c.state == "running"))
        if running is not None:  # one asked before, and a crash or another process left it half-way
            return await self._run(running.id, user.id, list(running.steps or []), running.actor, running.account_id)
        if proposed:
            deletion_id = await self._take_proposal(actor, user.id)
        else:
            deletion_id = new_id("del")
            await self._db.write([Insert(t.user_deletion, {
                "id": deletion_id, "user_id": user.id, "account_id": actor.account_id or None, "actor": actor.label,
                "state": "running", "steps": [], "created_at": self._clock.now()})])
        return await self._run(deletion_id, user.id, [], actor.label, actor.account_id or None, channel=actor.channel)

    async def resume(self) -> int:
        """Finish every deletion a crash interrupted (called at start-up, after the extensions started)."""
        rows = await self._db.all(select(t.user_deletion).where(t.user_deletion.c.state == "running"))
        for row in rows:
            await self._run(row.id, row.user_id, list(row.steps or []), row.actor, row.account_id, resumed=True)
        return len(rows)

    async def preview(self, user_id: str) -> Preview:
        counts = await self.counts(user_id)
        accounts = await self._db.one(select(func.count()).select_from(t.membership)
                                      .where(t.membership.c.user_id == user_id))
        return Preview(user_id, counts, int(accounts[0]) if accounts else 0)

    async def counts(self, user_id: str) -> dict[str, int]:
        """How much of the user there is: messages, each deleted table's rows, and what extensions count."""
        counts = {"messages": await self._count(t.message, t.message.c.user_id == user_id)}
        for rule in self._rules.values():
            if rule.how == "delete" and rule.table.name not in ("channel_identity", "membership"):
                counts[rule.table.name] = await self._count(rule.table, rule.table.c[rule.column] == user_id)
        for extra in self._extras:
            if extra.count is not None:
                counts.update(await extra.count(user_id))
        return counts

    # who may ---------------------------------------------------------------------------------------------

    async def _target(self, actor: Actor, ref: str) -> UserRecord:
        if not actor.is_account_admin:
            await self._audit.refuse(actor, "user.delete", "only the account's owners and admins delete people",
                                     target_type="user_profile")
        user = await self._people.user(ref, actor.account_id)
        if user.id == TOMBSTONE:
            raise ThinklioError("not_found", f"No user {ref.strip()}.")
        m = t.membership
        rows = await self._db.all(select(m.c.account_id, m.c.role).where(m.c.user_id == user.id))
        roles = {row.account_id: row.role for row in rows}
        if not actor.is_platform_admin:
            if actor.account_id not in roles:  # reported like a missing user: no probing across accounts
                await self._refuse(actor, user, "not a member of this account")
                raise ThinklioError("not_found", f"No user {ref.strip()}.")
            if len(roles) > 1:
                await self._refuse(actor, user, "a member of other accounts too")
                raise ThinklioError("forbidden", "You can't do that: they belong to other accounts too, so only a "
                                                 "platform administrator can delete them.")
            if roles[actor.account_id] == "owner" and not actor.is_owner:
                await self._refuse(actor, user, "only an owner deletes an owner")
                raise ThinklioError("forbidden", "You can't do that: only an owner deletes an owner.")
        if user.id == actor.user_id:
            await self._refuse(actor, user, "deleting oneself")
            raise ThinklioError("bad_request", "You cannot delete yourself: ask another administrator.")
        for account_id, role in roles.items():
            if role == "owner" and await self._count(m, m.c.account_id == account_id, m.c.role == "owner") <= 1:
                slug = (await self._directory.account(account_id)).slug
                await self._refuse(actor, user, "the last owner of an account")
                raise ThinklioError("conflict", f"{user.id} is the last owner of account {slug}: make someone else "
                                                "owner first.")
        return user

    async def _refuse(self, actor: Actor, user: UserRecord, reason: str) -> None:
        await self._audit.refused(actor, "user.delete", reason, target_type="user_profile", target_id=user.id)

    async def _finished(self, actor: Actor, ref: str) -> Outcome | None:
        """A deletion done before (asking again is not an error): by id, seen from the account it was asked
        from (or by a platform admin)."""
        if not actor.is_account_admin:
            return None  # `_target` refuses (and audits) it
        d = t.user_deletion
        row = await self._db.one(select(d.c.account_id).where(d.c.user_id == ref.strip(), d.c.state == "done"))
        if row is None or (not actor.is_platform_admin and row.account_id != actor.account_id):
            return None
        return Outcome(ref.strip(), already=True)

    async def _take_proposal(self, actor: Actor, user_id: str) -> str:
        d = t.user_deletion
        since = self._clock.now() - PROPOSAL_TTL

        def work(conn: Connection) -> str | None:
            row = conn.execute(select(d.c.id).where(d.c.user_id == user_id, d.c.actor == actor.label,
                                                    d.c.state == "proposed", d.c.created_at >= since)
                               .order_by(d.c.created_at.desc())).first()
            if row is None:
                return None
            # conditional: two confirmations (two processes) never both run it
            changed = conn.execute(update(d).where(d.c.id == row.id, d.c.state == "proposed")
                                   .values(state="running")).rowcount
            return str(row.id) if changed else None

        deletion_id = await self._db.run(work)
        if deletion_id is None:
            raise ThinklioError("bad_request", f"Nothing to confirm: first send /user delete {user_id}, read what it "
                                               "deletes, then confirm within 10 minutes.")
        return str(deletion_id)

    # the work --------------------------------------------------------------------------------------------

    def _steps(self) -> list[tuple[str, Erase]]:
        return [("work", self._stop_work), ("api_keys", self._revoke_keys),
                *[(extra.name, extra.erase) for extra in self._extras], ("records", self._records)]

    async def _run(self, deletion_id: str, user_id: str, finished: list[str], actor: str, account_id: str | None,
                   *, channel: str | None = None, resumed: bool = False) -> Outcome:
        if not finished:  # audited as it starts too: a crash leaves a trace of who asked, and when
            await self._platform.change(actor=actor, action="user.delete", target_type="user_profile",
                                        target_id=user_id, account_id=account_id,
                                        detail={"outcome": "started", "channel": channel})
        for name, step in self._steps():
            if name in finished:
                continue
            await step(user_id)
            finished.append(name)
            await self._db.write([Update(t.user_deletion, deletion_id, {"steps": list(finished)})])
        # The audit names ids and steps only: nothing of the person is written about their deletion.
        detail = {"outcome": "done", "channel": channel, "steps": finished, **({"resumed": True} if resumed else {})}
        await self._platform.change(
            [Update(t.user_deletion, deletion_id, {"state": "done", "finished_at": self._clock.now()})],
            actor=actor, action="user.delete", target_type="user_profile", target_id=user_id,
            account_id=account_id, detail=detail)
        return Outcome(user_id, already=False, steps=finished)

    async def _stop_work(self, user_id: str) -> None:
        """Block the user (every process, next message) and cancel their pending jobs and reminders."""
        await self._db.write([Update(t.user_profile, user_id, {"status": "suspended"})])
        self._directory.invalidate()
        await self._pending.cancel(WorkScope(user_id=user_id), "cancelled: the user was deleted")

    async def _revoke_keys(self, user_id: str) -> None:
        """API keys belong to accounts; the ones this user created (the audit trail knows) are revoked, so no
        access outlives the person who answered for it."""
        a = t.audit_event
        created = await self._db.all(select(a.c.target_id).where(a.c.action == "api_key.create",
                                                                 a.c.actor == f"user:{user_id}"))
        ids = [row.target_id for row in created if row.target_id]
        if not ids:
            return
        now = self._clock.now()
        live = await self._db.all(select(t.api_key.c.id).where(t.api_key.c.id.in_(ids),
                                                               t.api_key.c.revoked_at.is_(None)))
        if live:
            await self._db.write([Update(t.api_key, row.id, {"revoked_at": now}) for row in live])

    async def _records(self, user_id: str) -> None:
        rules = sorted(self._rules.values(), key=lambda r: -position(r.table))
        now = self._clock.now()
        await self._db.run(lambda conn: erase_rows(conn, user_id, rules, now))
        self._directory.invalidate()

    async def _count(self, table: Table, *where: Any) -> int:
        row = await self._db.one(select(func.count()).select_from(table).where(*where))
        return int(row[0]) if row else 0


__all__ = ["REMOVED", "TOMBSTONE", "Erasure", "Rule", "user_columns"]
