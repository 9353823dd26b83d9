"""The Slack channel: Events API over HTTP (signed requests), replies in the thread they belong to. This module
is only the declaration, cheap to import: slack_sdk loads when the channel is built."""

from __future__ import annotations

from channels.base import ChannelSpec
from channels.slack.settings import SlackSettings
from config.catalogue import ChannelSeed
from config.settings import Settings


def has_token(settings: Settings) -> bool:
    return isinstance(settings, SlackSettings) and bool(settings.slack_bot_token)


CHANNEL = ChannelSpec(type="slack", adapter="channels.slack.channel:SlackChannel", settings=SlackSettings,
                      enabled=has_token, seeds=(ChannelSeed(slug="slack", type="slack", agent="assistant"),))
