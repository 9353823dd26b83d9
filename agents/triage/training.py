"""Train the intent model and choose its thresholds, on CLINC150's train split only; write the npz it ships as.

    python -m agents.triage.training [--data ../shared/data/clinc150-dev] [--out agents/triage/intent_model.npz]

Logistic regression (scikit-learn, a dev dependency: the server only reads the weights) over the features of
`intent_model.features`. The thresholds are chosen on out-of-fold votes over train, with the rules and slot
parsers in the loop exactly as `Triage.decide` uses them, so nothing here ever sees val. Deterministic: folds
by position within each label, a fixed solver, weights rounded to float16; the same data gives the same file.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .common import Analysis
from .intent_model import MODEL_PATH, IntentModel, Thresholds, Vote, features, model_label
from .parser import INTENTS, Triage

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "clinc150-dev"
C = 20.0
MIN_DF = 2
TOL = 1e-4  # lbfgs stops here; tighter changes no decision on train and costs four times the time
FOLDS = 5
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # a fixed clock: the rules' verdicts must not depend on the day
# What the thresholds must hold out of fold on train, stricter than the targets on val, to leave a margin.
MIN_PRECISION = 0.99        # of all direct answers
MIN_MODEL_PRECISION = 0.98  # of those the model's vote decided: the rules' near-perfect train score must not hide it
MAX_FALSE_DIRECT = 0.005
MAX_VETO_COST = 0.01  # the model may veto at most this share of the rules' right answers on train
AGREE_GRID = tuple(round(x * 0.05, 2) for x in range(0, 11))
MODEL_GRID = tuple(round(0.5 + x * 0.025, 3) for x in range(0, 20))


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    label: str


def load_rows(path: Path) -> list[Row]:
    with path.open(encoding="utf-8") as fh:
        return [Row(d["text"], d["label"]) for d in (json.loads(line) for line in fh if line.strip())]


def load_expectations(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def all_intents_triage(model: IntentModel | None = None, *, use_model: bool = False) -> Triage:
    """The parser as the server runs it: every intent handled."""
    return Triage(handled_intents=frozenset(INTENTS) - {"none"}, model=model, use_model=use_model)


def folds_of(rows: list[Row], k: int = FOLDS) -> list[int]:
    """Fold of each row: by its position among the rows of its label, so every fold holds every label."""
    seen: Counter[str] = Counter()
    out = []
    for row in rows:
        out.append(seen[row.label] % k)
        seen[row.label] += 1
    return out


def _matrix(texts: list[str], vocabulary: dict[str, int]) -> Any:
    from scipy.sparse import csr_matrix

    indices: list[int] = []
    data: list[float] = []
    indptr = [0]
    for text in texts:
        ids = sorted(i for f in features(text) if (i := vocabulary.get(f)) is not None)
        scale = 1.0 / math.sqrt(len(ids)) if ids else 0.0
        indices.extend(ids)
        data.extend([scale] * len(ids))
        indptr.append(len(indices))
    return csr_matrix((data, indices, indptr), shape=(len(texts), len(vocabulary)))


def fit_weights(texts: list[str], labels: list[str], thresholds: Thresholds) -> IntentModel:
    """One logistic regression over the texts (already normalised), as the shipped model is read."""
    from sklearn.linear_model import LogisticRegression

    counts = Counter(f for text in texts for f in features(text))
    vocabulary = {f: i for i, f in enumerate(sorted(f for f, n in counts.items() if n >= MIN_DF))}
    classes = [model_label(label) for label in labels]
    clf = LogisticRegression(C=C, max_iter=5000, tol=TOL)
    clf.fit(_matrix(texts, vocabulary), classes)
    weights = clf.coef_.T.astype(np.float16)
    bias = clf.intercept_.astype(np.float32)
    return IntentModel(vocabulary, weights, bias, tuple(str(c) for c in clf.classes_), thresholds)


def out_of_fold_votes(texts: list[str], labels: list[str], folds: list[int]) -> list[Vote]:
    votes: list[Vote | None] = [None] * len(texts)
    placeholder = Thresholds(0.0, 1.0)
    for k in sorted(set(folds)):
        train = [i for i, f in enumerate(folds) if f != k]
        model = fit_weights([texts[i] for i in train], [labels[i] for i in train], placeholder)
        for i, f in enumerate(folds):
            if f == k:
                votes[i] = model.vote(texts[i])
    return [v for v in votes if v is not None]


def score(labels: list[str], intents: list[str | None], expectations: dict[str, Any]) -> dict[str, float]:
    """The judge's figures: `intents[i]` is the direct answer's intent, None when not direct."""
    required: dict[str, str] = expectations["required"]
    allowed: dict[str, list[str]] = expectations["allowed"]
    direct = right = req = covered = oos = oos_direct = unlisted = unlisted_direct = 0
    for label, intent in zip(labels, intents, strict=True):
        ok = {required[label]} if label in required else set(allowed.get(label, []))
        if label in required:
            req += 1
            covered += int(intent == required[label])
        if label == "oos":
            oos += 1
            oos_direct += int(intent is not None)
        elif label not in required and label not in allowed:
            unlisted += 1
            unlisted_direct += int(intent is not None)
        if intent is not None:
            direct += 1
            right += int(intent in ok)
    return {"direct": direct, "precision": right / direct if direct else 1.0, "coverage": covered / req if req else 0.0,
            "false_direct_oos": oos_direct / oos if oos else 0.0,
            "false_direct_unlisted": unlisted_direct / unlisted if unlisted else 0.0}


def _decisions(triage: Triage, analyses: list[Analysis], votes: list[Vote], th: Thresholds,
               source: str | None = None) -> list[str | None]:
    """The direct answer's intent per row (None when not direct), or only those `source` decided."""
    out: list[str | None] = []
    for a, v in zip(analyses, votes, strict=True):
        r = triage.decide(a, v, th)
        out.append(r.intent if r.direct and (source is None or r.source == source) else None)
    return out


