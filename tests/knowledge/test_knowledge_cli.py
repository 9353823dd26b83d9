"""`run.py knowledge reindex` (progress on stderr) and `run.py knowledge delete-user`, as an operator runs them."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

from tests.test_cli import run_cli


def test_reindex_and_delete_user_from_the_command_line(tmp_path: Path) -> None:
    chat = run_cli(tmp_path, "chat", stdin="remember that my locker code is 4242\n/whoami\n", timeout=180)
    assert "locker code is 4242" in chat.stdout, chat.stderr
    user_id = re.search(r"\(user (usr_\w+)\)", chat.stdout)
    assert user_id is not None
    shutil.rmtree(tmp_path / "chroma")
    result = run_cli(tmp_path, "knowledge", "reindex", timeout=180)
    assert result.returncode == 0, result.stderr
    assert "1/1" in result.stderr and "reindexed 1 rows" in result.stderr
    assert (tmp_path / "chroma").is_dir()
    result = run_cli(tmp_path, "knowledge", "delete-user", user_id.group(1), timeout=180)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "thinklio.db") as db:
        assert db.execute("select count(*) from knowledge_fact").fetchone() == (0,)
