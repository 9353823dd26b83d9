"""The Slack adapter: Events API requests in (signed, acknowledged at once), replies out in their thread with
chat.postMessage, through the durable outbox when Slack is rate limiting or down. Senders are named from
`users.info`; while the model works the thread shows a status (or the message a reaction)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs

import aiohttp
import structlog
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select, update

from bot.cache import LRU
from bot.errors import ThinklioError
from bot.messages import Attachment, InboundMessage, OutboundMessage, Sender, too_large
from bot.outbox import Blocklist, Delivery, Outbox, Queued
from bot.services import Services
from bot.store import tables as t
from channels.base import BaseChannel
from channels.slack.inbound import ForPipeline, Target, classify
from channels.slack.outbound import split_text, to_mrkdwn
from channels.slack.socket import SocketMode
from channels.slack.users import Names
from channels.slack.working import Working

log = structlog.get_logger("thinklio.slack")

PATH = "/v1/channels/slack/events"


class SlackDeliveryError(Exception):
    """A reply Slack refused for good (channel_not_found, not_in_channel, is_archived): recorded, not retried."""


class SlackChannel(BaseChannel):
    type: ClassVar[str] = "slack"
    slug: ClassVar[str] = "slack"

    def __init__(self, services: Services, web_app: web.Application) -> None:
        s = services.settings
        if not s.slack_bot_token:
            raise ValueError("the slack channel needs THINKLIO_SLACK_BOT_TOKEN")
        self._s = services
        self._limit = s.max_body_bytes
        self._verifier = SignatureVerifier(s.slack_signing_secret) if s.slack_signing_secret else None
        self._mode = s.slack_mode or "http"
        self._window = s.slack_timestamp_window
        self._command = s.slack_command
        self._token = s.slack_bot_token
        kwargs: dict[str, Any] = {"base_url": s.slack_api_base.rstrip("/") + "/"} if s.slack_api_base else {}
        self.client = AsyncWebClient(token=s.slack_bot_token, timeout=30, **kwargs)
        self.blocklist = Blocklist(services.db, services.clock, self.type)
        self.outbox = Outbox(services.db, services.clock, self.type, send=self._send_queued,
                             recipient=lambda item: str(item.options.get("channel")), blocklist=self.blocklist,
                             retry_seconds=s.slack_retry_seconds)
        if self._verifier is not None:
            web_app.router.add_post(PATH, self.events)
        self.socket: SocketMode | None = None
        if self._mode == "socket":
            assert s.slack_app_token is not None
            self.socket = SocketMode(s.slack_app_token, self.client, on_event=self.handle_event,
                                     on_command=self.command, ping_interval=s.slack_ping_seconds)
        self.bot_user_id: str | None = None
        self._seen: LRU[str, bool] = LRU(10_000)  # event ids handled: Slack's retries stop here
        self._threads: LRU[str, bool] = LRU(50_000)  # thread keys the bot is part of
        self._tasks: set[asyncio.Task[Any]] = set()
        self.names = Names(self.client, services.clock)
        self.signals = Working(self.client, self._spawn)
        self.state = "stopped"
        self.last_event_at: datetime | None = None
        self.events_seen = 0
        self.ignored = 0

    async def start(self) -> None:
        await self.blocklist.load()
        await self.outbox.load()
        try:
            self.bot_user_id = (await self.client.auth_test()).get("user_id")
            self.state = "running"
        except Exception as exc:  # the mention rule still works by app_mention; replies wait in the outbox
            self.state = "retrying"
            log.error("slack_auth_failed", error=str(exc)[:300])
        self._spawn(self.outbox.run())
        if self.socket is not None:
            self._spawn(self._connect(self.socket))

    async def _connect(self, socket: SocketMode) -> None:
        """Connect, and keep `/health` honest: slack_sdk reconnects by itself; this only watches it."""
        failures = 0
        while True:
            try:
                if not await socket.refresh():
                    if not socket.client.closed:
                        await socket.start()
                    await socket.refresh()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                socket.connected = False
                log.warning("slack_socket_connect_failed", error=str(exc)[:300], failures=failures)
            await asyncio.sleep(min(30.0, 0.5 * 2 ** failures))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.socket is not None:
            await self.socket.stop()
        await self._s.pipeline.drain(timeout=5.0)
        self.state = "stopped"

    def health(self) -> dict[str, Any]:
        socket = {} if self.socket is None else {"connected": self.socket.connected}
        return {"status": self.state, "mode": self._mode, **socket, "bot_user_id": self.bot_user_id,
                "last_event_at": None if self.last_event_at is None else self.last_event_at.isoformat(),
                "events": self.events_seen, "ignored": self.ignored, "outbox_waiting": self.outbox.waiting}

    def _spawn(self, work: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # inbound --------------------------------------------------------------------------------------------

    async def events(self, request: web.Request) -> web.Response:
        body = await request.read()
        if len(body) > self._limit:
            raise ThinklioError("bad_request", f"the request body is larger than {self._limit} bytes", status=413)
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not timestamp or not signature:
            raise ThinklioError("unauthenticated", "missing X-Slack-Signature or X-Slack-Request-Timestamp")
        try:
            stale = abs(self._s.clock.now().timestamp() - int(timestamp)) > self._window
        except ValueError:
            stale = True
        if stale:
            raise ThinklioError("unauthenticated", "the request timestamp is outside the allowed window")
        if self._verifier is None or not self._verifier.is_valid(body, timestamp, signature):
            raise ThinklioError("unauthenticated", "the Slack signature does not match")
        if request.content_type == "application/x-www-form-urlencoded":
            return await self._form(body)
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ThinklioError("bad_request", f"the body is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ThinklioError("bad_request", "the body is not a Slack event")
        if data.get("type") == "url_verification":
            return web.json_response({"challenge": str(data.get("challenge", ""))})
        await self.handle_event(data)
        return web.json_response({})

    async def _form(self, body: bytes) -> web.Response:
        """A slash command (or an interactive payload, not used: acknowledged and ignored)."""
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        return web.json_response(await self.command(form))

    async def command(self, form: dict[str, Any]) -> dict[str, Any]:
        """A slash command, from the Events API's form or a Socket Mode envelope: what the acknowledgement
        carries back to the user (empty: nothing to say)."""
        command = form.get("command")
        if command is None:
            self.ignored += 1
            return {}
        if command != self._command:
            self.ignored += 1
            return {"response_type": "ephemeral", "text": f"I only answer {self._command}."}
        team, chat, user = (str(form.get(name) or "") for name in ("team_id", "channel_id", "user_id"))
        text = str(form.get("text") or "").strip()
        if not (team and chat and user):
            raise ThinklioError("bad_request", "the slash command lacks team_id, channel_id or user_id")
        if not text:
            return {"response_type": "ephemeral", "text": f"Usage: {self._command} <message>"}
        key = f"{team}:{chat}"
        inbound = InboundMessage(channel=self.slug, sender=Sender(external_id=f"{team}:{user}"), text=text,
                                 external_id=f"{team}:{chat}:cmd:{form.get('trigger_id', '')}" if
                                 form.get("trigger_id") else None, conversation_key=key,
                                 metadata={"channel": chat, "thread_ts": None, "team": team, "command": command})
        await self._accept(ForPipeline(inbound, Target(chat, None), key))
        # Acknowledged at once; the answer follows in the channel like any reply.
        return {"response_type": "ephemeral", "text": "Working on it…"}

    async def handle_event(self, data: dict[str, Any]) -> None:
        """Stores the message (so a crash loses nothing) and returns: the turn runs after the ack."""
        event_id = data.get("event_id")
        if isinstance(event_id, str) and self._seen.get(event_id):
            return
        self.events_seen += 1
        self.last_event_at = self._s.clock.now()
        action = classify(data, bot_user_id=self.bot_user_id, channel=self.slug, in_bot_thread=self._threads.get)
        if action is None and self._maybe_thread(data):
            key = self._maybe_thread(data)
            assert key is not None
            if await self._known_thread(key):
                self._threads.put(key, True)
                action = classify(data, bot_user_id=self.bot_user_id, channel=self.slug,
                                  in_bot_thread=self._threads.get)
        if action is None and await self._edit(data):
            pass  # the stored text follows the edit; the answer already given stands
        elif action is None:
            self.ignored += 1
        else:
            await self._accept(action)
        if isinstance(event_id, str):
            self._seen.put(event_id, True)

    async def _edit(self, data: dict[str, Any]) -> bool:
        """`message_changed`: the stored text of the message becomes the edited one; no second answer."""
        event = data.get("event")
        if not isinstance(event, dict) or event.get("subtype") != "message_changed":
            return False
        edited = event.get("message")
        if not isinstance(edited, dict) or not isinstance(edited.get("ts"), str):
            return False
        channel = await self._s.directory.channel(self.slug)
        if channel is None:
            return False
        external_id = f"{data.get('team_id') or ''}:{event.get('channel')}:{edited['ts']}"
        text = str(edited.get("text") or "")
        statement = (update(t.message).where(t.message.c.channel_id == channel.id,
                                             t.message.c.external_id == external_id,
                                             t.message.c.direction == "in").values(text=text))
        await self._s.db.run(lambda conn: conn.execute(statement))
        return True

    def _maybe_thread(self, data: dict[str, Any]) -> str | None:
        event = data.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("thread_ts"), str):
            return None
        team = str(data.get("team_id") or "")
        return f"{team}:{event.get('channel')}:{event['thread_ts']}"

    async def _known_thread(self, key: str) -> bool:
        """After a restart the store remembers which threads the bot is part of: their conversations."""
        row = await self._s.db.one(select(t.conversation.c.id).where(t.conversation.c.external_key == key).limit(1))
        return row is not None

    async def _accept(self, action: ForPipeline) -> None:
        inbound = action.inbound
        team, _, user = inbound.sender.external_id.partition(":")
        person = await self.names.person(team, user)
        if person.name is not None or person.locale is not None:
            inbound = replace(inbound, sender=replace(inbound.sender, display_name=person.name, locale=person.locale))
        try:
            ticket = await self._s.pipeline.accept(inbound)
        except ThinklioError as exc:
            log.warning("slack_message_refused", code=exc.code, error=exc.message)
            return
        self._threads.put(action.thread_key, True)
        if not ticket.duplicate:
            ticket.done.add_done_callback(lambda f: None if f.cancelled() else f.exception())

    async def fetch_attachment(self, attachment: Attachment, *, limit: int) -> bytes:
        """A shared file: `url_private` with the bot token, stopping past `limit`."""
        if attachment.size is not None and attachment.size > limit:
            raise ThinklioError("bad_request", too_large(limit))
        headers = {"Authorization": f"Bearer {self._token}"}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session, \
                session.get(attachment.ref, headers=headers) as response:
            if response.status != 200:
                raise ThinklioError("bad_request", f"Slack would not hand the file over ({response.status})")
            parts: list[bytes] = []
            size = 0
            async for chunk in response.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise ThinklioError("bad_request", too_large(limit))
                parts.append(chunk)
        return b"".join(parts)

    # outbound -------------------------------------------------------------------------------------------

    def working(self, message: OutboundMessage) -> Callable[[], None] | None:
        return self.signals.start(message)

    async def deliver(self, message: OutboundMessage) -> None:
        await self.signals.before_reply(message.interaction_id)  # a status set after the reply would stay
        target = _target(message)
        chunks = split_text(to_mrkdwn(message.text))
        key = message.conversation_key
        if self.outbox.has_pending(key) or self.state == "stopped":
            await self.outbox.add(key, target.options(), chunks, interaction_id=message.interaction_id, error=None)
            return
        for index, chunk in enumerate(chunks):
            result = await self._send(target, chunk)
            if result.verdict == "sent":
                continue
            if result.verdict == "retry":
                await self.outbox.add(key, target.options(), chunks[index:], interaction_id=message.interaction_id,
                                      error=result.error, delay=result.retry_after or 1.0)
                return
            raise SlackDeliveryError(f"Slack refused the reply: {result.error}")
        self.signals.replied(message.interaction_id)

    async def _send_queued(self, item: Queued) -> Delivery:
        return await self._send(Target(str(item.options["channel"]), item.options.get("thread_ts")), item.text)

    async def _send(self, target: Target, text: str) -> Delivery:
        try:
            await self.client.chat_postMessage(channel=target.channel, thread_ts=target.thread_ts, text=text,
                                               mrkdwn=True)
        except asyncio.CancelledError:
            raise
        except SlackApiError as exc:
            status = exc.response.status_code
            error = str(exc.response.get("error") or status)
            if status == 429:
                return Delivery("retry", float(exc.response.headers.get("Retry-After", 1)), error)
            if status >= 500:
                return Delivery("retry", None, error)
            return Delivery("failed", None, error)  # channel_not_found, not_in_channel, is_archived...
        except Exception as exc:
            return Delivery("retry", None, f"{type(exc).__name__}: {exc}"[:300])
        return Delivery("sent")


def _target(message: OutboundMessage) -> Target:
    meta = message.metadata or {}
    if meta.get("channel"):
        return Target(str(meta["channel"]), meta.get("thread_ts"))
    # A message the server starts (a reminder): the conversation key is team:channel[:thread_ts].
    parts = message.conversation_key.split(":")
    return Target(parts[1], parts[2] if len(parts) > 2 else None)


__all__ = ["PATH", "SlackChannel", "SlackDeliveryError"]
