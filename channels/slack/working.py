"""The "working" signal while the model answers a Slack message: the assistant thread status ("is thinking…")
where the app has it, else a reaction on the user's message, taken off after the reply.

Whether a workspace's app can set a thread status is learnt from Slack: the first refusal that means "this app
cannot" (wrong token type, scope or feature missing) is remembered for the workspace, and its later messages get
the reaction straight away. Only a hint: every failure here is logged and dropped, and never touches the reply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.cache import LRU
from bot.messages import OutboundMessage

log = structlog.get_logger("thinklio.slack")

STATUS = "is thinking…"
REACTION = "hourglass_flowing_sand"
SHOWN_WAIT = 3.0  # seconds a reply waits for its signal's own call, so a late status cannot outlive the reply
# Answers that say the app cannot set a thread status in this workspace at all (rather than in this one thread).
NO_STATUS = frozenset({"not_allowed_token_type", "missing_scope", "unknown_method", "no_permission",
                       "method_deprecated", "access_denied", "accesslimited"})

Spawn = Callable[[Coroutine[Any, Any, None]], "asyncio.Task[None]"]


@dataclass(slots=True)
class Signal:
    team: str
    channel: str
    thread_ts: str | None  # the thread the reply goes to: where a status shows
    ts: str | None  # the user's message: where a reaction goes
    shown: Literal["status", "reaction"] | None = None
    replied: bool = False  # a reply went into the thread, which clears a status by itself
    task: asyncio.Task[None] | None = None


class Working:
    def __init__(self, client: AsyncWebClient, spawn: Spawn) -> None:
        self._client = client
        self._spawn = spawn
        self._no_status: LRU[str, str] = LRU(10_000)  # team -> why its app cannot set a thread status
        self._signals: dict[str, Signal] = {}  # interaction -> its signal, until the turn ends

    def start(self, message: OutboundMessage) -> Callable[[], None] | None:
        meta = message.metadata or {}
        channel, thread_ts, ts = meta.get("channel"), meta.get("thread_ts"), meta.get("ts")
        key = message.interaction_id
        if not key or not isinstance(channel, str) or not (thread_ts or ts):
            return None  # a slash command (already told "Working on it…"), a message the server starts
        signal = Signal(str(meta.get("team") or ""), channel, thread_ts if isinstance(thread_ts, str) else None,
                        ts if isinstance(ts, str) else None)
        self._signals[key] = signal
        signal.task = self._spawn(self._show(signal))
        return lambda: self._end(key)

    async def before_reply(self, interaction_id: str | None) -> None:
        """The reply to `interaction_id` is about to be posted: the signal's own call goes first."""
        signal = self._signals.get(interaction_id or "")
        if signal is not None and signal.task is not None:
            await asyncio.wait((signal.task,), timeout=SHOWN_WAIT)

    def replied(self, interaction_id: str | None) -> None:
        """The reply is in the thread: Slack has cleared the status itself."""
        signal = self._signals.get(interaction_id or "")
        if signal is not None:
            signal.replied = True

    def _end(self, interaction_id: str) -> None:
        signal = self._signals.pop(interaction_id, None)
        if signal is not None:
            self._spawn(self._clear(signal))

    async def _show(self, signal: Signal) -> None:
        if signal.thread_ts is not None and self._no_status.get(signal.team) is None:
            try:
                await self._client.assistant_threads_setStatus(channel_id=signal.channel, thread_ts=signal.thread_ts,
                                                               status=STATUS)
                signal.shown = "status"
                return
            except Exception as exc:  # this message gets the reaction instead
                error = _describe(exc)
                if isinstance(exc, SlackApiError) and error in NO_STATUS:
                    self._no_status.put(signal.team, error)
                    log.info("slack_status_unavailable", team=signal.team, error=error)
                else:
                    log.info("slack_status_failed", channel=signal.channel, error=error)
        if signal.ts is None:
            return
        try:
            await self._client.reactions_add(channel=signal.channel, name=REACTION, timestamp=signal.ts)
            signal.shown = "reaction"
        except Exception as exc:
            log.info("slack_reaction_failed", channel=signal.channel, error=_describe(exc))

    async def _clear(self, signal: Signal) -> None:
        if signal.task is not None:
            await asyncio.wait((signal.task,), timeout=SHOWN_WAIT)
        try:
            if signal.shown == "reaction":
                await self._client.reactions_remove(channel=signal.channel, name=REACTION, timestamp=signal.ts)
            elif signal.shown == "status" and not signal.replied:  # no reply came to clear it
                await self._client.assistant_threads_setStatus(channel_id=signal.channel,
                                                               thread_ts=signal.thread_ts, status="")
        except Exception as exc:
            log.info("slack_signal_clear_failed", channel=signal.channel, error=_describe(exc))


def _describe(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or exc.response.status_code)
    return f"{type(exc).__name__}: {exc}"[:300]
