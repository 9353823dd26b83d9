"""What the harness tells the user when a model turn ends: the answer with what the model changed, or an honest
sentence about what went wrong, and, for the embedded model, how to get a better one."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from agents.llm.base import ProviderError
from agents.llm.profiles import ModelProfile
from bot.i18n import N_, _
from bot.turn import Reply

NO_MODEL = N_("I can't answer that yet: no language model is configured on this server. "
              "I can tell you the time or the date, and /help lists what else I can do.")
PROVIDER_DOWN = N_("I couldn't get an answer from the language model just now: {reason}. Please try again in a moment.")
# What users are told; the provider's own message (endpoints, hints about keys) is for the logs.
PROVIDER_REASONS = {
    "provider_timeout": N_("it took too long to answer"),
    "provider_unavailable": N_("the model service is not reachable"),
    "provider_bad_response": N_("the model service sent an answer I could not read"),
}
PROVIDER_REFUSED = N_("The model service refused this request, so I could not answer it. An administrator can find "
                      "the reason in the server's log.")
TOO_LONG = N_("Your message is too long for the language model I use here (about {tokens} tokens; it takes "
              "{budget}). Please send a shorter one, or split it up.")
CONVERSATION_TOO_LONG = N_("This got too long for the language model I use here, so I stopped. Please ask again "
                           "in fewer words.")
OVER_BUDGET = N_("I can't use the language model right now: {reason}. An administrator can raise the budget.")
HALTED = {
    "platform_paused": N_("I stopped working on this: Thinklio was paused by an administrator. "
                          "Please ask again later."),
    "agent_paused": N_("I stopped working on this: {name} was paused by an administrator. Please ask again later."),
    "agent_archived": N_("I stopped working on this: {name} was retired by an administrator."),
}
NO_ANSWER = N_("I'm sorry, I have no answer to that.")
COULD_NOT = N_("I could not do that: I tried {tried} without getting to an answer.")
GAVE_UP = N_("I could not do that: I went round in circles without getting to an answer.")
BETTER_MODEL = N_("(I'm the small model built into Thinklio. For better answers, point Thinklio at a real model: "
                  "set THINKLIO_LLM_BASE_URL, e.g. http://localhost:11434/v1 for Ollama; see the README.)")
# A small model saying it cannot help; the user then also learns how to get a model that can.
_DECLINE = re.compile(r"\b(?:i\s+(?:can't|cannot|can not|am unable|'m unable|am not able|don't know how)|"
                      r"as an ai|i'm sorry,? but|i do not have (?:access|the ability))\b", re.IGNORECASE)


@dataclass(slots=True)
class TurnLog:
    """What happened during one model turn, for the reply that ends it."""

    profile: ModelProfile
    tried: list[str] = field(default_factory=list)  # tools called, in order, once each
    changes: list[str] = field(default_factory=list)  # what the model's write tools did, in the tools' words
    said: str | None = None  # text the model wrote alongside its tool calls: the best answer so far

    def tool_called(self, name: str) -> None:
        if name not in self.tried:
            self.tried.append(name)

    def changed(self, receipt: str) -> None:
        receipt = receipt.strip()
        if receipt and receipt not in self.changes:
            self.changes.append(receipt)


def answered(log: TurnLog, text: str | None) -> Reply:
    text = (text or "").strip()
    if not text:
        return Reply(_finish(log, _(NO_ANSWER), hint=True), tier="llm", error_code="empty_answer")
    return Reply(_finish(log, text, hint=bool(_DECLINE.search(text))), tier="llm")


def stopped(log: TurnLog, code: str) -> Reply:
    """The step limit was reached, or the model kept repeating itself: the best answer so far, else why not."""
    if log.said and log.said.strip():
        return Reply(_finish(log, log.said.strip(), hint=False), tier="llm", error_code=code)
    text = _(COULD_NOT).format(tried=_names(log.tried)) if log.tried else _(GAVE_UP)
    return Reply(_finish(log, text, hint=True), tier="llm", error_code=code)


def halted(log: TurnLog, code: str, agent_name: str) -> Reply:
    """An administrator stopped the platform or the agent while the turn ran: it ends after its current step,
    saying so, with whatever the model had already changed."""
    return Reply(_finish(log, _(HALTED[code]).format(name=agent_name), hint=False), tier="llm", status="rejected",
                 error_code=code)


def provider_failed(log: TurnLog, exc: ProviderError) -> Reply:
    if exc.code == "provider_context":
        text = _(CONVERSATION_TOO_LONG)
    elif exc.code == "provider_rejected":
        text = _(PROVIDER_REFUSED)
    else:
        text = _(PROVIDER_DOWN).format(reason=_(PROVIDER_REASONS.get(exc.code, N_("it failed"))))
    return Reply(_finish(log, text, hint=True), tier="llm", status="failed", error_code=exc.code)


def too_long(log: TurnLog, tokens: int, budget: int) -> Reply:
    return Reply(_finish(log, _(TOO_LONG).format(tokens=tokens, budget=budget), hint=False), tier="llm",
                 status="rejected", error_code="context_too_long")


def _finish(log: TurnLog, text: str, *, hint: bool) -> str:
    parts = [text]
    changes = [c for c in log.changes if c not in text]
    if changes:
        parts.append("\n".join(changes))
    if hint and log.profile.embedded:
        parts.append(_(BETTER_MODEL))
    return "\n\n".join(parts)


def _names(names: Sequence[str]) -> str:
    quoted = [f"'{name}'" for name in names]
    if len(quoted) == 1:
        return quoted[0]
    return _("{items} and {last}").format(items=", ".join(quoted[:-1]), last=quoted[-1])
