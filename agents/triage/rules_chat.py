"""Rules for the conversational intents: time, date, greeting, goodbye, thanks and help."""

from __future__ import annotations

import re

from bot.places import Gazetteer

from .common import FULL, STRONG, WEAK, Candidate, unwrap_ask
from .lexicon import NUM_WORD_RX, word_number

_NOW = r"(?: (?:now|right now|currently|exactly|at the moment|presently|at present|please|today))*"
_PLACE = r"(?P<place>[a-z][a-z' .,/_-]{1,48}?)"
_TIME_CORE = (
    r"(?:what|which) (?:is |will be |would be )?(?:the )?(?:current |exact |present |local |correct |actual "
    r")*"
    r"(?:time(?: of day)?|hour)(?: (?:is it|it is|would it be|is it getting to be|set to|is showing|right no"
    r"w|now))?"
)
_TIME_FULL = [
    re.compile(rf"{_TIME_CORE}{_NOW}(?: (?:in|at|for|over in|out in|on) (?:the )?{_PLACE})?{_NOW}"),
    re.compile(rf"(?:the )?(?:current |exact |local )*time(?: (?:in|at|for) (?:the )?{_PLACE})?{_NOW}"),
    re.compile(rf"(?:in|at|for) (?:the )?{_PLACE},? (?:{_TIME_CORE}|(?:the )?(?:current )?time){_NOW}"),
    re.compile(rf"(?:{_TIME_CORE}|(?:the )?current time){_NOW} (?P<abbr>[a-z]{{2,12}}(?: standard)?) "
               r"(?:time|timezone|time zone)"),
    re.compile(rf"(?:what|which) is the (?:current |exact )?(?P<abbr2>[a-z]{{2,12}}) time{_NOW}"),
    re.compile(rf"(?:{_TIME_CORE}|(?:the )?current time){_NOW} (?P<abbr3>[a-z]{{2,4}})"),
    re.compile(r"(?:do you have|have you got|have you|got|you got|do you know) the (?:current |correct )?time"
               r"(?: on you)?|what time do you have(?: on your (?:watch|clock))?|what hour and minute is it|"
               r"what (?:does|is) (?:it say on )?the clock(?: say)?|how late is it|when is it right now|how "
               r"is the time|"
               r"what time is it getting to be|what o'clock is it|time check|time now|time please|time\??"),
    re.compile(r"(?:what time it is|the time|the current time)(?: (?:in|at) (?:the )?"
               rf"{_PLACE})?{_NOW}"),
]
# "what time does the pharmacy close", "what time is my meeting": a time question about something else.
_TIME_OTHER = re.compile(r"\bwhat time (?:does|do|did|will|should|can|is (?:my|the|our|it (?:going|supposed)"
                         r")|"
                         r"are|was|were)\b|\b(?:what|which) (?:time ?zone|timezone)\b|\btime difference\b|"
                         r"\b(?:time) (?:to|for|until|till)\b")
_TIME_LEAD = re.compile(r"^(?:at the moment|right now|now|currently|presently|so|given my time),? ")

