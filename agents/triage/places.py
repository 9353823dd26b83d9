"""Place names -> IANA zones, for "what time is it in <place>" and "my time zone is <zone>"."""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache

# Hand table for places whose zone is not spelled in a tz database name: countries, US states, regions and
# zone abbreviations. Multi-zone countries (USA, Canada, Brazil, Australia) are left out on purpose: a direct
# answer with the wrong half of a continent is worse than handing over.
_TABLE: dict[str, str] = {
    # zone names and abbreviations people type
    "utc": "UTC", "gmt": "Etc/GMT", "zulu": "UTC", "universal": "UTC", "greenwich": "Europe/London",
    "greenwhich": "Europe/London", "coordinated universal": "UTC",
    "eastern": "America/New_York", "est": "America/New_York", "edt": "America/New_York",
    "eastern standard": "America/New_York", "et": "America/New_York",
    "central": "America/Chicago", "cst": "America/Chicago", "cdt": "America/Chicago",
    "central standard": "America/Chicago", "ct": "America/Chicago",
    "mountain": "America/Denver", "mst": "America/Denver", "mdt": "America/Denver",
    "mountain standard": "America/Denver",
    "pacific": "America/Los_Angeles", "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles",
    "pacific standard": "America/Los_Angeles", "pt": "America/Los_Angeles",
    "pacific coast": "America/Los_Angeles", "west coast": "America/Los_Angeles",
    "east coast": "America/New_York",
    "alaska": "America/Anchorage", "akst": "America/Anchorage", "alaska standard": "America/Anchorage",
    "hawaii": "Pacific/Honolulu", "hst": "Pacific/Honolulu", "hawaiian": "Pacific/Honolulu",
    "atlantic": "America/Halifax", "ast": "America/Halifax", "bst": "Europe/London",
    "cet": "Europe/Paris", "cest": "Europe/Paris", "central european": "Europe/Paris",
    "eet": "Europe/Athens", "wet": "Europe/Lisbon", "ist": "Asia/Kolkata", "jst": "Asia/Tokyo",
    "aest": "Australia/Sydney", "acst": "Australia/Adelaide", "awst": "Australia/Perth",
    "nzst": "Pacific/Auckland", "kst": "Asia/Seoul", "hkt": "Asia/Hong_Kong", "sgt": "Asia/Singapore",
    # US states (single-zone for almost all residents)
    "florida": "America/New_York", "new york state": "America/New_York", "california": "America/Los_Angeles",
    "southern california": "America/Los_Angeles", "northern california": "America/Los_Angeles",
    "texas": "America/Chicago", "colorado": "America/Denver", "arizona": "America/Phoenix",
    "nevada": "America/Los_Angeles", "washington state": "America/Los_Angeles",
    "oregon": "America/Los_Angeles",
    "illinois": "America/Chicago", "ohio": "America/New_York", "georgia": "America/New_York",
    "massachusetts": "America/New_York", "virginia": "America/New_York", "utah": "America/Denver",
    "pennsylvania": "America/New_York", "michigan": "America/Detroit", "minnesota": "America/Chicago",
    "louisiana": "America/Chicago", "new jersey": "America/New_York", "north carolina": "America/New_York",
    "south carolina": "America/New_York", "wisconsin": "America/Chicago", "missouri": "America/Chicago",
    "tennessee": "America/Chicago", "alabama": "America/Chicago", "iowa": "America/Chicago",
    "oklahoma": "America/Chicago", "new mexico": "America/Denver", "montana": "America/Denver",
    "maryland": "America/New_York", "connecticut": "America/New_York", "maine": "America/New_York",
    "vermont": "America/New_York", "new hampshire": "America/New_York", "rhode island": "America/New_York",
    "delaware": "America/New_York", "west virginia": "America/New_York", "arkansas": "America/Chicago",
    "mississippi": "America/Chicago", "wyoming": "America/Denver", "washington dc": "America/New_York",
    "dc": "America/New_York", "san francisco": "America/Los_Angeles", "seattle": "America/Los_Angeles",
    "boston": "America/New_York", "miami": "America/New_York", "atlanta": "America/New_York",
    "dallas": "America/Chicago", "houston": "America/Chicago", "austin": "America/Chicago",
    "san diego": "America/Los_Angeles", "las vegas": "America/Los_Angeles", "orlando": "America/New_York",
    "philadelphia": "America/New_York", "washington": "America/New_York", "nyc": "America/New_York",
    "la": "America/Los_Angeles", "manhattan": "America/New_York", "brooklyn": "America/New_York",
    "queens": "America/New_York", "the bronx": "America/New_York", "long island": "America/New_York",
    "san jose": "America/Los_Angeles", "portland": "America/Los_Angeles",
    "silicon valley": "America/Los_Angeles", "hollywood": "America/Los_Angeles",
    "nashville": "America/Chicago",
    "new orleans": "America/Chicago", "minneapolis": "America/Chicago", "pittsburgh": "America/New_York",
    "salt lake city": "America/Denver", "honolulu": "Pacific/Honolulu", "anchorage": "America/Anchorage",
    "toronto": "America/Toronto", "montreal": "America/Toronto", "ottawa": "America/Toronto",
    "quebec": "America/Toronto", "ontario": "America/Toronto", "british columbia": "America/Vancouver",
    "alberta": "America/Edmonton", "calgary": "America/Edmonton", "newfoundland": "America/St_Johns",
    # countries with one zone, or one that nearly everyone means
    "uk": "Europe/London", "united kingdom": "Europe/London", "britain": "Europe/London",
    "great britain": "Europe/London", "england": "Europe/London", "scotland": "Europe/London",
    "wales": "Europe/London", "ireland": "Europe/Dublin", "france": "Europe/Paris",
    "germany": "Europe/Berlin",
    "spain": "Europe/Madrid", "italy": "Europe/Rome", "portugal": "Europe/Lisbon",
    "netherlands": "Europe/Amsterdam", "holland": "Europe/Amsterdam", "belgium": "Europe/Brussels",
    "switzerland": "Europe/Zurich", "austria": "Europe/Vienna", "poland": "Europe/Warsaw",
    "sweden": "Europe/Stockholm", "norway": "Europe/Oslo", "denmark": "Europe/Copenhagen",
    "finland": "Europe/Helsinki", "greece": "Europe/Athens", "turkey": "Europe/Istanbul",
    "czech republic": "Europe/Prague", "czechia": "Europe/Prague", "hungary": "Europe/Budapest",
    "romania": "Europe/Bucharest", "ukraine": "Europe/Kyiv", "russia": "Europe/Moscow",
    "iceland": "Atlantic/Reykjavik", "israel": "Asia/Jerusalem", "egypt": "Africa/Cairo",
    "south africa": "Africa/Johannesburg", "nigeria": "Africa/Lagos", "kenya": "Africa/Nairobi",
    "morocco": "Africa/Casablanca", "ethiopia": "Africa/Addis_Ababa", "ghana": "Africa/Accra",
    "saudi arabia": "Asia/Riyadh", "uae": "Asia/Dubai", "united arab emirates": "Asia/Dubai",
    "qatar": "Asia/Qatar", "iran": "Asia/Tehran", "iraq": "Asia/Baghdad", "pakistan": "Asia/Karachi",
    "india": "Asia/Kolkata", "bangladesh": "Asia/Dhaka", "nepal": "Asia/Kathmandu",
    "sri lanka": "Asia/Colombo",
    "china": "Asia/Shanghai", "beijing": "Asia/Shanghai", "japan": "Asia/Tokyo", "south korea": "Asia/Seoul",
    "korea": "Asia/Seoul", "north korea": "Asia/Pyongyang", "taiwan": "Asia/Taipei",
    "hong kong": "Asia/Hong_Kong", "thailand": "Asia/Bangkok", "vietnam": "Asia/Ho_Chi_Minh",
    "philippines": "Asia/Manila", "malaysia": "Asia/Kuala_Lumpur", "singapore": "Asia/Singapore",
    "indonesia": "Asia/Jakarta", "bali": "Asia/Makassar", "new zealand": "Pacific/Auckland",
    "fiji": "Pacific/Fiji", "peru": "America/Lima", "peruvian": "America/Lima", "colombia": "America/Bogota",
    "venezuela": "America/Caracas", "chile": "America/Santiago",
    "argentina": "America/Argentina/Buenos_Aires",
    "buenos aires": "America/Argentina/Buenos_Aires", "ecuador": "America/Guayaquil",
    "cuba": "America/Havana",
    "jamaica": "America/Jamaica", "puerto rico": "America/Puerto_Rico", "costa rica": "America/Costa_Rica",
    "guatemala": "America/Guatemala", "panama": "America/Panama", "uruguay": "America/Montevideo",
    "bolivia": "America/La_Paz", "paraguay": "America/Asuncion", "rio de janeiro": "America/Sao_Paulo",
    "rio": "America/Sao_Paulo", "mumbai": "Asia/Kolkata", "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata", "saigon": "Asia/Ho_Chi_Minh", "kiev": "Europe/Kyiv",
    "st petersburg": "Europe/Moscow", "saint petersburg": "Europe/Moscow", "mecca": "Asia/Riyadh",
    "munich": "Europe/Berlin", "frankfurt": "Europe/Berlin", "hamburg": "Europe/Berlin",
    "barcelona": "Europe/Madrid", "milan": "Europe/Rome", "venice": "Europe/Rome", "florence": "Europe/Rome",
    "naples": "Europe/Rome", "geneva": "Europe/Zurich", "edinburgh": "Europe/London",
    "manchester": "Europe/London", "kyoto": "Asia/Tokyo", "osaka": "Asia/Tokyo",
    "melbourne": "Australia/Melbourne",
    "canberra": "Australia/Sydney", "queensland": "Australia/Brisbane", "new south wales": "Australia/Sydney",
    "victoria": "Australia/Melbourne", "western australia": "Australia/Perth", "tasmania": "Australia/Hobart",
    "south australia": "Australia/Adelaide", "auckland": "Pacific/Auckland", "wellington": "Pacific/Auckland",
    "cape town": "Africa/Johannesburg", "marrakech": "Africa/Casablanca", "tel aviv": "Asia/Jerusalem",
    "jerusalem": "Asia/Jerusalem", "abu dhabi": "Asia/Dubai", "doha": "Asia/Qatar",
}

