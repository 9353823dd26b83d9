"""Job rows: creation, atomic claims and conditional state changes, each emitting `job.state_changed`.

Every change is `UPDATE ... WHERE id = ? AND state IN (expected)`: the row count (or RETURNING) says whether this
process won, so two servers on one database never both act on a job, on SQLite and Postgres alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import Connection

from bot.clock import Clock
from bot.governance.pending import WorkScope
from bot.ids import new_id
from bot.store import tables as t
from bot.store.database import Database
from jobs import tables as jt
from jobs.events import Events, JobStateChanged

ACTIVE = ("pending", "running", "waiting")
FINISHED = ("resolved", "failed", "cancelled", "timed_out")


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: str
    number: int
    type: str
    state: str
    account_id: str
    user_id: str
    agent_id: str | None
    conversation_id: str | None
    channel_id: str | None
    interaction_id: str | None
    due_at: datetime | None
    timeout_at: datetime | None
    timezone: str
    recurrence: dict[str, Any] | None
    payload: dict[str, Any]
    observers: list[dict[str, Any]]
    result: dict[str, Any] | None
    has_useful_output: bool
    call_id: str | None
    claimed_by: str | None
    claimed_at: datetime | None
    runs: int
    error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    observed_at: datetime | None


_FIELDS = tuple(f.name for f in fields(JobRecord))


def record(row: Any) -> JobRecord:
    m = row._mapping
    return JobRecord(**{name: m[name] for name in _FIELDS})


class JobStore:
    def __init__(self, db: Database, clock: Clock, events: Events) -> None:
        self.db = db
        self.clock = clock
        self.events = events

    # creating and reading ---------------------------------------------------------------------------------

    async def create(self, *, type: str, account_id: str, user_id: str, state: str = "pending",
                     **values: Any) -> JobRecord:
        now = self.clock.now()
        row: dict[str, Any] = {
            "id": new_id("job"), "type": type, "state": state, "account_id": account_id, "user_id": user_id,
            "timezone": "UTC", "payload": {}, "observers": [], "has_useful_output": False, "runs": 0,
            "created_at": now, "updated_at": now, **values,
        }

        def insert(conn: Connection) -> JobRecord:
            # The user's next number, computed by the INSERT itself: writing first takes SQLite's write lock
            # before any read, so a second server waits for it instead of failing on a stale snapshot; and
            # (user_id, number) is unique, so a concurrent writer elsewhere fails loudly rather than share one.
            number = select(func.coalesce(func.max(jt.job.c.number), 0) + 1).where(jt.job.c.user_id == user_id)
            conn.execute(jt.job.insert().values({**row, "number": number.scalar_subquery()}))
            return record(conn.execute(select(jt.job).where(jt.job.c.id == row["id"])).one())

        job = await self.db.run(insert)
        await self.events.emit(JobStateChanged(job, "new", job.state))
        return job

    async def get(self, job_id: str) -> JobRecord | None:
        row = await self.db.one(select(jt.job).where(jt.job.c.id == job_id))
        return None if row is None else record(row)

    async def by_number(self, user_id: str, number: int) -> JobRecord | None:
        row = await self.db.one(select(jt.job).where(jt.job.c.user_id == user_id, jt.job.c.number == number))
        return None if row is None else record(row)

    async def by_call_id(self, call_id: str) -> JobRecord | None:
        row = await self.db.one(select(jt.job).where(jt.job.c.call_id == call_id))
        return None if row is None else record(row)

    async def listing(self, *, user_id: str | None = None, account_id: str | None = None, type: str | None = None,
                      states: Sequence[str] = ACTIVE, limit: int = 50, offset: int = 0,
                      agent_id: str | None = None) -> list[JobRecord]:
        query = _where(select(jt.job), user_id=user_id, account_id=account_id, type=type, states=states,
                       agent_id=agent_id)
        rows = await self.db.all(query.order_by(jt.job.c.due_at.is_(None), jt.job.c.due_at, jt.job.c.id)
                                 .limit(limit).offset(offset))
        return [record(row) for row in rows]

    async def count(self, *, account_id: str | None = None, states: Sequence[str] = ACTIVE,
                    agent_id: str | None = None) -> int:
        row = await self.db.one(_where(select(func.count()).select_from(jt.job), account_id=account_id,
                                       states=states, agent_id=agent_id))
        return int(row[0]) if row is not None else 0

    async def count_active(self, scope: WorkScope) -> int:
        """Jobs not finished yet in the scope (what /agent show calls active jobs)."""
        row = await self.db.one(_where(select(func.count()).select_from(jt.job), account_id=scope.account_id,
                                       user_id=scope.user_id, agent_id=scope.agent_id, states=ACTIVE))
        return int(row[0]) if row is not None else 0

    async def next_wake(self) -> datetime | None:
        """The earliest moment something is due: a pending job, or a waiting/running job's timeout. Three index
        seeks on (state, due_at) and (state, timeout_at), however many jobs there are."""
        due = await self.db.one(select(func.min(jt.job.c.due_at)).where(jt.job.c.state == "pending"))
        timeout = await self.db.one(select(func.min(jt.job.c.timeout_at)).where(jt.job.c.state == "waiting"))
        running = await self.db.one(select(func.min(jt.job.c.timeout_at)).where(jt.job.c.state == "running"))
        times = [row[0] for row in (due, timeout, running) if row is not None and row[0] is not None]
        # Through the column type: SQLite's MIN() comes back as text.
        return min((_aware(value) for value in times), default=None)

    # changing -----------------------------------------------------------------------------------------------

    async def claim_due(self, worker: str, now: datetime, limit: int) -> list[JobRecord]:
        """Take up to `limit` pending jobs due by `now` for this worker. The outer `state = 'pending'` re-check
        (and SKIP LOCKED on Postgres) is what makes it atomic: a row another server took is not returned."""
        due = (select(jt.job.c.id).where(jt.job.c.state == "pending", jt.job.c.due_at <= now)
               .order_by(jt.job.c.due_at).limit(limit).with_for_update(skip_locked=True))
        statement = (update(jt.job).where(jt.job.c.id.in_(due), jt.job.c.state == "pending")
                     .values(state="running", claimed_by=worker, claimed_at=now, runs=jt.job.c.runs + 1,
                             updated_at=now)
                     .returning(jt.job))
        jobs = await self.db.run(lambda conn: [record(row) for row in conn.execute(statement).all()])
        for job in jobs:
            await self.events.emit(JobStateChanged(job, "pending", "running"))
        return sorted(jobs, key=lambda job: (job.due_at, job.id))

    async def change(self, job_id: str, expected: Iterable[str], state: str, *, worker: str | None = None,
                     **values: Any) -> JobRecord | None:
        """Move a job from one of `expected` to `state` (with `values`); None when it was not in one of them (or,
        with `worker`, not claimed by it). Finished states stamp `finished_at`."""
        return (await self.change_many([(job_id, values)], expected, state, worker=worker))[0]

    async def change_many(self, changes: Sequence[tuple[str, dict[str, Any]]], expected: Iterable[str], state: str,
                          *, worker: str | None = None) -> list[JobRecord | None]:
        now = self.clock.now()
        allowed = list(expected)

        def apply(conn: Connection) -> list[tuple[str, JobRecord] | None]:
            # One conditional UPDATE per expected state, so the row count also tells the old state, and the
            # transaction writes before it reads (SQLite: a read first would fail, not wait, when another
            # server writes in between).
            stamp = {"finished_at": now} if state in FINISHED else {}
            done: list[tuple[str, JobRecord] | None] = []
            for job_id, values in changes:
                found: tuple[str, JobRecord] | None = None
                for before in allowed:
                    condition = [jt.job.c.id == job_id, jt.job.c.state == before]
                    if worker is not None:
                        condition.append(jt.job.c.claimed_by == worker)
                    result = conn.execute(update(jt.job).where(*condition)
                                          .values(state=state, updated_at=now, **stamp, **values))
                    if result.rowcount == 1:
                        found = (before, record(conn.execute(select(jt.job).where(jt.job.c.id == job_id)).one()))
                        break
                done.append(found)
            return done

        outcome = await self.db.run(apply)
        for item in outcome:
            if item is not None:
                await self.events.emit(JobStateChanged(item[1], item[0], item[1].state))
        return [None if item is None else item[1] for item in outcome]

    async def cancel_pending(self, scope: WorkScope, reason: str) -> int:
        """Cancel every pending or waiting job in the scope (the kill switch, an agent's pause); running ones finish
        their step. Each cancellation is a conditional change, so a job that fired meanwhile is left alone."""
        query = select(jt.job.c.id).where(jt.job.c.state.in_(["pending", "waiting"]))
        for column, value in (("account_id", scope.account_id), ("user_id", scope.user_id),
                              ("agent_id", scope.agent_id)):
            if value is not None:
                query = query.where(jt.job.c[column] == value)
        ids = [row.id for row in await self.db.all(query)]
        changed = await self.change_many([(job_id, {"error": reason}) for job_id in ids], ("pending", "waiting"),
                                         "cancelled")
        return sum(1 for job in changed if job is not None)

    async def complete(self, worker: str, done: Sequence[tuple[JobRecord, str, dict[str, Any]]]
                       ) -> list[JobRecord | None]:
        """Finish (or reschedule) jobs this worker claimed: (job, new state, values) each, all in one transaction,
        one conditional UPDATE per job and no re-read (a claimed row changes only through its claimer, or a
        cancel, which the condition catches). None for a job that was cancelled meanwhile."""
        now = self.clock.now()

        def apply(conn: Connection) -> list[JobRecord | None]:
            won: list[JobRecord | None] = []
            for job, state, values in done:
                changes = {"state": state, "updated_at": now, **({"finished_at": now} if state in FINISHED else {}),
                           **values}
                result = conn.execute(update(jt.job).where(jt.job.c.id == job.id, jt.job.c.state == "running",
                                                          jt.job.c.claimed_by == worker).values(changes))
                won.append(replace(job, **changes) if result.rowcount == 1 else None)
            return won

        records = await self.db.run(apply)
        for item in records:
            if item is not None:
                await self.events.emit(JobStateChanged(item, "running", item.state))
        return records

    async def overdue(self, now: datetime, limit: int) -> list[JobRecord]:
        """Waiting or running jobs whose timeout has passed (the monitor times them out one by one)."""
        rows = await self.db.all(select(jt.job).where(
            jt.job.c.state.in_(["waiting", "running"]), jt.job.c.timeout_at.is_not(None), jt.job.c.timeout_at <= now,
        ).order_by(jt.job.c.timeout_at).limit(limit))
        return [record(row) for row in rows]

    async def requeue_stale(self, now: datetime, lease: float, types: Sequence[str]) -> int:
        """Claims older than the lease (their server died mid-run) go back to pending, so the job fires late
        rather than never. Only for types that are safe to run again, such as reminders."""
        cutoff = now - timedelta(seconds=lease)
        statement = (update(jt.job).where(jt.job.c.state == "running", jt.job.c.type.in_(list(types)),
                                         jt.job.c.timeout_at.is_(None),
                                         or_(jt.job.c.claimed_at.is_(None), jt.job.c.claimed_at < cutoff))
                     .values(state="pending", claimed_by=None, claimed_at=None, updated_at=now))
        return int(await self.db.run(lambda conn: conn.execute(statement).rowcount))

    async def unobserved(self, limit: int = 500) -> list[JobRecord]:
        """Finished jobs whose observers were never told (the server stopped in between)."""
        rows = await self.db.all(select(jt.job).where(
            jt.job.c.state.in_(["resolved", "failed", "timed_out"]), jt.job.c.observed_at.is_(None),
            jt.job.c.call_id.is_not(None),
        ).limit(limit))
        return [record(row) for row in rows if row.observers]

    async def mark_observed(self, job_id: str) -> bool:
        statement = (update(jt.job).where(jt.job.c.id == job_id, jt.job.c.observed_at.is_(None))
                     .values(observed_at=self.clock.now()))
        return bool(await self.db.run(lambda conn: conn.execute(statement).rowcount))


def _where(query: Any, *, states: Sequence[str], user_id: str | None = None, account_id: str | None = None,
           agent_id: str | None = None, type: str | None = None) -> Any:
    query = query.where(jt.job.c.state.in_(list(states)))
    for column, value in (("user_id", user_id), ("account_id", account_id), ("agent_id", agent_id), ("type", type)):
        if value is not None:
            query = query.where(jt.job.c[column] == value)
    return query


def _aware(value: Any) -> datetime:
    return t.UTCDateTime().process_result_value(
        datetime.fromisoformat(value) if isinstance(value, str) else value, None)  # type: ignore[return-value]