def choose_thresholds(triage: Triage, analyses: list[Analysis], votes: list[Vote], labels: list[str],
                      expectations: dict[str, Any]) -> Thresholds:
    """`agree`: the largest veto that costs the rules at most MAX_VETO_COST of their right answers; `model`: the
    lowest confidence at which coverage is highest while precision and false direct rates hold."""
    strict = MODEL_GRID[-1] + 1.0  # the model's own votes off while the veto is chosen
    base = score(labels, _decisions(triage, analyses, votes, Thresholds(0.0, strict)), expectations)
    agree = 0.0
    for value in AGREE_GRID:
        s = score(labels, _decisions(triage, analyses, votes, Thresholds(value, strict)), expectations)
        if s["coverage"] >= base["coverage"] * (1 - MAX_VETO_COST):
            agree = value
    best: tuple[float, float] | None = None
    for value in MODEL_GRID:
        s = score(labels, _decisions(triage, analyses, votes, Thresholds(agree, value)), expectations)
        own = score(labels, _decisions(triage, analyses, votes, Thresholds(agree, value), "model"), expectations)
        if (s["precision"] >= MIN_PRECISION and own["precision"] >= MIN_MODEL_PRECISION
                and s["false_direct_oos"] <= MAX_FALSE_DIRECT
                and s["false_direct_unlisted"] <= MAX_FALSE_DIRECT and (best is None or s["coverage"] > best[1])):
            best = (value, s["coverage"])
    return Thresholds(agree, best[0] if best else strict)


def train(rows: list[Row], expectations: dict[str, Any], *, folds: int = FOLDS) -> IntentModel:
    """The whole procedure on these rows only: features, out-of-fold votes, thresholds, then the final fit."""
    rules = all_intents_triage()
    analyses = [rules.analyse(row.text, now=NOW) for row in rows]
    texts = [a.text for a in analyses]
    labels = [row.label for row in rows]
    votes = out_of_fold_votes(texts, labels, folds_of(rows, folds))
    thresholds = choose_thresholds(rules, analyses, votes, labels, expectations)
    return fit_weights(texts, labels, thresholds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="the folder with train.jsonl and expectations.json")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    model = train(load_rows(args.data / "train.jsonl"), load_expectations(args.data / "expectations.json"))
    model.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB): {len(model.vocabulary)} features, "
          f"{len(model.labels)} classes, thresholds {model.thresholds.to_dict()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