# Two-letter state codes only count after a city ("houston tx"): alone they collide with words ("in", "me").
_STATE_CODES: dict[str, str] = {
    "fl": "America/New_York", "ny": "America/New_York", "ca": "America/Los_Angeles", "tx": "America/Chicago",
    "co": "America/Denver", "az": "America/Phoenix", "nv": "America/Los_Angeles", "wa": "America/Los_Angeles",
    "or": "America/Los_Angeles", "il": "America/Chicago", "oh": "America/New_York", "ga": "America/New_York",
    "ma": "America/New_York", "va": "America/New_York", "ut": "America/Denver", "pa": "America/New_York",
    "mi": "America/Detroit", "mn": "America/Chicago", "la": "America/Chicago", "nj": "America/New_York",
    "nc": "America/New_York", "sc": "America/New_York", "wi": "America/Chicago", "mo": "America/Chicago",
    "tn": "America/Chicago", "al": "America/Chicago", "ia": "America/Chicago", "ok": "America/Chicago",
    "nm": "America/Denver", "mt": "America/Denver", "md": "America/New_York", "ct": "America/New_York",
    "hi": "Pacific/Honolulu", "ak": "America/Anchorage", "dc": "America/New_York",
}

_ZONES: frozenset[str] = frozenset(zoneinfo.available_timezones())
_ZONES_LOWER: dict[str, str] = {z.lower(): z for z in _ZONES}


