"""Closed-vocabulary matchers for questions people phrase in endless ways but with few distinct words.

"can you walk me through the items on my reminder list" or "what names do you have saved for me" vary too
much for one regex, yet every word in them is either a cue or glue. A message is accepted only when all
of its words come from the intent's vocabulary and its cues are present, so unknown content words (a
shop name, "calendar", "email") always push it to the LLM.
"""

from __future__ import annotations

import re

from .common import FULL, STRONG, Candidate
from .common import word_set as _words

_GLUE = _words(
    "a all am an and any anything are as at back be can could currently did do does each entire every "
    "everything for from full go going got had has have hear i i'm in is it just know let like list listed m"
    "e "
    "my need now of on out over please read repeat right say see show so some still tell that the them there "
    "these they things this those through to today tomorrow want was we were what which will with would you "
    "again also whole complete current tonight this week rundown content contents items item look looking lo"
    "oks "
    "state speak describe iterate walk check give get read out loud up set made make include included added "
    "put jot down remind whether if you're your per far about"
)
_READ_CUES = _words("what which read tell show repeat list say hear see describe iterate walk check give "
                       "rundown know look state speak recall recite")
_MUTATE = re.compile(r"^(?:(?:can|could|would|will) you |please )?(?:get|order|buy|i (?:need|want|would like)"
                     r"(?: to have)? (?:everything|all))\b|^(?:please )?(?:add|put|remove|delete|take|erase|"
                     r"clear|cross|mark|change|update|create|"
                     r"make|set|schedule|move|rename|empty|wipe|cancel)\b|\b(?:and|then) (?:add|remove|delet"
                     r"e|put)\b|"
                     r"\b(?:please add|add (?:it|them|if)|if not|if (?:it|they) (?:is|are) not|order)\b|"
                     r"\b(?:get|have|want|need|buy)(?: all)? (?:everything|the things|all the things)\b")

_REMINDER_REF = re.compile(r"\b(?:reminders?(?: list)?|list of reminders?|reminder's|"
                           r"(?:i|we) (?:wanted|want|was trying|needed|had wanted) to (?:recall|bear in mind|"
                           r"keep in mind)|did i not want to forget|things? (?:i|that i) "
                           r"(?:wanted|want|was trying|were trying|asked you|told you to help me|had wanted|"
                           r"needed|was supposed) to remember|(?:i|we) (?:wanted|want|was trying|asked you|"
                           r"had wanted|needed) to remember|list of things to remember(?: for later)?|"
                           r"what i asked you to remember)\b")
_TODO_REF = re.compile(r"\b(?:todo(?: list)?|list of (?:things (?:i have |i need )?to do|tasks(?: to complet"
                       r"e| to "
                       r"accomplish)?|chores|todos?)|(?:task|chore|errand|tasks) list|(?:my|the) tasks|chore"
                       r"s|"
                       r"(?:i have|i need|i've got|is left|do i have) to do)\b")
_SHOP_REF = re.compile(r"\b(?:shopping|grocery|groceries) list\b")
_MEMBER = re.compile(r"^(?=.*\b(?:on|in) (?:my|the|it)\b|check (?:my|the)\b)(?:is|are|will|"
                     r"(?:when|at what time) is|do i (?:already )?have|(?:does|do) (?:my|the) .+ have|"
                     r"did i make a note|did i (?:add|put|include|jot down)|have i (?:added|put)|"
                     r"(?:check|look|see) (?:to see )?(?:if|whether)|(?:tell me |let me know )?(?:if|whether"
                     r")|"
                     r"confirm that|check my .+? (?:for|to see if))\b")

