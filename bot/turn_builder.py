"""Who a message is from and what they may do, as a `Turn`: built once when the message is accepted, or again
from the store when a restart recovers it. Roles come from the membership; platform admins from
`THINKLIO_ADMINS`; a sender the channel cannot vouch for (`sender_verified: false`) gets no admin powers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.account_settings import default_language
from bot.directory import Directory
from bot.messages import Attachment
from bot.records import ChannelRecord, ConversationRecord, UserRecord
from bot.store import tables as t
from bot.store.database import Database
from bot.turn import Turn
from config.settings import Settings


class TurnBuilder:
    def __init__(self, db: Database, directory: Directory, settings: Settings) -> None:
        self._db = db
        self._directory = directory
        self._settings = settings
        self._admins = frozenset(settings.admins)

    def is_platform_admin(self, channel_type: str, external_id: str) -> bool:
        return f"{channel_type}:{external_id}" in self._admins or f"{channel_type}:*" in self._admins

    async def from_row(self, row: object) -> Turn:
        """The turn of a stored interaction (joined with its inbound message), as it was when it came in."""
        m = row._mapping  # type: ignore[attr-defined]
        channel_row = await self._db.one(select(t.channel.c.slug).where(t.channel.c.id == m["channel_id"]))
        assert channel_row is not None
        channel = await self._directory.channel(channel_row.slug)
        user = await self._directory.user(m["user_id"])
        conversation = await self._directory.conversation_by_id(m["conversation_id"])
        assert channel is not None and user is not None and conversation is not None
        identities = [ext for kind, ext in await self._directory.identities(user.id) if kind == channel.type]
        external_id = identities[0] if identities else ""
        return await self.build(m["id"], m["inbound_message_id"], m["text"], channel, user, conversation,
                                sender=external_id, received_at=m["created_at"],
                                origin="event" if m["direction"] == "event" else "user",
                                attachments=tuple(Attachment.from_json(a) for a in m["attachments"] or ()),
                                metadata=m["message_metadata"] or {})

    async def build(self, interaction_id: str, message_id: str, text: str, channel: ChannelRecord,
                    user: UserRecord, conversation: ConversationRecord, *, sender: str, received_at: datetime,
                    origin: str = "user", attachments: tuple[Attachment, ...] = (),
                    metadata: dict[str, Any] | None = None) -> Turn:
        member = await self._directory.membership(channel.account_id, user.id)
        role = None if member is None else member.role
        # A channel that cannot vouch for the sender (a mail that passed neither SPF nor DKIM: its From may be
        # forged) says so in the message's metadata; such a message carries no admin powers.
        vouched = (metadata or {}).get("sender_verified") is not False
        if not vouched and role in ("owner", "admin"):
            role = "member"
        return Turn(interaction_id=interaction_id, message_id=message_id, text=text, channel=channel,
                    attachments=attachments, metadata=dict(metadata or {}),
                    agent=await self._directory.agent(conversation.agent_id), user=user, conversation=conversation,
                    sender_external_id=sender, received_at=received_at, origin=origin,
                    is_platform_admin=vouched and bool(sender) and self.is_platform_admin(channel.type, sender),
                    role=role,
                    member_status="active" if member is None else member.status,
                    teams=dict(await self._directory.teams_of(channel.account_id, user.id)),
                    default_timezone=self._settings.default_timezone,
                    language=user.locale or default_language(await self._directory.account(channel.account_id)))