_OFFSET = re.compile(
    rf"\b(?:(?:for|of|on) )?(?:in |after )?(?:another )?(?P<n>\d+|{NUM_WORD_RX}|a|one) (?P<u>days?|weeks?)(?"
    rf": (?:from (?:now|today)|later|"
    r"after today|time|ahead))?\b|\b(?:(?:for|of|on) )?(?P<tom>(?:the )?day after tomorrow|tomorrow(?:'s)?|y"
    r"esterday(?:'s)?)\b|"
    r"\b(?P<next>the next day|the following day|next day)\b|\b(?P<nweek>(?:in )?a week(?: from (?:now|today)"
    r")?|"
    r"next week|this time next week)\b"
)
_DATE_WORD = r"(?:date|day|day of the week|day of the month|month and day|month|year|full date|weekday)"
_DATE_FULL = [
    re.compile(rf"(?:what|which) (?:is |was |will be |would be |is going to be )?(?:the |today's |the curren"
               rf"t |"
               rf"current )?(?:current |exact |full |actual )?{_DATE_WORD}(?:(?: and)? (?:year|date|month|da"
               rf"y))*"
               r"(?: (?:is it|it is|is today|today is|will it be|will be|would it be|is it going to be|"
               r"it will be|is that|of today|for today|is|be|will that be|on the calendar))?"
               r"(?: (?:today|now|right now|currently|please|exactly|then|again))*"),
    re.compile(rf"(?:today's |the current |current |the |the full |the exact )?{_DATE_WORD}"
               r"(?: (?:today|now|please|for today|of today|exactly))*(?: is what(?: exactly)?)?"),
    re.compile(r"(?:what is |what will be |what would be )?(?:the )?date(?: will be| would be| is)?"
               r"(?: today| then)?(?: please)?"),
    re.compile(rf"(?:today|today is) (?:is )?what(?: {_DATE_WORD})?|what is today|what day it is(?: today)?|"
               rf"what date it is(?: today)?|what (?:the )?date (?:it )?is(?: today)?|today is the what|"
               r"what (?:will|would) (?:the date|it) be|what will it be|when will it be|"
               r"what (?:date|day) (?:will|would) (?:it )?be|what is the date going to be|"
               r"what (?:date|day) (?:is it going to|will it) be|which day will it be|what (?:date|day) it w"
               r"ill be|"
               r"(?:the )?date will be what|what today is|what day today is|what today's date is|"
               r"what (?:would|will) (?:the )?date be|(?:do you have|have you got|you got) (?:the|today's) d"
               r"ate|"
               r"what is (?:the )?date (?:going to be|gonna be)|(?:the )?(?:date|day) (?:it )?(?:will|would)"
               r" be|"
               r"what day (?:of the week |of the month )?(?:are we on|are we in|is this)"),
]
_BARE_DATE_Q = re.compile(r"^(?:what|which) (?:is )?(?:the )?date (?:is |will it be |will be )?$")
_DATE_BAD = re.compile(r"\b(?:due|of the (?!week|month|year)|for the|election|holiday|meeting|payday|birthda"
                       r"y|appointment|"
                       r"expire|expiration|deadline|trip|flight|party|event|exam|game|my)\b")
_WEEKDAY_Q = re.compile(r"is (?:it|today) (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
                        r"(?:,? (?:or )?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday))*(?: to"
                        r"day)?")

_ADDRESSEE = (r"(?:there|friend|buddy|pal|mate|ai|assistant|bot|everyone|all|you|siri|alexa|bandit|fellow|dea"
              r"r)")
_HELLO = (r"(?:hi|hello|hey|hiya|howdy|hola|bonjour|aloha|greetings(?: to you)?|salutations|ahoy(?: hoy)?|yo|"
          r"good (?:morning|afternoon|evening|day)|heller|sup|wassup|well hello|why hello|hey hey|hi hi|"
          r"hello hello|g'day|morning|evening|namaste|ciao|howdy do|hey ya|heyo|hey you|hi you)")
_HOW = (
    r"(?:how (?:are|r) (?:you|ya|things|things going|you doing|you feeling|you keeping)|how (?:is|are) "
    r"(?:everything|things|it going|life|your day|your day going|you|my ai|the ai|it|you doing)|"
    r"how (?:is|are) (?:everything|things|life|it) (?:going|treating you|with you|for you|been)|"
    r"how have you been(?: doing| feeling)?|how (?:goes it|you doing|do you do|do you feel|are you today)|"
    r"how (?:is|are) things with you|how are you doing|how (?:are )?you (?:been|are|doing|keeping)|how is ar"
    r"e you|"
    r"how (?:do|does) it go|how are you feeling|how have things been|"
    r"(?:are )?you (?:doing |feeling )?(?:ok|okay|well|alright|all right|good|fine)(?: right now| today)?|"
    r"what is (?:up|new|happening|going on|cracking|good)|what up|how (?:is|are) (?:you|things) holding up|"
    r"is everything (?:ok|okay|good|going okay|going well|alright)(?: with you)?|have you been (?:good|well)|"
    r"how is (?:your|the) (?:day|week|morning|evening)(?: going)?|how is it hanging|nice to meet you|"
    r"it is (?:nice|good|great) to (?:see|meet) you|good to see you|are things going well(?: for you)?)"
)
_HOW_TAIL = (r"(?: (?:doing|feeling|going|today|now|right now|this (?:fine )?(?:day|morning|evening|afternoo"
             r"n)|"
             r"on this fine day|with you|for you|then|lately|these days|ai|buddy|friend|my friend|again))*")
