"""Direct answers for triage's remember / recall / forget intents (Tier 2: no model involved).

Each returns the reply text, or None to hand the message to the harness when it cannot answer well.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.i18n import _
from bot.turn import Turn
from knowledge.facts import Fact, Scopes, normalise_subject
from knowledge.index import Partition

if TYPE_CHECKING:
    from agents.triage import TriageResult
    from bot.questions import Questions
    from bot.undo import UndoLog
    from knowledge.service import Knowledge

# A near match is only acted on (forgotten, or given as an answer) when it is this close in meaning.
FORGET_MIN_SCORE = 0.75
RECALL_MIN_SCORE = 0.55


def own_partition(turn: Turn) -> Partition:
    return Partition(turn.channel.account_id, "user", turn.user.id)


def _your(subject: str) -> str:
    return _("your {subject}").format(subject=subject)


def _known_name(turn: Turn) -> str | None:
    name = turn.user.display_name
    return name if name and name != turn.sender_external_id else None


class Handlers:
    def __init__(self, knowledge: Knowledge, directory: Any, questions: Questions | None = None,
                 undo: UndoLog | None = None) -> None:
        self._k = knowledge
        self._directory = directory
        self._questions = questions
        self._undo = undo
        if undo is not None:
            undo.restorer("facts_forgotten", self._restore)

    async def remember(self, turn: Turn, result: TriageResult) -> str | None:
        entities = result.entities
        subject, value = entities.get("subject"), entities.get("value")
        predicate = "is"
        if not (isinstance(subject, str) and isinstance(value, str) and value.strip()):
            fact = entities.get("fact")
            if not isinstance(fact, str) or not fact.strip():
                return None
            # A free-form note ("remember that I parked on level 3"): the note is its own subject.
            subject, value, predicate = fact, fact, "note"
        saved = await self._k.facts.remember(
            own_partition(turn), subject, value, predicate=predicate, now=self._k.clock.now(), source="triage",
            locale=turn.user.locale, agent_id=turn.agent.id, interaction_id=turn.interaction_id,
            category="profile" if normalise_subject(subject) == "name" else None)
        await self._k.sync()
        fact = saved.fact
        if fact.subject == "name":
            await self._directory.update_user(turn.user.id, display_name=fact.value[:200])
        if predicate == "note":
            return _("Noted.") if not saved.unchanged else _("I already had that noted.")
        if saved.unchanged:
            return _("I already knew that: {subject} is {value}.").format(subject=_your(fact.subject),
                                                                          value=fact.value)
        if saved.previous is not None:
            return _("Updated: {subject} is now {value} (it was {previous}).").format(
                subject=_your(fact.subject), value=fact.value, previous=saved.previous.value)
        if fact.subject == "name":
            return _("Nice to meet you, {value}! I'll remember your name.").format(value=fact.value)
        return _("Got it: {subject} is {value}.").format(subject=_your(fact.subject), value=fact.value)

    async def recall(self, turn: Turn, result: TriageResult) -> str | None:
        subject = result.entities.get("subject")
        if not isinstance(subject, str) or not subject.strip():
            return None
        subject = normalise_subject(subject)
        scopes = Scopes.of_turn(turn)
        facts = await self._k.facts.about(scopes, subject)
        value = _best(facts).value if facts else (_known_name(turn) if subject == "name" else None)
        check = result.entities.get("check")
        if isinstance(check, str) and check:
            if value is None:
                return _("I don't know {your_subject} yet. Tell me with 'my {subject} is …'.").format(
                    your_subject=_your(subject), subject=subject)
            if value.lower() == check.lower():
                return _("Yes, {subject} is {value}.").format(subject=_your(subject), value=value)
            return _("No, {subject} is {value}, as far as I know.").format(subject=_your(subject), value=value)
        if value is not None:
            return _("{subject} is {value}.").format(subject=_your(subject).capitalize(), value=value)
        related = await self._k.facts.mentioning(scopes, subject, limit=3)
        if related:
            return "\n".join([_("Here is what I know about that:"), *(
                _("- {subject} is {value}").format(subject=_your(fact.subject), value=fact.value) for fact in related)])
        hits = await self._k.search(scopes, subject, limit=3, kinds=("fact",), min_score=RECALL_MIN_SCORE)
        if hits:
            return "\n".join([_("Here is what I know about that:"), *(f"- {hit.text}" for hit in hits)])
        if not result.direct:  # a subject triage was unsure of, and nothing known: the model may know better
            return None
        return _("I don't know {your_subject} yet. Tell me with 'my {subject} is …'.").format(
            your_subject=_your(subject), subject=subject)

    async def forget(self, turn: Turn, result: TriageResult) -> str | None:
        """Forget the facts stored under exactly this subject. A fact found only by meaning is never forgotten
        on that guess: the user is asked to confirm which one."""
        subject = result.entities.get("subject")
        if not isinstance(subject, str) or not subject.strip():
            return None
        subject = normalise_subject(subject)
        own = own_partition(turn)
        mine = Scopes(own.account_id, (own,))
        if result.entities.get("declined"):
            return _("OK, I still know {subject}.").format(subject=_your(subject))
        facts = await self._k.facts.about(mine, subject)
        if not facts:
            hits = await self._k.search(mine, subject, limit=2, kinds=("fact",), min_score=FORGET_MIN_SCORE)
            if len(hits) == 1 and hits[0].fact is not None and self._questions is not None:
                near = hits[0].fact
                return await self._questions.ask(
                    turn, "forget", "confirm", {"subject": near.subject},
                    _("Do you mean {subject} ({value})? Say yes to forget it, or no to keep it.").format(
                        subject=_your(near.subject), value=near.value))
            if not result.direct:
                return None
            return _("I don't have anything about {subject} to forget.").format(subject=_your(subject))
        await self._k.facts.archive(mine, [f.id for f in facts], now=self._k.clock.now())
        await self._k.sync()
        if self._undo is not None:
            await self._undo.record(turn.user.id, "facts_forgotten", {"ids": [f.id for f in facts]},
                                    f"forgot {_your(facts[0].subject)}")
        values = ", ".join(f.value for f in facts[:3])
        return _("Done: I've forgotten {subject} (it was {values}). Say /undo to bring it back.").format(
            subject=_your(facts[0].subject), values=values)

    async def _restore(self, turn: Turn, payload: dict[str, Any]) -> str:
        own = own_partition(turn)
        restored = await self._k.facts.restore(Scopes(own.account_id, (own,)), list(payload.get("ids") or []),
                                               now=self._k.clock.now())
        await self._k.sync()
        if not restored:
            return _("That fact has changed since; nothing to bring back.")
        return _("Undone: I know {subject} again ({value}).").format(subject=_your(restored[0].subject),
                                                                     value=restored[0].value)


def _best(facts: list[Fact]) -> Fact:
    """The user's own fact beats the agent's or the account's; the newest wins within a scope."""
    order = {"user": 0, "team": 1, "agent": 2, "account": 3}
    return sorted(facts, key=lambda f: (order.get(f.scope, 9), -f.created_at.timestamp()))[0]
