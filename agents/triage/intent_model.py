"""The learned intent model under the rules: a linear classifier over word and character n-grams.

Trained at build time from CLINC150's train split (`agents/triage/training.py`) and shipped as a small npz
file. Inference is a dictionary lookup per n-gram and one sum of float16 rows in numpy: tens of microseconds,
no scikit-learn at run time. The model votes for a triage *family* (its CLINC labels grouped); the parser
answers directly only when the vote agrees with what the rules parsed and clears the thresholds stored with
the weights (chosen on train by cross-validation).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

MODEL_PATH = Path(__file__).with_name("intent_model.npz")
CHAR_NGRAMS = (3, 4)

# CLINC labels the model keeps apart, and the triage family each votes for; every other label is "other".
# `timezone` is its own class so that "what time zone is Paris in" does not count as a vote for "time".
LABEL_FAMILY: dict[str, str] = {
    "time": "time", "date": "date", "greeting": "greeting", "goodbye": "goodbye", "thank_you": "thanks",
    "what_can_i_ask_you": "help", "reminder_update": "reminder_set", "timer": "reminder_set",
    "alarm": "reminder_set", "reminder": "reminder_list", "todo_list": "task_list", "shopping_list": "task_list",
    "todo_list_update": "task_update", "shopping_list_update": "task_update", "user_name": "name_recall",
    "change_user_name": "name_change", "calendar": "none", "calendar_update": "none", "meeting_schedule": "none",
    "timezone": "none", "other": "none", "oos": "none",
}
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(LABEL_FAMILY.values()))


def model_label(clinc_label: str) -> str:
    """The class a CLINC label trains: its own when the model keeps it apart, else `other` (or `oos`)."""
    return clinc_label if clinc_label in LABEL_FAMILY else "other"


def family_of(intent: str, entities: dict[str, object]) -> str | None:
    """The family that must vote for a parsed intent; None for intents the model was never taught."""
    if intent in ("task_add", "task_done", "task_remove", "task_clear"):
        return "task_update"
    if intent in ("remember", "recall"):
        if entities.get("subject") != "name":
            return None  # facts in general are not a CLINC intent
        return "name_change" if intent == "remember" else "name_recall"
    return intent if intent in FAMILIES else None


def token_features(tok: str) -> set[str]:
    """A word's own features: the word, and its character n-grams with the word's edges marked."""
    padded = "<" + tok + ">"
    found = {"w " + tok}
    for n in CHAR_NGRAMS:
        found.update(padded[i: i + n] for i in range(len(padded) - n + 1))
    return found


def features(text: str) -> set[str]:
    """Binary features of normalised text: words, word pairs, and character n-grams inside each word."""
    tokens = text.split()
    found = {"b " + a + " " + b for a, b in itertools.pairwise(tokens)}
    for tok in tokens:
        found |= token_features(tok)
    return found


@dataclass(frozen=True, slots=True)
class Vote:
    family: str          # the family with the most probability
    confidence: float    # that probability (the labels of the family summed)
    label: str           # the single most probable class
    families: dict[str, float]

    def for_family(self, family: str) -> float:
        return self.families.get(family, 0.0)


@dataclass(frozen=True, slots=True)
class Thresholds:
    agree: float   # a rule's parse stands when the model gives its family at least this much
    model: float   # the model's own vote (with the slot parser's entities) stands from this confidence

    def to_dict(self) -> dict[str, float]:
        return {"agree": self.agree, "model": self.model}


class IntentModel:
    def __init__(self, vocabulary: dict[str, int], weights: np.ndarray, bias: np.ndarray,
                 labels: tuple[str, ...], thresholds: Thresholds) -> None:
        if weights.shape != (len(vocabulary), len(labels)) or bias.shape != (len(labels),):
            raise ValueError("intent model: weights, bias, vocabulary and labels do not agree")
        unknown = set(labels) - set(LABEL_FAMILY)
        if unknown:
            raise ValueError(f"intent model: unknown labels {sorted(unknown)}")
        self.vocabulary = vocabulary
        self.weights = weights
        self._rows = weights.astype(np.float32)  # summed per message; float32 sums faster than float16
        self._token_ids: dict[str, tuple[int, ...]] = {}  # words recur: their n-grams are looked up once
        self.bias = bias.astype(np.float64)
        self.labels = labels
        self.thresholds = thresholds
        fams = sorted(set(LABEL_FAMILY[label] for label in labels))
        self._families = tuple(fams)
        # each label's family, so label probabilities sum into family probabilities in one bincount
        self._family_of = np.array([fams.index(LABEL_FAMILY[label]) for label in labels])

    def _ids(self, text: str) -> list[int]:
        """The vocabulary rows of `features(text)`, with each word's own rows cached."""
        vocab, cache = self.vocabulary, self._token_ids
        tokens = text.split()
        ids = {i for a, b in itertools.pairwise(tokens) if (i := vocab.get("b " + a + " " + b)) is not None}
        for tok in tokens:
            rows = cache.get(tok)
            if rows is None:
                if len(cache) > 100_000:
                    cache.clear()
                rows = cache[tok] = tuple(i for f in token_features(tok) if (i := vocab.get(f)) is not None)
            ids.update(rows)
        return list(ids)

    def probabilities(self, text: str) -> np.ndarray:
        ids = self._ids(text)
        if ids:
            logits = self._rows[ids].sum(axis=0, dtype=np.float64) / math.sqrt(len(ids)) + self.bias
        else:
            logits = self.bias.copy()
        logits -= logits.max()
        exp = np.exp(logits)
        return exp / exp.sum()

    def vote(self, text: str) -> Vote:
        probs = self.probabilities(text)
        fam = np.bincount(self._family_of, weights=probs, minlength=len(self._families))
        best = int(fam.argmax())
        families = dict(zip(self._families, fam.tolist(), strict=True))
        return Vote(self._families[best], round(families[self._families[best]], 4), self.labels[int(probs.argmax())],
                    families)

    def save(self, path: Path) -> None:
        order = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        np.savez_compressed(path, vocabulary=np.array(order), weights=self.weights.astype(np.float16),
                            bias=self.bias.astype(np.float32), labels=np.array(self.labels),
                            thresholds=np.array([self.thresholds.agree, self.thresholds.model]))

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> IntentModel:
        with np.load(path, allow_pickle=False) as data:
            vocabulary = {str(f): i for i, f in enumerate(data["vocabulary"])}
            agree, model = (float(x) for x in data["thresholds"])
            return cls(vocabulary, data["weights"], data["bias"], tuple(str(x) for x in data["labels"]),
                       Thresholds(agree, model))


@cache
def shipped_model() -> IntentModel:
    """The model in the package, read once per process (a few milliseconds)."""
    return IntentModel.load(MODEL_PATH)