_GREETING = re.compile(
    rf"(?:(?:{_HELLO})(?: {_ADDRESSEE})*(?: (?:{_HELLO}))?(?: {_HOW}{_HOW_TAIL})?|(?:ai )?{_HOW}{_HOW_TAIL}|"
    r"hello,? (?:anyone|anybody) (?:there|home)|(?:i )?just wanted to say (?:hi|hello)|wake up(?: ai)?|"
    r"(?:ai )?how are you doing(?: today)?(?: on this fine day)?|(?:can you )?tell me how you(?: are|'re| ha"
    r"ve)"
    r"(?: doing| been)?(?: today)?|how is my ai doing)"
)

_WELLBEING = re.compile(r"\bhow\b|\bare you\b|\bup\b|\byou (?:ok|okay|good|alright|well)\b")
_BYE = (
    r"(?:good ?bye(?: for now| now| then)?|bye(?: bye| now| for now| then)?|bye-bye|buh ?bye|see you(?: late"
    r"r| soon| around|"
    r" again| again soon| tomorrow| next time| in a (?:bit|while)| then)?(?: alligator)?|see ya(?: later)?|"
    r"later(?: gator| gater| alligator)?|talk (?:to you |with you )?(?:later|soon|tomorrow)|catch you (?:lat"
    r"er|around)|"
    r"take (?:it easy|care)|farewell|fairwell|so long|good ?night|night night|nighty night|night|nite|adios|"
    r"sayonara|sy"
    r"onara|"
    r"ciao|cheerio|peace(?: out)?|toodles|tootles|tata for now|ta ta|ttyl|until next time|signing off|"
    r"have a (?:good|nice|great|lovely) (?:one|day|night|evening|weekend)|i (?:will|shall) talk to you later|"
    r"we will talk later|i (?:will )?see you around|(?:i am |i'm )?(?:out of here|outta here)|"
    r"i (?:have|need|got|must|gotta) (?:to )?(?:go|run|leave|get going|head out|be going|sign off)(?: now)?|"
    r"gotta (?:go|run)|i am (?:leaving|off|heading out|signing off|going)(?: now)?|i will be leaving now|"
    r"i (?:must|have to|need to|want to) say goodbye(?: now)?|i am saying goodbye(?: now)?|"
    r"it is time to (?:say goodbye|go)|time to go|that is all(?: for (?:now|today))?|that will be all|"
    r"(?:it was |that was )?(?:nice|great|good|cool|fun|lovely|pleasant|enjoyable|a pleasure|really nice|so "
    r"nice)"
    r" (?:talking|chatting|speaking|conversing|to talk|to chat|to speak|to converse|catching up|to catch up)"
    r"(?: (?:to|with) you)?(?: again| today)?|(?:great|nice|good) (?:talk|chat)(?:ting)?|"
    r"(?:it was |this was |that was |it has been |always )?(?:really |so |very )?(?:nice|great|good|cool|fun"
    r"|lovely|"
    r"pleasant|enjoyable|a pleasure|wonderful) (?:to be able )?(?:to get in touch|to talk it out|"
    r"(?:having|to have) (?:a|this|our) (?:conversation|chat|talk)|seeing you|to see you again)(?: (?:to|wit"
    r"h) you)?|"
    r"(?:this|that|it) (?:was|has been) (?:a )?(?:great|nice|good|lovely|fun) (?:conversation|chat|talk)|"
    r"(?:i am )?glad (?:we|i) got to (?:talk|chat)(?: again)?|goodbye to you|i have got to (?:run|go)(?: now"
    r")?|"
    r"(?:it was |always )?(?:really |so )?(?:nice|great|good) (?:to be able )?to (?:talk|chat|speak) (?:to|w"
    r"ith) you|"
    r"i (?:am glad|enjoyed|had fun|had a pleasure) (?:we got to talk|talking|speaking|chatting|i got to talk)"
    r"(?: (?:to|with) you)?(?: again)?|thanks for (?:chatting|talking)(?: (?:with|to) me)?)"
)
_GOODBYE = re.compile(
    rf"(?:(?:ok |okay |well |alright |thanks |thank you |oh )*(?:{_BYE})(?: (?:but |and |ai |so )?(?:{_BYE})"
    rf")*"
    rf"(?: (?:{_ADDRESSEE}|my friend|ai device|helpful ai device|ai assistant|for now|again|everyone))*)"
)

