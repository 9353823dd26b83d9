"""The email channel's settings and its small pure rules: what the listener does by default, bad values
refused at start-up, addresses split into local part, tag and domain, the allowlist by address and domain."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from channels.email.policy import allowed_by_list
from channels.email.routing import base_of, split_address
from channels.email.settings import EmailSettings
from server.settings import CHANNELS
from tests.conftest import make_settings


def settings(tmp_path: Path, **values: object) -> EmailSettings:
    made = make_settings(tmp_path, **values)
    assert isinstance(made, EmailSettings)
    return made


def test_defaults_are_the_fixed_names(tmp_path: Path) -> None:
    s = settings(tmp_path)
    assert (s.email_enabled, s.email_address, s.email_smtp_listen) == (False, "assistant@localhost", "127.0.0.1:2525")
    assert "email" not in CHANNELS.enabled(s)
    assert "email" in CHANNELS.enabled(settings(tmp_path, email_enabled=True))


def test_the_listener_runs_without_a_postmark_token_or_when_asked(tmp_path: Path) -> None:
    assert settings(tmp_path, email_enabled=True).email_smtp_address == ("127.0.0.1", 2525)
    assert settings(tmp_path, email_enabled=True, postmark_server_token="t").email_smtp_address is None
    assert settings(tmp_path, postmark_server_token="t", email_smtp_listen="0.0.0.0:25").email_smtp_address == (
        "0.0.0.0", 25)
    assert settings(tmp_path, email_smtp_listen="off").email_smtp_address is None


@pytest.mark.parametrize("values", [
    {"email_smtp_listen": "2525"},
    {"email_smtp_listen": "localhost:port"},
    {"email_relay": "http://relay.example.com"},
    {"postmark_webhook_user": "pm"},
    {"email_address": "not an address"},
    {"email_sender_policy": "closed"},
    {"email_agents": {"research": {"address": "r@x.com", "colour": "blue"}}},
])
def test_bad_values_are_refused_at_start_up(tmp_path: Path, values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        settings(tmp_path, **values)


def test_lists_and_agents_are_read_from_their_plain_forms(tmp_path: Path) -> None:
    s = settings(tmp_path, email_allow="@Example.com, Sam@X.org", email_aliases="Hash@Inbound.Postmarkapp.com",
                 email_agents={"research": "Research@Example.com", "ops": {"address": "ops@x.com", "policy": "known"}})
    assert s.email_allow == ["example.com", "sam@x.org"]
    assert s.email_aliases == ["hash@inbound.postmarkapp.com"]
    agents = s.agent_addresses()
    assert agents["research"].address == "research@example.com" and agents["ops"].policy == "known"


def test_addresses_split_into_local_part_tag_and_domain() -> None:
    assert split_address("Assistant+Research@Example.COM") == ("assistant", "research", "example.com")
    assert split_address("<assistant@localhost>") == ("assistant", None, "localhost")
    assert split_address("assistant+@localhost") == ("assistant", None, "localhost")
    assert base_of("a+b+c@x.com") == "a@x.com"


def test_the_allowlist_takes_addresses_and_domains_with_their_subdomains() -> None:
    allow = frozenset({"example.com", "kim@other.org"})
    assert allowed_by_list("sam@example.com", allow)
    assert allowed_by_list("sam@mail.example.com", allow)
    assert allowed_by_list("Kim@Other.org", allow)
    assert not allowed_by_list("eve@other.org", allow)
    assert not allowed_by_list("eve@notexample.com", allow)
    assert not allowed_by_list("eve@example.com.evil.net", allow)
