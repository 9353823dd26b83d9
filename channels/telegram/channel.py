"""The Telegram adapter: one bot serving the `telegram` channel row, by webhook or long polling.

A long answer is shown while the model writes it, in one message edited as it grows (`drafts`); its reply is
then edited into that message rather than sent again. Everything else goes out as new messages.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, ClassVar

import structlog
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramUnauthorizedError
from aiogram.types import BotCommand
from aiohttp import web
from sqlalchemy import select

from bot.cache import LRU
from bot.errors import ThinklioError
from bot.messages import Attachment, OutboundMessage, too_large
from bot.outbox import Blocklist, Outbox, Queued, backoff
from bot.pipeline import Ticket
from bot.services import Services
from bot.store import tables as t
from channels.base import BaseChannel
from channels.telegram.drafts import Drafts, Shown
from channels.telegram.inbound import (
    Action,
    BotIdentity,
    ChatAccess,
    ForPipeline,
    Notice,
    Target,
    classify,
    parse_target,
    parse_update,
)
from channels.telegram.outbound import split_text
from channels.telegram.polling import ALLOWED_UPDATES, Poller
from channels.telegram.sender import Result, describe, edit_text, send_text
from channels.telegram.webhook import PATH, default_secret, handler

log = structlog.get_logger("thinklio.telegram")

LIVE_ATTEMPTS = 3  # tries while the conversation waits; after that the outbox takes over
MAX_INLINE_WAIT = 10.0  # longer flood waits go to the outbox instead of holding the conversation
TYPING_EVERY = 4.0  # Telegram shows "typing" for 5 s
TYPING_FOR_AT_MOST = 300.0
RATE_LIMITED = "You are sending messages faster than I can read them. Please wait a little and send it again."
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")


class TelegramDeliveryError(Exception):
    """A reply Telegram refused for good (blocked, bad request); the pipeline logs and counts it."""


class TelegramChannel(BaseChannel):
    type: ClassVar[str] = "telegram"
    slug: ClassVar[str] = "telegram"  # the seeded `channel` row this bot serves
    typing_delay: float = 0.5  # answers faster than this need no indicator (and would outlive the reply)

    def __init__(self, services: Services, web_app: web.Application) -> None:
        settings = services.settings
        if not settings.telegram_token:
            raise ValueError("the telegram channel needs THINKLIO_TELEGRAM_TOKEN")
        self._s = services
        self._mode = settings.telegram_mode
        self._timeout = settings.telegram_request_timeout
        self._retry = settings.telegram_retry_seconds
        api = TelegramAPIServer.from_base(settings.telegram_api_base) if settings.telegram_api_base else PRODUCTION
        self.bot = Bot(settings.telegram_token, session=AiohttpSession(api=api, timeout=self._timeout))
        self.me = BotIdentity(self.bot.id, settings.telegram_bot_username)
        self.blocklist = Blocklist(services.db, services.clock, self.type)
        self.outbox = Outbox(services.db, services.clock, self.type, send=self._send_queued, recipient=_chat_of,
                             blocklist=self.blocklist, retry_seconds=self._retry)
        self._secret = settings.telegram_webhook_secret or default_secret(settings.telegram_token)
        self.poller: Poller | None = None
        if self._mode == "polling":
            self.poller = Poller(self.bot, services.clock, self.handle_update, retry_seconds=self._retry,
                                 poll_timeout=settings.telegram_poll_timeout, request_timeout=self._timeout)
        else:
            web_app.router.add_post(PATH, handler(self._secret, self.handle_update, limit=settings.max_body_bytes))
        self._tasks: set[asyncio.Task[Any]] = set()
        self._typing: dict[str, asyncio.Task[None]] = {}
        self._targets: LRU[str, Target] = LRU(10_000)  # interaction -> where its reply goes
        self._seen: LRU[int, bool] = LRU(10_000)  # update ids handled: redeliveries stop here
        self._notified: LRU[int, float] = LRU(10_000)  # chat -> when it was last told to slow down
        self.drafts = Drafts(self.bot, timeout=self._timeout, locate=self._target_of, may_send=self._may_draft)
        self._ready = False
        self._closed = True
        self.state = "stopped"
        self.last_error: str | None = None
        self.last_update_at: datetime | None = None
        self.updates = 0
        self.ignored = 0

    # lifecycle ------------------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.blocklist.load()
        await self.outbox.load()
        self._closed = False
        self.state = "starting"
        # One attempt now, so a healthy start is ready when the server is; an unreachable Telegram is retried
        # in the background without holding up the rest of the server.
        ready = await self._setup()
        self._spawn(self._supervise(ready))
        self._spawn(self.outbox.run())

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # Turns still running deliver while the session is open; anything later waits in the outbox.
        await self._s.pipeline.drain(timeout=5.0)
        for task in list(self._typing.values()):
            task.cancel()
        self.drafts.close()
        self._closed = True
        self.state = "stopped"
        await self.bot.session.close()

    def health(self) -> dict[str, Any]:
        poller = self.poller
        polling = poller is not None and self._ready and self.state != "stopped"
        return {
            "status": poller.state if polling and poller is not None else self.state,
            "mode": self._mode,
            "bot": f"@{self.me.username}" if self.me.username else None,
            "last_update_at": None if self.last_update_at is None else self.last_update_at.isoformat(),
            "updates": self.updates,
            "ignored": self.ignored,
            "outbox_waiting": self.outbox.waiting,
            "drafting": len(self.drafts),
            "blocked_chats": len(self.blocklist),
            "last_error": poller.last_error if polling and poller is not None else self.last_error,
            **({"conflicts": poller.conflicts} if poller is not None else {}),
        }

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _supervise(self, ready: bool) -> None:
        failures = 0
        while not ready:
            failures += 1
            await asyncio.sleep(backoff(self._retry, failures))
            ready = await self._setup()
        if self.poller is not None:
            await self.poller.run()

    async def _setup(self) -> bool:
        """getMe, the commands menu, and in webhook mode setWebhook; False (and logged) when Telegram failed."""
        settings = self._s.settings
        try:
            me = await self.bot.get_me(request_timeout=self._timeout)  # type: ignore[arg-type]
            self.me = BotIdentity(me.id, settings.telegram_bot_username or me.username)
            await self._set_commands()
            if self._mode == "webhook":
                assert settings.telegram_webhook_url is not None
                await self.bot.set_webhook(url=settings.telegram_webhook_url, secret_token=self._secret,
                                           allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False,
                                           request_timeout=self._timeout)  # type: ignore[arg-type]
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.state = "unauthorized" if isinstance(exc, TelegramUnauthorizedError) else "retrying"
            self.last_error = describe(exc, 300)
            log.error("telegram_setup_failed", error=self.last_error, state=self.state)
            return False
        self._ready = True
        self.state, self.last_error = "running", None
        log.info("telegram_started", mode=self._mode, bot=self.me.username)
        return True

    async def _set_commands(self) -> None:
        commands = [BotCommand(command=c.name, description=(c.summary or c.name)[:256])
                    for c in self._s.commands.visible_to(None) if _COMMAND_NAME.match(c.name)]
        await self.bot.set_my_commands(commands=commands, request_timeout=self._timeout)  # type: ignore[arg-type]

    # inbound --------------------------------------------------------------------------------------------

    async def handle_update(self, data: dict[str, Any]) -> None:
        """One update, from the webhook or the poller. Raises only when it could not be stored (so Telegram
        delivers it again); anything it cannot use is logged and ignored."""
        update_id = int(data["update_id"])
        if self._seen.get(update_id):
            return
        self.updates += 1
        self.last_update_at = self._s.clock.now()
        try:
            update = parse_update(data)
            action = None if update is None else classify(update, self.me, channel=self.slug)
        except Exception:
            log.exception("telegram_update_unreadable", update_id=update_id)
            action = None
        await self._act(action)
        self._seen.put(update_id, True)

    async def _act(self, action: Action) -> None:
        if action is None:
            self.ignored += 1
        elif isinstance(action, ChatAccess):
            if action.blocked:
                await self.blocklist.block(str(action.chat_id), "my_chat_member: kicked")
            else:
                await self.blocklist.unblock(str(action.chat_id))
        elif isinstance(action, Notice):
            await self.blocklist.unblock(str(action.target.chat_id))  # writing to the bot means it is not blocked
            await self.outbox.add_notice(action.target.key, action.target.options(), action.text, action.key)
        elif isinstance(action, ForPipeline):
            await self.blocklist.unblock(str(action.target.chat_id))
            await self._accept(action)

    async def _accept(self, action: ForPipeline) -> None:
        try:
            ticket = await self._s.pipeline.accept(action.inbound)
        except ThinklioError as exc:
            log.warning("telegram_message_refused", code=exc.code, error=exc.message,
                        external_id=action.inbound.external_id)
            if exc.code == "rate_limited" and self._may_notify(action.target.chat_id):
                await self.outbox.add_notice(action.target.key, action.target.options(), RATE_LIMITED,
                                             f"rate:{action.inbound.external_id}")
            return
        if ticket.duplicate:
            return  # the original's turn delivers its reply, once
        self._targets.put(ticket.interaction_id, action.target)
        ticket.done.add_done_callback(_retrieve)
        # Delivered by now, or never will be: a draft left over would only hold memory (and a worker).
        ticket.done.add_done_callback(lambda _: self.drafts.forget(ticket.interaction_id))
        if not ticket.done.done():
            task = asyncio.create_task(self._keep_typing(action.target, ticket))
            self._typing[ticket.interaction_id] = task
            task.add_done_callback(lambda _: self._typing.pop(ticket.interaction_id, None))

    def _may_notify(self, chat_id: int) -> bool:
        """At most one rate-limit notice per chat a minute: a flood of messages must not become one of notices."""
        now = time.monotonic()
        last = self._notified.get(chat_id)
        if last is not None and now - last < 60:
            return False
        self._notified.put(chat_id, now)
        return True

    async def _keep_typing(self, target: Target, ticket: Ticket) -> None:
        loop = asyncio.get_running_loop()
        until = loop.time() + TYPING_FOR_AT_MOST
        await asyncio.wait((ticket.done,), timeout=self.typing_delay)
        while not ticket.done.done() and loop.time() < until:
            try:
                await self.bot.send_chat_action(chat_id=target.chat_id, action="typing",
                                                message_thread_id=target.thread_id, request_timeout=10)
            except asyncio.CancelledError:
                raise
            except Exception:
                return  # only a hint to the user: never worth a retry or a failure
            await asyncio.wait((ticket.done,), timeout=TYPING_EVERY)

    # outbound -------------------------------------------------------------------------------------------

    def draft(self, message: OutboundMessage) -> Callable[[str], None] | None:
        """A long answer appears as the model writes it: one message, edited as it grows (see `drafts`)."""
        return self.drafts.start(message)

    async def deliver(self, message: OutboundMessage) -> None:
        if message.interaction_id and (typing := self._typing.pop(message.interaction_id, None)):
            typing.cancel()
        shown = await self.drafts.finish(message.interaction_id) if message.interaction_id else None
        target = await self._target_of(message)
        if str(target.chat_id) in self.blocklist:
            raise TelegramDeliveryError(f"chat {target.chat_id} has blocked the bot; reply not sent")
        if shown is not None and shown.target.chat_id != target.chat_id:
            target = shown.target  # the group became a supergroup while the draft was written
        chunks = split_text(message.text)
        if self._closed or self.outbox.has_pending(target.key):
            # Behind replies still waiting for this chat (or after shutdown): queue, so the order holds.
            await self._queue(target, chunks, message, shown, error=None)
            return
        start = 0
        if shown is not None and chunks:
            result = await self.drafts.replace(shown, chunks[0], attempts=LIVE_ATTEMPTS, max_wait=MAX_INLINE_WAIT)
            if result.verdict == "sent":
                start = 1
            elif result.verdict == "retry":
                await self._queue(target, chunks, message, shown, error=result.error, delay=self._delay(result))
                log.warning("telegram_reply_queued", chat_id=target.chat_id, chunks=len(chunks), edit=True,
                            error=result.error)
                return
            elif result.verdict == "blocked":
                await self.blocklist.block(str(target.chat_id), result.error)
                raise TelegramDeliveryError(result.error or result.verdict)
            else:  # the draft was deleted (or is too old to edit): the reply comes as a message of its own
                log.info("telegram_draft_lost", chat_id=target.chat_id, error=result.error)
        for index in range(start, len(chunks)):
            result = await self._send_live(target, chunks[index])
            if result.migrated_to is not None:
                target = Target(result.migrated_to)
            if result.verdict == "sent":
                continue
            if result.verdict == "retry":
                delay = self._delay(result)
                await self._queue(target, chunks[index:], message, None, error=result.error, delay=delay)
                log.warning("telegram_reply_queued", chat_id=target.chat_id, chunks=len(chunks) - index,
                            retry_in=delay, error=result.error)
                return
            if result.verdict == "blocked":
                await self.blocklist.block(str(target.chat_id), result.error)
            raise TelegramDeliveryError(result.error or result.verdict)

    async def _queue(self, target: Target, chunks: list[str], message: OutboundMessage, shown: Shown | None, *,
                     error: str | None, delay: float = 0.0) -> None:
        """Into the outbox; with a draft on the screen, its first part is an edit of that draft."""
        await self.outbox.add(target.key, target.options(), chunks, interaction_id=message.interaction_id,
                              error=error, delay=delay, first=None if shown is None else {"edit": shown.message_id})

    def _delay(self, result: Result) -> float:
        return result.retry_after if result.retry_after is not None else backoff(self._retry, LIVE_ATTEMPTS)

    async def fetch_attachment(self, attachment: Attachment, *, limit: int) -> bytes:
        """A file sent to the bot: getFile, then its bytes, stopping past `limit` (bots may fetch up to 20 MB)."""
        try:
            file = await self.bot.get_file(attachment.ref, request_timeout=int(self._timeout))
        except TelegramBadRequest as exc:
            raise ThinklioError("bad_request", f"Telegram would not hand it over ({exc.message})") from None
        if (file.file_size or 0) > limit or not file.file_path:
            raise ThinklioError("bad_request", too_large(limit))
        url = self.bot.session.api.file_url(self.bot.token, file.file_path)
        parts: list[bytes] = []
        size = 0
        async for chunk in self.bot.session.stream_content(url, timeout=int(self._timeout), raise_for_status=True):
            size += len(chunk)
            if size > limit:
                raise ThinklioError("bad_request", too_large(limit))
            parts.append(chunk)
        return b"".join(parts)

    async def _send_live(self, target: Target, text: str) -> Result:
        result = Result("retry")
        for attempt in range(LIVE_ATTEMPTS):
            result = await send_text(self.bot, target, text, timeout=self._timeout)
            if result.verdict != "retry":
                return result
            wait = result.retry_after if result.retry_after is not None else backoff(self._retry, attempt)
            if attempt == LIVE_ATTEMPTS - 1 or wait > MAX_INLINE_WAIT:
                return result
            log.info("telegram_send_retry", chat_id=target.chat_id, wait=wait, error=result.error)
            await asyncio.sleep(wait)
        return result

    async def _send_queued(self, item: Queued) -> Result:
        if self._closed:
            return Result("retry", error="the channel is stopped")
        target = Target.from_options(item.options)
        edit = item.options.get("edit")
        if edit is not None:
            result = await edit_text(self.bot, target.chat_id, int(edit), item.text, timeout=self._timeout)
            if result.verdict != "failed":
                return result
            # The draft is gone (deleted, too old to edit): this part goes out as a message of its own.
        return await send_text(self.bot, target, item.text, timeout=self._timeout)

    def _may_draft(self, target: Target) -> bool:
        """Drafts go only where a reply would go out at once: not behind queued replies, not to a blocked chat."""
        return not self._closed and str(target.chat_id) not in self.blocklist and not self.outbox.has_pending(
            target.key)

    async def _target_of(self, message: OutboundMessage) -> Target:
        chat_id, thread_id = parse_target(message.conversation_key)
        return Target(chat_id, thread_id, await self._reply_to(message, chat_id))

    async def _reply_to(self, message: OutboundMessage, chat_id: int) -> int | None:
        """In groups, the user's message the reply answers (so it is clear whom the bot answers)."""
        if message.interaction_id is None:
            return None
        known = self._targets.get(message.interaction_id)
        if known is not None:
            return known.reply_to
        if chat_id > 0:  # private chats have positive ids and need no reply threading
            return None
        # After a restart: the message id is the second part of the stored external id "chat:message[:edit]".
        row = await self._s.db.one(
            select(t.message.c.external_id)
            .join(t.interaction, t.interaction.c.inbound_message_id == t.message.c.id)
            .where(t.interaction.c.id == message.interaction_id))
        if row is None or not row.external_id:
            return None
        parts = row.external_id.split(":")
        return int(parts[1]) if len(parts) > 1 and parts[1].lstrip("-").isdigit() else None


def _chat_of(item: Queued) -> str:
    return str(Target.from_options(item.options).chat_id)


def _retrieve(future: asyncio.Future[Any]) -> None:
    # Nobody awaits a Telegram ticket; reading its exception keeps asyncio from reporting it as lost.
    if not future.cancelled():
        future.exception()


__all__ = ["TelegramChannel", "TelegramDeliveryError"]
