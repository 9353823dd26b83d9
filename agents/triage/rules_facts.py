"""Rules for facts the user tells us: remember (incl. "call me X"), recall ("what is my name") and forget."""

from __future__ import annotations

import re

from bot.places import Gazetteer, valid_zone

from .common import FULL, STRONG, WEAK, Candidate, alternatives, full_match, unwrap_ask, word_set

# Words that cannot be a name: "call me later", "call me a taxi", "my name is what".
_NOT_NAME = word_set(
    "what later back tomorrow tonight now soon when if at in on a an the this that it something someone "
    "anything by something else whatever sometime maybe please asap again right after before today who how "
    "not no yes by this new name crazy an uber a cab a taxi my your me him her them us"
)
_NAME = r"(?P<value>[^\s]+(?: [^\s]+){0,2}?)"
_NAME_TAIL = (r"(?: (?:from now on|instead(?: of .+)?|going forward|now|please|for short|from here on out|not"
              r" .+))?")
_CALL_PRE = (
    r"(?:(?:you (?:can|may|should|could)|please|just|please just|i (?:want|need|would like) you to|"
    r"i would prefer you|can you|could you|would you|will you|feel free to|from now on|please only|only|"
    r"please start|start|i prefer you|you can just|you should just) )*"
)
_CALL_ME = alternatives(
    rf"{_CALL_PRE}(?:would you (?:just )?like to )?(?:call(?:ing)?|refer(?:ring)? to|address(?:ing)?) me"
    rf"(?: as| by)?(?: the name)? {_NAME}{_NAME_TAIL}",
    rf"{_CALL_PRE}(?:speak|talk) to me as {_NAME}{_NAME_TAIL}",
    rf"(?:please )?(?:stop calling me [a-z]+ )?my (?:first |nick|preferred |new )?names? (?:is )?(?:now |act"
    rf"ually )?"
    rf"{_NAME}{_NAME_TAIL}",
    rf"(?:i go|i am going) by the name(?: of)? {_NAME}{_NAME_TAIL}",
    r"(?:i (?:usually |prefer to |would rather |like to )?go by|i am called|i am known as|i prefer to be cal"
    r"led|"
    r"i (?:would like|want|like|prefer) to be (?:called|known as|referred to as|addressed as)(?: by)?|"
    r"(?:people|my friends|everyone|they|most people|usually people) (?:call|refer to) me(?: as)?|"
    r"(?:please )?change my (?:user ?|nick)?name to|the name (?:i go by|you should call me|i want you to use)"
    r" is|the new name (?:i want you to use|for me) is|my name has changed to|"
    rf"(?:i go|i am going) by the name(?: of)?) {_NAME}{_NAME_TAIL}",
    rf"{_NAME} is my (?:name|nickname)",
    rf"the name is {_NAME}",
)
# A later "call me X" or "my name is X" wins over what came before ("stop calling me dave, call me bob").
_CALL_ME_TAIL = re.compile(
    rf"(?:^|(?<!not )(?<!never ))\b(?:(?:always |just |please |only )*(?:call|address|refer to) me(?: as| by"
    rf")?|"
    rf"my name is(?: now| actually)?) {_NAME}(?: (?:from now on|from here on out|instead|please|ok|okay|than"
    rf"ks))*$"
)
# "is joey my name", "do you think my name is jeff": checking the stored name, not setting it.
_NAME_CHECK = re.compile(r"(?:so )?(?:is (?P<v1>[a-z]+) my name|(?:do you think|is it true that|are you sure"
                         r") "
                         r"my name is (?P<v2>[a-z]+)|is my name (?P<v3>[a-z]+))(?: right| correct)?")
