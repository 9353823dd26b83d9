"""The learned intent model under the rules: it is what its training script makes, its vote gates direct
answers, its own votes need the slot parser's entities, and typos are fixed only in the closed vocabularies."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from agents.triage import INTENTS, Triage
from agents.triage.intent_model import FAMILIES, MODEL_PATH, IntentModel, Thresholds, Vote, shipped_model
from agents.triage.training import DATA_DIR, load_expectations, load_rows, train

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Berlin")
ALL = frozenset(INTENTS) - {"none"}


@pytest.fixture(scope="module")
def triage() -> Triage:
    return Triage(handled_intents=ALL)


def vote(family: str, confidence: float) -> Vote:
    rest = (1.0 - confidence) / (len(FAMILIES) - 1)
    return Vote(family, confidence, family, {f: (confidence if f == family else rest) for f in FAMILIES})


@pytest.mark.slow  # the whole training procedure: about a minute
@pytest.mark.skipif(not (DATA_DIR / "train.jsonl").exists(), reason="CLINC150 dev splits not beside the repo")
def test_retraining_reproduces_the_shipped_model(tmp_path: Path) -> None:
    model = train(load_rows(DATA_DIR / "train.jsonl"), load_expectations(DATA_DIR / "expectations.json"))
    model.save(tmp_path / "model.npz")
    again, shipped = IntentModel.load(tmp_path / "model.npz"), IntentModel.load(MODEL_PATH)
    assert again.labels == shipped.labels
    assert again.vocabulary == shipped.vocabulary
    assert again.thresholds == shipped.thresholds
    # float16 weights: the same solver on the same rows agrees to the last rounding step
    assert np.allclose(again.weights.astype(np.float32), shipped.weights.astype(np.float32), atol=2e-3)
    assert np.allclose(again.bias, shipped.bias, atol=1e-3)


def test_shipped_model_is_small_and_votes_sensibly() -> None:
    assert MODEL_PATH.stat().st_size < 2 * 1024 * 1024
    model = shipped_model()
    assert 0.0 <= model.thresholds.agree < model.thresholds.model <= 1.0
    for text, family in [("what time is it", "time"), ("thank you so much", "thanks"),
                         ("remind me to call mum", "reminder_set"), ("what is my credit score", "none")]:
        assert model.vote(text).family == family, text
    assert abs(sum(model.vote("hello").families.values()) - 1.0) < 1e-6


def test_a_rule_parse_stands_only_when_the_model_agrees(triage: Triage) -> None:
    analysis = triage.analyse("what time is it", now=NOW, tz=TZ)
    assert analysis.rules.direct
    th = Thresholds(agree=0.3, model=0.9)
    assert triage.decide(analysis, vote("time", 0.8), th).direct
    vetoed = triage.decide(analysis, vote("date", 0.9), th)
    assert not vetoed.direct and vetoed.intent == "time" and vetoed.model["agreement"] < 0.3


def test_the_models_vote_needs_the_slot_parser(triage: Triage) -> None:
    th = Thresholds(agree=0.0, model=0.8)
    # the rules do not read this phrasing; the model's vote with a place the gazetteer knows answers it
    loose = triage.analyse("how late is it now in ourense", now=NOW, tz=TZ)
    assert not loose.rules.direct
    res = triage.decide(loose, vote("time", 0.95), th)
    assert (res.direct, res.source, res.entities["timezone"]) == (True, "model", "Europe/Madrid")
    assert not triage.decide(loose, vote("time", 0.7), th).direct  # below the threshold
    # a place nobody can place: never the user's own time
    unknown = triage.analyse("how late is it now in narnia land", now=NOW, tz=TZ)
    assert not triage.decide(unknown, vote("time", 0.99), th).direct
    # a list edit is the rules' to read, however sure the model is
    edit = triage.analyse("get rid of butter on my shopping list", now=NOW, tz=TZ)
    assert not triage.decide(edit, vote("task_list", 0.99), th).direct
    # "no thanks" is not thanks
    assert not triage.decide(triage.analyse("no thanks", now=NOW, tz=TZ), vote("thanks", 0.99), th).direct


def test_a_confident_rule_for_another_intent_blocks_the_models_vote(triage: Triage) -> None:
    analysis = triage.analyse("what's on my shopping list", now=NOW, tz=TZ)
    blocked = replace(analysis, rules=replace(analysis.rules, direct=False))
    assert not triage.decide(blocked, vote("greeting", 0.99), Thresholds(0.0, 0.5)).direct


def test_every_result_carries_the_models_confidence(triage: Triage) -> None:
    for text in ("hi", "what is my credit score", "remind me to stretch in 10 minutes"):
        res = triage.parse(text, now=NOW, tz=TZ)
        assert 0.0 <= res.model["confidence"] <= 1.0 and res.model["family"] in FAMILIES
    rules_only = Triage(handled_intents=ALL, use_model=False).parse("hi", now=NOW, tz=TZ)
    assert rules_only.model == {} and rules_only.direct


@pytest.mark.parametrize(("text", "intent"), [
    ("thnaks a lot", "thanks"), ("thankss so much", "thanks"), ("goodbyee", "goodbye"), ("helo there", "greeting"),
])
def test_typos_in_closed_vocabularies_are_forgiven(triage: Triage, text: str, intent: str) -> None:
    res = triage.parse(text, now=NOW, tz=TZ)
    assert (res.intent, res.direct) == (intent, True)


def test_typos_in_open_slots_are_left_alone(triage: Triage) -> None:
    res = triage.parse("remind me to thnak grandma at 5pm", now=NOW, tz=TZ)
    assert res.intent == "reminder_set" and res.entities["text"] == "thnak grandma"
    added = triage.parse("add thnaks card to my shopping list", now=NOW, tz=TZ)
    assert added.entities["task"] == "thnaks card"