_THANK_BASE = (
    r"(?:thanks?|thank you|thank ya|thanks a (?:lot|bunch|million|ton)|many thanks|much appreciated|"
    r"much obliged|cheers|gracias|merci(?: beaucoup)?|danke(?: schon)?|ta|kudos|"
    r"(?:i )?(?:really |truly )?appreciate (?:it|that|this|the help|your help|the assistance|your assistance|"
    r"what you did|you helping me|you|that answer|the answer|all your help|everything)|"
    r"i (?:am|feel) (?:so |very |really )?(?:grateful|thankful)(?: to you)?|"
    r"i am (?:so |very |really )?(?:glad|happy|grateful) (?:that )?you (?:did|helped with) (?:that|this|it)("
    r"?: for me)?|"
    r"i (?:want to|would like to|need to|must|really|just wanted to|have to) thank you|i thank you|let me th"
    r"ank you|"
    r"i can not thank you enough|i cannot thank you enough|i owe you(?: one)?|you are (?:the best|a star|awe"
    r"some|"
    r"a lifesaver|a life saver)|you (?:have been|were|are) (?:a |so )?(?:great|big|huge|real|very|such a)? ?"
    r"(?:help|helpful)|your help is (?:much )?appreciated|that (?:helps|helped)(?: a lot)?|"
    r"(?:i have|i am full of) (?:much )?gratitude(?: for your help)?)"
)
_THANK_FOR = (
    r"(?: (?:for|with) (?:the |your |all (?:the |your )?|that |this )?(?:help|helping(?: me)?(?: out)?|assis"
    r"tance|"
    r"answer|answering(?: (?:that|my question|me))?|info|information|response|reply|time|support|cooperation"
    r"|tip|"
    r"advice|letting me know|everything|that|it|this|giving me (?:assistance|the answer)|the quick response|"
    r"your effort|doing that|the reminder|checking|looking|"
    # "thanks for explaining it", "thank you for sorting that out": any -ing verb on the reply itself
    r"(?!nothing\b|wasting\b|ruining\b)[a-z]{3,}ing(?: (?:it|that|this|me|us))?"
    r"(?: (?:out|up|so quickly|quickly|today))?))?"
)
_PRAISE = (
    r"(?:you (?:have been|were|are|did) (?:a |so |such a |very |really )?(?:big |great |huge |real |good |ni"
    r"ce |"
    r"wonderful |fantastic )?(?:help|helpful|kind|nice|thoughtful|sweet|awesome|amazing|the best|a doll|a st"
    r"ar|"
    r"a lifesaver|a life saver|a great help|job|great)(?: (?:to (?:do that|think of me)|with that))?|"
    r"(?:good|great|nice|excellent) (?:job|work|answer|looking out)(?: (?:with|on) (?:assisting|helping) me|"
    r" there)?|"
    r"well done|(?:that|this) (?:will|would) work|(?:that|this|it) (?:is|was|has been) (?:really |very |so )?"
    r"(?:perfect|great|helpful|useful|awesome|all i need(?:ed)?|exactly"
    r" what i "
    r"needed)|(?:your|that|the) (?:answer|help|response|efforts?|reply) (?:is|was|are|were) (?:much |really "
    r"|very )?"
    r"(?:appreciated|good|great|enjoyable|helpful|perfect|excellent)|your (?:answer|response) pleased me|"
    r"i am (?:so |very |really )?(?:glad|happy|pleased|grateful|thankful) (?:you helped me|with (?:your|the) "
    r"(?:answer|help)|for (?:the|your) (?:answer|help|assistance)(?: you (?:just )?gave me)?)|"
    r"your efforts do not go unnoticed|i appreciate your gesture|good looking out|you are so thoughtful|"
    r"(?:really |very )?(?:great|awesome|excellent|perfect|nice|wonderful|brilliant|fantastic|sweet)"
    r"(?: (?:great|awesome|excellent|perfect|nice|wonderful))*)"
)
_PRAISE_RX = re.compile(rf"{_PRAISE}(?: (?:and )?{_PRAISE})*")
_THANKS = re.compile(
    rf"(?:(?:ok|okay|oh|awesome|great|cool|perfect|sweet|why|well|wow|nice|excellent|good job|"
    rf"alright|brilliant|wonderful|amazing|fantastic|that is (?:great|perfect|helpful|all i need(?:ed)?))[,!"
    rf"]? )*"
    rf"(?:{_PRAISE} (?:and )?)*{_THANK_BASE}(?: (?:so|very|really) much| a lot| again| a bunch| kindly| a mi"
    rf"llion| so very much|"
    rf" you| very much)*{_THANK_FOR}(?: (?:that is|that was) (?:helpful|great|perfect|all i need(?:ed)?))?"
    rf"(?: (?:so|very) much| again)?(?: (?:and )?{_PRAISE})*(?: (?:and )?{_THANK_BASE}(?: so much| again)?)?"
)

