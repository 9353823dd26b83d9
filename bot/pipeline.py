"""The one pipeline every channel feeds.

accept: dedupe -> identify the sender -> rate limit -> store the message and its interaction (committed before
any work, so a crash never loses it) -> hand back a ticket.
process (a task per message, in the conversation's lane): gates -> quick routes (commands, files, triage) ->
store the reply, steps and outcome -> deliver through the channel the message came from. A message that needs
the model leaves the lane for the model's turn, so the conversation stays responsive while the model works.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select

from bot.cache import LRU
from bot.clock import Clock
from bot.directory import Directory
from bot.errors import ThinklioError
from bot.gates import Gate
from bot.i18n import N_, Catalogue, _
from bot.ids import new_id
from bot.lanes import Lanes
from bot.messages import (
    InboundMessage,
    Outcome,
)
from bot.metrics import Metrics
from bot.outlets import Outlets
from bot.ratelimit import RateLimiter
from bot.records import ChannelRecord, ConversationRecord, UserRecord
from bot.routes import Route
from bot.store import tables as t
from bot.store.batch import Insert, Op, Update
from bot.store.database import Database
from bot.tickets import Ticket, stored_ticket
from bot.turn import AfterTurn, Collected, Reply, StepRecord, Turn
from bot.turn_builder import TurnBuilder
from config.settings import Settings

log = structlog.get_logger("thinklio.pipeline")

FAILED = N_("Sorry, something went wrong on my side while answering. Please try again.")
INTERRUPTED = N_("I was restarted while working on your message and could not finish it. "
                 "Please send it again.")


class Pipeline:
    def __init__(self, *, db: Database, directory: Directory, gates: Sequence[Gate], routes: Sequence[Route],
                 metrics: Metrics, clock: Clock, settings: Settings, catalogue: Catalogue) -> None:
        self._db = db
        self._catalogue = catalogue
        self._directory = directory
        self._gates = list(gates)
        self.routes = list(routes)  # answer quickly, in the conversation's lane
        self.model_route: Route | None = None  # the harness: the rest, outside the lane (see _model_turns)
        self._busy: dict[str, list[tuple[Turn, Ticket]]] = {}  # conversations with a model turn running
        self.after_turn: list[AfterTurn] = []
        self._metrics = metrics
        self._clock = clock
        self._settings = settings
        self.outlets = Outlets(db=db, directory=directory, clock=clock, metrics=metrics)
        self._lanes = Lanes()
        self._limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
        self._tickets: LRU[tuple[str, str], Ticket] = LRU(50_000)
        self._tasks: set[asyncio.Task[None]] = set()
        self._turns = TurnBuilder(db, directory, settings)

    # accepting ------------------------------------------------------------------------------------------

    async def handle(self, inbound: InboundMessage) -> Outcome:
        """Accept and wait for the answer (the console's way)."""
        ticket = await self.accept(inbound)
        return await ticket.done

    async def accept(self, inbound: InboundMessage) -> Ticket:
        channel = await self._directory.channel(inbound.channel)
        if channel is None or channel.status != "active":
            raise ThinklioError("not_found", f"channel {inbound.channel!r} not found")
        if not inbound.text.strip() and not inbound.attachments:
            raise ThinklioError("bad_request", "the message has no text")
        if len(inbound.text) > self._settings.max_message_chars:
            raise ThinklioError("bad_request", f"the message is longer than {self._settings.max_message_chars} "
                                               "characters")
        key = (channel.id, inbound.external_id) if inbound.external_id else None
        user = await self._directory.identify(channel.type, inbound.sender, channel.account_id)
        conversation = await self._conversation(channel, user, inbound)
        # Checked after the awaits above and with none before the ticket is registered below, so concurrent
        # redeliveries in this process always find the first one's ticket.
        if key is not None and (known := self._tickets.get(key)) is not None:
            return self._duplicate(known, channel, inbound, user)
        retry_after = self._limiter.retry_after(user.id)
        if retry_after:
            raise ThinklioError("rate_limited", f"too many messages; try again in {retry_after:.0f} s",
                                headers={"Retry-After": str(max(1, round(retry_after)))})
        now = self._clock.now()
        message_id, interaction_id = new_id("msg"), new_id("ix")
        message_row = {
            "id": message_id, "conversation_id": conversation.id, "channel_id": channel.id,
            "external_id": inbound.external_id, "direction": "in", "user_id": user.id, "text": inbound.text,
            "attachments": [a.to_json() for a in inbound.attachments] or None,
            "metadata": inbound.metadata or None, "created_at": now,
        }
        interaction_row = {
            "id": interaction_id, "account_id": channel.account_id, "agent_id": conversation.agent_id,
            "user_id": user.id, "conversation_id": conversation.id, "channel_id": channel.id,
            "inbound_message_id": message_id, "status": "received", "cost_usd": 0.0, "created_at": now,
        }
        ticket = Ticket(interaction_id, conversation.id, inbound.text, user.id)
        if key is not None:
            self._tickets.put(key, ticket)
        try:
            stored = await self._db.write([Insert(t.interaction, interaction_row)],
                                          guard=Insert(t.message, message_row))
        except BaseException:
            if key is not None:
                self._tickets.pop(key)
            raise
        if not stored:  # redelivered: another process (or an earlier run) has it
            assert key is not None
            self._tickets.pop(key)
            stored_one = await stored_ticket(self._db, channel.id, inbound.external_id)
            return self._duplicate(stored_one, channel, inbound, user)
        self._metrics.messages_received.labels(channel.slug).inc()
        turn = await self._turns.build(interaction_id, message_id, inbound.text, channel, user, conversation,
                                sender=inbound.sender.external_id, received_at=now, attachments=inbound.attachments,
                                metadata=inbound.metadata)
        self._spawn(turn, ticket)
        return ticket

    def _duplicate(self, ticket: Ticket, channel: ChannelRecord, inbound: InboundMessage,
                   user: UserRecord) -> Ticket:
        if ticket.text != inbound.text or ticket.user_id != user.id:
            raise ThinklioError("conflict", f"message_id {inbound.external_id!r} was already used for a "
                                            "different message")
        self._metrics.duplicates.labels(channel.slug).inc()
        return Ticket(ticket.interaction_id, ticket.conversation_id, ticket.text, ticket.user_id,
                      done=ticket.done, duplicate=True)

    async def _conversation(self, channel: ChannelRecord, user: UserRecord,
                            inbound: InboundMessage) -> ConversationRecord:
        if inbound.conversation_id is None:
            key = inbound.conversation_key or inbound.sender.external_id
            return await self._directory.conversation(channel, user, key)
        found = await self._directory.conversation_by_id(inbound.conversation_id)
        if found is None or found.channel_id != channel.id or found.user_id != user.id:
            raise ThinklioError("not_found", f"conversation {inbound.conversation_id!r} not found")
        return found

    # processing -----------------------------------------------------------------------------------------

    def _spawn(self, turn: Turn, ticket: Ticket) -> None:
        self._background(self._process(turn, ticket), name=f"turn-{turn.interaction_id}")

    def _background(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        async def guarded() -> None:
            try:
                await work
            except Exception:
                log.exception("background_task_failed", task=name)

        task = asyncio.create_task(guarded(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, turn: Turn, ticket: Ticket) -> None:
        self._metrics.in_flight.inc()
        self._catalogue.activate(turn.language)  # this task is the turn's own: its replies in the user's language
        try:
            conversation = turn.conversation.id
            async with self._lanes.hold(conversation):
                with structlog.contextvars.bound_contextvars(interaction_id=turn.interaction_id):
                    reply = await self._route(turn)
                    if reply is not None:
                        await self._complete(turn, [ticket], reply)
                        return
                    waiting = self._busy.get(conversation)
                    if waiting is not None:  # the model is busy here: answered together with the next turn
                        waiting.append((turn, ticket))
                        return
                    self._busy[conversation] = []
            await self._model_turns(turn, [ticket])
        except BaseException as exc:
            log.exception("turn_failed", interaction_id=turn.interaction_id)
            if not ticket.done.done():
                ticket.done.set_exception(exc if isinstance(exc, Exception) else RuntimeError("cancelled"))
            if not isinstance(exc, Exception):
                raise
        finally:
            self._metrics.in_flight.dec()

    async def _model_turns(self, turn: Turn, tickets: list[Ticket]) -> None:
        """The model answers outside the conversation's lane, so commands and direct answers in the same
        conversation do not wait for it. Free text sent meanwhile is collected and handed to the model as one
        turn when it is done; replies are stored and delivered in the lane, keeping their place."""
        conversation = turn.conversation.id
        also: list[Turn] = []
        try:
            while True:
                self._catalogue.activate(turn.language)
                end_working = self.outlets.working(turn)  # a status or reaction until the reply is out
                try:
                    with structlog.contextvars.bound_contextvars(interaction_id=turn.interaction_id):
                        assert self.model_route is not None
                        reply = await self._guarded(turn, self.model_route) or Reply(
                            None, tier="none", status="unanswered", error_code="no_route")
                        async with self._lanes.hold(conversation):
                            await self._complete(turn, tickets, reply, also)
                            waiting = self._busy[conversation]
                            if not waiting:
                                del self._busy[conversation]
                                return
                            self._busy[conversation] = []
                finally:
                    end_working()
                first, *rest = waiting
                also = [later for later, _ in rest]
                turn = replace(first[0], collected=[Collected(t.interaction_id, t.message_id, t.text) for t in also])
                tickets = [ticket for _, ticket in waiting]
        except BaseException:
            # Whatever was waiting behind the failed turn is not lost: each goes through the pipeline again.
            for later, ticket in self._busy.pop(conversation, []):
                self._spawn(later, ticket)
            for ticket in tickets[1:]:
                if not ticket.done.done():
                    ticket.done.set_exception(RuntimeError("the turn failed"))
            raise

    async def _complete(self, turn: Turn, tickets: Sequence[Ticket], reply: Reply, also: Sequence[Turn] = ()) -> None:
        outcome = await self._finish(turn, reply, also)
        await self._deliver(turn, reply)
        for ticket in tickets:
            if not ticket.done.done():
                ticket.done.set_result(outcome if ticket.interaction_id == outcome.interaction_id else
                                       replace(outcome, interaction_id=ticket.interaction_id))
        for hook in self.after_turn:
            self._background(hook(turn, reply), name=f"after-{turn.interaction_id}")

    async def _route(self, turn: Turn) -> Reply | None:
        return await self._guarded(turn, self._quick)

    async def _quick(self, turn: Turn) -> Reply | None:
        """The gates, then the quick routes; None when the message needs the model."""
        for gate in self._gates:
            started = time.perf_counter()
            closed = await gate(turn)
            if closed is not None:
                turn.record("gate", closed.error_code, status="denied", started=started)
                return closed
        for route in self.routes:
            reply = await route(turn)
            if reply is not None:
                return reply
        if self.model_route is None:
            return Reply(None, tier="none", status="unanswered", error_code="no_route")
        return None

    async def _guarded(self, turn: Turn, route: Route) -> Reply | None:
        try:
            return await route(turn)
        except Exception as exc:
            log.exception("route_failed")
            turn.record("error", type(exc).__name__, status="error", error=str(exc)[:500])
            return Reply(_(FAILED), tier="none", status="failed", error_code="internal_error")

    async def add_steps(self, turn: Turn, steps: Sequence[StepRecord]) -> None:
        """Store steps taken for a turn after it was finished (work after the turn, such as extraction), and the
        interaction's cost with them."""
        if not steps:
            return
        now = self._clock.now()
        await self._db.write([*(_step_insert(turn, step, now) for step in steps),
                              Update(t.interaction, turn.interaction_id, {"cost_usd": turn.cost_usd})])

    async def _finish(self, turn: Turn, reply: Reply, also: Sequence[Turn] = ()) -> Outcome:
        """Steps, reply and outcome in one commit; turns collected into this one share its reply."""
        now = self._clock.now()
        duration_ms = (time.perf_counter() - turn.started) * 1000
        ops: list[Op] = [_step_insert(each, step, now) for each in (turn, *also) for step in each.steps]
        reply_id = None
        if reply.text:
            reply_id = new_id("msg")
            ops.append(Insert(t.message, {
                "id": reply_id, "conversation_id": turn.conversation.id, "channel_id": turn.channel.id,
                "external_id": None, "direction": "out", "user_id": None, "text": reply.text, "created_at": now,
            }))
        queued = reply.status == "queued"
        ops.append(Update(t.interaction, turn.interaction_id, {
            "status": reply.status, "tier": reply.tier, "intent": reply.intent, "error_code": reply.error_code,
            "reply_message_id": None if queued else reply_id, "cost_usd": turn.cost_usd,
            "duration_ms": duration_ms, "completed_at": None if queued else now,
        }))
        ops.extend(Update(t.interaction, each.interaction_id, {
            "status": reply.status, "tier": reply.tier, "intent": "collected", "error_code": reply.error_code,
            "reply_message_id": reply_id, "cost_usd": each.cost_usd, "completed_at": now,
            "duration_ms": (time.perf_counter() - each.started) * 1000}) for each in also)
        await self._db.write(ops)
        self._metrics.interaction_duration.labels(reply.tier).observe(duration_ms / 1000)
        self._metrics.interactions.labels(reply.tier, reply.status).inc()
        log.info("interaction_completed", tier=reply.tier, status=reply.status, intent=reply.intent,
                 total_cost=turn.cost_usd, total_duration_ms=round(duration_ms, 3))
        return Outcome(turn.interaction_id, turn.conversation.id, reply.status, reply.tier,
                       None if queued else reply.text, reply.error_code, reply.intent,
                       notice=reply.text if queued else None)

    async def _deliver(self, turn: Turn, reply: Reply) -> None:
        if reply.text:
            await self.outlets.reply(turn, reply.text)

    # turns the server starts ------------------------------------------------------------------------------

    async def follow_up(self, conversation_id: str, note: str, *, parent_interaction_id: str | None = None) -> Ticket:
        """Start a turn that no one typed (a tool's late result, a callback): `note` is stored as an event in the
        conversation and the agent's answer to it is delivered there like any reply. Commands and triage are
        skipped; the harness sees the note in context."""
        conversation, channel = await self._directory.conversation_and_channel(conversation_id)
        user = await self._directory.user(conversation.user_id)
        assert user is not None
        now = self._clock.now()
        message_id, interaction_id = new_id("msg"), new_id("ix")
        await self._db.write([
            Insert(t.message, {"id": message_id, "conversation_id": conversation.id, "channel_id": channel.id,
                               "external_id": None, "direction": "event", "user_id": None, "text": note,
                               "created_at": now}),
            Insert(t.interaction, {"id": interaction_id, "account_id": channel.account_id,
                                   "agent_id": conversation.agent_id, "user_id": user.id,
                                   "conversation_id": conversation.id, "channel_id": channel.id,
                                   "inbound_message_id": message_id, "parent_interaction_id": parent_interaction_id,
                                   "status": "received", "cost_usd": 0.0, "created_at": now}),
        ])
        turn = await self._turns.build(interaction_id, message_id, note, channel, user, conversation, sender="",
                                received_at=now, origin="event")
        ticket = Ticket(interaction_id, conversation.id, note, user.id)
        self._spawn(turn, ticket)
        return ticket

    # start-up and shutdown ------------------------------------------------------------------------------

    async def recover(self, *, statuses: Sequence[str]) -> int:
        """Finish what a previous run left: re-run messages never started (and queued ones once maintenance
        is over); close the ones cut off mid-answer with a reply that says so."""
        rows = await self._db.all(
            select(t.interaction, t.message.c.text, t.message.c.direction, t.message.c.attachments,
                   t.message.c.metadata.label("message_metadata"))
            .join(t.message, t.message.c.id == t.interaction.c.inbound_message_id)
            .where(t.interaction.c.status.in_(list(statuses)))
            .order_by(t.interaction.c.id)
        )
        for row in rows:
            turn = await self._turns.from_row(row)
            ticket = Ticket(row.id, row.conversation_id, row.text, row.user_id)
            if row.status == "running":
                self._spawn_interrupted(turn, ticket)
            else:
                self._spawn(turn, ticket)
        if rows:
            log.info("interactions_recovered", count=len(rows))
        return len(rows)

    def _spawn_interrupted(self, turn: Turn, ticket: Ticket) -> None:
        async def close() -> None:
            self._catalogue.activate(turn.language)
            reply = Reply(_(INTERRUPTED), tier="none", status="interrupted", error_code="interrupted")
            async with self._lanes.hold(turn.conversation.id):
                ticket.done.set_result(await self._finish(turn, reply))
                await self._deliver(turn, reply)

        self._background(close(), name=f"interrupted-{turn.interaction_id}")

    async def drain(self, timeout: float = 10.0) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)


def _step_insert(turn: Turn, step: StepRecord, now: datetime) -> Insert:
    return Insert(t.step, {"id": new_id("stp"), "interaction_id": turn.interaction_id, "seq": step.seq,
                           "kind": step.kind, "name": step.name, "status": step.status,
                           "duration_ms": step.duration_ms, "tokens_in": step.tokens_in, "tokens_out": step.tokens_out,
                           "cost_usd": step.cost_usd, "error": step.error, "detail": step.detail, "created_at": now})