_QUESTION_START = re.compile(r"(?:do|does|did|is|are|was|what|how|why|can|could|would|will|should|who)\b")
_I_AM = re.compile(r"(?:(?:hi|hello|hey|well) )?i am (?P<value>[a-z]+)")
# Words that follow "i am" but are not names; plus suffix checks below for the long tail of adjectives.
_NOT_NAME_I_AM = word_set(
    "a an the not so very really just here back home done ready sure sorry fine good ok okay well bad sad ha"
    "ppy "
    "hungry thirsty tired sleepy busy sick ill lost bored lonely angry mad upset scared afraid late early ne"
    "w "
    "old young alone single married pregnant broke rich poor free out in on off up down going leaving trying "
    "looking feeling thinking wondering unsure uncertain confused grateful thankful curious interested "
    "available away awake asleep alive dead hot cold warm cool fat thin short tall big small ugly pretty "
    "smart dumb stupid crazy nervous anxious worried stressed depressed excited glad proud hurt injured "
    "fired hired retired unemployed vegan vegetarian allergic american british canadian english french "
    "german spanish italian indian chinese japanese human male female man woman boy girl kid child adult "
    "student teacher doctor nurse engineer driver parent mother father mom dad wife husband also still "
    "almost about always never currently at with from for into over under"
)
_ADJ_SUFFIX = re.compile(r"(?:ed|ing|ful|less|ous|ive|able|ible|ical|ish|ness|ment|est|er|ly|ic)$")
# "my time zone is central", "set my time zone to Paris": any place the gazetteer knows. "i am in X" only
# with a zone's own name: "i am in london" may be a trip, not a move.
_ZONE_FACT = re.compile(r"(?:my (?:time ?zone|tz) is|set my time ?zone to|change my time ?zone to|"
                        r"(?P<loose>i am in the|i am in|i live in the)) (?P<value>[a-z][a-z0-9/_+.-]*(?: [a-z]+){0,3}?)"
                        r"(?: (?:time ?zone|time))?")
_REMEMBER = re.compile(
    r"(?:please )?(?:remember|note|memorize|keep in mind|do not forget|make a note|take note|store|save)"
    r"(?: (?:this|that))?:? (?:that )?(?P<fact>.+)"
)
_FACT = re.compile(r"(?:my|our|the) (?P<subject>[^\W\d_][\w' ]{1,40}?) (?:is|are|=) (?P<value>.+)")
_GENERIC_MY = re.compile(r"my (?P<subject>[a-z][a-z' ]{1,30}?) (?:is|are) (?P<value>.+)")
_NOT_A_FACT = re.compile(r"(?:please )?(?:remember|do not forget) (?:to|when|what|how|who|where|if|whether)"
                         r"\b")
_NEGATED = re.compile(r"\b(?:not|none|no|never|nothing|nobody)\b")
_SAFE_SUBJECTS = frozenset({"name", "nickname", "time zone", "timezone", "birthday", "favourite colour",
                            "favorite color", "pronouns"})

