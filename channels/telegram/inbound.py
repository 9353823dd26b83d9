"""Telegram updates -> what the channel does with them: a message for the pipeline, a notice the channel answers
itself, a change in whether a chat accepts the bot, or nothing.

Pure functions of the update and the bot's identity, so every addressing rule is testable without a server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram.types import Message, MessageEntity, Update
from pydantic import ValidationError

from bot.messages import Attachment, InboundMessage, Sender

FILES_NOT_SUPPORTED = ("I can read messages and documents (text, Markdown, PDF), but not photos, voice messages or "
                       "videos yet. Please send your question as a message (a caption on a file works too).")

# Everything the mapping reads from a message. When an update carries something newer than aiogram's schema
# (a field whose shape changed), the update is validated again with only these, so it is still understood.
_MESSAGE_FIELDS = frozenset({
    "message_id", "message_thread_id", "from", "sender_chat", "chat", "date", "edit_date", "is_topic_message",
    "text", "entities", "caption", "caption_entities", "document", "photo", "video", "audio", "voice",
    "video_note", "animation", "reply_to_message",
})
_MEMBER_FIELDS = frozenset({"chat", "from", "date", "old_chat_member", "new_chat_member"})
_FILE_FIELDS = ("document", "photo", "video", "audio", "voice", "video_note", "animation")
GROUPS = frozenset({"group", "supergroup"})
_CHATS = GROUPS | {"private"}  # channel posts have no one to answer


@dataclass(frozen=True, slots=True)
class BotIdentity:
    id: int
    username: str | None  # without the @; None until getMe answered (and no username is configured)


@dataclass(frozen=True, slots=True)
class Target:
    """Where an answer goes: the chat, its forum topic, and in groups the message it answers."""

    chat_id: int
    thread_id: int | None = None
    reply_to: int | None = None

    @property
    def key(self) -> str:
        return conversation_key(self.chat_id, self.thread_id)

    def options(self) -> dict[str, Any]:
        return {"chat_id": self.chat_id, "thread_id": self.thread_id, "reply_to": self.reply_to}

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> Target:
        return cls(int(options["chat_id"]), options.get("thread_id"), options.get("reply_to"))


@dataclass(frozen=True, slots=True)
class ForPipeline:
    inbound: InboundMessage
    target: Target


@dataclass(frozen=True, slots=True)
class Notice:
    """Answered by the channel itself; `key` makes a redelivered update produce no second notice."""

    target: Target
    text: str
    key: str


@dataclass(frozen=True, slots=True)
class ChatAccess:
    """A private chat blocked (or unblocked) the bot: Telegram says so in a `my_chat_member` update."""

    chat_id: int
    blocked: bool


Action = ForPipeline | Notice | ChatAccess | None


def conversation_key(chat_id: int, thread_id: int | None) -> str:
    return f"{chat_id}:{thread_id}" if thread_id else str(chat_id)


def parse_target(key: str) -> tuple[int, int | None]:
    chat, _, thread = key.partition(":")
    return int(chat), int(thread) if thread else None


def parse_update(data: dict[str, Any]) -> Update | None:
    """aiogram's `Update`, or one validated from just the fields we read when the full one does not validate
    (a newer Bot API schema); None when even that fails."""
    try:
        return Update.model_validate(data)
    except ValidationError:
        pass
    try:
        return Update.model_validate(_pruned(data))
    except (ValidationError, TypeError, KeyError):
        return None


def _pruned(data: dict[str, Any]) -> dict[str, Any]:
    pruned: dict[str, Any] = {"update_id": data["update_id"]}
    for kind in ("message", "edited_message"):
        if isinstance(data.get(kind), dict):
            pruned[kind] = _pruned_message(data[kind])
    if isinstance(data.get("my_chat_member"), dict):
        pruned["my_chat_member"] = {k: v for k, v in data["my_chat_member"].items() if k in _MEMBER_FIELDS}
    return pruned


def _pruned_message(message: dict[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in message.items() if k in _MESSAGE_FIELDS}
    if isinstance(kept.get("reply_to_message"), dict):
        kept["reply_to_message"] = {k: v for k, v in kept["reply_to_message"].items()
                                    if k in ("message_id", "from", "chat", "date")}
    return kept


def classify(update: Update, me: BotIdentity, *, channel: str) -> Action:
    if update.message is not None:
        return _message(update, update.message, me, channel=channel, edited=False)
    if update.edited_message is not None:
        return _message(update, update.edited_message, me, channel=channel, edited=True)
    member = update.my_chat_member
    if member is not None and member.chat.type == "private":
        status = member.new_chat_member.status
        if status == "kicked":
            return ChatAccess(member.chat.id, blocked=True)
        if status == "member":
            return ChatAccess(member.chat.id, blocked=False)
    return None  # callback queries, reactions, channel posts, boosts...: not ours to answer


def _message(update: Update, message: Message, me: BotIdentity, *, channel: str, edited: bool) -> Action:
    chat = message.chat
    sender = message.from_user
    # Other bots (and anonymous admins, who post as GroupAnonymousBot) could make two bots talk forever.
    if chat.type not in _CHATS or sender is None or sender.is_bot:
        return None
    in_group = chat.type in GROUPS
    thread_id = message.message_thread_id if message.is_topic_message else None
    target = Target(chat.id, thread_id, message.message_id if in_group else None)
    text = message.text if message.text is not None else message.caption
    entities = list((message.entities if message.text is not None else message.caption_entities) or ())
    document = message.document
    attachments = () if document is None or edited else (Attachment(
        ref=document.file_id, name=document.file_name, media_type=document.mime_type, size=document.file_size),)

    if not text or not text.strip():
        if edited or (in_group and not _replies_to_bot(message, me)):
            return None
        if attachments:
            text = ""  # a document alone: the pipeline reads it
        elif any(getattr(message, name, None) for name in _FILE_FIELDS):
            return Notice(target, FILES_NOT_SUPPORTED, key=f"file:{chat.id}:{message.message_id}")
        else:
            return None
    else:
        addressed, text = _addressed(message, text, entities, me, in_group=in_group)
        if not addressed:
            return None

    name = " ".join(part for part in (sender.first_name, sender.last_name) if part) or sender.username
    external_id = f"{chat.id}:{message.message_id}"
    if edited:
        # An edit is a new message for the pipeline: its own id, so it is neither deduped away nor a conflict.
        external_id += f":{_epoch(message.edit_date)}"
    inbound = InboundMessage(
        channel=channel,
        sender=Sender(external_id=str(sender.id), display_name=name, locale=sender.language_code),
        text=text,
        external_id=external_id,
        conversation_key=target.key,
        attachments=attachments,
        metadata={"chat_id": chat.id, "chat_type": chat.type, "message_id": message.message_id,
                  "thread_id": thread_id, "update_id": update.update_id, "edited": edited,
                  "attachment": next((name for name in _FILE_FIELDS if getattr(message, name, None)), None)},
    )
    return ForPipeline(inbound, target)


def _addressed(message: Message, text: str, entities: list[MessageEntity], me: BotIdentity, *,
               in_group: bool) -> tuple[bool, str]:
    """Whether the bot should answer, and the text with the bot's own mention taken out."""
    command = _leading_command(text, entities)
    if command is not None and "@" in command:
        addressee = command.split("@", 1)[1]
        if me.username is None or addressee.lower() != me.username.lower():
            return False, text  # `/help@otherbot`: another bot's, even in a private chat
        return True, text  # the command parser accepts /cmd@botname as it is
    if not in_group or command is not None:
        return True, text
    mention = _own_mention(text, entities, me)
    if mention is not None:
        start, end = mention
        stripped = f"{text[:start].rstrip()} {text[end:].lstrip(' ,:')}".strip()
        return True, stripped or text
    return _replies_to_bot(message, me), text