def _city_index() -> dict[str, str]:
    # "America/Argentina/Buenos_Aires" -> "buenos aires"; skip Etc/ and legacy aliases like "US/Eastern".
    index: dict[str, str] = {}
    for zone in sorted(_ZONES):
        # Antarctic stations and US county zones are named after people and common words ("Davis", "Center").
        if "/" not in zone or zone.startswith(("Etc/", "SystemV/", "US/", "Canada/", "Brazil/", "Chile/",
                                               "Mexico/", "Antarctica/", "America/North_Dakota/",
                                               "America/Indiana/", "America/Kentucky/Monticello")):
            continue
        city = zone.rsplit("/", 1)[1].replace("_", " ").lower()
        index.setdefault(city, zone)
    return index


_CITIES: dict[str, str] = _city_index()
# Trailing words that describe the place rather than name it.
_SUFFIX = re.compile(r"\s+(?:standard time zone|standard timezone|standard time|time zone|timezone|time|"
                     r"zone|area|region|city|right now|now|currently|today|please)$")
_PREFIX = re.compile(r"^(?:the|in|at|for|city of|state of|downtown)\s+")


def validate_zone(name: str) -> str | None:
    """The canonical spelling of an IANA zone name written in any case, else None."""
    return _ZONES_LOWER.get(name.strip().lower())


def _lookup(name: str) -> str | None:
    return _TABLE.get(name) or _CITIES.get(name) or _ZONES_LOWER.get(name)


@lru_cache(maxsize=2048)
def resolve_place(place: str) -> str | None:
    """IANA zone for a place phrase ("adelaide", "punta gorda florida", "the pacific time zone") or None."""
    name = place.strip().lower().replace(",", " ").replace(".", "")
    name = " ".join(name.split())
    for _ in range(4):
        zone = _lookup(name)
        if zone:
            return zone
        stripped = _PREFIX.sub("", _SUFFIX.sub("", name))
        if stripped == name:
            break
        name = stripped
    if not name:
        return None
    words = name.split()
    if len(words) < 2 or len(words) > 6:
        return None
    # "sydney australia", "glenwood springs co": the city first, then its state or country.
    for cut in range(len(words) - 1, 0, -1):
        zone = _lookup(" ".join(words[:cut]))
        if zone:
            return zone
    for cut in range(1, len(words)):
        tail = " ".join(words[cut:])
        zone = _lookup(tail) or (_STATE_CODES.get(tail) if cut == len(words) - 1 else None)
        if zone:
            return zone
    return None