_NAME_Q = re.compile(
    r"(?:what|whats) is my (?:first |full |user ?|nick|current )?name(?: (?:again|saved as|saved under|liste"
    r"d as|"
    r"stored as|in your system|that you have|you have))*|"
    r"(?:what|how) (?:name |nickname )?(?:do|did|will|would|are) you (?:usually )?(?:going to )?(?:call|refe"
    r"r to|"
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
    r"what do you (?:have|know) me (?:saved )?(?:as|under)|what is my name saved (?:as|under)|"
    r"(?:by )?what (?:name|nym|nickname) (?:do|did|will|would|can) (?:you|people) (?:refer to|call|use for|"
    r"have (?:saved |listed )?for|think of) me(?: by| as)?|"
    r"(?:what|how) (?:is|was) my name (?:saved|listed|stored|spelled|written)(?: as| under)?(?: in your syst"
    r"em)?|"
    r"regarding my name what is it saved as|you saved my name how|in what format did you save my name|"
    r"what (?:is|was) the name (?:that )?you (?:call me|have(?: saved| listed)? for (?:me|my identity)|use f"
    r"or me)"
    r"(?: saved as)?|(?:what )?(?:name|names) (?:that )?you have for me(?: is what)?|the name you have for m"
    r"e is what|"
    r"you have what name for me|you wrote what for my name|what do you say for my name|"
    r"(?:i want you to )?(?:say|guess|show me|tell me) (?:what )?you (?:think|believe) my name (?:is|to be)|"
    r"(?:i want you to )?guess my name|your guess of what my name is|"
    r"what (?:can|would|will|do) you (?:like to )?(?:call|refer to) me(?: as)?|"
    r"what do you think (?:you will (?:call|refer to) me(?: as)?|i am called)|what would i be (?:referred to"
    r"|called)"
    r"(?: as)?|who do you think i am|(?:do|would) you (?:know |have any idea )?(?:what|how) (?:my name is|to"
    r" refer to me|"
    r"you call me)|do you my name|is there a name (?:that )?you call me|do you call me (?:a certain|by a) na"
    r"me|"
    r"do i have a name to you|what might my name be|(?:tell me )?my designation|how do you reference me|"
    r"call me by my name|what is my name huh|what is the name you have listed for my identity|"
    r"(?:what )?names? do you have for me"
)
_RECALL = re.compile(
    r"(?:what|whats) (?:is|are|was|were) my (?P<subject>[a-z][a-z' ]{1,30}?)(?: again)?|"
    r"what did i tell you about (?P<subject2>.+)|do you remember (?:my |what my )(?P<subject3>.+?)(?: is)?|"
    r"what do you (?:know|remember) about (?:my |the )?(?P<subject4>[a-z][a-z' ]{1,30}?)"
)
_FORGET = re.compile(
    r"(?:please )?(?:forget|delete|erase|remove|drop|clear|wipe) (?:about |everything you know about |"
    r"what you know about |what i told you about |that i told you )?(?:my |the )?(?P<subject>.+?)"
    r"(?: from (?:your )?memory)?|(?:stop remembering|do not remember|you can forget) (?:my |that )?(?P<s2>."
    r"+)"
)

_FORGET_STARTS = ("forget", "please forget", "stop remembering", "do not remember", "you can forget")
_TOLD_YOU = re.compile(r"\b(?:what i told you|you know about|that my)\b")


def _clean_name(value: str) -> str | None:
    value = value.strip(" .,!'\"")
    if value.islower():
        value = value.title()  # chat is often typed in lower case; names are not
    low = value.lower()
    if not value or low in _NOT_NAME or low.split()[0] in _NOT_NAME or any(ch.isdigit() for ch in value):
        return None
    return value


