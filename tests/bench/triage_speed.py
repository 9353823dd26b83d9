"""Time triage per message, the budget being p50 < 100 us and p99 < 1 ms (rules, the model's vote, the slot
parsers and the typo pass: all of `Triage.parse`).

Usage: python tests/bench/triage_speed.py [FILE.jsonl] [--rounds 5]

Each round parses every message once; the figures are those of the fastest round, so a neighbour's load on a
shared machine does not count against triage.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from agents.triage import INTENTS, Triage  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "data" / "clinc150-dev" / "val.jsonl"
P50_BUDGET_US = 100.0
P99_BUDGET_US = 1000.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, nargs="?", default=DEFAULT)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    with args.file.open(encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh if line.strip()]
    started = time.perf_counter()
    triage = Triage(handled_intents=frozenset(INTENTS) - {"none"})
    triage.parse("what time is it in paris")  # loads the model and the gazetteer: once per process
    print(f"first parse (model and gazetteer loaded): {(time.perf_counter() - started) * 1000:.0f} ms")
    best: tuple[float, float] | None = None
    for _ in range(args.rounds):
        timings = []
        for text in texts:
            t0 = time.perf_counter()
            triage.parse(text)
            timings.append((time.perf_counter() - t0) * 1e6)
        timings.sort()
        figures = (statistics.median(timings), timings[min(len(timings) - 1, int(len(timings) * 0.99))])
        best = figures if best is None or figures[0] < best[0] else best
    assert best is not None
    p50, p99 = best
    ok = p50 < P50_BUDGET_US and p99 < P99_BUDGET_US
    print(f"{len(texts)} messages, best of {args.rounds} rounds: p50 {p50:.1f} us, p99 {p99:.1f} us "
          f"(budget {P50_BUDGET_US:.0f} / {P99_BUDGET_US:.0f} us): {'within' if ok else 'OVER'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