_NAME_VOCAB = _words(
    "what is my name names nickname first full user username do you have saved save listed list stored for m"
    "e "
    "as under by call calls refer to address reference know remember think i am called known the that your i"
    "n "
    "system tell say guess show can could would will please so huh again people use when addressing talking "
    "about of did how it a certain are going be referred like might if were smart any idea let need want wro"
    "te "
    "format regarding identity designation which who believe mine usually current spell spelled nym associat"
    "e "
    "with there currently okay refer referring think programmed way form appear appears sentence able its "
    "does saved"
)
_NAME_CUE = re.compile(r"\bmy (?:first |full |user |current |nick)?names?\b|\bnames? (?:\w+ )?(?:for|of) me"
                       r"\b|"
                       r"\b(?:call|refer to|address|reference|know|think of|referred to as|called) (?:me|i a"
                       r"m)\b|"
                       r"\bnames? (?:\w+ ){1,4}for me\b|"
                       r"\bi (?:am|be) (?:called|referred to|known)\b|\bwho (?:do you think )?i am\b|"
                       r"\bmy designation\b")
_NAME_BLOCK = re.compile(r"\b(?:change|new|different|else|instead|stop|prefer|rather|start|from now on|"
                         r"(?:call|refer to|address) you|(?:should|can|do|could) i name you|your name(?! for"
                         r" me)|i am (?!called|known)\w+$)\b")
_NAME_QWORD = re.compile(r"^(?:so )?(?:what|how|which|who|do|does|can|could|would|will|is|say|guess|tell|sho"
                         r"w|are|"
                         r"let|i want|i need|by what|in what|regarding|you|the name|if|my name is what)\b")

_HELP_VOCAB = _words(
    "what which things thing questions question stuff tasks topics subjects subject areas area commands comm"
    "and "
    "queries skills information features requests functions capabilities abilities kinds kind sorts sort typ"
    "es "
    "type can could may should do am are i you help me with answer answering ask asked assist handle respond "
    "accept know about complete for be able allowed programmed to familiar versed well knowledgable "
    "knowledgeable good at aware of comprehend best partial that the all else exactly other is there anythin"
    "g "
    "use using benefit get how certain response responses answers have give of a list my your some "
    "permissible ai tell let show please would like want need wish understand support offer capable "
    "something categories category info different doing and on types any in areas accomplish benefit from "
    "cannot not"
)
_HELP_CUE = re.compile(r"\b(?:ask|help|assist|answer|answering|do|know|capabilities|abilities|skills|command"
                       r"s|"
                       r"familiar|versed|knowledgable|knowledgeable|capable|comprehend|aware|respond|respons"
                       r"e|"
                       r"answers|use|using|questions|subjects|topics|complete|handle|accept)\b")
_HELP_YOU = re.compile(r"\b(?:you|your|ai)\b|\bmy list of commands\b|\bquestions (?:are )?permissible\b")
_HELP_QWORD = re.compile(r"^(?:what|which|how|can i|are there|is there|tell me|let me know|i need to know|"
                         r"i want to know|i wish to know|i would like to know|please inform me|are you famil"
                         r"iar|"
                         r"what am i|can you)\b")
_HELP_BLOCK = re.compile(r"\b(?:answer to|like to|about (?:the|my|a|this|that)|with (?:my|the|a|this|that)|d"
                         r"o (?:about|for) (?:the|my|"
                         r"a|this)|you know about|anything i need|help me with (?:my|the|a|this|that))\b")


def _unknown(tokens: list[str], vocab: frozenset[str]) -> list[str]:
    return [t for t in tokens if t not in vocab]


def match_list_read(q: str, core: str) -> Candidate | None:
    """Reading back the reminders or a task list, or asking whether something is on it."""
    if _MUTATE.search(core):
        return None
    is_reminder = bool(_REMINDER_REF.search(q))
    shop = _SHOP_REF.search(q)
    todo = _TODO_REF.search(q)
    if not (is_reminder or shop or todo) or _MUTATE.search(q):
        return None
    if is_reminder and (shop or todo):
        return None
    intent = "reminder_list" if is_reminder else "task_list"
    ents: dict[str, object] = {} if is_reminder else {"list": "shopping" if shop else "todo"}
    tokens = q.split()
    unknown = _unknown(tokens, _GLUE | {"reminder", "reminders", "todo", "task", "tasks", "chores", "chore",
                                        "shopping", "grocery", "groceries", "remember", "asked", "trying",
                                        "wanted", "errand", "told", "help", "left", "accomplish", "supposed",
                                        "later", "earlier", "before", "to-do", "points", "various",
                                        "dictated",
                                        "domestic", "somethings", "recall", "forget", "bear",
                                        "mind", "not", "recite", "note", "does", "keep", "how", "many",
                                        "wonder"})
    if not unknown:
        cued = any(t in _READ_CUES for t in tokens + core.split())
        if not cued and not q.startswith(("do i have", "how many")):
            return Candidate(intent, STRONG - 0.1, ents, full=False)
        return Candidate(intent, FULL, ents)
    if _MEMBER.search(q) and len(unknown) <= 6:
        return Candidate(intent, STRONG, {**ents, "query": " ".join(unknown)})
    return Candidate(intent, 0.6, ents, answerable=False, full=False)


