"""The Telegram channel's pure parts: splitting, addressing rules, tolerant parsing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from channels.telegram.inbound import (
    BotIdentity,
    ChatAccess,
    ForPipeline,
    Notice,
    classify,
    parse_target,
    parse_update,
)
from channels.telegram.outbound import split_text, utf16_len
from tests.conftest import SHARED
from tests.fakes.fake_telegram import BOT_ID, BOT_USERNAME, command_entity, mention_entity, message_update

ME = BotIdentity(BOT_ID, BOT_USERNAME)
GROUP = -100777


def act(update: dict[str, object], me: BotIdentity = ME) -> object:
    parsed = parse_update(update)
    assert parsed is not None
    return classify(parsed, me, channel="telegram")


def test_split_prefers_paragraphs_then_lines_then_words() -> None:
    paragraphs = "\n\n".join(["a" * 60, "b" * 60, "c" * 60])
    assert split_text(paragraphs, limit=130) == ["a" * 60 + "\n\n" + "b" * 60, "c" * 60]
    lines = "\n".join(["a" * 60, "b" * 60, "c" * 60])
    assert split_text(lines, limit=130) == ["a" * 60 + "\n" + "b" * 60, "c" * 60]
    words = " ".join(["word"] * 40)  # 199 characters
    parts = split_text(words, limit=50)
    assert all(len(p) <= 50 for p in parts) and " ".join(parts) == words
    assert split_text("x" * 120, limit=50) == ["x" * 50, "x" * 50, "x" * 20]
    assert split_text("  \n  ") == []
    assert split_text("short") == ["short"]


def test_split_counts_utf16_units_like_telegram() -> None:
    text = "😀" * 3000  # 6,000 UTF-16 units in 3,000 characters
    parts = split_text(text)
    assert [utf16_len(p) for p in parts] == [4096, 6000 - 4096]
    assert "".join(parts) == text


def test_private_text_becomes_a_pipeline_message() -> None:
    action = act(message_update("hello", message_id=5))
    assert isinstance(action, ForPipeline)
    inbound = action.inbound
    assert (inbound.channel, inbound.text, inbound.external_id, inbound.conversation_key) == (
        "telegram", "hello", "4242:5", "4242")
    assert (inbound.sender.external_id, inbound.sender.display_name) == ("4242", "Ada Lovelace")
    assert inbound.metadata["chat_type"] == "private" and action.target.reply_to is None


@pytest.mark.parametrize(("text", "entities", "addressed", "cleaned"), [
    ("/help", command_entity("/help"), True, "/help"),
    (f"/help@{BOT_USERNAME}", command_entity(f"/help@{BOT_USERNAME}"), True, f"/help@{BOT_USERNAME}"),
    (f"/help@{BOT_USERNAME.upper()}", command_entity(f"/help@{BOT_USERNAME.upper()}"), True, None),
    ("/help@other_bot", command_entity("/help@other_bot"), False, None),
    (f"@{BOT_USERNAME}, what time is it?", mention_entity(f"@{BOT_USERNAME}, what time is it?", f"@{BOT_USERNAME}"),
     True, "what time is it?"),
    (f"😀 then @{BOT_USERNAME} hi", mention_entity(f"😀 then @{BOT_USERNAME} hi", f"@{BOT_USERNAME}"), True,
     "😀 then hi"),  # the emoji before the mention shifts UTF-16 offsets by one
    (f"@{BOT_USERNAME}", mention_entity(f"@{BOT_USERNAME}", f"@{BOT_USERNAME}"), True, f"@{BOT_USERNAME}"),
    (f"I wrote @{BOT_USERNAME} without an entity", None, False, None),
    ("plain chatter", None, False, None),
])
def test_group_addressing(text: str, entities: list[dict[str, object]] | None, addressed: bool,
                          cleaned: str | None) -> None:
    action = act(message_update(text, chat_id=GROUP, chat_type="supergroup", entities=entities, message_id=9))
    assert isinstance(action, ForPipeline) is addressed
    if isinstance(action, ForPipeline):
        assert action.target.reply_to == 9
        if cleaned is not None:
            assert action.inbound.text == cleaned


def test_text_mention_of_the_bot_addresses_it() -> None:
    entities = [{"type": "text_mention", "offset": 0, "length": 8,
                 "user": {"id": BOT_ID, "is_bot": True, "first_name": "Thinklio"}}]
    action = act(message_update("Thinklio what time is it", chat_id=GROUP, chat_type="group", entities=entities))
    assert isinstance(action, ForPipeline) and action.inbound.text == "what time is it"


def test_commands_to_another_bot_are_ignored_even_in_private() -> None:
    assert act(message_update("/start@other_bot", entities=command_entity("/start@other_bot"))) is None


def test_forum_topic_root_is_not_a_reply_to_the_bot() -> None:
    topic_root = {"message_id": 3, "date": 1, "chat": {"id": GROUP, "type": "supergroup"},
                  "from": {"id": BOT_ID, "is_bot": True, "first_name": "Thinklio"}, "forum_topic_created":
                  {"name": "t", "icon_color": 1}}
    update = message_update("chatting in a topic the bot opened", chat_id=GROUP, chat_type="supergroup",
                            thread_id=3, reply_to=topic_root)
    assert act(update) is None


def test_other_bots_and_channels_are_ignored() -> None:
    robot = {"id": 77, "is_bot": True, "first_name": "Robo"}
    assert act(message_update("hello", user=robot)) is None
    assert act(message_update("hello", chat_id=-100, chat_type="channel")) is None


def test_edit_gets_its_own_external_id() -> None:
    action = act(message_update("fixed typo", message_id=5, edit_date=1_760_000_123))
    assert isinstance(action, ForPipeline) and action.inbound.external_id == "4242:5:1760000123"


def test_files_get_a_notice_with_a_stable_key() -> None:
    action = act(message_update(voice={"file_id": "v", "file_unique_id": "u", "duration": 2}, message_id=8))
    assert isinstance(action, Notice) and action.key == "file:4242:8"
    # In a group, only when it answers the bot.
    assert act(message_update(voice={"file_id": "v", "file_unique_id": "u", "duration": 2}, chat_id=GROUP,
                              chat_type="supergroup")) is None


def test_my_chat_member_reports_blocking() -> None:
    def member(status: str) -> dict[str, object]:
        return {"update_id": 1, "my_chat_member": {
            "chat": {"id": 4242, "type": "private"}, "from": {"id": 4242, "is_bot": False, "first_name": "A"},
            "date": 1, "old_chat_member": {"status": "left", "user": {"id": 1, "is_bot": True, "first_name": "T"}},
            "new_chat_member": {"status": status, "user": {"id": 1, "is_bot": True, "first_name": "T"},
                                **({"until_date": 0} if status == "kicked" else {})}}}

    assert act(member("kicked")) == ChatAccess(4242, blocked=True)
    assert act(member("member")) == ChatAccess(4242, blocked=False)


def test_an_update_newer_than_aiogram_still_parses() -> None:
    path = SHARED / "fixtures" / "telegram" / "updates" / "message__unique_gift_info__31__message.json"
    data = json.loads(path.read_text())
    update = parse_update(data)
    assert update is not None and update.message is not None and update.update_id == data["update_id"]
    newer = message_update("hello", message_id=6, brand_new_field={"anything": [1, 2]})
    assert isinstance(act(newer), ForPipeline)
    assert parse_update({"update_id": 5, "something_new": {"x": 1}}) is not None
    assert parse_update({"no": "update id"}) is None


def test_conversation_keys_round_trip() -> None:
    assert parse_target("-100123:7") == (-100123, 7)
    assert parse_target("4242") == (4242, None)


def test_errors_never_carry_the_token() -> None:
    from channels.telegram.sender import describe

    error = ValueError("InvalidURL: http://host/bot123456789:TEST-fake-token_abcdefghijklmnopqrstu/getMe")
    assert describe(error) == "ValueError: InvalidURL: http://host/bot<token>/getMe"


def test_webhook_mode_needs_its_public_url(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from tests.conftest import make_settings

    with pytest.raises(ValidationError, match="TELEGRAM_WEBHOOK_URL"):
        make_settings(tmp_path, telegram_token="1:x", telegram_mode="webhook")
    with pytest.raises(ValidationError):
        make_settings(tmp_path, telegram_webhook_secret="has spaces and ünïcode")
    assert make_settings(tmp_path, telegram_token="  ").telegram_token is None
