"""Triage: rules and a small learned intent model that run on every chat message before any LLM."""

from .answers import AnswerContext, answer
from .common import TriageResult
from .parser import DIRECT_NOW, INTENTS, Triage

__all__ = ["DIRECT_NOW", "INTENTS", "AnswerContext", "Triage", "TriageResult", "answer"]