def match_name_question(q: str, core: str) -> Candidate | None:
    """"what do you call me", "what name do you have saved for me": the user's name, read back."""
    asked = _NAME_QWORD.search(q) or _NAME_QWORD.search(core)
    if not _NAME_CUE.search(q) or _NAME_BLOCK.search(q) or not asked:
        return None
    if _unknown(q.split(), _NAME_VOCAB):
        return None
    return Candidate("recall", FULL, {"subject": "name"})


def match_help_question(q: str, core: str) -> Candidate | None:
    """"what sorts of subjects are you well versed in": asking what the agent can do."""
    to_agent = _HELP_YOU.search(q) or _HELP_YOU.search(core)
    asked = _HELP_QWORD.search(q) or _HELP_QWORD.search(core)
    if not (_HELP_CUE.search(q) and to_agent and asked):
        return None
    if _HELP_BLOCK.search(q):
        return None
    if _unknown(q.split(), _HELP_VOCAB):
        return None
    return Candidate("help", FULL)


# Small talk: thanks, farewells and greetings are made of a few hundred words and recombined freely
# ("this was fun, see you around, bye"). Negations and "but" are left out so complaints never pass.
_SOCIAL_VOCAB = _words(
    "a again all always an and anyway appreciate appreciated are around as assist assistance at bye care cha"
    "t "
    "chatting conversation day did do doing enjoyed evening for fun glad good goodbye grateful gratitude gre"
    "at "
    "had have help helped helping i i'm it is just later lovely me much my nice night now of ok okay our out "
    "pleasure really see sincere so soon special speak speaking take talk talking thank thankful thanks that "
    "the this to today very was well what with wonderful you your have has been time was it's am happy "
    "answer answers info information kind kindly lot such awesome amazing excellent perfect cool fantastic "
    "brilliant truly deeply most heartfelt big huge you've gave given giving everything everyone friend budd"
    "y "
    "ai assistant always tonight tomorrow next catch bit while go going need must gotta got leave leaving "
    "head heading off run running sign signing now then more once many million bunch ton warm regards "
    "cheers"
)
_FAREWELL = re.compile(r"\b(?:bye|goodbye|see you|talk (?:to you )?(?:later|soon)|catch you later|take care|"
                       r"good night|have a (?:good|nice|great|lovely) (?:day|night|evening|one)|i (?:have|ne"
                       r"ed|must|"
                       r"gotta|got) to (?:go|run|leave|head off|sign off))\b")
_THANKFUL = re.compile(r"\b(?:thank|thanks|appreciate|appreciated|grateful|gratitude|thankful)\b")
_SOCIAL_BLOCK = re.compile(r"\b(?:what|how|when|where|why|who|which|can|could|would|should|will you|please|"
                           r"remind|set|add|tell|do you|did you|is it|are you)\b")


def match_social(text: str) -> Candidate | None:
    """Thanks and farewells built from pleasantries only; anything with content goes to the LLM."""
    tokens = text.split()
    if len(tokens) > 16 or _SOCIAL_BLOCK.search(text) or _unknown(tokens, _SOCIAL_VOCAB):
        return None
    if _FAREWELL.search(text):
        return Candidate("goodbye", STRONG)
    if _THANKFUL.search(text):
        return Candidate("thanks", STRONG)
    return None
