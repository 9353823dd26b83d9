"""Score triage on a labelled CLINC150 JSONL split, the way the dataset README describes.

Usage:
  python tests/bench/triage_eval.py FILE.jsonl [--handled all|current] [--rules-only] [--show] [--json]
  python tests/bench/triage_eval.py --cv TRAIN.jsonl VAL.jsonl   # 5-fold cross-validation over both

`--show` prints every message with the intent, whether it was direct, what decided and the model's confidence.
`--cv` retrains the whole procedure (model and thresholds, `agents/triage/training.py`) on four folds and scores
the fifth, five times: the figure that says whether the shipped model's score on val generalises.
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

from agents.triage import DIRECT_NOW, INTENTS, Triage, TriageResult  # noqa: E402
from agents.triage.intent_model import IntentModel  # noqa: E402

DEFAULT_EXPECTATIONS = ROOT.parent / "shared" / "data" / "clinc150-dev" / "expectations.json"


def load_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def evaluate(rows: list[dict[str, str]], expectations: dict[str, Any], handled: frozenset[str], *,
             model: IntentModel | None = None, use_model: bool = True) -> dict[str, Any]:
    required: dict[str, str] = expectations["required"]
    allowed: dict[str, list[str]] = expectations["allowed"]
    triage = Triage(handled_intents=handled, model=model, use_model=use_model)
    for row in rows:  # warm-up pass so caches and lazy imports do not count
        triage.parse(row["text"])
    timings: list[float] = []
    results: list[TriageResult] = []
    for row in rows:
        start = time.perf_counter()
        res = triage.parse(row["text"])
        timings.append((time.perf_counter() - start) * 1e6)
        results.append(res)

    direct = correct_direct = required_rows = covered = by_model = 0
    oos_rows = oos_direct = unlisted_rows = unlisted_direct = 0
    confusion: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    wrong: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    for row, res in zip(rows, results, strict=True):
        label = row["label"]
        ok_intents = {required[label]} if label in required else set(allowed.get(label, []))
        confusion[label][res.intent if res.direct else "not_direct"] += 1
        confidence = res.model.get("confidence")
        messages.append({"text": row["text"], "label": label, "intent": res.intent, "direct": res.direct,
                         "source": res.source, "model": res.model.get("family"), "confidence": confidence})
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
            by_model += int(res.source == "model")
            if res.intent in ok_intents:
                correct_direct += 1
            else:
                wrong.append({"text": row["text"], "label": label, "intent": res.intent, "source": res.source,
                              "confidence": confidence})
    timings.sort()
    return {
        "rows": len(rows),
        "handled": sorted(handled),
        "model": use_model,
        "direct": direct,
        "direct_by_model": by_model,
        "direct_precision": round(correct_direct / direct, 4) if direct else None,
        "coverage": round(covered / required_rows, 4) if required_rows else None,
        "false_direct_rate_oos": round(oos_direct / oos_rows, 4) if oos_rows else None,
        "false_direct_rate_unlisted": round(unlisted_direct / unlisted_rows, 4) if unlisted_rows else None,
        "median_us": round(statistics.median(timings), 1),
        "p99_us": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 1),
        "confusion": {k: dict(v) for k, v in sorted(confusion.items())},
        "wrong_direct": wrong,
        "messages": messages,
    }


def _print_report(report: dict[str, Any], required: dict[str, str], allowed: dict[str, Any], show: bool) -> None:
    if show:
        for m in report["messages"]:
            conf = f"{m['confidence']:.3f}" if m["confidence"] is not None else "-"
            flag = "direct" if m["direct"] else "model "
            print(f"{flag} {m['intent']:13s} by {m['source']:5s} vote {m['model'] or '-':13s} {conf}  "
                  f"[{m['label']}] {m['text']}")
        print()
    print(f"rows: {report['rows']}   direct answers: {report['direct']} ({report['direct_by_model']} on the "
          f"model's vote){'' if report['model'] else '   (rules only)'}")
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
        print("\nwrong direct answers (what decided, the model's confidence):")
        for w in report["wrong_direct"]:
            conf = f"{w['confidence']:.3f}" if w["confidence"] is not None else "-"
            print(f"  [{w['label']} -> {w['intent']}, {w['source']} {conf}] {w['text']}")


def cross_validate(paths: list[Path], expectations: dict[str, Any], handled: frozenset[str],
                   folds: int = 5) -> dict[str, Any]:
    from agents.triage import training

    rows = [row for path in paths for row in load_rows(path)]
    fold = training.folds_of([training.Row(r["text"], r["label"]) for r in rows], folds)
    per_fold = []
    for k in range(folds):
        started = time.perf_counter()
        train = [training.Row(r["text"], r["label"]) for r, f in zip(rows, fold, strict=True) if f != k]
        test = [r for r, f in zip(rows, fold, strict=True) if f == k]
        model = training.train(train, expectations)
        report = evaluate(test, expectations, handled, model=model)
        keep = ("direct_precision", "coverage", "false_direct_rate_oos", "false_direct_rate_unlisted")
        per_fold.append({key: report[key] for key in keep} | {"thresholds": model.thresholds.to_dict()})
        print(f"fold {k + 1}/{folds}: {per_fold[-1]} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    mean = {key: round(statistics.mean(f[key] for f in per_fold), 4)
            for key in ("direct_precision", "coverage", "false_direct_rate_oos", "false_direct_rate_unlisted")}
    return {"folds": per_fold, "mean": mean}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, nargs="+")
    parser.add_argument("--handled", choices=("all", "current"), default="all")
    parser.add_argument("--rules-only", action="store_true", help="decide on the rules alone (no model)")
    parser.add_argument("--cv", action="store_true", help="5-fold cross-validation over the files together")
    parser.add_argument("--show", action="store_true", help="print every message with the model's confidence")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--expectations", type=Path, default=None)
    args = parser.parse_args(argv)
    exp_path = args.expectations or args.file[0].with_name("expectations.json")
    if not exp_path.exists():
        exp_path = DEFAULT_EXPECTATIONS
    expectations = json.loads(exp_path.read_text(encoding="utf-8"))
    if args.handled == "all":
        handled = frozenset(INTENTS) - {"none"}
    else:  # what this install answers directly: the core's intents and its extensions'
        from server.app import default_extensions

        handled = DIRECT_NOW.union(*(extension.intents for extension in default_extensions())) | {"undo"}
    if args.cv:
        print(json.dumps(cross_validate(args.file, expectations, handled), indent=2))
        return 0
    rows = [row for path in args.file for row in load_rows(path)]
    report = evaluate(rows, expectations, handled, use_model=not args.rules_only)
    if args.json:
        print(json.dumps({k: v for k, v in report.items() if k != "messages" or args.show}, indent=2))
    else:
        _print_report(report, expectations["required"], expectations["allowed"], args.show)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
