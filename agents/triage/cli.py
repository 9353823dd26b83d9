"""Command line front end: `triage --jsonl` for batch use, `triage "some text"` to inspect one message."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from .parser import DIRECT_NOW, Triage


def _error(message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": "bad_request", "message": message}}


def _run_jsonl(triage: Triage, stdin: TextIO, stdout: TextIO) -> None:
    # One output line per input line, blank ones included, so callers can zip inputs with outputs.
    for line in stdin:
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            out: dict[str, object] = _error(f"invalid JSON: {exc.msg}")
        else:
            text = row.get("text") if isinstance(row, dict) else None
            if isinstance(text, str):
                out = triage.parse(text).to_dict()
            else:
                out = _error('each line must be an object with a string "text"')
        stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    stdout.flush()


def main(argv: list[str], *, handled_intents: frozenset[str] = DIRECT_NOW, triage: Triage | None = None,
         stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    """`triage` (when given) is the configured parser; otherwise one with default thresholds."""
    parser = argparse.ArgumentParser(prog="triage",
                                     description="Classify chat messages with the triage rules.")
    parser.add_argument("--jsonl", action="store_true", help='read {"text": ...} lines from stdin')
    parser.add_argument("text", nargs="*", help="a message to classify")
    args = parser.parse_args(argv)
    triage = triage or Triage(handled_intents=handled_intents)
    if args.jsonl:
        _run_jsonl(triage, stdin, stdout)
        return 0
    if not args.text:
        parser.print_usage(sys.stderr)
        return 2
    stdout.write(json.dumps(triage.parse(" ".join(args.text)).to_dict(), indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