_BARE_PRAISE = frozenset({"very nice", "really nice", "very good", "really good", "nice nice"})
_HELP = re.compile(
    r"(?:help|help me|menu|commands|/help|/start|options|"
    r"(?:what|which) (?:all |else |exactly |other )?(?:(?:kinds?|sorts?|types?) of )?(?:things|questions|stu"
    r"ff|tasks|"
    r"topics|subjects|commands|queries|skills|information|features|requests|functions)? ?"
    r"(?:can|could|may|should|do|am|are|might) (?:i|you) (?:be able to |able to |allowed to )?"
    r"(?:ask(?: you| of you)?(?: about| to do| to help with| for)?|do(?: for me)?|help(?: me)?(?: with)?(?: "
    r"exactly)?|"
    r"answer(?: for me)?|assist(?: me)?(?: with)?|handle|respond to|accept|know(?: about)?|"
    r"use you for|use you to help me with|be asked(?: about)?|support|understand|offer)(?: exactly)?|"
    r"what (?:are|is) (?:your|my) (?:list of )?(?:capabilities|skills|features|commands|functions|abilities|"
    r"options)|"
    r"what are you (?:able to (?:do|help(?: me)? with|answer)|capable of(?: doing| answering)?|good (?:at|fo"
    r"r))|"
    r"(?:how|what) can you (?:help|assist)(?: me)?(?: with)?|how can i use you|how (?:do|can) i use this|"
    r"what do you do|list (?:your |the |all )?commands|show (?:me )?(?:your |the )?commands|"
    r"what (?:questions|kinds? of questions|types? of questions) (?:do you|can you) (?:answer|respond to|han"
    r"dle)|"
    r"what (?:is|are) the (?:sort|kinds?|types?) of (?:things?|questions) (?:i should ask|i can ask(?: you)?"
    r")|"
    r"what should i ask(?: you)?(?: about)?|what do you know(?: about)?|what can you be asked about|"
    r"what all can you do|what (?:can|could) i use you for|what are your (?:abilities|functions))"
)


# Keywords that name an intent for the LLM hand-over when no full phrasing matched.
_TIME_HINT = re.compile(r"\bwhat time\b|\bthe time\b|\bcurrent time\b")
_DATE_HINT = re.compile(r"\b(?:date|what day)\b")
_BYE_HINT = re.compile(r"\b(?:good ?bye|bye)\b")
_THANK_HINT = re.compile(r"\bthank")


# "the time at home", "back home": the user's own zone.
_HOME = re.compile(r"(?:back )?home|here|my (?:place|location|city|home|time ?zone|area)|where i am|local")


def _place_candidate(m: re.Match[str], intent_strength: float, places: Gazetteer) -> Candidate:
    gd = m.groupdict()
    place = (gd.get("place") or gd.get("abbr") or gd.get("abbr2") or gd.get("abbr3") or "").strip()
    if not place:
        return Candidate("time", intent_strength)
    if _HOME.fullmatch(place):
        return Candidate("time", intent_strength, {"home": True})
    found = places.find(place)
    ents: dict[str, object] = {"place": place}
    if found is None:
        return Candidate("time", intent_strength - 0.1, ents, answerable=False)
    return Candidate("time", intent_strength, {**ents, **found.entities()})


