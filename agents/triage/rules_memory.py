"""Rules for the stateful intents: facts (remember/recall/forget), reminders and task lists."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from .common import FULL, STRONG, WEAK, Candidate, unwrap_ask
from .places import validate_zone
from .when import parse_when

# Words that cannot be a name: "call me later", "call me a taxi", "my name is what".
def _alts(*patterns: str) -> tuple[re.Pattern[str], ...]:
    # Python's re forbids a group name twice in one pattern, so alternatives sharing names compile apart.
    return tuple(re.compile(p) for p in patterns)


def _full(rxs: tuple[re.Pattern[str], ...], text: str) -> re.Match[str] | None:
    for rx in rxs:
        m = rx.fullmatch(text)
        if m:
            return m
    return None


_NOT_NAME = frozenset(
    "what later back tomorrow tonight now soon when if at in on a an the this that it something someone "
    "anything by something else whatever sometime maybe please asap again right after before today who how "
    "not no yes by this new name crazy an uber a cab a taxi my your me him her them us".split()
)
_NAME = r"(?P<value>[^\s]+(?: [^\s]+){0,2}?)"
_NAME_TAIL = r"(?: (?:from now on|instead|going forward|now|please|for short|from here on out|not .+))?"
_CALL_PRE = (
    r"(?:(?:you (?:can|may|should|could)|please|just|please just|i (?:want|need|would like) you to|"
    r"i would prefer you|can you|could you|would you|will you|feel free to|from now on|please only|only|"
    r"please start|start|i prefer you|you can just|you should just) )*"
)
_CALL_ME = _alts(
    rf"{_CALL_PRE}(?:call(?:ing)?|refer(?:ring)? to|address(?:ing)?|speak to) me(?: as| by)?(?: the name)? "
    rf"{_NAME}{_NAME_TAIL}",
    rf"my (?:first |nick|preferred |new )?name is (?:now |actually )?{_NAME}{_NAME_TAIL}",
    r"(?:i (?:usually |prefer to |would rather |like to )?go by|i am called|i am known as|i prefer to be called|"
    r"i (?:would like|want|like|prefer) to be (?:called|known as|referred to as|addressed as)(?: by)?|"
    r"(?:people|my friends|everyone|they|most people|usually people) (?:call|refer to) me(?: as)?|"
    r"(?:please )?change my (?:user ?|nick)?name to|the name (?:i go by|you should call me|i want you to use)"
    r" is|the new name (?:i want you to use|for me) is|my name has changed to|"
    rf"(?:i go|i am going) by the name(?: of)?) {_NAME}{_NAME_TAIL}",
    rf"{_NAME} is my (?:name|nickname)",
)
_ZONE_FACT = re.compile(r"(?:my (?:time ?zone|tz) is|i am in the|i am in|set my time ?zone to|"
                        r"i live in the|change my time ?zone to) (?P<value>[a-z][a-z0-9/_+-]*)(?: (?:time ?zone|time))?")
_REMEMBER = re.compile(
    r"(?:please )?(?:remember|note|memorize|keep in mind|do not forget|make a note|take note|store|save)"
    r"(?: (?:this|that))?:? (?:that )?(?P<fact>.+)"
)
_FACT = re.compile(r"(?:my|our|the) (?P<subject>[a-z][a-z' ]{1,40}?) (?:is|are|=) (?P<value>.+)")
_GENERIC_MY = re.compile(r"my (?P<subject>[a-z][a-z' ]{1,30}?) (?:is|are) (?P<value>.+)")
_SAFE_SUBJECTS = frozenset({"name", "nickname", "time zone", "timezone", "birthday", "favourite colour",
                            "favorite color", "pronouns"})

_NAME_Q = re.compile(
    r"(?:what|whats) is my (?:first |full |user ?|nick|current )?name(?: (?:again|saved as|saved under|listed as|"
    r"stored as|in your system|that you have|you have))*|"
    r"(?:what|how) (?:name |nickname )?(?:do|did|will|would|are) you (?:usually )?(?:going to )?(?:call|refer to|"
    r"address|know|have saved|have listed|have stored|save|list) (?:for )?me(?: as| by| under)?|"
    r"(?:what|which) (?:name|nickname|names) (?:do|did|will) you (?:have|use|call|know)(?: saved| listed)?"
    r"(?: for| to (?:call|address|talk about)| when addressing)? me(?: by| as)?|"
    r"(?:do|can|could|would) you (?:know|remember|tell me|say|guess|recall) (?:what )?my name(?: is)?|"
    r"(?:say|guess) my name(?: if you know it)?|my name is what|you (?:call|refer to) me (?:as )?what|"
    r"what (?:am i|am i called|am i known as)(?: by you| to you)?|what name am i under|"
    r"how (?:did|do) you (?:save|spell|say|list) my name|what did you save my name as|"
    r"what is (?:the|your) name (?:you (?:have|use) )?for me|what name is mine|what do you call me|"
    r"what is the name you (?:call me|have for me|associate with me|use for me)|"
    r"(?:what is )?my name(?: please)?\??|who am i to you|what names do you have for me|"
    r"what do you (?:have|know) me (?:saved )?(?:as|under)|what is my name saved (?:as|under)"
)
_RECALL = re.compile(
    r"(?:what|whats) (?:is|are|was|were) my (?P<subject>[a-z][a-z' ]{1,30}?)(?: again)?|"
    r"what did i tell you about (?P<subject2>.+)|do you remember (?:my |what my )(?P<subject3>.+?)(?: is)?"
)
_FORGET = re.compile(
    r"(?:please )?(?:forget|delete|erase|remove|drop|clear|wipe) (?:about |everything you know about |"
    r"what you know about |what i told you about |that i told you )?(?:my |the )?(?P<subject>.+?)"
    r"(?: from (?:your )?memory)?|(?:stop remembering|do not remember|you can forget) (?:my |that )?(?P<s2>.+)"
)

_REMIND_SET = re.compile(
    r"(?:(?:can|could|would|will) you |please |i (?:need|want) you to |i want you to |i would like you to |"
    r"do not forget to |be sure to |make sure to )*(?:remind me|tell me(?= to )) (?:to |that |about |of |when |"
    r"(?=(?:in|at|on|tomorrow|tonight|next|every|this)\b))?(?P<text>.*)|"
    r"(?:(?:can|could|would|will) you |please |i (?:need|want|would like) (?:to |you to )?|help me )*"
    r"(?:set|add|make|create|schedule|put|give me|i need|i want|new|open|start|set up|make me) (?:up )?"
    r"(?:a |an |the |another |my )?(?:new )?(?:reminder|alarm|timer|notification)(?: for me)?(?: up)?"
    r"(?:,? (?:to |that |for |about |of |at |in |on )?(?P<text2>.*))?|"
    r"(?:do not|do not) let me forget (?:to |about )?(?P<text3>.+)|wake me(?: up)? (?P<text4>(?:at|in|tomorrow).*)|"
    r"i (?:need|want|would like) (?:to be|to get) (?:reminded|notified|woken) (?:to |about |of )?(?P<text5>.*)|"
    r"(?:set|start) (?:a |the )?(?P<d>.+?) (?:timer|alarm|countdown)(?P<text6>.*)"
)
# "remind me what we discussed": asks to recall, not to schedule.
_LEAD_WHEN = re.compile(r"(?P<when>(?:in|at|on|every|each|tomorrow|tonight|next|this)\b.{1,40}?),? "
                        r"(?P<rest>(?:please )?remind me .+)")
_REF_NOW = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
_REMIND_NOT = re.compile(r"^(?:(?:can|could|would|will) you |please )*remind me (?:of |about )?(?:what|who|where|how|which|why|whether|if|the date|"
                         r"the time|my name|your)\b")
_REMIND_LIST = re.compile(
    r"(?:what|which) (?:are |is |were )?(?:all )?(?:my |the |the items on my |on my |in my |the things on my )?"
    r"(?:current )?(?:reminders|reminder list|list of reminders)(?: (?:do i have|have i (?:got|set)|did i (?:set|make|have)"
    r"|i have(?: set)?|are there|for (?:today|tomorrow|this week)|today))*|"
    r"(?:what|which) reminders (?:do i have|have i (?:got|set)|did i (?:set|make|have)|i have|are (?:set|there))"
    r"(?: (?:set|today|for today|up))*|(?:read|list|show|repeat|check|go (?:over|through)|read back|read out|"
    r"walk me through|iterate|review|see|hear|get)(?: me| back)?(?: to me)? (?:all )?(?:of )?(?:my |the )?"
    r"(?:current )?(?:reminders|reminder list|list of reminders)(?: list)?(?: (?:to me|back|please|for me|today))*|"
    r"(?:all )?(?:my |the )?(?:current )?(?:reminders|reminder list|list of reminders)|"
    r"what is (?:now |currently )?(?:on|in) (?:my |the )?(?:reminder list|list of reminders|reminders(?: list)?)"
    r"(?: today)?|do i have any reminders(?: set| today| for today| for tomorrow)?|"
    r"(?:what|which) (?:things |items )?(?:did i (?:want|ask you|ask) to (?:remember|be reminded (?:of|about))|"
    r"have i asked you to remind me(?: of| about)?)|any reminders|"
    r"(?:what|which) (?:items |things )?(?:are|is) (?:on|in) (?:my |the )?(?:reminders?|list of reminders)(?: list)?|"
    r"(?:what|which) (?:items |things )?(?:do i have|have i got|did i (?:put|add|list|include)) (?:on|in) (?:my |the )?"
    r"(?:reminders?(?: list)?|list of reminders)|(?:the )?items on my (?:reminders?|reminder list)"
)
_REMIND_CHECK = re.compile(
    r"(?:is|are) (?P<q1>.+?) (?:already )?(?:on|in) (?:my |the )?(?:list of reminders?|reminders?(?: list)?)(?: currently)?|"
    r"(?:is there|do i have|did i (?:set|set up|request|add|make|create)) (?:a |any )?reminders? (?:set )?"
    r"(?:for|to|about|that) (?P<q2>.+?)(?: on my list)?|check my reminders (?:for|to see if) (?P<q3>.+)"
)
_LIST_NAME = r"(?P<list>todo|shopping|grocery|groceries|[a-z]+(?: [a-z]+)?)"
_LIST_REF = rf"(?:my |the |our )?(?:{_LIST_NAME} list|list of (?P<list2>things to do|tasks|chores|todos?)|(?P<list3>todo|tasks|chores)(?: list)?)"
_TASK_LIST = _alts(
    rf"(?:what|which) (?:items |things |tasks )?(?:is|are) (?:on|in) {_LIST_REF}(?: (?:today|for today|right now|now))*",
    r"(?:read|list|show|repeat|go (?:over|through)|read back|read out|walk me through|iterate|review|see|hear|"
    r"get|open|check|display)(?: me| back)?(?: to me)? (?:all |everything |the items |the tasks )?(?:on |in |of )?"
    rf"{_LIST_REF}(?: (?:to me|back|please|for me|today|items|out loud))*",
    rf"{_LIST_REF}(?: items)?",
    rf"what (?:does|do) {_LIST_REF} (?:look like|say|have on it|contain|consist of)(?: today)?",
    r"what (?:do i have|have i got|is there|is left|tasks do i have|do i need|do i still need) to do"
    r"(?: today| tomorrow)?",
    rf"what (?:is|do i have) (?:on|in) {_LIST_REF}(?: (?:today|for today|right now|now))*",
    r"(?:what are )?(?:my |the )?tasks for today(?: what are they)?|what (?:are )?my tasks(?: for today)?|"
    r"what tasks do i have(?: today)?",
    rf"what (?:things|items) (?:do i have|are there) (?:on|in) {_LIST_REF}",
)
_TASK_CHECK = _alts(rf"(?:is|are|do i have|did i (?:put|add)|have i (?:put|added)) (?P<task>.+?) "
                         rf"(?:already )?(?:on|in|to) {_LIST_REF}(?: (?:today|right now|already))*")
_TASK_ADD = _alts(
    r"(?:(?:can|could|would|will) you |please |i (?:need|want) (?:you )?to |go ahead and |can i )*"
    r"(?:add|put|write|stick|place|include|jot down|note down|save|append) (?P<task>.+?) (?:to|on|onto|in|into) "
    rf"{_LIST_REF}",
    rf"{_LIST_REF} add (?P<task>.+)",
)
_TASK_REMOVE = _alts(
    rf"(?:(?:can|could|would|will) you |please |i (?:need|want) (?:you )?to |go ahead and |you can )*"
    rf"(?:remove|delete|take|erase|drop|scratch|strike) (?P<task>.+?) (?:off|from|off of) {_LIST_REF}"
)
_TASK_DONE = _alts(
    r"(?:(?:can|could|would|will) you |please |go ahead and )*(?:mark|check|tick|cross) (?P<task>.+?) "
    rf"(?:as )?(?:done|complete|completed|finished|off)(?: (?:on|from) {_LIST_REF})?",
    rf"i (?:have )?(?:finished|completed|done) (?P<task>.+?) (?:on|from) {_LIST_REF}",
)
_TASK_CLEAR = _alts(
    r"(?:(?:can|could|would|will) you |please |i (?:need|want) (?:you )?to |go ahead and )*"
    r"(?:clear|empty|wipe|blank out|reset|erase|delete|remove)(?: out)? (?:all (?:items |tasks |of |the items )?"
    rf"(?:on |in |from )?|everything (?:on |in |from )?|all the (?:items|tasks) (?:on |in |from ))?{_LIST_REF}"
    r"(?: (?:out|completely))?",
    rf"make {_LIST_REF} (?:blank|empty)",
)
_COMPOUND = re.compile(r"\b(?:and|then) (?:add|remove|delete|put|take|erase|cross|mark|also)\b|\binstead\b")
_LIST_ALIASES = {"to do": "todo", "todos": "todo", "things to do": "todo", "tasks": "todo", "task": "todo",
                 "chores": "todo", "chore": "todo", "groceries": "shopping", "grocery": "shopping",
                 "things i have to do": "todo", "errand": "todo", "errands": "todo"}
_BAD_LIST = frozenset({"reminder", "reminders", "reminder's", "calendar", "order", "playlist", "play", "reading", "wish", "bucket", "mailing", "contact", "contacts", "black",
                       "guest", "wait", "waiting", "song", "music", "friend", "friends", "email"})


def _list_name(m: re.Match[str]) -> str | None:
    gd = m.groupdict()
    raw = gd.get("list") or gd.get("list2") or gd.get("list3") or "todo"
    name = _LIST_ALIASES.get(raw, raw)
    return None if name in _BAD_LIST else name


def _clean_name(value: str) -> str | None:
    value = value.strip(" .,!'\"")
    low = value.lower()
    if not value or low in _NOT_NAME or low.split()[0] in _NOT_NAME or any(ch.isdigit() for ch in value):
        return None
    return value


def match_facts(core: str, cased: str) -> Candidate | None:
    q = unwrap_ask(core)
    if _NAME_Q.fullmatch(q) or _NAME_Q.fullmatch(core):
        return Candidate("recall", FULL, {"subject": "name"})
    m = _full(_CALL_ME, core)
    if m:
        offset = len(cased) - len(core)
        value = _clean_name(cased[m.start("value") + offset: m.end("value") + offset] if offset >= 0 else m["value"])
        if value is None:
            return Candidate("remember", STRONG, {"subject": "name"}, answerable=False)
        return Candidate("remember", FULL, {"subject": "name", "value": value})
    m = _ZONE_FACT.fullmatch(core)
    if m:
        zone = validate_zone(m["value"])
        ents: dict[str, object] = {"subject": "time zone", "value": m["value"]}
        if zone:
            ents["timezone"] = zone
            ents["value"] = zone
        return Candidate("remember", FULL if zone else WEAK, ents, answerable=zone is not None)
    return None


def match_memory(core: str, cased: str) -> Candidate | None:
    offset = len(cased) - len(core)
    def span(m: re.Match[str], g: str) -> str:
        return (cased[m.start(g) + offset: m.end(g) + offset] if offset >= 0 else m[g]).strip(" .,!\"")
    m = _REMEMBER.fullmatch(core)
    if m and not re.match(r"(?:please )?(?:remember|do not forget) (?:to|when|what|how|who|where|if|whether)\b",
                          core):
        fact = span(m, "fact")
        f = _FACT.fullmatch(fact.lower())
        ents: dict[str, object] = {"fact": fact}
        if f:
            ents["subject"] = f["subject"]
            ents["value"] = span(m, "fact")[f.start("value"):].strip()
        return Candidate("remember", FULL, ents)
    m = _GENERIC_MY.fullmatch(core)
    if m and m["value"] not in ("what", "who", "where", "when", "how"):
        subject = m["subject"]
        return Candidate("remember", STRONG if subject in _SAFE_SUBJECTS else WEAK,
                         {"subject": subject, "value": span(m, "value")},
                         answerable=subject in _SAFE_SUBJECTS, full=subject in _SAFE_SUBJECTS)
    q = unwrap_ask(core)
    m = _RECALL.fullmatch(q)
    if m:
        subject = (m["subject"] or m["subject2"] or m["subject3"]).strip()
        safe = subject in _SAFE_SUBJECTS
        return Candidate("recall", STRONG if safe else WEAK, {"subject": subject}, answerable=safe, full=safe)
    m = _FORGET.fullmatch(core)
    if m and core.startswith(("forget", "please forget", "stop remembering", "do not remember", "you can forget")):
        subject = (m["subject"] or m["s2"] or "").strip()
        # Only facts we could have been told are safe to drop without asking: "forget my birthday".
        known = subject in _SAFE_SUBJECTS or bool(re.search(r"\b(?:what i told you|you know about|that my)\b", core))
        return Candidate("forget", STRONG if known else WEAK, {"subject": subject}, answerable=known, full=known)
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
        group = next((g for g in ("text", "text2", "text3", "text4", "text5", "text6") if m[g] is not None), None)
        text = (m[group] or "") if group else ""
        start, end = m.span(group) if group else (len(core), len(core))
        return Candidate("reminder_set", FULL, {"_text_span": (start, end), "text": text.strip()})
    if re.search(r"\bremind(?:er)?s?\b", core):
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
        m = _full(rx, core)
        if m:
            name = _list_name(m)
            ents: dict[str, object] = {"list": name or "todo"}
            if m.groupdict().get("task"):
                ents["task"] = span(m, "task")
            ok = name is not None and not compound and (intent == "task_clear" or bool(ents.get("task")))
            return Candidate(intent, FULL if ok else WEAK, ents, answerable=ok, full=ok)
    m = _full(_TASK_CHECK, q)
    if m:
        name = _list_name(m)
        return Candidate("task_list", STRONG, {"list": name or "todo", "query": span(m, "task")},
                         answerable=name is not None)
    m = _full(_TASK_LIST, q) or _full(_TASK_LIST, core)
    if m:
        name = _list_name(m)
        return Candidate("task_list", FULL, {"list": name or "todo"}, answerable=name is not None)
    if re.search(r"\b(?:todo|to do list|shopping list)\b", core):
        return Candidate("task_list", WEAK, answerable=False, full=False)
    return None
