"""The email channel: mail in by a local SMTP listener (aiosmtpd) or Postmark's inbound webhook, answered in the
same thread through Postmark, an SMTP relay, or `.eml` files in the data dir. The modules: `channel` (the
adapter: one path for both ways in, and delivery), `smtp`, `postmark` (the webhook), `routing` (address ->
agent), `threads` (mail threads as conversations), `policy` (who may write, how often), `attachments` (files
kept on disk), `outbound` (the ways out); the parsing side: `mail` (the record), `rfc5322` and
`postmark_inbound` (the two parsers), `decoding`, `content`, `headers`, `dates`, `compose`. This module is only
the declaration, cheap to import: no mail library loads until the channel is built.
"""

from __future__ import annotations

from channels.base import ChannelSpec
from channels.email.settings import EmailSettings
from config.catalogue import ChannelSeed
from config.settings import Settings


def is_enabled(settings: Settings) -> bool:
    return isinstance(settings, EmailSettings) and settings.email_enabled


CHANNEL = ChannelSpec(type="email", adapter="channels.email.channel:EmailChannel", settings=EmailSettings,
                      enabled=is_enabled, seeds=(ChannelSeed(slug="email", type="email", agent="assistant"),))
