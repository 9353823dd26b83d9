"""What a Slack user is called, and the language their Slack is in: `users.info` once per (team, user), kept for
a while in a bounded cache.

The name becomes the sender's display name (so a new identity gets a real name rather than its user id) and the
locale the first guess of their language. A lookup never holds a message up for long and never stops one: Slack's
answer "no" (no such user, no `users:read`) is remembered like a name, so it is not asked again each message; a
timeout or an outage is not, and the message goes on with no name (the directory falls back to the user id).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.cache import LRU
from bot.clock import Clock

log = structlog.get_logger("thinklio.slack")

TTL = timedelta(hours=1)  # a renamed user is seen by the next lookup after this
LOOKUP_TIMEOUT = 1.5  # seconds: the Events API wants its answer within 3


@dataclass(frozen=True, slots=True)
class Person:
    name: str | None
    locale: str | None  # "en-US", as Slack sends it (include_locale)


@dataclass(frozen=True, slots=True)
class _Known:
    person: Person
    until: datetime


NOBODY = Person(None, None)


class Names:
    def __init__(self, client: AsyncWebClient, clock: Clock, *, capacity: int = 10_000) -> None:
        self._client = client
        self._clock = clock
        self._known: LRU[tuple[str, str], _Known] = LRU(capacity)

    async def person(self, team: str, user: str) -> Person:
        now = self._clock.now()
        known = self._known.get((team, user))
        if known is not None and known.until > now:
            return known.person
        try:
            answer = await asyncio.wait_for(self._client.users_info(user=user, include_locale=True),
                                            timeout=LOOKUP_TIMEOUT)
        except SlackApiError as exc:
            status = exc.response.status_code
            log.info("slack_user_lookup_failed", user=user, error=str(exc.response.get("error") or status))
            if status < 500 and status != 429:  # a real answer: asking again each message would not change it
                self._known.put((team, user), _Known(NOBODY, now + TTL))
            return NOBODY
        except Exception as exc:
            log.info("slack_user_lookup_failed", user=user, error=f"{type(exc).__name__}: {exc}"[:300])
            return NOBODY
        found = answer.get("user")
        locale = found.get("locale") if isinstance(found, dict) else None
        person = Person(name_of(found), locale if isinstance(locale, str) and locale else None)
        self._known.put((team, user), _Known(person, now + TTL))
        return person


def name_of(user: Any) -> str | None:
    """The name people see: the profile's display name, else the real name, else the handle."""
    if not isinstance(user, dict):
        return None
    profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    for value in (profile.get("display_name"), profile.get("real_name"), user.get("real_name"), user.get("name")):
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return None
