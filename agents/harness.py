"""Tier 3: the harness answers what triage does not.

No language model provider is wired in yet, so this route answers honestly that it cannot help and records
the interaction as `unanswered` (error code `no_model`) rather than pretending.
"""

from __future__ import annotations

from bot.turn import Reply, Turn

NO_MODEL = ("I can't answer that yet: no language model is configured on this server. "
            "I can tell you the time or the date, and /help lists what else I can do.")


class UnconfiguredHarness:
    async def __call__(self, turn: Turn) -> Reply:
        turn.record("llm_call", None, status="error", error="no_model")
        return Reply(NO_MODEL, tier="llm", status="unanswered", error_code="no_model")
