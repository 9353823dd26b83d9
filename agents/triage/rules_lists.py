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
# A list is "my list", "the shopping list", "my packing list", "the list of chores". Its name is a word or two
# that are never a verb, a preposition or an article (checked in _list_name): "remove eggs from list" must not
# read as clearing a list called "eggs from".
_LIST_NAME = r"(?P<list>[a-z]+(?: [a-z]+)?)"
_LIST_REF = (rf"(?:(?:my|the|our|this|that) )?(?:{_LIST_NAME} )?list|(?:(?:my|the|our) )?(?:list of (?P<list2>things "
             rf"to do|tasks|chores|todos?)|(?P<list3>todo|tasks|chores)(?: list)?)")
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
_PLEASE = r"(?:(?:can|could|would|will) you |please |i (?:need|want) (?:you )?to |go ahead and |you can |can i )*"
_TASK_ADD = alternatives(
    rf"{_PLEASE}(?:add|put|write|stick|place|include|jot down|note down|save|append) (?P<task>.+?) (?:to|on|onto|"
    rf"in|into) {_LIST_REF}",
    rf"{_LIST_REF} add (?P<task>.+)",
)
# "add to my list", "put something on the shopping list": the item is asked for.
_TASK_ADD_NOTHING = alternatives(
    rf"{_PLEASE}(?:add|put) (?:(?:something|an item|items|a thing|things|stuff) )?(?:to|on|onto|in|into) {_LIST_REF}")
_TASK_REMOVE = alternatives(
    rf"{_PLEASE}(?:remove|delete|take|erase|drop|scratch|strike|cross) (?P<task>.+?) (?:off|from|off of|out of) "
    rf"{_LIST_REF}"
)
_TASK_DONE = alternatives(
    rf"{_PLEASE}(?:mark|check|tick) (?P<task>.+?) (?:as )?(?:done|complete|completed|finished|off)(?: (?:on|from) "
    rf"{_LIST_REF})?",
    rf"{_PLEASE}cross (?P<task>.+?) (?:as )?(?:done|complete|completed|finished)(?: (?:on|from) {_LIST_REF})?",
    rf"i (?:have )?(?:finished|completed|done) (?P<task>.+?) (?:on|from) {_LIST_REF}",
)
_TASK_CLEAR = alternatives(
    rf"{_PLEASE}(?:clear|empty|wipe|blank out|reset|erase|delete|remove)(?: out)? (?:all (?:items |tasks |of |the "
    rf"items )?(?:on |in |from )?|all the (?:items|tasks) (?:on |in |from ))?{_LIST_REF}(?: (?:out|completely))?",
    rf"make {_LIST_REF} (?:blank|empty)",
)
_LIST_CREATE = alternatives(
    rf"{_PLEASE}(?:make|create|start|begin|set up|open)(?: me)? (?:a |an |another )?(?:new )?(?:(?P<list>[a-z]+(?: "
    rf"[a-z]+)?) )?list(?: (?:called|named|for|titled) (?P<name>[a-z]+(?: [a-z]+)?))?(?: (?:for me|please))?",
    r"(?:i (?:need|want|would like) )(?:a |another )?(?:new )?(?:(?P<list>[a-z]+(?: [a-z]+)?) )?list(?: (?:called|"
    r"named|for|titled) (?P<name>[a-z]+(?: [a-z]+)?))?",
)
_ALL_LISTS = re.compile(
    r"(?:(?:show|tell|give|read|list)(?: me)? )?(?:all )?(?:of )?(?:my|the|our) lists|what lists (?:do i have|have i "
    r"got|are there|have i made|did i make)|(?:which|what) lists do i have|how many lists do i have|"
    r"(?:what|which) (?:are )?(?:all )?(?:my|the) lists")
_BUY_Q = re.compile(r"\bneed to (?:buy|get|pick up)\b")
_COMPOUND = re.compile(r"\b(?:and|then) (?:add|remove|delete|put|take|erase|cross|mark|also)\b|\binstead\b|"
                       r"\bif not\b|\beverything\b|\border\b|^(?:\w+ )*?(?:add|put) (?:in|on|to|for|from) ")
_LIST_ALIASES = {"to do": "todo", "todos": "todo", "things to do": "todo", "tasks": "todo", "task": "todo",
                 "chores": "todo", "chore": "todo", "groceries": "shopping", "grocery": "shopping",
                 "things i have to do": "todo", "errand": "todo", "errands": "todo"}