def match_facts(core: str, cased: str, places: Gazetteer) -> Candidate | None:
    q = unwrap_ask(core)
    m = _NAME_CHECK.fullmatch(q)
    if m:
        value = _clean_name(m["v1"] or m["v2"] or m["v3"] or "")
        if value:
            return Candidate("recall", STRONG, {"subject": "name", "check": value})
    if _NAME_Q.fullmatch(q) or _NAME_Q.fullmatch(core):
        return Candidate("recall", FULL, {"subject": "name"})
    m = full_match(_CALL_ME, core)
    if m:
        offset = len(cased) - len(core)
        raw = cased[m.start("value") + offset: m.end("value") + offset] if offset >= 0 else m["value"]
        value = _clean_name(raw)
        if value is None:
            return Candidate("remember", STRONG, {"subject": "name"}, answerable=False)
        return Candidate("remember", FULL, {"subject": "name", "value": value})
    m = _CALL_ME_TAIL.search(core)
    if m and _clean_name(m["value"]) and not _QUESTION_START.match(core):
        offset = len(cased) - len(core)
        raw = cased[m.start("value") + offset: m.end("value") + offset] if offset >= 0 else m["value"]
        value = _clean_name(raw)
        if value:
            return Candidate("remember", STRONG, {"subject": "name", "value": value})
    m = _I_AM.fullmatch(core) or _I_AM.fullmatch(core.replace("my name ", "", 1))
    if m and m["value"] not in _NOT_NAME_I_AM and not _ADJ_SUFFIX.search(m["value"]) and len(m["value"]) > 1:
        offset = len(cased) - len(core)
        value = cased[m.start("value") + offset: m.end("value") + offset] if offset >= 0 else m["value"]
        return Candidate("remember", STRONG, {"subject": "name", "value": _clean_name(value) or value})
    m = _ZONE_FACT.fullmatch(core)
    if m:
        zone = valid_zone(m["value"]) if m["loose"] else places.zone(m["value"])
        offset = len(cased) - len(core)
        raw = cased[m.start("value") + offset: m.end("value") + offset] if offset >= 0 else m["value"]
        ents: dict[str, object] = {"subject": "time zone", "value": raw}
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
    if m and (len(m["fact"].split()) < 2 or _NEGATED.search(m["fact"])):
        m = None  # "remember me?", "remember that it is not ..." need a person to read them
    if m and not _NOT_A_FACT.match(core):
        fact = span(m, "fact")
        f = _FACT.fullmatch(fact.lower())
        ents: dict[str, object] = {"fact": fact}
        if f:
            ents["subject"] = f["subject"]
            ents["value"] = span(m, "fact")[f.start("value"):].strip()
        # "please note that i will be travelling" is a notice, not a fact to store; only "remember" is sure.
        sure = bool(f) or core.startswith(("remember", "please remember", "memorize", "keep in mind"))
        return Candidate("remember", FULL if sure else WEAK, ents, answerable=sure, full=sure)
    m = _GENERIC_MY.fullmatch(core)
    if m and m["value"] not in ("what", "who", "where", "when", "how") and not _NEGATED.search(m["value"]):
        subject = m["subject"]
        return Candidate("remember", STRONG if subject in _SAFE_SUBJECTS else WEAK,
                         {"subject": subject, "value": span(m, "value")},
                         answerable=subject in _SAFE_SUBJECTS, full=subject in _SAFE_SUBJECTS)
    q = unwrap_ask(core)
    m = _RECALL.fullmatch(q)
    if m:
        subject = (m["subject"] or m["subject2"] or m["subject3"] or m["subject4"]).strip()
        safe = subject in _SAFE_SUBJECTS
        return Candidate("recall", STRONG if safe else WEAK, {"subject": subject}, answerable=safe, full=safe)
    m = _FORGET.fullmatch(core)
    if m and core.startswith(_FORGET_STARTS):
        subject = (m["subject"] or m["s2"] or "").strip()
        # Only facts we could have been told are safe to drop without asking: "forget my birthday".
        known = subject in _SAFE_SUBJECTS or bool(_TOLD_YOU.search(core))
        return Candidate("forget", STRONG if known else WEAK, {"subject": subject},
                         answerable=known, full=known)
    return None


# Looser name phrasings, read only after the model voted for a change of name: "Robin is my name these days",
# "stop calling me Bob, I am Rob", "switch my name to Kim".
_NAME_LOOSE = (
    re.compile(r"(?:^|\b(?:but|now|actually|so)\b )(?P<value>[a-z]+) (?:is|should be|will be) (?:my|the) (?:new |"
               r"preferred |real |actual )?(?:name|nickname)\b"),
    re.compile(r"\b(?:call|address|refer to) me(?: as| by)?(?: the name)? (?P<value>[a-z]+)(?: (?:now|instead|from "
               r"now on|please|going forward|these days))*$"),
    re.compile(r"\bname (?:to|is|as|is now|should be) (?P<value>[a-z]+)(?: (?:now|instead|from now on|please|"
               r"going forward|these days))*$"),
    re.compile(r"\bi am (?P<value>[a-z]+)(?: (?:now|instead|from now on|these days))*$"),
)


def name_value(core: str, cased: str) -> str | None:
    """The new name in a message the model took for a change of name, or None when none is clear."""
    offset = len(cased) - len(core)
    for rx in _NAME_LOOSE:
        m = rx.search(core)
        if m is None:
            continue
        raw = cased[m.start("value") + offset: m.end("value") + offset] if offset >= 0 else m["value"]
        low = raw.lower()
        if low in _NOT_NAME_I_AM or (rx is _NAME_LOOSE[3] and _ADJ_SUFFIX.search(low)) or len(low) < 2:
            return None
        return _clean_name(raw)
    return None
