"""Context assembly for the harness: the system prompt, the conversation so far (trimmed to a token budget)
and the message, as model messages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from agents.llm.base import ChatMessage
from bot.clock import Clock
from bot.store.database import Database
from bot.turn import Turn

# Facts relevant to the turn, one line each; the knowledge issue plugs in here.
KnowledgeHook = Callable[[Turn], Awaitable[list[str]]]
HISTORY_ROWS = 50
# Plain SQL: read on every harness turn, where building the statement would cost more than running it.
HISTORY_SQL = ("SELECT direction, text FROM message WHERE conversation_id = :conversation AND id < :before "
               "ORDER BY id DESC LIMIT :rows")


def estimate_tokens(text: str) -> int:
    """About four characters a token: good enough to keep inside a budget without a tokenizer."""
    return len(text) // 4 + 1


class ContextBuilder:
    def __init__(self, db: Database, clock: Clock, *, history_tokens: int,
                 knowledge: KnowledgeHook | None = None) -> None:
        self._db = db
        self._clock = clock
        self._history_tokens = history_tokens
        self._knowledge = knowledge

    async def messages(self, turn: Turn) -> list[ChatMessage]:
        return [ChatMessage("system", await self.system_prompt(turn)), *await self.history(turn),
                ChatMessage("user", turn.text)]

    async def system_prompt(self, turn: Turn) -> str:
        local = self._clock.now().astimezone(turn.timezone)
        parts = [
            turn.agent.system_prompt.strip(),
            f"The user's name is {turn.user.display_name}." if turn.user.display_name != turn.sender_external_id
            else "",
            f"The user's time zone is {turn.timezone.key}; it is now {local:%A %d %B %Y %H:%M} there.",
            f"Answer in the user's language (locale {turn.user.locale})." if turn.user.locale else "",
        ]
        facts = await self._knowledge(turn) if self._knowledge is not None else []
        if facts:
            parts.append("What you know:\n" + "\n".join(f"- {fact}" for fact in facts))
        return "\n".join(part for part in parts if part)

    async def history(self, turn: Turn) -> list[ChatMessage]:
        """Earlier messages of the conversation, newest kept first, within the token budget, oldest first."""
        if self._history_tokens <= 0:
            return []
        rows = await self._db.fetch_rows(HISTORY_SQL, {"conversation": turn.conversation.id,
                                                       "before": turn.message_id, "rows": HISTORY_ROWS})
        kept: list[ChatMessage] = []
        budget = self._history_tokens
        for direction, text in rows:
            cost = estimate_tokens(text)
            if cost > budget:
                break
            budget -= cost
            kept.append(ChatMessage("assistant" if direction == "out" else "user", text))
        kept.reverse()
        while kept and kept[0].role == "assistant":  # a history that opens with a reply confuses small models
            kept.pop(0)
        return kept