_BAD_LIST = word_set(
    "reminder reminders reminder's calendar order playlist play reading wish bucket mailing contact contacts black "
    "guest wait waiting song songs music friend friends email spotify netflix watch movie movies video videos "
    "podcast podcasts track tracks album"
)
# Never part of a list's name: articles, prepositions, and the verbs that act on lists.
_NOT_NAME = word_set(
    "a an the my our your his her their this that these those it them to from off of on onto into in out at for "
    "with by and or add put remove delete take erase drop clear empty wipe make create start new show read see tell "
    "what is are list lists item items everything all mark tick cross check done finished get buy called named"
)
_MEDIA = re.compile(r"(?:song|songs|playlist|play list|spotify|album|track|tracks|music|podcast|video|movie|"
                    r"netflix|youtube)\b")


_REMIND_HINT = re.compile(r"\bremind(?:er)?s?\b")
_LIST_HINT = re.compile(r"\b(?:todo|to do list|shopping list)\b")


def _list_name(m: re.Match[str], group: str = "list") -> str | None:
    """The list's key ("" for "my list": the default or only one), or None when the words cannot be a name."""
    gd = m.groupdict()
    raw = gd.get(group) or gd.get("list2") or gd.get("list3") or ""
    name = _LIST_ALIASES.get(raw, raw)
    words = name.split()
    if any(w in _BAD_LIST or w in _NOT_NAME for w in words):
        return None
    return name


def list_reference(core: str) -> str | bool | None:
    """The list a message names ("" for the default), None when it names none, False for one we do not keep."""
    if _MEDIA.search(core):
        return False
    for m in re.finditer(rf"\b(?:{_LIST_REF})\b", core):
        name = _list_name(m)
        if name is not None:
            return name
        return False
    return None


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

    if _MEDIA.search(core):
        return None  # "add this song to my playlist": not one of our lists
    if _ALL_LISTS.fullmatch(q) or _ALL_LISTS.fullmatch(core):
        return Candidate("task_list", FULL, {"all": True})
    m = full_match(_LIST_CREATE, core)
    if m:
        name = _list_name(m, "name") if m["name"] else _list_name(m)
        ok = name is not None
        return Candidate("list_create", FULL if ok else WEAK, {"list": name} if name else {}, answerable=ok, full=ok)
    m = full_match(_TASK_ADD_NOTHING, core)
    if m:
        name = _list_name(m)
        ok = name is not None
        return Candidate("task_add", FULL if ok else WEAK, {"list": name, "task": ""} if name else {},
                         answerable=ok, full=ok)
    compound = bool(_COMPOUND.search(core))
    weak: Candidate | None = None
    for rx, intent in ((_TASK_CLEAR, "task_clear"), (_TASK_ADD, "task_add"), (_TASK_REMOVE, "task_remove"),
                       (_TASK_DONE, "task_done")):
        m = full_match(rx, core)
        if m is None:
            continue
        name = _list_name(m)
        ents: dict[str, object] = {"list": name} if name else {}
        if m.groupdict().get("task"):
            ents["task"] = span(m, "task")
        ok = name is not None and not compound and (intent == "task_clear" or bool(ents.get("task")))
        if ok:
            return Candidate(intent, FULL, ents)
        # A reading that fails (a list "called" "eggs from") must not hide the next: "delete eggs from list".
        weak = weak or Candidate(intent, WEAK, ents, answerable=False, full=False)
    if weak is not None:
        return weak
    m = full_match(_TASK_CHECK, q)
    if m:
        name = _list_name(m)
        if name is not None and not compound:
            return Candidate("task_list", STRONG, {**({"list": name} if name else {}), "query": span(m, "task")})
    m = full_match(_TASK_LIST, q) or full_match(_TASK_LIST, core)
    if m:
        name = "shopping" if _BUY_Q.search(q) else _list_name(m)
        if name is not None:
            return Candidate("task_list", FULL, {"list": name} if name else {})
    if _LIST_HINT.search(core):
        return Candidate("task_list", WEAK, answerable=False, full=False)
    return None


def valid_list_name(text: str) -> str | None:
    """A list name typed on its own ("packing", "the groceries list"), or None when it cannot be one."""
    words = [w for w in text.lower().split() if w not in ("the", "my", "a", "an", "list", "called", "named")]
    if not 1 <= len(words) <= 2:
        return None
    name = _LIST_ALIASES.get(" ".join(words), " ".join(words))
    if any(w in _BAD_LIST or w in _NOT_NAME or not w.isalpha() for w in name.split()):
        return None
    return name
