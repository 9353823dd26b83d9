"""Word tables shared by the normaliser and the entity parsers.

Kept as plain dicts so that adding a misspelling or a number word is a one-line change.
"""

from __future__ import annotations

# Common misspellings and chat shorthand, keyed by the lower-cased token. Only words whose correction is
# unambiguous in a chat about time, reminders and lists belong here: a wrong "fix" changes the intent.
TYPOS: dict[str, str] = {
    "wat": "what", "wht": "what", "waht": "what", "whta": "what", "wut": "what",
    "tim": "time", "tiem": "time", "tme": "time",
    "remnd": "remind", "remid": "remind", "remaind": "remind", "rmind": "remind", "remine": "remind",
    "reminde": "remind", "remined": "remind", "reimnd": "remind",
    "remnder": "reminder", "remider": "reminder", "reminer": "reminder", "reminfer": "reminder",
    "remidner": "reminder", "reminderes": "reminders", "remiders": "reminders", "remnders": "reminders",
    "tomorow": "tomorrow", "tommorow": "tomorrow", "tommorrow": "tomorrow", "tomorro": "tomorrow",
    "tmrw": "tomorrow", "tmw": "tomorrow", "tmr": "tomorrow", "2morrow": "tomorrow",
    "tomorrows": "tomorrow's",
    "tommorows": "tomorrow's", "tomorow's": "tomorrow's", "tommorow's": "tomorrow's",
    "tonite": "tonight", "2nite": "tonight", "tonigth": "tonight",
    "todays": "today's", "tday": "today", "2day": "today",
    "minuts": "minutes", "minuets": "minutes", "minutess": "minutes", "mins": "minutes", "minits": "minutes",
    "mintues": "minutes", "minuites": "minutes", "mnutes": "minutes",
    "secs": "seconds", "sec": "second", "hrs": "hours", "hr": "hour", "hors": "hours", "houres": "hours",
    "calender": "calendar", "calander": "calendar",
    "pls": "please", "plz": "please", "plez": "please", "pleas": "please", "plse": "please",
    "thx": "thanks", "thnx": "thanks", "thnks": "thanks", "thanx": "thanks", "tks": "thanks",
    "ty": "thank you",
    "thankyou": "thank you", "tanks": "thanks", "thank's": "thanks", "thanku": "thank you",
    "tysm": "thank you",
    "u": "you", "ya": "you", "r": "are", "ur": "your", "yr": "your",
    "todo": "todo", "to-do": "todo", "todos": "todo", "to-dos": "todo", "to-do's": "todo", "todo's": "todo",
    "shoping": "shopping", "shoppin": "shopping", "grocery": "grocery", "lisr": "list", "lsit": "list",
    "lst": "list", "lis": "list",
    "whats": "what is", "what's": "what is", "wats": "what is", "wat's": "what is", "whatz": "what is",
    "it's": "it is", "its": "it is", "i'm": "i am", "im": "i am", "i'd": "i would",
    "you're": "you are", "youre": "you are", "i've": "i have", "ive": "i have", "i'll": "i will",
    "that's": "that is", "thats": "that is", "there's": "there is", "how's": "how is", "hows": "how is",
    "where's": "where is", "when's": "when is", "who's": "who is", "let's": "let us",
    "dont": "do not", "cant": "cannot", "wont": "will not", "didnt": "did not", "doesnt": "does not",
    "isnt": "is not", "arent": "are not", "wasnt": "was not", "havent": "have not", "shouldnt": "should not",
    "gonna": "going to", "wanna": "want to", "gotta": "got to", "lemme": "let me", "gimme": "give me",
    "how're": "how are", "what're": "what are",
    "wednsday": "wednesday", "wensday": "wednesday", "tuseday": "tuesday", "thurs": "thursday",
    "thur": "thursday", "tues": "tuesday", "weds": "wednesday", "fri": "friday", "thrusday": "thursday",
    "firday": "friday", "satruday": "saturday",
    "goodbye": "goodbye", "good-bye": "goodbye", "bye-bye": "bye bye", "buh-bye": "bye bye", "byee": "bye",
    "cya": "see you", "seeya": "see you", "helo": "hello", "hllo": "hello", "heya": "hey", "hii": "hi",
    "alright": "alright", "doin": "doing", "goin": "going", "nothin": "nothing", "somethin": "something",
    "halfan": "half an", "how've": "how have", "you've": "you have",
    "we've": "we have", "that'll": "that will", "we'll": "we will", "you'll": "you will", "ill": "i will",
    "it'll": "it will", "there'll": "there will", "i'ma": "i am going to", "ain't": "is not",
    "didn't": "did not", "don't": "do not", "doesn't": "does not", "can't": "cannot", "won't": "will not",
    "isn't": "is not", "aren't": "are not", "wasn't": "was not", "shouldn't": "should not",
    "couldn't": "could not", "wouldn't": "would not", "haven't": "have not", "you'd": "you would",
    "he's": "he is", "she's": "she is", "they're": "they are", "we're": "we are", "what'd": "what did",
    "who're": "who are", "where're": "where are", "name's": "name is", "today's": "today's",
}

NUMBER_WORDS: dict[str, int] = {
    "zero": 0, "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100, "couple": 2, "few": 3,
}

ORDINALS: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
    "twentieth": 20, "thirtieth": 30,
}

WEEKDAYS: dict[str, int] = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}

MONTHS: dict[str, int] = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}

UNIT_SECONDS: dict[str, int] = {
    "second": 1, "seconds": 1, "s": 1, "minute": 60, "minutes": 60, "min": 60, "m": 60,
    "hour": 3600, "hours": 3600, "h": 3600, "day": 86400, "days": 86400, "week": 604800, "weeks": 604800,
}

# Default clock hour for a part of the day mentioned without a time ("tomorrow morning").
PART_OF_DAY: dict[str, int] = {
    "morning": 9, "noon": 12, "midday": 12, "afternoon": 15, "evening": 18, "tonight": 20, "night": 21,
}

# Regex alternations built once from the tables above.
NUM_WORD_RX = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)[- ]?"
    r"(?:one|two|three|four|five|six|seven|eight|nine)|"
    + "|".join(sorted((w for w in NUMBER_WORDS if w not in {"a", "an"}), key=len, reverse=True))
    + r")"
)


def word_number(text: str) -> int | None:
    """Value of a digit string or an English number phrase such as "twenty-one"; None if not a number."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    total = 0
    for part in text.replace("-", " ").split():
        if part not in NUMBER_WORDS:
            return None
        value = NUMBER_WORDS[part]
        total = total * value if value == 100 and total else total + value
    return total