def _leading_command(text: str, entities: list[MessageEntity]) -> str | None:
    for entity in entities:
        if entity.type == "bot_command" and entity.offset == 0:
            return entity.extract_from(text)
    return None


def _own_mention(text: str, entities: list[MessageEntity], me: BotIdentity) -> tuple[int, int] | None:
    """The bot's mention as a slice of `text` (entity offsets count UTF-16 units, the slice counts code points)."""
    for entity in entities:
        mentioned = (
            entity.type == "mention" and me.username is not None
            and entity.extract_from(text).lower() == f"@{me.username.lower()}"
        ) or (entity.type == "text_mention" and entity.user is not None and entity.user.id == me.id)
        if mentioned:
            start = len(_utf16_prefix(text, entity.offset))
            end = len(_utf16_prefix(text, entity.offset + entity.length))
            return start, end
    return None


def _utf16_prefix(text: str, units: int) -> str:
    encoded = text.encode("utf-16-le")[: units * 2]
    return encoded.decode("utf-16-le", errors="ignore")


def _replies_to_bot(message: Message, me: BotIdentity) -> bool:
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or replied.from_user.id != me.id:
        return False
    # In a forum every message "replies" to its topic's first message; only a reply to the bot's own counts.
    return not (message.is_topic_message and replied.message_id == message.message_thread_id)


def _epoch(value: Any) -> int:
    if value is None:
        return 0
    return int(value.timestamp()) if hasattr(value, "timestamp") else int(value)
