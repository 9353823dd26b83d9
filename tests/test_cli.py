"""The command line as a user runs it: `run.py chat` driven through a pipe, API keys, platform, migrate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from server.app import App
from tests.conftest import MODEL_CACHE, REPO, make_settings
from tests.helpers import post


def run_cli(data_dir: Path, *args: str, stdin: str = "", timeout: float = 60,
            **variables: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "THINKLIO_DATA_DIR": str(data_dir), "THINKLIO_LOG_LEVEL": "warning",
           "THINKLIO_LLM_PROVIDER": "none", "THINKLIO_MODEL_CACHE_DIR": str(MODEL_CACHE), **variables}
    env.pop("THINKLIO_DATABASE_URL", None)
    return subprocess.run([sys.executable, "run.py", *args], input=stdin, capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=timeout)


def test_console_chat_answers_each_line_in_order(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "chat", stdin="hello\nwhat time is it in Tokyo?\n/whoami\ntell me a joke\n")
    assert result.returncode == 0, result.stderr
    replies = result.stdout
    assert replies.index("Tokyo") < replies.index("Role: platform admin") < replies.index("no language model")
    assert "you>" not in replies  # no prompt when driven through a pipe


def test_console_chat_keeps_the_conversation_across_restarts(tmp_path: Path) -> None:
    first = run_cli(tmp_path, "chat", stdin="/whoami\n")
    second = run_cli(tmp_path, "chat", stdin="/whoami\n")
    conversation = [line for line in first.stdout.splitlines() if "conversation" in line]
    assert conversation and conversation == [line for line in second.stdout.splitlines() if "conversation" in line]


def test_console_sends_local_files_as_documents(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# Garden\n\nWater the tomatoes every second day.\n")
    (tmp_path / "my notes.txt").write_text("The spare key is under the blue pot.\n")
    lines = [f"/file {tmp_path / 'notes.md'}", f'/file "{tmp_path / "my notes.txt"}" what time is it in Tokyo',
             "/file /no/such/file.txt", "/file", "/knowledge"]
    result = run_cli(tmp_path / "var", "chat", stdin="\n".join(lines) + "\n", timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "I've read 'notes.md': 1 part." in out
    assert "Tokyo" in out and "I've read 'my notes.txt'" not in out  # the caption is answered instead
    assert "[bad_request] there is no file '/no/such/file.txt'" in out
    assert "[bad_request] usage: /file PATH [caption]" in out
    assert "document 'notes.md' (1 part, about you)" in out and "document 'my notes.txt'" in out


def test_console_admin_commands_and_timezone(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "chat", stdin="/timezone Europe/Berlin\n/timezone\n/timezone Mars/Olympus\n"
                                            "/maintenance sideways\n/status\n/nonsense\n")
    out = result.stdout
    assert "now Europe/Berlin" in out
    assert "Your time zone is Europe/Berlin" in out
    assert "don't know the time zone" in out
    assert "Usage: /maintenance on|off" in out
    assert "Platform: online" in out
    assert "don't know the command /nonsense" in out


def test_apikey_create_prints_the_key_alone_on_the_last_line(tmp_path: Path) -> None:
    created = run_cli(tmp_path, "apikey", "create", "--name", "ci", "--scope", "messages:read")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("thk_") and " " not in key
    listed = run_cli(tmp_path, "apikey", "list")
    assert "ci" in listed.stdout and "messages:read" in listed.stdout and key not in listed.stdout
    bad_scope = run_cli(tmp_path, "apikey", "create", "--name", "x", "--scope", "everything")
    assert bad_scope.returncode == 2 and "unknown scope" in bad_scope.stderr
    missing = run_cli(tmp_path, "apikey", "revoke", "thk_nothing")
    assert missing.returncode == 2 and "not_found" in missing.stderr


async def test_key_revoked_from_the_cli_stops_working_at_once(
    client: TestClient, auth: dict[str, str], app: App, settings: object
) -> None:
    assert (await post(client, auth, "hi"))[0] == 200
    key = (await app.services.api_keys.list())[0]
    result = run_cli(app.services.settings.data_dir, "apikey", "revoke", key.prefix)
    assert result.returncode == 0, result.stderr
    status, body = await post(client, auth, "hi again")
    assert status == 401 and body["error"]["code"] == "unauthenticated"


def test_platform_cli_and_migrate(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "migrate").returncode == 0
    assert "platform: paused" in run_cli(tmp_path, "platform", "pause").stdout
    chat = run_cli(tmp_path, "chat", stdin="hi\n/resume\nhi\n")
    lines = chat.stdout
    assert "paused by an administrator" in lines and "Platform online." in lines
    assert "platform: online" in run_cli(tmp_path, "platform", "status").stdout


@pytest.mark.parametrize("variable", ["THINKLIO_PORT=notaport", "THINKLIO_DEFAULT_TIMEZONE=Nowhere/Land"])
def test_bad_configuration_is_a_clear_error(tmp_path: Path, variable: str) -> None:
    name, value = variable.split("=")
    env = {**os.environ, "THINKLIO_DATA_DIR": str(tmp_path), name: value}
    result = subprocess.run([sys.executable, "run.py", "migrate"], capture_output=True, text=True, cwd=REPO, env=env,
                            timeout=60)
    assert result.returncode != 0
    assert "configuration error" in result.stderr and name.removeprefix("THINKLIO_").lower() in result.stderr


@pytest.mark.slow
def test_chat_with_no_configuration_answers_through_the_local_model(tmp_path: Path) -> None:
    import sqlite3

    result = run_cli(tmp_path, "chat", stdin="tell me a joke\nwhat time is it?\n", THINKLIO_LLM_PROVIDER="auto",
                     timeout=300)
    assert result.returncode == 0, result.stderr
    assert "no language model" not in result.stdout
    with sqlite3.connect(tmp_path / "thinklio.db") as db:
        rows = db.execute("select tier, status from interaction order by id").fetchall()
        steps = db.execute("select kind, tokens_out from step where kind = 'llm_call'").fetchall()
    assert rows == [("llm", "completed"), ("triage", "completed")]
    assert steps and steps[0][1] > 0


async def test_a_second_account_from_the_shell_is_talked_to_with_its_own_key(tmp_path: Path, aiohttp_client: Any,
                                                                              make_app: Any) -> None:
    data = tmp_path / "var"
    assert run_cli(data, "migrate").returncode == 0
    created = run_cli(data, "account", "create", "acme", "--name", "Acme Ltd")
    assert created.returncode == 0, created.stderr
    assert "HTTP channel api-acme" in created.stdout
    again = run_cli(data, "account", "create", "acme")
    assert again.returncode == 2 and "conflict" in again.stderr
    assert run_cli(data, "account", "create", "Bad Slug!").returncode == 2
    listed = run_cli(data, "account", "list").stdout.splitlines()
    assert any(line.startswith("acme  Acme Ltd  [active]") and "1 agents" in line for line in listed)
    key = run_cli(data, "apikey", "create", "--account", "acme", "--name", "acme-ci").stdout.splitlines()[-1]

    app = make_app(make_settings(data), channels=("http",))
    client = await aiohttp_client(app.web)
    status, body = await post(client, {"Authorization": f"Bearer {key}"}, "what time is it?", channel="api-acme")
    assert status == 200 and body["tier"] == "triage", body
    status, body = await post(client, {"Authorization": f"Bearer {key}"}, "hi", channel="api")  # not its channel
    assert status in (403, 404), body
