"""Slot parsers for the model's vote: given the family the intent model chose, find the entities a handler
needs in the message, or refuse.

The rules answer only phrasings they explain whole; these are looser (the model has already named the intent)
but each refuses whatever it cannot fill safely: a place it cannot place, a date it cannot read, a name it
cannot find, a list edit (those stay with the rules, which read the item and the list exactly).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.places import Gazetteer

from .common import FULL, Analysis, Candidate, unwrap_ask
from .rules_chat import asks_about_other_time, asks_wellbeing, date_offset
from .rules_facts import name_value
from .rules_lists import list_reference

SlotParser = Callable[[Analysis, Gazetteer], Candidate | None]

_PLACE_TAIL = re.compile(r"\b(?:in|at|for|over in|out in|on|of) (?:the )?(?P<place>[a-z][a-z' .-]{1,48}?)"
                         r"(?: (?:right now|now|currently|at the moment|at present|presently|please|today|exactly))*$")
_PLACE_HEAD = re.compile(r"^(?:in|at|for) (?:the )?(?P<place>[a-z][a-z' .-]{1,48}?),? (?=what|which|tell|give|the )")
_HOME = re.compile(r"^(?:home|back home|here|my (?:place|location|city|home|time ?zone|area)|where i am|"
                   r"my current location|this (?:place|city|location|time ?zone)|local)$")
_CLOCK_WORDS = re.compile(r"\b(?:time|clock|hour|o'clock|oclock|late)\b")
_DATE_NAMES = re.compile(r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|"
                         r"april|may|june|july|august|september|october|november|december|christmas|easter|\d+)\b")
_DATE_CUE = re.compile(r"\b(?:date|day|month|year|weekday|calendar)\b")  # "what's the humidity today" is not
_REMINDER_CUE = re.compile(r"\b(?:remind\w*|alarm|timer|wake|notify|notification|let me forget)\b")
_CANCEL = re.compile(r"\b(?:cancel\w*|delete|remove|stop|turn off|switch off|clear|snooze|disable|erase)\b")
_REMINDER_NOT = re.compile(r"\b(?:list|todo|calendar|meeting|appointment)\b")
_MUTATE = re.compile(r"\b(?:add|put|remove|delete|take|erase|clear|cross|mark|tick|empty|wipe|cancel|create|make|"
                     r"new|rename|change|update|buy|order|rid|nuke|scrap|ditch|drop|strike)\b")
# The bot's own name or nature, not the user's: "what is you name", "what can i address you as".
_YOUR_NAME = re.compile(r"\b(?:your|you) name\b|\bname (?:you|yourself)\b|\b(?:call|address|refer to) you\b|"
                        r"\bwhat are you\b")
# "no thanks", "thanks but that's wrong": the pleasantry is not the message.
_NEGATED = re.compile(r"\b(?:no|not|nothing|never|but|nope|wrong)\b")
# "what did you just ask": about this conversation, not what the assistant can do
_HELP_NOT = re.compile(r"\b(?:did you|you just|just now|last|again|repeat|said)\b")
_HELP_CUE = re.compile(r"\b(?:can|could|help|do|ask|capab\w*|abilit\w*|skills?|questions?|topics?|subjects?|"
                       r"know|assist\w*|able|use|functions?|features?|commands?|things)\b")
# Reading a list is asked for; "get rid of butter on my list" or "nuke all items" is an edit the rules must read.
_READ_CUE = re.compile(r"\b(?:what|which|show|read|tell|see|check|is|are|do|does|did|have|how|give|display|"
                       r"open|view|recite|remind|look)\b")


def _time(a: Analysis, places: Gazetteer) -> Candidate | None:
    q = unwrap_ask(a.core)
    if asks_about_other_time(q) or "zone" in q or not _CLOCK_WORDS.search(q):
        return None
    m = _PLACE_TAIL.search(q) or _PLACE_HEAD.search(q)
    if m is None:
        return Candidate("time", FULL)
    place = m["place"].strip(" .")
    if _HOME.fullmatch(place):
        return Candidate("time", FULL, {"home": True})
    found = places.find(place)
    if found is None:
        return None  # "what time is it in narnia": never the user's own time for a place we cannot place
    return Candidate("time", FULL, {"place": place, **found.entities()})


def _date(a: Analysis, _: Gazetteer) -> Candidate | None:
    offset, rest, bad = date_offset(a.core)
    if bad or not _DATE_CUE.search(rest) or _DATE_NAMES.search(rest) or asks_about_other_time(rest):
        return None  # "what date is easter", "what day is the 5th": a calendar question, not today's date
    return Candidate("date", FULL, {"offset_days": offset})


def _plain(intent: str) -> SlotParser:
    def parse(a: Analysis, _: Gazetteer) -> Candidate | None:
        if _NEGATED.search(a.text):
            return None
        if intent == "help" and (not _HELP_CUE.search(a.core) or _YOUR_NAME.search(a.core) or _HELP_NOT.search(a.core)):
            return None
        ents: dict[str, object] = {"asks_wellbeing": asks_wellbeing(a.text)} if intent == "greeting" else {}
        return Candidate(intent, FULL, ents)

    return parse


def _reminder_set(a: Analysis, _: Gazetteer) -> Candidate | None:
    if not _REMINDER_CUE.search(a.core) or _CANCEL.search(a.core):
        return None  # "tomorrow at 9" alone, "cancel reminder 1": not a request for a new reminder
    best = a.best
    if best is not None and best.intent == "reminder_set":
        # the rules read the text and time; they refuse "remind me what we discussed" by marking it unanswerable
        return Candidate("reminder_set", FULL, dict(best.entities)) if best.answerable else None
    if _REMINDER_NOT.search(a.core):
        return None
    return Candidate("reminder_set", FULL, {"text": ""})  # the handler asks what, and when


def _reminder_list(a: Analysis, _: Gazetteer) -> Candidate | None:
    if _MUTATE.search(a.core) or not _READ_CUE.search(a.core):
        return None
    query = a.best.entities.get("query") if a.best is not None and a.best.intent == "reminder_list" else None
    return Candidate("reminder_list", FULL, {"query": query} if query else {})


def _task_list(a: Analysis, _: Gazetteer) -> Candidate | None:
    if _MUTATE.search(a.core) or not _READ_CUE.search(a.core):
        return None
    ref = list_reference(a.core)
    if ref is False:
        return None  # a list we do not keep (a playlist, a reading list of some service)
    ents: dict[str, object] = {} if ref is None else {"list": ref}
    if a.best is not None and a.best.intent == "task_list" and a.best.entities.get("query"):
        ents["query"] = a.best.entities["query"]
    return Candidate("task_list", FULL, ents)


def _name_recall(a: Analysis, _: Gazetteer) -> Candidate | None:
    if _YOUR_NAME.search(a.core):
        return None
    return Candidate("recall", FULL, {"subject": "name"})


def _name_change(a: Analysis, _: Gazetteer) -> Candidate | None:
    if a.best is not None and a.best.intent == "remember" and a.best.entities.get("subject") == "name":
        value = a.best.entities.get("value")
        return Candidate("remember", FULL, {"subject": "name", "value": value}) if value else None
    value = name_value(a.core, a.cased_core)
    return Candidate("remember", FULL, {"subject": "name", "value": value}) if value else None


SLOT_PARSERS: dict[str, SlotParser] = {
    "time": _time, "date": _date, "greeting": _plain("greeting"), "goodbye": _plain("goodbye"),
    "thanks": _plain("thanks"), "help": _plain("help"), "reminder_set": _reminder_set,
    "reminder_list": _reminder_list, "task_list": _task_list, "name_recall": _name_recall,
    "name_change": _name_change,
}
