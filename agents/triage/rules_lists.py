"""Rules for reminders (set and read back) and task lists (add, remove, done, clear, read)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from .common import FULL, STRONG, WEAK, Candidate, alternatives, full_match, unwrap_ask, word_set
from .when import parse_when

_TEXT_GROUPS = ("text", "text2", "text3", "text4", "text5", "text6")
_REMIND_SET = re.compile(
    r"(?:(?:can|could|would|will) you |please |i (?:need|want) you to |i want you to |i would like you to |"
    r"do not forget to |be sure to |make sure to |you need to |you should |you have to )*(?:remind me|tell m"
    r"e(?= to )) (?:to |that |about |of |when |"
    r"(?=(?:in|at|on|tomorrow|tonight|next|every|this)\b))?(?P<text>.*)|"
    r"(?:(?:can|could|would|will) you |please |i (?:need|want|would like) (?:to |you to )?|help me )*"
    r"(?:set|add|make|create|schedule|put|give me|i need|i want|new|open|start|set up|make me) (?:up )?"
    r"(?:a |an |the |another |my )?(?:new )?(?:reminder|alarm|timer|notification)(?: for me)?(?: up)?"
    r"(?:,? (?:to |that |for |about |of |at |in |on )?(?P<text2>.*))?|"
    r"(?:do not|do not) let me forget (?:to |about )?(?P<text3>.+)|wake me(?: up)? (?P<text4>(?:at|in|tomorr"
    r"ow).*)|"
    r"i (?:need|want|would like) (?:to be|to get) (?:reminded|notified|woken) (?:to |about |of )?(?P<text5>."
    r"*)|"
    r"(?:set|start) (?:a |the )?(?P<d>.+?) (?:timer|alarm|countdown)(?P<text6>.*)"
)
# "remind me what we discussed": asks to recall, not to schedule.
_LEAD_WHEN = re.compile(r"(?P<when>(?:in|at|on|every|each|tomorrow|tonight|next|this)\b.{1,40}?),? "
                        r"(?P<rest>(?:please )?remind me .+)")
_REF_NOW = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
_REMIND_NOT = re.compile(r"^(?:(?:can|could|would|will) you |please )*remind me (?:of |about )?(?:what|who|w"
                         r"here|how|which|why|whether|if|"
                         r"when|the date|the invoice|"
                         r"the time|my name|your|the (?:tasks|things|items)|my (?:list|tasks|todo|reminders)"
                         r")\b")
_REMIND_LIST = re.compile(
    r"(?:what|which) (?:are |is |were )?(?:all )?(?:my |the |the items on my |on my |in my |the things on my"
    r" )?"
    r"(?:current )?(?:reminders|reminder list|list of reminders)(?: (?:do i have|have i (?:got|set)|did i (?"
    r":set|make|have)"
    r"|i have(?: set)?|are there|for (?:today|tomorrow|this week)|today))*|"
    r"(?:what|which) reminders (?:do i have|have i (?:got|set)|did i (?:set|make|have)|i have|are (?:set|the"
    r"re))"
    r"(?: (?:set|today|for today|up))*|(?:read|list|show|repeat|check|go (?:over|through)|read back|read out|"
    r"walk me through|iterate|review|see|hear|get)(?: me| back)?(?: to me)? (?:all )?(?:of )?(?:my |the )?"
    r"(?:current )?(?:reminders|reminder list|list of reminders)(?: list)?(?: (?:to me|back|please|for me|to"
    r"day))*|"
    r"(?:all )?(?:my |the )?(?:current )?(?:reminders|reminder list|list of reminders)|"
    r"what is (?:now |currently )?(?:on|in) (?:my |the )?(?:reminder list|list of reminders|reminders(?: lis"
    r"t)?)"
    r"(?: today)?|do i have any reminders(?: set| today| for today| for tomorrow)?|"
    r"(?:what|which) (?:things |items )?(?:did i (?:want|ask you|ask) to (?:remember|be reminded (?:of|about"
    r"))|"
    r"have i asked you to remind me(?: of| about)?)|any reminders|"
    r"(?:what|which) (?:items |things )?(?:are|is) (?:on|in) (?:my |the )?(?:reminders?|list of reminders)(?"
    r": list)?|"
    r"(?:what|which) (?:items |things )?(?:do i have|have i got|did i (?:put|add|list|include)) (?:on|in) (?"
    r":my |the )?"
    r"(?:reminders?(?: list)?|list of reminders)|(?:the )?items on my (?:reminders?|reminder list)"
)
_REMIND_CHECK = re.compile(
    r"(?:is|are) (?P<q1>.+?) (?:already )?(?:on|in) (?:my |the )?(?:list of reminders?|reminders?(?: list)?)"
    r"(?: currently)?|"
    r"(?:is there|do i have|did i (?:set|set up|request|add|make|create)) (?:a |any )?reminders? (?:set )?"
    r"(?:for|to|about|that) (?P<q2>.+?)(?: on my list)?|check my reminders (?:for|to see if) (?P<q3>.+)"
)
_LIST_NAME = r"(?P<list>todo|shopping|grocery|groceries|[a-z]+(?: [a-z]+)?)"
_LIST_REF = (rf"(?:my |the |our )?(?:{_LIST_NAME} list|list of (?P<list2>things to do|tasks|chores|todos?)|(?"
             rf"P<list3>todo|tasks|chores)(?: list)?)")
_TASK_LIST = alternatives(
    rf"(?:what|which) (?:items |things |tasks )?(?:is|are) (?:on|in) {_LIST_REF}(?: (?:today|for today|right"
    rf" now|now))*",
    r"(?:read|list|show|repeat|go (?:over|through)|read back|read out|walk me through|iterate|review|see|hea"
    r"r|"
    r"open|check|display)(?: me| back)?(?: to me)? (?:all |everything |the items |the tasks )?(?:on |in |of "
    r")?"
    rf"{_LIST_REF}(?: (?:to me|back|please|for me|today|items|out loud))*",
    rf"{_LIST_REF}(?: items)?",
    rf"what (?:does|do) {_LIST_REF} (?:look like|say|have on it|contain|consist of)(?: today)?",
    r"what (?:do i have|have i got|is there|is left|tasks do i have|do i need|do i still need) to do"
    r"(?: today| tomorrow)?",
    rf"what (?:is|do i have) (?:on|in) {_LIST_REF}(?: (?:today|for today|right now|now))*",
    r"(?:what are )?(?:my |the )?tasks for today(?: what are they)?|what (?:are )?my tasks(?: for today)?|"
    r"what (?:else )?do (?:i|we) (?:still )?need to (?:buy|get|pick up)(?: at the (?:store|shops|supermarket"
    r"))?|"
    r"what tasks do i have(?: today)?",
    rf"what (?:things|items) (?:do i have|are there) (?:on|in) {_LIST_REF}",
)
_TASK_CHECK = alternatives(rf"(?:is|are|do i have|did i (?:put|add)|have i (?:put|added)) (?P<task>.+?) "
                         rf"(?:already )?(?:on|in|to) {_LIST_REF}(?: (?:today|right now|already))*")
_TASK_ADD = alternatives(
    r"(?:(?:can|could|would|will) you |please |i (?:need|want) (?:you )?to |go ahead and |can i )*"
    r"(?:add|put|write|stick|place|include|jot down|note down|save|append) (?P<task>.+?) (?:to|on|onto|in|in"
    r"to) "
    rf"{_LIST_REF}",
    rf"{_LIST_REF} add (?P<task>.+)",
)
_TASK_REMOVE = alternatives(
    rf"(?:(?:can|could|would|will) you |please |i (?:need|want) (?:you )?to |go ahead and |you can )*"
    rf"(?:remove|delete|take|erase|drop|scratch|strike) (?P<task>.+?) (?:off|from|off of) {_LIST_REF}"
)
_TASK_DONE = alternatives(
    r"(?:(?:can|could|would|will) you |please |go ahead and )*(?:mark|check|tick|cross) (?P<task>.+?) "
    rf"(?:as )?(?:done|complete|completed|finished|off)(?: (?:on|from) {_LIST_REF})?",
    rf"i (?:have )?(?:finished|completed|done) (?P<task>.+?) (?:on|from) {_LIST_REF}",
)
_TASK_CLEAR = alternatives(
    r"(?:(?:can|could|would|will) you |please |i (?:need|want) (?:you )?to |go ahead and )*"
    r"(?:clear|empty|wipe|blank out|reset|erase|delete|remove)(?: out)? (?:all (?:items |tasks |of |the item"
    r"s )?"
    rf"(?:on |in |from )?|everything (?:on |in |from )?|all the (?:items|tasks) (?:on |in |from ))?"
    rf"{_LIST_REF}"
    r"(?: (?:out|completely))?",
    rf"make {_LIST_REF} (?:blank|empty)",
)
_BUY_Q = re.compile(r"\bneed to (?:buy|get|pick up)\b")
_COMPOUND = re.compile(r"\b(?:and|then) (?:add|remove|delete|put|take|erase|cross|mark|also)\b|\binstead\b|"
                       r"\bif not\b|\beverything\b|\border\b|^(?:\w+ )*?(?:add|put) (?:in|on|to|for|from) ")
_LIST_ALIASES = {"to do": "todo", "todos": "todo", "things to do": "todo", "tasks": "todo", "task": "todo",
                 "chores": "todo", "chore": "todo", "groceries": "shopping", "grocery": "shopping",
                 "things i have to do": "todo", "errand": "todo", "errands": "todo"}
_BAD_LIST = word_set(
    "my the our a this that your his her their reminder reminders reminder's calendar order playlist "
    "play reading wish bucket mailing contact contacts black guest wait waiting song music friend "
    "friends email "
)


_REMIND_HINT = re.compile(r"\bremind(?:er)?s?\b")
_LIST_HINT = re.compile(r"\b(?:todo|to do list|shopping list)\b")


def _list_name(m: re.Match[str]) -> str | None:
    gd = m.groupdict()
    raw = gd.get("list") or gd.get("list2") or gd.get("list3") or "todo"
    name = _LIST_ALIASES.get(raw, raw)
    return None if name in _BAD_LIST or any(w in _BAD_LIST for w in name.split()) else name


def match_reminders(core: str, cased: str) -> Candidate | None:
    q = unwrap_ask(core)
    if _REMIND_LIST.fullmatch(q) or _REMIND_LIST.fullmatch(core):
        return Candidate("reminder_list", FULL)
    m = _REMIND_CHECK.fullmatch(q)
    if m:
        return Candidate("reminder_list", STRONG, {"query": (m["q1"] or m["q2"] or m["q3"]).strip()})
    lead = _LEAD_WHEN.match(core)
    if lead and parse_when(lead["when"], _REF_NOW).spans:
        core = f"{lead['rest']} {lead['when']}"  # "every weekday at 9 remind me to stand" -> time last
        cased = f"{cased[lead.start('rest'):]} {cased[: lead.end('when')]}"
    if _REMIND_NOT.search(core):
        return Candidate("reminder_set", WEAK, answerable=False, full=False)
    m = _REMIND_SET.fullmatch(core)
    if m:
        group = next((g for g in _TEXT_GROUPS if m[g] is not None), None)
        text = (m[group] or "") if group else ""
        start, end = m.span(group) if group else (len(core), len(core))
        ents: dict[str, object] = {"_text_span": (start, end), "text": text.strip()}
        if lead:
            ents["_core"] = (core, cased)  # spans refer to the reordered text
        return Candidate("reminder_set", FULL, ents)
    if _REMIND_HINT.search(core):
        return Candidate("reminder_set" if "remind me" in core else "reminder_list", WEAK,
                         answerable=False, full=False)
    return None


def match_tasks(core: str, cased: str) -> Candidate | None:
    q = unwrap_ask(core)
    offset = len(cased) - len(core)
    def span(m: re.Match[str], g: str) -> str:
        return (cased[m.start(g) + offset: m.end(g) + offset] if offset >= 0 else m[g]).strip(" .,!\"")
    compound = bool(_COMPOUND.search(core))
    for rx, intent in ((_TASK_CLEAR, "task_clear"), (_TASK_ADD, "task_add"), (_TASK_REMOVE, "task_remove"),
                       (_TASK_DONE, "task_done")):
        m = full_match(rx, core)
        if m:
            name = _list_name(m)
            ents: dict[str, object] = {"list": name or "todo"}
            if m.groupdict().get("task"):
                ents["task"] = span(m, "task")
            ok = name is not None and not compound and (intent == "task_clear" or bool(ents.get("task")))
            return Candidate(intent, FULL if ok else WEAK, ents, answerable=ok, full=ok)
    m = full_match(_TASK_CHECK, q)
    if m:
        name = _list_name(m)
        if name is not None and not compound:
            return Candidate("task_list", STRONG, {"list": name, "query": span(m, "task")})
    m = full_match(_TASK_LIST, q) or full_match(_TASK_LIST, core)
    if m:
        name = "shopping" if _BUY_Q.search(q) else _list_name(m)
        if name is not None:
            return Candidate("task_list", FULL, {"list": name})
    if _LIST_HINT.search(core):
        return Candidate("task_list", WEAK, answerable=False, full=False)
    return None
