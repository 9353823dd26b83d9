"""Context assembly for the harness, fitted to the model's window.

The prompt is the system prompt (the agent's, or the profile's short one for a small model, with the user's
name, time zone and what knowledge has to say), the tool schemas, the conversation so far and the user's
message(s). It must fit the profile's window with room for the answer: tool schemas and knowledge lines get at
most their share of it, history is trimmed oldest first, and the user's message is always kept. The size is
measured with the provider's own count (exact for the embedded model), so a request never overflows; a
message that cannot fit even alone is refused with a reply that says so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from agents.llm.base import ChatMessage, ToolSpec, estimate_prompt_tokens, estimate_tokens
from agents.llm.profiles import ModelProfile
from bot.clock import Clock
from bot.store.database import Database
from bot.turn import Turn

# Lines for the model about this turn (facts, passages), one each; extensions plug in here, every hook's lines
# go in, in the order installed.
KnowledgeHook = Callable[[Turn], Awaitable[list[str]]]
Counter = Callable[[Sequence[ChatMessage], Sequence[ToolSpec]], Awaitable[int]]
HISTORY_ROWS = 50
# Plain SQL: read on every harness turn, where building the statement would cost more than running it.
HISTORY_SQL = ("SELECT direction, text FROM message WHERE conversation_id = :conversation AND id < :before "
               "ORDER BY id DESC LIMIT :rows")


class ContextTooLong(Exception):
    """The user's message alone does not fit the model's window."""

    def __init__(self, tokens: int, budget: int) -> None:
        super().__init__(f"the message needs about {tokens} tokens; the model takes {budget}")
        self.tokens = tokens
        self.budget = budget


@dataclass(slots=True)
class Prompt:
    """A request that fits: its messages (system, history, user), the tools offered, and its size."""

    messages: list[ChatMessage]
    tools: list[ToolSpec]
    tokens: int
    budget: int  # prompt tokens the profile allows
    history: int  # history messages right after the system prompt, the first to go when a turn grows
    dropped_tools: int = 0
    dropped_history: int = 0

    async def refit(self, count: Counter) -> bool:
        """After tool results were appended: drop the oldest history until it fits again; False when it cannot."""
        self.tokens = await count(self.messages, self.tools)
        while self.tokens > self.budget and self.history:
            del self.messages[1]
            self.history -= 1
            self.dropped_history += 1
            self.tokens = await count(self.messages, self.tools)
        return self.tokens <= self.budget


class ContextBuilder:
    def __init__(self, db: Database, clock: Clock, *, history_tokens: int,
                 knowledge: Sequence[KnowledgeHook] = ()) -> None:
        self._db = db
        self._clock = clock
        self._history_tokens = history_tokens
        self._knowledge = knowledge

    async def build(self, turn: Turn, profile: ModelProfile, tools: Sequence[ToolSpec], count: Counter) -> Prompt:
        budget = profile.prompt_tokens
        offered = _within(list(tools), profile.tool_share * profile.context_tokens)
        knowledge = [line for hook in self._knowledge for line in await hook(turn)]
        knowledge = _lines_within(knowledge, profile.knowledge_share * profile.context_tokens)
        said = [ChatMessage("user", text) for text in turn.user_texts]
        system = self.system_prompt(turn, profile, knowledge)
        tokens = await count([system, *said], offered)
        # Too big without any history: the tools go first, then the knowledge, never the user's words.
        while tokens > budget and (offered or knowledge):
            if offered:
                offered.pop()
            else:
                knowledge.pop()
                system = self.system_prompt(turn, profile, knowledge)
            tokens = await count([system, *said], offered)
        if tokens > budget:
            raise ContextTooLong(tokens, budget)
        wanted = self._history_tokens if profile.history_tokens is None else profile.history_tokens
        history = await self.history(turn, min(wanted, budget - tokens))
        prompt = Prompt([system, *history, *said], offered, tokens, budget, len(history),
                        dropped_tools=len(tools) - len(offered))
        await prompt.refit(count)  # estimates err high, so this rarely drops anything
        return prompt

    def system_prompt(self, turn: Turn, profile: ModelProfile, knowledge: Sequence[str] = ()) -> ChatMessage:
        if profile.system_prompt:  # a small model's: its own words and the knowledge, nothing it might parrot
            parts = [profile.system_prompt.format(name=turn.agent.name)]
        else:
            parts = self._full_prompt(turn)
        if knowledge:
            parts.append("What you know:\n" + "\n".join(f"- {line}" for line in knowledge))
        return ChatMessage("system", "\n".join(part for part in parts if part))

    def _full_prompt(self, turn: Turn) -> list[str]:
        local = self._clock.now().astimezone(turn.timezone)
        return [
            turn.agent.system_prompt.strip(),
            f"The user's name is {turn.user.display_name}." if turn.user.display_name != turn.sender_external_id
            else "",
            f"The user's time zone is {turn.timezone.key}; it is now {local:%A %d %B %Y %H:%M} there.",
            f"Answer in the user's language (locale {turn.language})." if turn.language and turn.language != "en"
            else "",
        ]

    async def history(self, turn: Turn, budget: int) -> list[ChatMessage]:
        """Earlier messages of the conversation, newest kept first, within `budget` tokens, oldest first."""
        if budget <= 0:
            return []
        rows = await self._db.fetch_rows(HISTORY_SQL, {"conversation": turn.conversation.id,
                                                       "before": turn.message_id, "rows": HISTORY_ROWS})
        kept: list[ChatMessage] = []
        for direction, text in rows:
            cost = estimate_tokens(text) + 4
            if cost > budget:
                break
            budget -= cost
            kept.append(ChatMessage("assistant" if direction == "out" else "user", text))
        kept.reverse()
        while kept and kept[0].role == "assistant":  # a history that opens with a reply confuses small models
            kept.pop(0)
        return kept


def _within(tools: list[ToolSpec], share: float) -> list[ToolSpec]:
    kept: list[ToolSpec] = []
    for spec in tools:
        if estimate_prompt_tokens([], [*kept, spec]) > share:
            break
        kept.append(spec)
    return kept


def _lines_within(lines: list[str], share: float) -> list[str]:
    kept: list[str] = []
    left = share
    for line in lines:
        cost = estimate_tokens(line) + 2
        if cost <= left:
            kept.append(line)
            left -= cost
    return kept
