"""One Bot API send (or edit of a message sent before), and what its failure means for the reply: wait and
retry, try later, or give up."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import ReplyParameters

from bot.outbox import Delivery
from channels.telegram.inbound import Target


@dataclass(frozen=True, slots=True)
class Result(Delivery):
    """A delivery, and the supergroup the chat became when Telegram said so (`retry_after` is its flood wait);
    `message_id` is the message a successful send made."""

    migrated_to: int | None = None
    message_id: int | None = None


NOT_MODIFIED = "message is not modified"  # the edit asked for what the message already shows


async def send_text(bot: Bot, target: Target, text: str, *, timeout: float) -> Result:
    """Send one chunk once; never raises for Telegram or network failures."""
    reply = None
    if target.reply_to is not None:
        # The user may have deleted the message by now; the answer still goes out, just not as a reply.
        reply = ReplyParameters(message_id=target.reply_to, allow_sending_without_reply=True)
    try:
        sent = await bot.send_message(chat_id=target.chat_id, text=text, message_thread_id=target.thread_id,
                                      reply_parameters=reply, parse_mode=None,
                                      request_timeout=timeout)  # type: ignore[arg-type]  # aiohttp takes float s
    except asyncio.CancelledError:
        raise
    except TelegramMigrateToChat as exc:
        # The group became a supergroup: same people, new id, and the old message ids mean nothing there.
        if target.chat_id == exc.migrate_to_chat_id:
            return classify_error(exc)
        result = await send_text(bot, Target(exc.migrate_to_chat_id), text, timeout=timeout)
        return Result(result.verdict, result.retry_after, result.error, exc.migrate_to_chat_id, result.message_id)
    except Exception as exc:
        return classify_error(exc)
    return Result("sent", message_id=sent.message_id)


async def edit_text(bot: Bot, chat_id: int, message_id: int, text: str, *, timeout: float) -> Result:
    """Replace the text of a message the bot sent, as plain text; never raises for Telegram or network failures.
    An edit is idempotent, so "not modified" (an earlier try that did land, or the same text) is success; a
    message the user deleted (or too old to edit) is `failed`."""
    try:
        await bot.edit_message_text(text=text, chat_id=chat_id, message_id=message_id, parse_mode=None,
                                    request_timeout=timeout)  # type: ignore[arg-type]
    except asyncio.CancelledError:
        raise
    except TelegramBadRequest as exc:
        if NOT_MODIFIED in exc.message.lower():
            return Result("sent", message_id=message_id)
        return classify_error(exc)
    except Exception as exc:
        return classify_error(exc)
    return Result("sent", message_id=message_id)


_TOKEN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")


def describe(exc: BaseException, limit: int = 500) -> str:
    """The error for logs and the outbox, without the bot token (aiohttp puts whole URLs in some errors)."""
    return _TOKEN.sub("<token>", f"{type(exc).__name__}: {exc}")[:limit]


def classify_error(exc: BaseException) -> Result:
    error = describe(exc)
    if isinstance(exc, TelegramRetryAfter):
        return Result("retry", retry_after=float(exc.retry_after), error=error)
    if isinstance(exc, TelegramForbiddenError):
        return Result("blocked", error=error)
    # Down, slow, behind a proxy answering HTML, or a token being rotated: all worth another try later.
    if isinstance(exc, TelegramNetworkError | TelegramServerError | ClientDecodeError | TelegramUnauthorizedError
                  | asyncio.TimeoutError | OSError):
        return Result("retry", error=error)
    if isinstance(exc, TelegramAPIError):
        return Result("failed", error=error)  # 400 and friends: sending the same again fails the same way
    return Result("retry", error=error)