def match_time(core: str, places: Gazetteer) -> Candidate | None:
    q = _TIME_LEAD.sub("", unwrap_ask(core))
    for i, rx in enumerate(_TIME_FULL):
        for text in dict.fromkeys((q, core)):
            m = rx.fullmatch(text)
            if m:
                return _place_candidate(m, FULL if i < 3 or i == 5 else STRONG, places)
    if _TIME_OTHER.search(q):
        return Candidate("time", WEAK, answerable=False, full=False)
    if _TIME_HINT.search(q):
        return Candidate("time", WEAK, answerable=False, full=False)
    return None


def date_offset(core: str) -> tuple[int, str, bool]:
    """Days from today a date question asks about ("in 4 days" -> 4), the question without that phrase, and
    whether the question names something other than a plain day (an election, a deadline)."""
    q = _TIME_LEAD.sub("", unwrap_ask(core))
    offset = 0
    m = _OFFSET.search(q)
    if m:
        if m["tom"]:
            offset = 2 if "after" in m["tom"] else (-1 if m["tom"].startswith("yesterday") else 1)
        elif m["next"]:
            offset = 1
        elif m["nweek"]:
            offset = 7
        else:
            n = word_number(m["n"]) if m["n"] not in ("a",) else 1
            offset = (n or 0) * (7 if m["u"].startswith("week") else 1)
        q = " ".join((q[: m.start()] + " " + q[m.end():]).replace("'s", "").split())
        q = _BARE_DATE_Q.sub("what date is it", q)
    return offset, q, bool(_DATE_BAD.search(q)) or not q


def match_date(core: str) -> Candidate | None:
    offset, q, bad = date_offset(core)
    if bad:
        return None
    moved = q != _TIME_LEAD.sub("", unwrap_ask(core))
    if _WEEKDAY_Q.fullmatch(q):
        return Candidate("date", STRONG, {"offset_days": offset})
    for i, rx in enumerate(_DATE_FULL):
        if rx.fullmatch(q):
            strength = FULL if i == 0 else STRONG
            if i == 1 and (not moved and q in ("day", "month", "year", "weekday")):
                strength = WEAK
            return Candidate("date", strength, {"offset_days": offset})
    if _DATE_HINT.search(q):
        return Candidate("date", WEAK, answerable=False, full=False)
    return None


def match_greeting(core: str, text: str) -> Candidate | None:
    for t in dict.fromkeys((text, core, unwrap_ask(core))):
        if _GREETING.fullmatch(t):
            return Candidate("greeting", FULL, {"asks_wellbeing": bool(_WELLBEING.search(t))})
    return None


def match_goodbye(core: str, text: str) -> Candidate | None:
    for t in dict.fromkeys((text, core)):
        if _GOODBYE.fullmatch(t):
            return Candidate("goodbye", FULL)
    if _BYE_HINT.search(text):
        return Candidate("goodbye", WEAK, answerable=False, full=False)
    return None


def match_thanks(core: str, text: str) -> Candidate | None:
    for t in dict.fromkeys((text, core)):
        if _THANKS.fullmatch(t):
            return Candidate("thanks", FULL)
    # Praise alone ("great answer", "good job") is thanks only when it is clearly about the reply.
    if _PRAISE_RX.fullmatch(text) and len(text.split()) > 1 and text not in _BARE_PRAISE:
        return Candidate("thanks", STRONG)
    if _THANK_HINT.search(text):
        return Candidate("thanks", WEAK, answerable=False, full=False)
    return None


def match_help(core: str) -> Candidate | None:
    q = unwrap_ask(core)
    for t in dict.fromkeys((q, core)):
        if _HELP.fullmatch(t):
            return Candidate("help", FULL)
    return None


def asks_about_other_time(q: str) -> bool:
    """"what time does the pharmacy close", "what time zone": a time question that is not the clock's."""
    return bool(_TIME_OTHER.search(q))


def asks_wellbeing(text: str) -> bool:
    return bool(_WELLBEING.search(text))
