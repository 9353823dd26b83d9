"""The gates of `bot/gates.py`, one at a time and in their order, without a database: the platform gate (paused,
maintenance, online; a platform admin's slash command passes a stopped platform), the suspended user, the
suspended account (a platform admin passes) and the paused agent (an account admin's slash command passes).
Each closed gate gives its exact reply (text, tier "gate", status, error code); an open one gives None."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import cast

import pytest

from bot.directory import Directory
from bot.gates import ACCOUNT_SUSPENDED, AGENT_PAUSED, MAINTENANCE, PAUSED, SUSPENDED, Gate, build_gates
from bot.platform import PlatformState
from bot.records import AccountRecord, AgentRecord, ChannelRecord, ConversationRecord, UserRecord
from bot.turn import Reply, Turn

ACCOUNT_ID = "acc_1"


class Platform:
    """Stands in for PlatformState: the gates read only `.status`."""

    def __init__(self, status: str = "online") -> None:
        self.status = status


class Accounts:
    """Stands in for Directory: the gates ask it only for the turn's account."""

    def __init__(self, status: str = "active") -> None:
        self.status = status
        self.asked: list[str] = []

    async def account(self, account_id: str) -> AccountRecord:
        self.asked.append(account_id)
        return AccountRecord(id=account_id, slug="default", name="Default", status=self.status)


def make_turn(text: str = "hello", *, user_status: str = "active", agent_status: str = "active",
              platform_admin: bool = False, role: str | None = "member") -> Turn:
    return Turn(
        interaction_id="ix_1", message_id="msg_1", text=text,
        channel=ChannelRecord(id="chn_1", slug="api", type="http", account_id=ACCOUNT_ID, agent_id="agt_1",
                              status="active"),
        agent=AgentRecord(id="agt_1", account_id=ACCOUNT_ID, slug="assistant", name="Assistant",
                          system_prompt="", status=agent_status, model=None),
        user=UserRecord(id="usr_1", display_name="Sam", status=user_status, timezone=None, locale=None),
        conversation=ConversationRecord(id="cnv_1", channel_id="chn_1", account_id=ACCOUNT_ID, agent_id="agt_1",
                                        user_id="usr_1", external_key="acc:u1"),
        sender_external_id="acc:u1", received_at=datetime(2026, 1, 1, tzinfo=UTC),
        is_platform_admin=platform_admin, role=role,
    )


def gates(platform: str = "online", account: str = "active") -> dict[str, Gate]:
    built = build_gates(cast(PlatformState, Platform(platform)), cast(Directory, Accounts(account)))
    return dict(zip(("platform", "user", "account", "agent"), built, strict=True))


async def first_closed(turn: Turn, platform: str = "online", account: str = "active") -> Reply | None:
    """What the gates answer in their order: the first closed gate's reply, None when all are open."""
    for gate in gates(platform, account).values():
        reply = await gate(turn)
        if reply is not None:
            return reply
    return None


async def closed_by(turn: Turn, platform: str = "online", account: str = "active") -> str | None:
    reply = await first_closed(turn, platform, account)
    return None if reply is None else reply.error_code


def test_there_are_four_gates_in_order() -> None:
    built = build_gates(cast(PlatformState, Platform()), cast(Directory, Accounts()))
    assert [gate.__name__ for gate in built] == ["platform_gate", "user_gate", "account_gate", "agent_gate"]


# the platform gate ---------------------------------------------------------------------------------------------


async def test_online_platform_lets_everything_through() -> None:
    assert await gates("online")["platform"](make_turn("hi")) is None
    assert await first_closed(make_turn("hi")) is None


async def test_paused_platform_rejects() -> None:
    reply = await gates("paused")["platform"](make_turn("hi"))
    assert reply == Reply(PAUSED, tier="gate", status="rejected", error_code="platform_paused")


async def test_maintenance_queues() -> None:
    reply = await gates("maintenance")["platform"](make_turn("hi"))
    assert reply == Reply(MAINTENANCE, tier="gate", status="queued", error_code="maintenance")


@pytest.mark.parametrize("status", ["paused", "maintenance"])
async def test_platform_admins_slash_command_passes_a_stopped_platform(status: str) -> None:
    assert await gates(status)["platform"](make_turn("/resume", platform_admin=True)) is None
    assert await gates(status)["platform"](make_turn("  /maintenance off", platform_admin=True)) is None


