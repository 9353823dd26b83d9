"""The Slack channel's settings block (`THINKLIO_SLACK_*`). Imports no Slack library."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from config.settings import Settings


class SlackSettings(Settings):
    """The channel starts when a bot token is set."""

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None  # xapp-...: Socket Mode, no public URL needed
    slack_mode: Literal["http", "socket"] | None = None  # default: socket when an app token is set
    slack_command: str = Field("/thinklio", pattern=r"^/[a-z0-9_-]{1,31}$")  # the slash command's name
    slack_api_base: str | None = None  # the Web API base URL (a fake in tests); default Slack's
    slack_timestamp_window: int = Field(300, ge=1)  # seconds a signed request stays valid
    slack_retry_seconds: float = Field(1.0, gt=0)
    slack_ping_seconds: float = Field(5.0, gt=0)  # socket mode: how soon a dead connection is noticed

    @field_validator("slack_bot_token", "slack_signing_secret", "slack_api_base", "slack_app_token", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _needs_secret(self) -> SlackSettings:
        if self.slack_mode is None:
            self.slack_mode = "socket" if self.slack_app_token else "http"
        if self.slack_mode == "socket" and self.slack_bot_token and not self.slack_app_token:
            raise ValueError("THINKLIO_SLACK_MODE=socket needs THINKLIO_SLACK_APP_TOKEN (xapp-...)")
        if self.slack_mode == "http" and self.slack_bot_token and not self.slack_signing_secret:
            raise ValueError("THINKLIO_SLACK_BOT_TOKEN needs THINKLIO_SLACK_SIGNING_SECRET (the Events API mode)")
        return self
