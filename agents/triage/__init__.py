"""Triage: a fast rule-based intent parser that runs on every chat message before any LLM."""

from .answers import AnswerContext, answer
from .parser import DIRECT_NOW, INTENTS, Triage, TriageResult

__all__ = ["DIRECT_NOW", "INTENTS", "AnswerContext", "Triage", "TriageResult", "answer"]
