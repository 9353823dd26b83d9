"""The email channel's settings block (`THINKLIO_EMAIL_*`, `THINKLIO_POSTMARK_*`). Imports no mail library.

The names the issue fixed (enabled, address, SMTP listen, the Postmark token, webhook user and password, API
base, relay) are what scripts and operators rely on; the rest (addresses per agent, the sender policy, limits)
are this channel's own.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import NoDecode

from config.settings import Settings

Policy = Literal["open", "known", "allowlist"]
DEFAULT_LISTEN = "127.0.0.1:2525"
_ADDRESS = r"^[^@\s]+@[^@\s]+$"


def _split(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class AgentAddress(BaseModel):
    """One entry of `THINKLIO_EMAIL_AGENTS`: the address that reaches an agent, and who may write to it (the
    channel's policy when left out)."""

    model_config = ConfigDict(extra="forbid")

    address: str = Field(pattern=_ADDRESS)
    policy: Policy | None = None
    allow: list[str] | None = None

    @field_validator("address")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower()


class EmailSettings(Settings):
    """The channel starts when `THINKLIO_EMAIL_ENABLED` is true."""

    email_enabled: bool = False
    email_address: str = Field("assistant@localhost", pattern=_ADDRESS)  # the default agent's address
    # `host:port` of the local SMTP listener, or `off`. It runs when email is enabled and no Postmark token is
    # set, or whenever this is set explicitly.
    email_smtp_listen: str = DEFAULT_LISTEN
    # More addresses that reach the default agent (e.g. Postmark's `<hash>@inbound.postmarkapp.com`); replies
    # still come from `email_address`.
    email_aliases: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # An address per agent: JSON `{"research": "research@example.com"}` or
    # `{"research": {"address": "...", "policy": "allowlist", "allow": ["example.com"]}}`.
    email_agents: dict[str, str | AgentAddress] = Field(default_factory=dict)
    email_sender_policy: Policy = "open"  # open: anyone; known: senders with an identity already; allowlist
    # The allowlist: addresses and domains (`example.com` also covers its subdomains).
    email_allow: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Mail over SMTP is vouched for (SPF/DKIM, so its sender's admin powers count) only by an
    # `Authentication-Results` header from one of these servers (your MTA's authserv-id): anyone can write
    # such a header into a mail they send straight to the listener. Postmark's own headers are believed.
    email_trusted_servers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    email_max_mail_bytes: int = Field(25 * 1024 * 1024, ge=64 * 1024)  # SMTP SIZE and the webhook's body limit
    email_max_attachments: int = Field(10, ge=0)  # read per mail; the rest are named in the reply
    email_max_attachment_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    email_rate_per_hour: float = Field(30.0, gt=0)  # mails per sender, sustained
    email_rate_burst: int = Field(10, ge=1)  # mails a sender may send at once
    email_retry_seconds: float = Field(5.0, gt=0)  # first outbox retry when Postmark or the relay fails
    email_send_timeout: float = Field(30.0, gt=0)  # per outbound send

    postmark_server_token: str | None = None  # replies through Postmark's API
    postmark_webhook_user: str | None = None  # basic auth of POST /v1/channels/email/postmark
    postmark_webhook_password: str | None = None
    postmark_api_base: str | None = None  # Postmark's API base URL (a fake in tests)
    email_relay: str | None = None  # replies through SMTP: smtp://user:pass@host:587 (STARTTLS), smtps://...:465

    @field_validator("postmark_server_token", "postmark_webhook_user", "postmark_webhook_password",
                     "postmark_api_base", "email_relay", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("email_aliases", "email_allow", "email_trusted_servers", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return _split(value)

    @field_validator("email_address")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower()

    @field_validator("email_aliases")
    @classmethod
    def _aliases(cls, value: list[str]) -> list[str]:
        for item in value:
            if "@" not in item:
                raise ValueError(f"THINKLIO_EMAIL_ALIASES: {item!r} is not an address")
        return [item.lower() for item in value]

    @field_validator("email_allow")
    @classmethod
    def _allow(cls, value: list[str]) -> list[str]:
        return [item.lower().removeprefix("@") for item in value]  # "@example.com" is the domain too

    @field_validator("email_relay")
    @classmethod
    def _relay(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("smtp://", "smtps://")):
            raise ValueError("THINKLIO_EMAIL_RELAY must be an smtp:// or smtps:// URL")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> EmailSettings:
        if bool(self.postmark_webhook_user) != bool(self.postmark_webhook_password):
            raise ValueError("THINKLIO_POSTMARK_WEBHOOK_USER and THINKLIO_POSTMARK_WEBHOOK_PASSWORD go together")
        if self.email_smtp_listen != "off":
            host, _, port = self.email_smtp_listen.rpartition(":")
            if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
                raise ValueError("THINKLIO_EMAIL_SMTP_LISTEN must be host:port or off")
        return self

    @property
    def email_smtp_address(self) -> tuple[str, int] | None:
        """Where the SMTP listener runs, or None: by default only when no Postmark token is set."""
        if self.email_smtp_listen == "off":
            return None
        if self.postmark_server_token and "email_smtp_listen" not in self.model_fields_set:
            return None
        host, _, port = self.email_smtp_listen.rpartition(":")
        return host.strip("[]"), int(port)

    def agent_addresses(self) -> dict[str, AgentAddress]:
        return {slug: AgentAddress(address=entry) if isinstance(entry, str) else entry
                for slug, entry in self.email_agents.items()}
