"""A fake Telegram Bot API server on loopback: aiogram talks real HTTP to it through
`AiohttpSession(api=TelegramAPIServer.from_base(fake.url))`.

It records every call (method and form parameters), serves `getUpdates` from a queue with real long-poll
semantics (offset confirms, `timeout` waits), answers 409 to `getUpdates` while a webhook is set, refuses
markup it cannot parse and texts over 4,096 UTF-16 units as Telegram does, keeps the messages it delivered so
`editMessageText` edits them (refusing an unchanged text or a deleted message as Telegram does), and can be
scripted to fail a method with 429 (retry_after), 5xx (JSON or a proxy's HTML), 403, 409, or to hang.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

TOKEN = "123456789:TEST-fake-token_abcdefghijklmnopqrstu"
BOT_ID = 123456789
BOT_USERNAME = "thinklio_test_bot"
MARKUP = set("*_[]<>&`")


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    params: dict[str, str]
    at: float = 0.0  # when it arrived, on the fake's `clock`

    def json(self, name: str) -> Any:
        raw = self.params.get(name)
        return None if raw is None else json.loads(raw)

    @property
    def chat_id(self) -> int | None:
        raw = self.params.get("chat_id")
        return None if raw is None else int(raw)


@dataclass(slots=True)
class Failure:
    status: int
    description: str
    retry_after: int | None = None
    migrate_to_chat_id: int | None = None
    html: bool = False  # a proxy in front of Telegram answering with an HTML page
    hang: bool = False


@dataclass
class FakeTelegram:
    token: str = TOKEN
    username: str = BOT_USERNAME
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    refused: list[Call] = field(default_factory=list)  # the calls answered with a scripted failure
    webhook_url: str | None = None
    blocked: set[int] = field(default_factory=set)  # chats whose user blocked the bot: 403 on send
    down: int | None = None  # every method answers this status until cleared (Telegram down)
    clock: Callable[[], float] = time.monotonic  # stamps each call (a test's own clock, to check pacing)

    def __post_init__(self) -> None:
        self._updates: list[dict[str, Any]] = []
        self._new_update = asyncio.Event()
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self._release = asyncio.Event()
        self._message_ids = itertools.count(1000)
        self._runner: web.AppRunner | None = None
        self._delivered: list[Call] = []
        self._messages: dict[tuple[int, int], str] = {}  # (chat, message id) -> its text now (after edits)
        self._shown: list[tuple[int, int]] = []  # the delivered messages, in order
        self._files: dict[str, tuple[str, bytes, int]] = {}  # file_id -> (file_path, bytes, size it declares)
        self.downloads: list[str] = []  # file paths fetched from /file/bot<token>/<path>

    # scripting ------------------------------------------------------------------------------------------

    def push_update(self, update: dict[str, Any]) -> None:
        self._updates.append(update)
        self._new_update.set()

    def fail(self, method: str, status: int, description: str | None = None, *, times: int = 1,
             retry_after: int | None = None, html: bool = False, migrate_to_chat_id: int | None = None) -> None:
        default = {429: "Too Many Requests: retry after", 403: "Forbidden: bot was blocked by the user",
                   409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
                        "is running"}.get(status, "Internal Server Error")
        for _ in range(times):
            self._failures[method].append(Failure(status, description or default, retry_after,
                                                  migrate_to_chat_id, html))

    def add_file(self, data: bytes, *, name: str = "notes.txt", mime_type: str | None = "text/plain",
                 size: int | None = None) -> dict[str, Any]:
        """Host a file as Telegram does; returns the `document` object of a message that carries it."""
        file_id = f"BQACAgQAAxkBAAI{len(self._files):04d}"
        declared = len(data) if size is None else size
        self._files[file_id] = (f"documents/file_{len(self._files)}{name[name.rfind('.'):] if '.' in name else ''}",
                                data, declared)
        document: dict[str, Any] = {"file_id": file_id, "file_unique_id": f"AgAD{len(self._files):04d}",
                                    "file_name": name, "file_size": declared}
        if mime_type is not None:
            document["mime_type"] = mime_type
        return document

    def delete_message(self, chat_id: int, message_id: int) -> None:
        """The user deleted a message of the bot's: editing it now fails as Telegram fails it."""
        self._messages.pop((chat_id, message_id), None)

    def hang(self, method: str, *, times: int = 1) -> None:
        """The next `times` calls of `method` never answer (until the fake closes)."""
        for _ in range(times):
            self._failures[method].append(Failure(0, "", hang=True))

    # reading --------------------------------------------------------------------------------------------

    def called(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Successful sendMessage calls (failed ones are in `calls` too, but were not delivered)."""
        return [call for call in self._delivered if chat_id is None or call.chat_id == chat_id]

    def message_ids(self, chat_id: int) -> list[int]:
        """The chat's messages from the bot that are still there, oldest first."""
        return [message_id for chat, message_id in self._shown if chat == chat_id and (chat, message_id)
                in self._messages]

    def texts(self, chat_id: int | None = None) -> list[str]:
        """What the chat shows: the delivered messages in order, each with its text after any edits (a deleted
        one is gone)."""
        return [self._messages[key] for key in self._shown
                if key in self._messages and (chat_id is None or key[0] == chat_id)]

    @property
    def pending_updates(self) -> int:
        return len(self._updates)

    # server ---------------------------------------------------------------------------------------------

    async def start(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (await request.json()).items()}
        else:
            params = {k: str(v) for k, v in (await request.post()).items()}
        call = Call(method, params, self.clock())
        self.calls.append(call)
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        if self.down is not None:
            return _error(self.down, "Bad Gateway" if self.down == 502 else "Internal Server Error")
        queue = self._failures.get(method)
        if queue:
            failure = queue.popleft()
            self.refused.append(call)
            if failure.hang:
                await self._release.wait()
                return _error(500, "released")
            if failure.html:
                return web.Response(status=failure.status, text="<html><body>502 Bad Gateway</body></html>",
                                    content_type="text/html")
            return _error(failure.status, failure.description, retry_after=failure.retry_after,
                          migrate_to_chat_id=failure.migrate_to_chat_id)
        answer = getattr(self, f"_m_{method}", None)
        if answer is None:
            return _error(404, "Not Found: method not found")
        return await answer(call)

    async def _download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        self.downloads.append(path)
        found = next((data for file_path, data, _ in self._files.values() if file_path == path), None)
        if request.match_info["token"] != self.token or found is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=found, content_type="application/octet-stream")

    async def _m_getFile(self, call: Call) -> web.Response:
        file_id = call.params.get("file_id", "")
        if file_id not in self._files:
            return _error(400, "Bad Request: invalid file_id")
        path, _, declared = self._files[file_id]
        if declared > 20 * 1024 * 1024:
            return _error(400, "Bad Request: file is too big")
        return _ok({"file_id": file_id, "file_unique_id": "AgAD", "file_size": declared, "file_path": path})

    async def _m_getMe(self, call: Call) -> web.Response:
        return _ok({"id": BOT_ID, "is_bot": True, "first_name": "Thinklio", "username": self.username,
                    "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False})

    async def _m_setWebhook(self, call: Call) -> web.Response:
        self.webhook_url = call.params.get("url")
        return _ok(True, description="Webhook was set")

    async def _m_deleteWebhook(self, call: Call) -> web.Response:
        self.webhook_url = None
        return _ok(True, description="Webhook was deleted")

    async def _m_setMyCommands(self, call: Call) -> web.Response:
        return _ok(True)

    async def _m_sendChatAction(self, call: Call) -> web.Response:
        if call.chat_id in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        return _ok(True)

    async def _m_sendMessage(self, call: Call) -> web.Response:
        text = call.params.get("text", "")
        if call.chat_id in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            return _error(400, "Bad Request: message is too long")
        if call.params.get("parse_mode") and MARKUP & set(text):
            # Not a parser: any markup character with a parse mode counts as a failure, which is what a naive
            # formatter risks on a model's free text.
            return _error(400, "Bad Request: can't parse entities: Can't find end of the entity")
        self._delivered.append(call)
        chat_id = call.chat_id or 0
        message_id = next(self._message_ids)
        self._messages[(chat_id, message_id)] = text
        self._shown.append((chat_id, message_id))
        return _ok(self._message(chat_id, message_id, text))

    async def _m_editMessageText(self, call: Call) -> web.Response:
        text = call.params.get("text", "")
        key = (call.chat_id or 0, int(call.params.get("message_id", "0")))
        if call.chat_id in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        if key not in self._messages:
            return _error(400, "Bad Request: message to edit not found")
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            return _error(400, "Bad Request: MESSAGE_TOO_LONG")
        if call.params.get("parse_mode") and MARKUP & set(text):
            return _error(400, "Bad Request: can't parse entities: Can't find end of the entity")
        if self._messages[key] == text:
            return _error(400, "Bad Request: message is not modified: specified new message content and reply "
                               "markup are exactly the same as a current content and reply markup of the message")
        self._messages[key] = text
        return _ok({**self._message(*key, text), "edit_date": int(time.time())})

    def _message(self, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        return {"message_id": message_id, "date": int(time.time()), "text": text,
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Thinklio", "username": self.username}}

    async def _m_getUpdates(self, call: Call) -> web.Response:
        if self.webhook_url:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
                               "to delete the webhook first")
        offset = int(call.params.get("offset", "0"))
        limit = int(call.params.get("limit", "100"))
        timeout = float(call.params.get("timeout", "0"))
        self._updates = [u for u in self._updates if u["update_id"] >= offset]  # confirmed ones are gone
        deadline = asyncio.get_running_loop().time() + timeout
        while not self._updates:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), remaining)
            except TimeoutError:
                break
        return _ok(self._updates[:limit])


def _ok(result: Any, description: str | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": True, "result": result}
    if description:
        body["description"] = description
    return web.json_response(body)


def _error(status: int, description: str, *, retry_after: int | None = None,
           migrate_to_chat_id: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    parameters = {k: v for k, v in (("retry_after", retry_after), ("migrate_to_chat_id", migrate_to_chat_id)) if v}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


async def wait_for(condition: Callable[[], bool], *, timeout: float = 20.0, message: str = "condition") -> None:
    """Poll `condition` until true; fail the test after `timeout` (a bound, not a measured time)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        await asyncio.sleep(0.01)


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    fake = await FakeTelegram().start()
    try:
        yield fake
    finally:
        await fake.close()


# updates ------------------------------------------------------------------------------------------------------

USER = {"id": 4242, "is_bot": False, "first_name": "Ada", "last_name": "Lovelace", "username": "ada"}
_update_ids = itertools.count(900_000)


def message_update(text: str | None = None, *, chat_id: int = 4242, chat_type: str = "private",
                   message_id: int | None = None, user: dict[str, Any] | None = None,
                   entities: list[dict[str, Any]] | None = None, reply_to: dict[str, Any] | None = None,
                   thread_id: int | None = None, edit_date: int | None = None, update_id: int | None = None,
                   **fields: Any) -> dict[str, Any]:
    """A realistic `message` (or, with `edit_date`, `edited_message`) update."""
    update_id = next(_update_ids) if update_id is None else update_id
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat.update(first_name="Ada", username="ada")
    else:
        chat.update(title="Thinklio testers", **({"is_forum": True} if thread_id else {}))
    message: dict[str, Any] = {"message_id": update_id if message_id is None else message_id,
                               "from": user or USER, "chat": chat, "date": 1_760_000_000, **fields}
    if text is not None:
        message["text"] = text
    if entities:
        message["entities"] = entities
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    if thread_id is not None:
        message.update(message_thread_id=thread_id, is_topic_message=True)
    if edit_date is not None:
        message["edit_date"] = edit_date
        return {"update_id": update_id, "edited_message": message}
    return {"update_id": update_id, "message": message}


def command_entity(text: str) -> list[dict[str, Any]]:
    return [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]


def mention_entity(text: str, mention: str) -> list[dict[str, Any]]:
    prefix = text[: text.index(mention)]
    return [{"type": "mention", "offset": len(prefix.encode("utf-16-le")) // 2, "length": len(mention)}]


# an app wired to the fake ---------------------------------------------------------------------------------------

WEBHOOK_SECRET = "test-secret_0123456789"
WEBHOOK_URL = "https://bot.example.test/v1/channels/telegram/webhook"


def telegram_overrides(fake: FakeTelegram, mode: str = "webhook", **overrides: Any) -> dict[str, Any]:
    """Settings for an app whose Telegram channel talks to `fake`, with short retries and polls for tests."""
    values: dict[str, Any] = {
        "telegram_token": fake.token, "telegram_api_base": fake.url, "telegram_mode": mode,
        "telegram_retry_seconds": 0.01, "telegram_request_timeout": 2.0, "telegram_poll_timeout": 1,
    }
    if mode == "webhook":
        values.update(telegram_webhook_url=WEBHOOK_URL, telegram_webhook_secret=WEBHOOK_SECRET)
    values.update(overrides)
    return values
