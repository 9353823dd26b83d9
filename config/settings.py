"""Server settings: `THINKLIO_*` environment variables and `.env`, validated once at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Every knob of the server. The README's configuration table is written from this class."""

    model_config = SettingsConfigDict(env_prefix="THINKLIO_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    data_dir: Path = Path("./var")
    database_url: str | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = "auto"

    # Identities that may run platform admin commands, as `channel_type:external_id`
    # (`console:*` lets whoever holds a terminal on this machine administer it).
    admins: Annotated[list[str], NoDecode] = ["console:*"]
    default_timezone: str = "UTC"

    max_body_bytes: int = Field(64 * 1024, ge=1024)
    max_message_chars: int = Field(16_000, ge=1)
    reply_wait_seconds: float = Field(2.0, ge=0)
    rate_limit_per_minute: int = Field(60, ge=1)
    rate_limit_burst: int = Field(20, ge=1)

    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL"] = "NORMAL"
    sqlite_busy_timeout_ms: int = Field(5000, ge=0)
    write_batch_max: int = Field(2000, ge=1)
    state_poll_seconds: float = Field(1.0, gt=0)

    triage_min_strength: float = Field(0.8, ge=0, le=1)
    triage_max_ambiguity: float = Field(0.2, ge=0, le=1)

    @field_validator("admins", mode="before")
    @classmethod
    def _admins(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'thinklio.db').resolve()}"

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir
