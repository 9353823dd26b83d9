"""The triage route (Tier 2): parse every message, answer directly when triage is sure and a handler can.

A question triage asked in this conversation ("When should I remind you?") is answered first: when the message
completes it, the waiting intent's handler gets the completed parse; otherwise the question is dropped and the
message goes on as any other. "undo" takes back the user's last change.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping

import structlog

from agents.extensions import DirectHandler
from agents.triage import AnswerContext, Triage, TriageResult, answer
from agents.triage.followup import fill
from bot.clock import Clock
from bot.directory import Directory
from bot.governance import Actor
from bot.governance.audit import Audit
from bot.i18n import N_, _
from bot.metrics import Metrics
from bot.questions import Questions
from bot.turn import Reply, Turn
from bot.undo import UndoLog

log = structlog.get_logger("thinklio.triage")

Capabilities = Callable[[Turn], Awaitable[list[tuple[str, str]]]]


def observe_triage(metrics: Metrics) -> Callable[[TriageResult], None]:
    """The `on_parse` hook: a `triage` log event and `thinklio_triage_intent_total{intent}` for every parse."""

    def on_parse(result: TriageResult) -> None:
        metrics.triage_intent.labels(result.intent).inc()
        log.info("triage", intent=result.intent, strength=result.strength, ambiguity=result.ambiguity,
                 direct=result.direct, source=result.source, confidence=result.model.get("confidence"))

    return on_parse


class TriageRoute:
    def __init__(self, triage: Triage, directory: Directory, clock: Clock, capabilities: Capabilities,
                 *, min_strength: float, handlers: Mapping[str, DirectHandler] | None = None,
                 look_first: frozenset[str] = frozenset(), writes: frozenset[str] = frozenset(),
                 questions: Questions | None = None, undo: UndoLog | None = None,
                 audit: Audit | None = None) -> None:
        self._triage = triage
        self._directory = directory
        self._clock = clock
        self._capabilities = capabilities
        self._min_strength = min_strength
        self._handlers = {intent: _readonly_guard(intent, handler, audit) if intent in writes else handler
                          for intent, handler in (handlers or {}).items()}
        self._look_first = look_first  # handlers that look in the store even when triage is unsure
        self._questions = questions
        self._undo = undo

    async def __call__(self, turn: Turn) -> Reply | None:
        if turn.origin != "user":
            return None
        started = time.perf_counter()
        now = self._clock.now()
        result = self._triage.parse(turn.text, now=now, tz=turn.timezone)
        turn.record("triage", result.intent, started=started,
                    detail={"strength": result.strength, "ambiguity": result.ambiguity, "direct": result.direct,
                            "source": result.source, "confidence": result.model.get("confidence")})
        if self._questions is not None:
            pending = await self._questions.pending(turn.conversation.id)
            if pending is not None:
                await self._questions.clear(turn.conversation.id)
                filled = fill(pending, turn.text, result, self._triage, now=now, tz=turn.timezone)
                waiting = self._handlers.get(pending.intent)
                if filled is not None and waiting is not None:
                    answered = await waiting(turn, filled)
                    if answered is not None:
                        return answered if isinstance(answered, Reply) else Reply(answered, tier="triage",
                                                                                  intent=pending.intent)
        if result.intent == "undo" and result.direct and self._undo is not None:
            if turn.is_readonly:
                return Reply(_(READONLY), tier="triage", intent="undo", error_code="forbidden")
            return Reply(await self._undo.undo(turn), tier="triage", intent="undo")
        zone = result.entities.get("timezone")
        if result.intent == "remember" and zone and result.strength >= self._min_strength:
            # The one fact the foundation keeps itself: the user's time zone, on their profile.
            await self._directory.update_user(turn.user.id, timezone=zone)
            return Reply(_("Got it: your time zone is now {zone}.").format(zone=zone), tier="triage", intent="remember")
        handler = self._handlers.get(result.intent)
        if not result.direct:
            # Parsing alone cannot say whether "forget my wifi password" names something we know; the handler
            # can, by looking: it answers only when it finds the fact, and hands over to the model otherwise.
            if handler is None or result.intent not in self._look_first:
                return None
            answered = await handler(turn, result)
            if answered is None or isinstance(answered, Reply):
                return answered
            return Reply(answered, tier="triage", intent=result.intent)
        if handler is not None:
            answered = await handler(turn, result)
            if answered is None or isinstance(answered, Reply):
                return answered
            return Reply(answered, tier="triage", intent=result.intent)
        # A display name that is only the channel's id for the user is not a name to greet anyone by.
        name = turn.user.display_name if turn.user.display_name != turn.sender_external_id else None
        skills = await self._capabilities(turn) if result.intent == "help" else []
        context = AnswerContext(now=now, tz=turn.timezone, agent_name=turn.agent.name, capabilities=skills,
                                user_name=name)
        text = answer(result, context)
        if text is None:
            return None
        return Reply(text, tier="triage", intent=result.intent)


READONLY = N_("Your role here is readonly: I can answer questions, but I can't change anything for you.")


def _readonly_guard(intent: str, handler: DirectHandler, audit: Audit | None) -> DirectHandler:
    """The handler, refused to readonly members (and the refusal audited)."""

    async def guarded(turn: Turn, result: TriageResult) -> str | Reply | None:
        if not turn.is_readonly:
            return await handler(turn, result)
        if audit is not None:
            await audit.refused(Actor.of_turn(turn), f"triage.{intent}", "readonly role")
        return Reply(_(READONLY), tier="triage", intent=intent, error_code="forbidden")

    return guarded
