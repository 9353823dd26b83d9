"""The Telegram channel's settings block (`THINKLIO_TELEGRAM_*`). Imports no aiogram: the registry reads it
to decide whether the channel is enabled."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from config.settings import Settings


class TelegramSettings(Settings):
    """The channel starts when a token is set."""

    telegram_token: str | None = None
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_api_base: str | None = None  # a self-hosted Bot API server, e.g. http://localhost:8081
    telegram_webhook_url: str | None = None  # public URL of POST /v1/channels/telegram/webhook (webhook mode)
    # Checked on every webhook request; default: derived from the token, so every instance agrees on it.
    telegram_webhook_secret: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,256}$")
    telegram_bot_username: str | None = None  # default: what getMe says
    telegram_poll_timeout: int = Field(25, ge=1, le=50)  # long-poll seconds per getUpdates
    telegram_request_timeout: float = Field(30.0, gt=0)  # per Bot API call (getUpdates: on top of the poll)
    telegram_retry_seconds: float = Field(1.0, gt=0)  # first retry delay; doubles up to a minute

    @field_validator("telegram_token", "telegram_api_base", "telegram_webhook_url", "telegram_webhook_secret",
                     "telegram_bot_username", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `THINKLIO_TELEGRAM_TOKEN=` in a .env template means "not configured", not an empty token.
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _telegram_webhook(self) -> TelegramSettings:
        if self.telegram_token and self.telegram_mode == "webhook" and not self.telegram_webhook_url:
            raise ValueError("THINKLIO_TELEGRAM_MODE=webhook needs THINKLIO_TELEGRAM_WEBHOOK_URL (the public URL "
                             "of /v1/channels/telegram/webhook)")
        return self

