"""The Telegram channel (aiogram 3): updates in by webhook or long polling, replies out with retries and an
outbox. The modules: `channel` (the adapter: lifecycle, updates in), `inbound` (updates -> actions, addressing
rules), `replies` (final delivery: the draft edited into the reply, live retries, then `bot/outbox.py`, which
survives a restart), `outbound` (splitting), `sender` (one send or edit and what its failure means), `drafts`
(long answers shown as they are written, in one message), `polling`, `webhook`, `settings`. This module is only
the declaration, cheap to import: aiogram loads when the bot starts.
"""

from __future__ import annotations

from channels.base import ChannelSpec
from channels.telegram.settings import TelegramSettings
from config.catalogue import ChannelSeed
from config.settings import Settings


def has_token(settings: Settings) -> bool:
    return isinstance(settings, TelegramSettings) and bool(settings.telegram_token)


CHANNEL = ChannelSpec(type="telegram", adapter="channels.telegram.channel:TelegramChannel",
                      settings=TelegramSettings, enabled=has_token,
                      seeds=(ChannelSeed(slug="telegram", type="telegram", agent="assistant"),))
