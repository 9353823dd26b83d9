"""The Telegram adapter: one bot serving the `telegram` channel row, by webhook or long polling.

Lifecycle (getMe, the commands menu, the webhook or the poller), inbound updates (deduped, classified,
accepted into the pipeline, with a typing indicator while the turn runs) and file downloads. Replies go out
through `replies` (final delivery, the outbox) and `drafts` (a long answer shown while it is written).
"""

from __future__ import annotations

import asyncio
import re
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

from bot.cache import LRU
from bot.errors import ThinklioError
from bot.messages import Attachment, OutboundMessage, too_large
from bot.outbox import Blocklist, backoff
from bot.ratelimit import RateLimiter
from bot.services import Services
from bot.tickets import Ticket
from channels.base import BaseChannel
from channels.telegram.inbound import (
    Action,
    BotIdentity,
    ChatAccess,
    ForPipeline,
    Notice,
    Target,
    classify,
    parse_update,
)
from channels.telegram.polling import ALLOWED_UPDATES, Poller
from channels.telegram.replies import Replies
from channels.telegram.sender import describe
from channels.telegram.webhook import PATH, default_secret, handler

log = structlog.get_logger("thinklio.telegram")

TYPING_EVERY = 4.0  # Telegram shows "typing" for 5 s
TYPING_FOR_AT_MOST = 300.0
RATE_LIMITED = "You are sending messages faster than I can read them. Please wait a little and send it again."
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")


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
        self.replies = Replies(self.bot, services.db, services.clock, self.blocklist, channel_type=self.type,
                               timeout=self._timeout, retry_seconds=self._retry)
        self.outbox = self.replies.outbox
        self.drafts = self.replies.drafts
        self._secret = settings.telegram_webhook_secret or default_secret(settings.telegram_token)
        self.poller: Poller | None = None
        if self._mode == "polling":
            self.poller = Poller(self.bot, services.clock, self.handle_update, retry_seconds=self._retry,
                                 poll_timeout=settings.telegram_poll_timeout, request_timeout=self._timeout)
        else:
            web_app.router.add_post(PATH, handler(self._secret, self.handle_update, limit=settings.max_body_bytes))
        self._tasks: set[asyncio.Task[Any]] = set()
        self._typing: dict[str, asyncio.Task[None]] = {}
        self._seen: LRU[int, bool] = LRU(10_000)  # update ids handled: redeliveries stop here
        self._notices = RateLimiter(per_minute=1, burst=1, capacity=10_000)  # chat -> told to slow down
        self._ready = False
        self.state = "stopped"
        self.last_error: str | None = None
        self.last_update_at: datetime | None = None
        self.updates = 0
        self.ignored = 0

    # lifecycle ------------------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.blocklist.load()
        await self.outbox.load()
        self.replies.closed = False
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
        self.replies.closed = True
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
        self.replies.targets.put(ticket.interaction_id, action.target)
        ticket.done.add_done_callback(_retrieve)
        # Delivered by now, or never will be: a draft left over would only hold memory (and a worker).
        ticket.done.add_done_callback(lambda _: self.drafts.forget(ticket.interaction_id))
        if not ticket.done.done():
            task = asyncio.create_task(self._keep_typing(action.target, ticket))
            self._typing[ticket.interaction_id] = task
            task.add_done_callback(lambda _: self._typing.pop(ticket.interaction_id, None))

    def _may_notify(self, chat_id: int) -> bool:
        """At most one rate-limit notice per chat a minute: a flood of messages must not become one of notices."""
        return self._notices.retry_after(str(chat_id)) == 0

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
        await self.replies.deliver(message)

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


def _retrieve(future: asyncio.Future[Any]) -> None:
    # Nobody awaits a Telegram ticket; reading its exception keeps asyncio from reporting it as lost.
    if not future.cancelled():
        future.exception()


__all__ = ["TelegramChannel"]
