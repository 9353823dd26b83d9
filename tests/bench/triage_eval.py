"""Score the triage parser on a labelled CLINC150 JSONL split, the way the dataset README describes.

Usage: python tests/bench/triage_eval.py FILE.jsonl [--handled all|current] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from agents.triage import DIRECT_NOW, INTENTS, Triage  # noqa: E402

DEFAULT_EXPECTATIONS = Path("/work/shared/data/clinc150-dev/expectations.json")


def load_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def evaluate(rows: list[dict[str, str]], expectations: dict[str, Any],
             handled: frozenset[str]) -> dict[str, Any]:
    required: dict[str, str] = expectations["required"]
    allowed: dict[str, list[str]] = expectations["allowed"]
    triage = Triage(handled_intents=handled)
    for row in rows:  # warm-up pass so caches and lazy imports do not count
        triage.parse(row["text"])
    timings: list[float] = []
    results = []
    for row in rows:
        start = time.perf_counter()
        res = triage.parse(row["text"])
        timings.append((time.perf_counter() - start) * 1e6)
        results.append(res)

    direct = correct_direct = required_rows = covered = 0
    oos_rows = oos_direct = unlisted_rows = unlisted_direct = 0
    confusion: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    wrong: list[dict[str, str]] = []
    for row, res in zip(rows, results, strict=True):
        label = row["label"]
        ok_intents = {required[label]} if label in required else set(allowed.get(label, []))
        confusion[label][res.intent if res.direct else "not_direct"] += 1
        if label in required:
            required_rows += 1
            covered += int(res.direct and res.intent == required[label])
        if label == "oos":
            oos_rows += 1
            oos_direct += int(res.direct)
        elif label not in required and label not in allowed:
            unlisted_rows += 1
            unlisted_direct += int(res.direct)
        if res.direct:
            direct += 1
            if res.intent in ok_intents:
                correct_direct += 1
            else:
                wrong.append({"text": row["text"], "label": label, "intent": res.intent})
    timings.sort()
    return {
        "rows": len(rows),
        "handled": sorted(handled),
        "direct": direct,
        "direct_precision": round(correct_direct / direct, 4) if direct else None,
        "coverage": round(covered / required_rows, 4) if required_rows else None,
        "false_direct_rate_oos": round(oos_direct / oos_rows, 4) if oos_rows else None,
        "false_direct_rate_unlisted": round(unlisted_direct / unlisted_rows, 4) if unlisted_rows else None,
        "median_us": round(statistics.median(timings), 1),
        "p99_us": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 1),
        "confusion": {k: dict(v) for k, v in sorted(confusion.items())},
        "wrong_direct": wrong,
    }


def _print_report(report: dict[str, Any], required: dict[str, str], allowed: dict[str, Any]) -> None:
    print(f"rows: {report['rows']}   direct answers: {report['direct']}")
    print(f"direct precision:           {report['direct_precision']}")
    print(f"coverage (required labels): {report['coverage']}")
    print(f"false direct rate, oos:      {report['false_direct_rate_oos']}")
    print(f"false direct rate, unlisted: {report['false_direct_rate_unlisted']}")
    print(f"parse time: median {report['median_us']} us, p99 {report['p99_us']} us")
    print("\nper-label confusion (direct answers by intent, and not_direct); * = listed in expectations:")
    for label, counts in report["confusion"].items():
        mark = "*" if label in required or label in allowed else " "
        parts = ", ".join(f"{k}={v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        print(f" {mark}{label:26s} {parts}")
    if report["wrong_direct"]:
        print("\nwrong direct answers:")
        for w in report["wrong_direct"]:
            print(f"  [{w['label']} -> {w['intent']}] {w['text']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--handled", choices=("all", "current"), default="all")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--expectations", type=Path, default=None)
    args = parser.parse_args(argv)
    exp_path = args.expectations or args.file.with_name("expectations.json")
    if not exp_path.exists():
        exp_path = DEFAULT_EXPECTATIONS
    expectations = json.loads(exp_path.read_text(encoding="utf-8"))
    if args.handled == "all":
        handled = frozenset(INTENTS) - {"none"}
    else:  # what this install answers directly: the core's intents and its extensions'
        from bot.app import default_extensions

        handled = DIRECT_NOW.union(*(extension.intents for extension in default_extensions()))
    report = evaluate(load_rows(args.file), expectations, handled)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_report(report, expectations["required"], expectations["allowed"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
