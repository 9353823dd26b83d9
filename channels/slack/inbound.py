"""Slack event bodies -> a message for the pipeline, or nothing. Pure functions, so every rule is testable."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.messages import Attachment, InboundMessage, Sender

_IGNORED_SUBTYPES = frozenset({"message_deleted", "bot_message", "message_changed", "channel_join",
                               "channel_leave", "message_replied", "thread_broadcast"})


@dataclass(frozen=True, slots=True)
class Target:
    """Where the answer goes: the channel, and the thread (None: a DM answered at its root)."""

    channel: str
    thread_ts: str | None

    def options(self) -> dict[str, Any]:
        return {"channel": self.channel, "thread_ts": self.thread_ts}


@dataclass(frozen=True, slots=True)
class ForPipeline:
    inbound: InboundMessage
    target: Target
    thread_key: str


def thread_key(team: str, channel: str, thread_ts: str | None) -> str:
    return f"{team}:{channel}:{thread_ts}" if thread_ts else f"{team}:{channel}"


def classify(body: dict[str, Any], *, bot_user_id: str | None, channel: str,
             in_bot_thread: Callable[[str], bool]) -> ForPipeline | None:
    """An `event_callback` body -> what to hand the pipeline; None for anything not addressed to us."""
    if body.get("type") != "event_callback" or not isinstance(body.get("event"), dict):
        return None
    event: dict[str, Any] = body["event"]
    kind, subtype = event.get("type"), event.get("subtype")
    team = str(body.get("team_id") or event.get("team") or "")
    if kind not in ("message", "app_mention") or subtype in _IGNORED_SUBTYPES:
        return None
    if subtype not in (None, "file_share"):
        return None  # subtypes we do not know: not ours
    user = event.get("user")
    if not isinstance(user, str) or event.get("bot_id") or user == bot_user_id:
        return None  # other bots and ourselves: two bots could talk forever
    chat, ts = event.get("channel"), event.get("ts")
    if not isinstance(chat, str) or not isinstance(ts, str):
        return None
    text = str(event.get("text") or "")
    channel_type = event.get("channel_type")
    parent = event.get("thread_ts")
    mentioned = bot_user_id is not None and f"<@{bot_user_id}>" in text
    if kind == "app_mention" or channel_type == "im":
        addressed = True
    elif channel_type == "mpim":
        addressed = mentioned
    else:
        # In channels a mention arrives as `app_mention` too; plain messages count only in our threads.
        addressed = isinstance(parent, str) and in_bot_thread(thread_key(team, chat, parent))
    if not addressed:
        return None
    if channel_type == "im" and not parent:
        target = Target(chat, None)  # a DM without threads: answered where it was written
    else:
        target = Target(chat, parent if isinstance(parent, str) else ts)
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}>[\s,:]*", "", text).strip() or text
    key = thread_key(team, chat, target.thread_ts)
    files = event.get("files") if subtype == "file_share" else None
    attachments = tuple(
        Attachment(ref=str(f["url_private"]), name=f.get("name"), media_type=f.get("mimetype"), size=f.get("size"))
        for f in (files if isinstance(files, list) else ()) if isinstance(f, dict) and f.get("url_private"))
    if not text.strip() and not attachments:
        return None
    inbound = InboundMessage(attachments=attachments,
        channel=channel, sender=Sender(external_id=f"{team}:{user}"), text=text,
        external_id=f"{team}:{chat}:{ts}", conversation_key=key,
        metadata={"channel": chat, "thread_ts": target.thread_ts, "ts": ts, "team": team,
                  "event_id": body.get("event_id")})
    return ForPipeline(inbound, target, key)
