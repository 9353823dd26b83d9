"""The triage command line: JSONL batch mode and single-message mode."""

from __future__ import annotations

import io
import json

from agents.triage import INTENTS
from agents.triage.cli import main


def run(argv: list[str], stdin: str = "", **kw: object) -> tuple[int, str]:
    out = io.StringIO()
    code = main(argv, stdin=io.StringIO(stdin), stdout=out, **kw)  # type: ignore[arg-type]
    return code, out.getvalue()


def test_jsonl_keeps_order_and_prints_only_json() -> None:
    lines = [json.dumps({"text": t}) for t in ("hi", "what time is it", "remind me to call bob", "bye")]
    code, out = run(["--jsonl"], "\n".join(lines) + "\n")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["intent"] for r in rows] == ["greeting", "time", "reminder_set", "goodbye"]
    keys = ["intent", "direct", "strength", "ambiguity", "entities", "source", "model"]
    assert all(list(r) == keys for r in rows)
    assert all(0.0 <= r["model"]["confidence"] <= 1.0 for r in rows)  # the model's confidence, per message
    assert [r["direct"] for r in rows] == [True, True, False, True]


def test_jsonl_bad_lines_keep_their_slot() -> None:
    stdin = '{"text": "hi"}\nnot json\n{"txt": "x"}\n["a"]\n{"text": 5}\n{"text": "thanks"}\n'
    code, out = run(["--jsonl"], stdin)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 6
    assert rows[0]["intent"] == "greeting" and rows[5]["intent"] == "thanks"
    for row in rows[1:5]:
        assert row["error"]["code"] == "bad_request"
        assert row["error"]["message"]


def test_jsonl_blank_line_keeps_its_slot() -> None:
    _, out = run(["--jsonl"], '{"text": "hi"}\n\n{"text": "bye"}\n')
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r.get("intent") or r["error"]["code"] for r in rows] == ["greeting", "bad_request", "goodbye"]


def test_jsonl_empty_input() -> None:
    assert run(["--jsonl"], "") == (0, "")


def test_jsonl_handled_intents() -> None:
    line = json.dumps({"text": "add eggs to my shopping list"}) + "\n"
    _, out_now = run(["--jsonl"], line)
    _, out_all = run(["--jsonl"], line, handled_intents=frozenset(INTENTS) - {"none"})
    assert json.loads(out_now)["direct"] is False
    assert json.loads(out_all)["direct"] is True


def test_jsonl_unicode_round_trip() -> None:
    _, out = run(["--jsonl"], json.dumps({"text": "remember that my café is “Bär” ☕"}) + "\n")
    row = json.loads(out)
    assert row["intent"] == "remember"
    assert row["entities"]["value"] == "Bär"


def test_positional_text() -> None:
    code, out = run(["what", "time", "is", "it", "in", "tokyo"])
    assert code == 0
    data = json.loads(out)
    assert data["intent"] == "time"
    assert data["entities"] == {"place": "tokyo", "timezone": "Asia/Tokyo", "place_name": "Tokyo, Japan"}
    assert data["model"]["family"] == "time"
