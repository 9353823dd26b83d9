"""The knowledge extension: what it plugs into the app (see bot/extensions.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from agents.extensions import Kit
from agents.llm.base import estimate_tokens
from bot.turn import Turn
from knowledge.agent_view import agent_knowledge
from knowledge.api import upload_route
from knowledge.attachments import attachment_reader
from knowledge.commands import knowledge_commands
from knowledge.extraction import FactProposer, extractor
from knowledge.facts import Scopes
from knowledge.handlers import Handlers, own_partition
from knowledge.service import Knowledge
from knowledge.settings import KnowledgeSettings
from knowledge.tools import TOOL_PERMISSIONS, memory_tools

CONTEXT_MIN_SCORE = 0.2  # below this a fact is noise in the prompt
DOCUMENT_CHUNKS = 6  # of the document a message refers to, from its start
# "summarise the document I sent", "what does the pdf say": the user means their latest document, which a
# search on those words would not find.
_MEANS_A_DOCUMENT = re.compile(
    r"\b(?:document|doc|file|pdf|attachment|upload)s?\b|\bwhat i (?:sent|shared|uploaded)\b", re.IGNORECASE)


async def document_lines(knowledge: Knowledge, turn: Turn, budget: int) -> list[str]:
    """The user's latest document, as lines of the prompt; or a line saying there is none."""
    found = await knowledge.documents.latest(own_partition(turn), chunks=DOCUMENT_CHUNKS)
    if found is None:
        return ["The user has not sent you any document."]
    document, texts = found
    lines = [f"The user's latest document is '{document.title}'. It begins:"]
    budget -= estimate_tokens(lines[0])
    for text in texts:
        line = " ".join(text.split())
        if estimate_tokens(line) > budget:
            break
        budget -= estimate_tokens(line)
        lines.append(line)
    return lines


def context_hook(knowledge: Knowledge):  # type: ignore[no-untyped-def]
    async def facts_for(turn: Turn) -> list[str]:
        """The facts and passages most relevant to the message, within the context token budget."""
        budget = knowledge.settings.knowledge_context_tokens
        if budget <= 0:
            return []
        lines: list[str] = []
        if _MEANS_A_DOCUMENT.search(turn.text):
            lines = await document_lines(knowledge, turn, budget * 3)
        hits = await knowledge.search(Scopes.of_turn(turn), turn.text, limit=knowledge.settings.knowledge_search_limit,
                                      min_score=CONTEXT_MIN_SCORE)
        for hit in hits:
            line = hit.text if hit.kind == "fact" else f"from '{hit.title}': {hit.text}"
            cost = estimate_tokens(line)
            if cost > budget:
                continue
            budget -= cost
            lines.append(line)
        return lines

    return facts_for


class KnowledgeExtension:
    intents = frozenset({"remember", "recall", "forget"})
    settings: ClassVar[type[KnowledgeSettings]] = KnowledgeSettings
    migrations: ClassVar[Path] = Path(__file__).with_name("migrations") / "versions"

    def __init__(self) -> None:
        self.knowledge: Knowledge | None = None

    def install(self, kit: Kit) -> None:
        s = kit.services
        settings = kit.settings(KnowledgeSettings)
        knowledge = Knowledge(s.db, s.clock, settings)
        self.knowledge = knowledge
        kit.extras["knowledge"] = knowledge
        handlers = Handlers(knowledge, s.directory, kit.questions, kit.undo)
        kit.answer("remember", handlers.remember, writes=True)
        # Whether "what is my wifi password" or "forget my wifi password" names something known only the store can
        # say: looked up even when triage is unsure, handed to the model when nothing is found.
        kit.answer("recall", handlers.recall, look_first=True)
        kit.answer("forget", handlers.forget, look_first=True, writes=True)
        kit.tools.register(*memory_tools(knowledge))
        kit.assignments.extend(TOOL_PERMISSIONS)
        kit.commands.register_all(knowledge_commands(knowledge))
        s.governance.agents.describe("knowledge", agent_knowledge(s.db))  # its facts and documents in /agent show
        kit.web.router.add_routes([upload_route(s, knowledge)])
        kit.knowledge_hooks.append(context_hook(knowledge))
        kit.attachment_handlers.append(attachment_reader(knowledge, s.pipeline, s.directory))
        proposer = FactProposer(kit.model, s.pipeline, mode=settings.knowledge_extract_with_model,
                                model_name=settings.knowledge_extract_model,
                                min_confidence=settings.knowledge_extract_min_confidence)
        kit.after_turn.append(extractor(knowledge, proposer))
        kit.on_start.append(knowledge.start)
        kit.on_stop.append(knowledge.stop)
        kit.skills.extend([
            ("remember", "'remember that my wifi password is …', 'call me Sam'"),
            ("recall", "'what's my name?', 'what is my wifi password?'"),
            ("forget", "'forget my wifi password', or /forget ID from /knowledge"),
        ])