@pytest.mark.parametrize("status", ["paused", "maintenance"])
async def test_platform_admins_plain_text_is_stopped_like_anyone_elses(status: str) -> None:
    reply = await gates(status)["platform"](make_turn("what time is it", platform_admin=True))
    assert reply is not None and reply.error_code in ("platform_paused", "maintenance")


@pytest.mark.parametrize("role", ["owner", "admin"])
async def test_account_admins_slash_command_does_not_pass_a_paused_platform(role: str) -> None:
    reply = await gates("paused")["platform"](make_turn("/resume", role=role))
    assert reply is not None and reply.error_code == "platform_paused"


async def test_a_members_slash_command_does_not_pass_a_paused_platform() -> None:
    reply = await gates("paused")["platform"](make_turn("/resume"))
    assert reply is not None and reply.error_code == "platform_paused"


# the user gate -------------------------------------------------------------------------------------------------


async def test_suspended_user_is_rejected() -> None:
    reply = await gates()["user"](make_turn(user_status="suspended"))
    assert reply == Reply(SUSPENDED, tier="gate", status="rejected", error_code="user_suspended")


async def test_suspended_user_is_rejected_even_for_a_slash_command_of_an_admin() -> None:
    reply = await gates()["user"](make_turn("/resume", user_status="suspended", platform_admin=True))
    assert reply is not None and reply.error_code == "user_suspended"


async def test_active_user_passes() -> None:
    assert await gates()["user"](make_turn()) is None


# the account gate ----------------------------------------------------------------------------------------------


async def test_suspended_account_is_rejected() -> None:
    reply = await gates(account="suspended")["account"](make_turn())
    assert reply == Reply(ACCOUNT_SUSPENDED, tier="gate", status="rejected", error_code="account_suspended")


async def test_suspended_account_rejects_its_own_admin() -> None:
    reply = await gates(account="suspended")["account"](make_turn("/status", role="owner"))
    assert reply is not None and reply.error_code == "account_suspended"


async def test_platform_admin_passes_a_suspended_account() -> None:
    assert await gates(account="suspended")["account"](make_turn("hi", platform_admin=True)) is None


async def test_account_gate_asks_for_the_channels_account() -> None:
    accounts = Accounts()
    built = build_gates(cast(PlatformState, Platform()), cast(Directory, accounts))
    assert await built[2](make_turn()) is None
    assert accounts.asked == [ACCOUNT_ID]


# the agent gate ------------------------------------------------------------------------------------------------


async def test_paused_agent_rejects_with_its_name() -> None:
    turn = make_turn(agent_status="paused")
    turn = replace(turn, agent=replace(turn.agent, name="Helper"))
    reply = await gates()["agent"](turn)
    assert reply == Reply(AGENT_PAUSED.format(name="Helper"), tier="gate", status="rejected",
                          error_code="agent_paused")
    assert reply.text is not None and reply.text.startswith("Helper is paused")


@pytest.mark.parametrize(("role", "platform_admin"), [("owner", False), ("admin", False), ("member", True)])
async def test_account_admins_slash_command_passes_a_paused_agent(role: str, platform_admin: bool) -> None:
    turn = make_turn("/agent resume assistant", agent_status="paused", role=role, platform_admin=platform_admin)
    assert await gates()["agent"](turn) is None


async def test_account_admins_plain_text_is_stopped_by_a_paused_agent() -> None:
    reply = await gates()["agent"](make_turn("hello", agent_status="paused", role="owner"))
    assert reply is not None and reply.error_code == "agent_paused"


async def test_members_slash_command_is_stopped_by_a_paused_agent() -> None:
    reply = await gates()["agent"](make_turn("/help", agent_status="paused", role="member"))
    assert reply is not None and reply.error_code == "agent_paused"


# in order --------------------------------------------------------------------------------------------------------


async def test_first_closed_gate_wins() -> None:
    everything_wrong = make_turn(user_status="suspended", agent_status="paused")
    assert await closed_by(everything_wrong, "paused", "suspended") == "platform_paused"
    assert await closed_by(everything_wrong, "online", "suspended") == "user_suspended"
    account_and_agent = make_turn(agent_status="paused")
    assert await closed_by(account_and_agent, "online", "suspended") == "account_suspended"
    assert await closed_by(account_and_agent) == "agent_paused"


async def test_platform_admin_resumes_through_every_gate() -> None:
    turn = make_turn("/resume", agent_status="paused", platform_admin=True)
    assert await first_closed(turn, "paused", "suspended") is None
