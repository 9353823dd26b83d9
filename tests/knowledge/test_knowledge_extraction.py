"""Facts proposed by the model after a turn: stored in the user's own partition, metered as a step of the turn,
and nothing stored from an answer that is not well-formed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from agents.llm.base import ChatMessage, ChatResult, ProviderError, ToolSpec, Usage
from bot.store import tables as t
from knowledge import tables as kt
from knowledge.extraction import PROPOSE_PROMPT, parse_proposals, states_something_about_self
from server.app import App
from tests.fakes.fake_openai import FakeOpenAI
from tests.fakes.scripted_provider import ScriptedProvider
from tests.knowledge.test_knowledge_helpers import knowledge_of, say, started, text
from tests.knowledge.test_knowledge_lifecycle import alice_scopes

F = kt.knowledge_fact
PRICES = {"scripted-model": (1000.0, 2000.0)}  # USD per million tokens: 10 in + 5 out = 0.02


def is_extraction(messages: Sequence[ChatMessage]) -> bool:
    return messages[0].role == "system" and messages[0].content == PROPOSE_PROMPT


def provider(*proposals: Any, answer: str = "Noted!") -> ScriptedProvider:
    """Answers each turn with `answer` and each extraction call with the next proposal (JSON unless a str)."""
    script = list(proposals)

    def respond(messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> ChatResult:
        if not is_extraction(messages):
            return text(answer)
        proposal = script.pop(0)
        if isinstance(proposal, Exception):
            raise proposal
        body = proposal if isinstance(proposal, str) else json.dumps(proposal)
        return ChatResult(body, (), Usage(10, 5), "scripted-model")

    return ScriptedProvider(respond)


async def facts(app: App) -> list[tuple[str, str, str, float, str]]:
    rows = await app.services.db.all(select(F).where(F.c.archived == 0).order_by(F.c.subject))
    return [(r.subject, r.value, r.source, r.confidence, r.scope) for r in rows]


async def steps_of(app: App, interaction_id: str) -> list[Any]:
    return await app.services.db.all(
        select(t.step).where(t.step.c.interaction_id == interaction_id).order_by(t.step.c.seq))


async def test_model_proposals_are_stored_and_metered_as_a_step_of_the_turn(tmp_path: Path) -> None:
    proposals = {"facts": [{"subject": "my home city", "value": "Porto", "confidence": 0.95},
                           {"subject": "sister's name", "value": "Ana", "confidence": 0.8},
                           {"subject": "favourite colour", "value": "green", "confidence": 0.3}]}
    llm = provider(proposals)
    app = await started(tmp_path, llm, knowledge_extract_with_model="on", llm_prices=PRICES)
    try:
        out = await say(app, "I moved to Porto last year and my sister Ana visits a lot, what should we do?")
        await app.services.pipeline.drain()
        assert len(llm.calls) == 2 and is_extraction(llm.calls[1][0])
        # the low-confidence proposal is dropped; the others are the user's, below an explicit "remember"
        assert await facts(app) == [("home city", "Porto", "extraction", 0.9, "user"),
                                    ("sister's name", "Ana", "extraction", 0.8, "user")]
        steps = await steps_of(app, out.interaction_id)
        extraction = [s for s in steps if (s.detail or {}).get("purpose") == "extraction"]
        assert len(extraction) == 1 and extraction[0].seq == len(steps) and extraction[0].cost_usd == 0.02
        interaction = await app.services.db.one(
            select(t.interaction).where(t.interaction.c.id == out.interaction_id))
        assert abs(interaction.cost_usd - 0.04) < 1e-9  # the answer and the extraction
        hits = await knowledge_of(app).search(await alice_scopes(app), "where does my family live", limit=5)
        assert "home city is Porto" in [hit.text for hit in hits]
    finally:
        await app.stop()


async def test_stated_facts_win_and_guesses_never_override_remember(tmp_path: Path) -> None:
    llm = provider({"facts": [{"subject": "dog's name", "value": "Rexy", "confidence": 0.9},
                              {"subject": "home city", "value": "Braga", "confidence": 0.9}]},
                   {"facts": [{"subject": "dog's name", "value": "Max", "confidence": 0.8}]})
    app = await started(tmp_path, llm, knowledge_extract_with_model="on")
    try:
        await say(app, "remember that my home city is Lisbon")
        await say(app, "I'm off to the vet later. My dog's name is Rex. What should I ask the vet?")
        await app.services.pipeline.drain()
        # the user's words beat the model's reading; a guess does not replace what they asked us to remember
        assert await facts(app) == [("dog's name", "Rex", "extraction", 0.7, "user"),
                                    ("home city", "Lisbon", "triage", 1.0, "user")]
        await say(app, "We renamed the dog, I think it suits him better. Any tips for teaching it?")
        await app.services.pipeline.drain()
        assert await facts(app) == [("dog's name", "Max", "extraction", 0.8, "user"),
                                    ("home city", "Lisbon", "triage", 1.0, "user")]
    finally:
        await app.stop()


async def test_malformed_answers_store_nothing_and_the_turn_is_untouched(tmp_path: Path) -> None:
    for answer in ("Sure! Here are the facts: none really.", '{"facts": [{"subject": "name"}]}', "{not json",
                   '{"facts": "Sam"}', "[]"):
        app = await started(tmp_path / str(abs(hash(answer))), provider(answer),
                            knowledge_extract_with_model="on")
        try:
            out = await say(app, "I'm Sam and I work nights")
            await app.services.pipeline.drain()
            assert (out.status, out.reply) == ("completed", "Noted!")
            assert await facts(app) == []
        finally:
            await app.stop()


async def test_a_failed_extraction_call_is_a_failed_step(tmp_path: Path) -> None:
    llm = provider(ProviderError("provider_timeout", "took too long"))
    app = await started(tmp_path, llm, knowledge_extract_with_model="on")
    try:
        out = await say(app, "I live in Lagos")
        await app.services.pipeline.drain()
        assert out.reply == "Noted!"
        last = (await steps_of(app, out.interaction_id))[-1]
        assert (last.kind, last.status, last.detail) == ("llm_call", "error", {"purpose": "extraction"})
        assert await facts(app) == []
    finally:
        await app.stop()


async def test_no_call_without_a_statement_about_oneself_or_over_budget(tmp_path: Path) -> None:
    llm = provider({"facts": [{"subject": "name", "value": "Sam", "confidence": 1}]})
    app = await started(tmp_path, llm, knowledge_extract_with_model="on", llm_prices=PRICES,
                        user_monthly_budget_usd=0.05)
    try:
        await say(app, "what is the capital of Peru?")
        await say(app, "tell me a joke about penguins")
        await app.services.pipeline.drain()
        assert len(llm.calls) == 2  # two answers, no extraction
        # its answer brings the spend to 0.06, over the 0.05 budget: no extraction call
        await say(app, "I work nights at the hospital")
        await app.services.pipeline.drain()
        assert len(llm.calls) == 3 and await facts(app) == []
    finally:
        await app.stop()


@pytest.mark.parametrize(("mode", "provider_name"), [("auto", "local"), ("off", "scripted")])
async def test_auto_skips_the_embedded_model_and_off_means_off(tmp_path: Path, mode: str, provider_name: str) -> None:
    llm = provider({"facts": [{"subject": "name", "value": "Sam", "confidence": 1}]})
    llm.name = provider_name
    app = await started(tmp_path, llm, knowledge_extract_with_model=mode)
    try:
        await say(app, "I work nights at the hospital")
        await app.services.pipeline.drain()
        assert len(llm.calls) == 1  # the answer only
    finally:
        await app.stop()


async def test_extraction_through_the_openai_provider(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    """The real client against the fake endpoint: answer, then the extraction request and its JSON."""
    app = await started(tmp_path, None, llm_provider="openai", llm_base_url=fake_openai.url,
                        knowledge_extract_with_model="auto", knowledge_extract_model="cheap-model")
    try:
        fake_openai.reply("Happy to help with the move.")
        fake_openai.reply('```json\n{"facts": [{"subject": "employer", "value": "Acme", "confidence": 0.85}]}\n```')
        out = await say(app, "I just started a new job at Acme, any tips for the first week?")
        await app.services.pipeline.drain()
        assert out.reply == "Happy to help with the move."
        request = fake_openai.bodies[1]
        assert request["model"] == "cheap-model" and request["messages"][0]["content"] == PROPOSE_PROMPT
        assert await facts(app) == [("employer", "Acme", "extraction", 0.85, "user")]
    finally:
        await app.stop()


def test_parsing_and_the_first_person_gate() -> None:
    assert [(p.subject, p.value) for p in parse_proposals(
        'Here you go: {"facts": [{"subject": "The user\'s Name", "value": " Sam. "}, {"value": "x"}]} done')] \
        == [("name", "Sam")]
    assert parse_proposals(None) == [] and parse_proposals('{"facts": [1, "a", null]}') == []
    assert states_something_about_self("I work nights. What time is it?")
    assert states_something_about_self("I moved to Porto last year, what should we see?")
    assert not states_something_about_self("what is my name?")
    assert not states_something_about_self("Do I have anything on tomorrow?")
    assert not states_something_about_self("tell a joke about cats")
