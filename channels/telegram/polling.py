"""Long polling that does not stop: every failure is logged, shown in /health and retried with backoff.

Updates come back as raw dicts (`GetRawUpdates`) and are validated one by one: with aiogram's own `GetUpdates`
one update in a schema newer than the library fails the whole response, and the poller would fetch the same
batch forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramConflictError, TelegramRetryAfter, TelegramUnauthorizedError
from aiogram.methods import TelegramMethod

from bot.clock import Clock
from bot.outbox import backoff
from channels.telegram.sender import describe

log = structlog.get_logger("thinklio.telegram")

ALLOWED_UPDATES = ["message", "edited_message", "my_chat_member"]
CONFLICT_HINT = ("another process is polling with this bot token, or a webhook is set for it; "
                 "stop the other instance (or run only one), or use THINKLIO_TELEGRAM_MODE=webhook")


class GetRawUpdates(TelegramMethod[list[dict[str, Any]]]):
    """`getUpdates`, answered as plain dicts."""

    __returning__ = list[dict[str, Any]]
    __api_method__ = "getUpdates"

    offset: int | None = None
    limit: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


Handle = Callable[[dict[str, Any]], Awaitable[None]]


class Poller:
    def __init__(self, bot: Bot, clock: Clock, handle: Handle, *, poll_timeout: int, request_timeout: float,
                 retry_seconds: float) -> None:
        self._bot = bot
        self._clock = clock
        self._handle = handle
        self._poll_timeout = poll_timeout
        self._request_timeout = request_timeout
        self._retry = retry_seconds
        self._offset: int | None = None
        self._webhook_deleted = False
        self.state = "starting"
        self.last_error: str | None = None
        self.last_poll_at: datetime | None = None
        self.conflicts = 0

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                if not self._webhook_deleted:
                    # getUpdates answers 409 while a webhook is set; keep whatever Telegram has queued.
                    await self._bot.delete_webhook(drop_pending_updates=False,
                                                   request_timeout=self._request_timeout)  # type: ignore[arg-type]
                    self._webhook_deleted = True
                updates = await self._bot(
                    GetRawUpdates(offset=self._offset, timeout=self._poll_timeout, allowed_updates=ALLOWED_UPDATES),
                    # A hung connection is cut a little after the longest a healthy long poll can take.
                    request_timeout=self._poll_timeout + self._request_timeout,  # type: ignore[arg-type]
                )
                self.last_poll_at = self._clock.now()
                if self.state != "running":
                    log.info("telegram_polling", state="running", previous=self.state)
                self.state, self.last_error, failures = "running", None, 0
                for data in updates:
                    await self._handle(data)  # committed before the offset moves past it: a crash loses nothing
                    self._offset = int(data["update_id"]) + 1
            except asyncio.CancelledError:
                raise
            except TelegramRetryAfter as exc:
                self._failed("flood_wait", exc)
                await asyncio.sleep(exc.retry_after)
            except TelegramConflictError as exc:
                self.conflicts += 1
                self._webhook_deleted = False
                failures += 1
                self._failed("conflict", exc, level="error", hint=CONFLICT_HINT)
                await asyncio.sleep(backoff(self._retry, failures))
            except TelegramUnauthorizedError as exc:
                failures += 1
                self._failed("unauthorized", exc, level="error", hint="check THINKLIO_TELEGRAM_TOKEN")
                await asyncio.sleep(backoff(self._retry, failures + 4))
            except Exception as exc:
                # Network errors, timeouts, 5xx, a bad update handler: none of them may end the loop.
                failures += 1
                self._failed("retrying", exc)
                await asyncio.sleep(backoff(self._retry, failures))

    def _failed(self, state: str, exc: BaseException, *, level: str = "warning", hint: str | None = None) -> None:
        self.state = state
        self.last_error = describe(exc, 300)
        getattr(log, level)("telegram_polling_failed", state=state, error=self.last_error,
                            **({"hint": hint} if hint else {}))
