"""Times and time zones from what people type: "20:30", "8pm", "Berlin", "New York", "14:05"."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cache, lru_cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dialogue.gazetteer import find_city, fold, index

_TIME = re.compile(r"^\s*(\d{1,2})(?:\s*[:.h]\s*(\d{2}))?\s*(am|a\.m\.|pm|p\.m\.|h)?\s*$", re.I)
_TIME_IN = re.compile(r"(?<!\w)\d{1,2}(?:\s*[:.h]\s*\d{2})?\s*(?:am|a\.m\.|pm|p\.m\.)?(?!\w)", re.I)
_SPLIT = re.compile(r"[\s,;!?()]+")
FIND_WORDS = 12  # a place or time is looked for in a message's first words
IN_SENTENCE = 100_000  # people a city found inside a longer message must have ("it's nice")
_OFFSET = re.compile(r"^\s*(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\s*$", re.I)


def parse_time(text: str) -> str | None:
    """A clock time as "HH:MM", or None."""
    m = _TIME.match(text)
    if not m:
        return None
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    suffix = (m.group(3) or "").lower().replace(".", "")
    if suffix in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def find_time(text: str) -> str | None:
    """A clock time anywhere in a message: "at 7pm", "around 21:30 please"."""
    whole = parse_time(text)
    if whole:
        return whole
    for m in _TIME_IN.finditer(text):
        found = parse_time(m.group(0))
        if found:
            return found
    return None


def find_zone(
    text: str, now: datetime, aliases: Mapping[str, str] | None = None,
    countries: Mapping[str, str] | None = None,
) -> str | None:  # fmt: skip
    """A zone from a message that names a place or the time there: "I'm in New York",
    "it's 11pm in Manchester", "Dublin, I think". A place beats a time; longer names first;
    a city found inside a sentence must be a sizeable one (IN_SENTENCE)."""
    whole = parse_zone(text, now, aliases, countries)
    if whole:
        return whole
    words = [w for w in _SPLIT.split(text.strip().rstrip(".")) if w][:FIND_WORDS]
    for n in range(min(len(words), 4), 0, -1):
        for i in range(len(words) - n + 1):
            key = " ".join(words[i : i + n])
            if parse_time(key) is None:
                found = parse_zone(key, now, aliases, countries, least=IN_SENTENCE, fuzzy=False)
                if found:
                    return found
    local = find_time(text)
    return parse_zone(local, now) if local else None


@cache
def _zones() -> dict[str, str]:
    """Lowercased keys -> IANA names: whole names, and the city part of the zones the tz
    database lists for a country ("new york"; not old links like Europe/Belfast, whose cities
    the gazetteer places in their zone of today, with a country for the crisis lines)."""
    out: dict[str, str] = {}
    listed = _zone_countries()
    for name in sorted(available_timezones()):
        if "/" not in name or name.startswith(("Etc/", "SystemV/")):
            continue
        out.setdefault(name.lower(), name)
        if name in listed:
            out.setdefault(name.rsplit("/", 1)[1].replace("_", " ").lower(), name)
    return out


@cache
def _zone_countries() -> dict[str, str]:
    """IANA zone -> ISO country code, from the tz database's zone.tab."""
    text = (resources.files("tzdata.zoneinfo") / "zone.tab").read_text(encoding="utf-8")
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            parts = line.split("\t")
            out[parts[2]] = parts[0]
    return out


def country_of(tz: str) -> str:
    """The ISO country of a zone ("Europe/London" -> "GB"), or ""."""
    return _zone_countries().get(tz, "")


def zone(tz: str) -> tzinfo:
    """A tzinfo for a stored zone: an IANA name or "UTC+HH:MM"."""
    m = re.fullmatch(r"UTC([+-])(\d{2}):(\d{2})", tz)
    if m:
        sign = 1 if m.group(1) == "+" else -1
        return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _offset_name(minutes: int) -> str | None:
    if not -12 * 60 <= minutes <= 14 * 60:
        return None
    sign = "+" if minutes >= 0 else "-"
    h, m = divmod(abs(minutes), 60)
    return f"UTC{sign}{h:02d}:{m:02d}"


def parse_zone(  # noqa: PLR0911 - one return for each way a place can be written
    text: str, now: datetime, aliases: Mapping[str, str] | None = None,
    countries: Mapping[str, str] | None = None, *, least: int = 0, fuzzy: bool = True,
) -> str | None:  # fmt: skip
    """A zone from an IANA name, a zone abbreviation (aliases), a UTC offset, a city (with
    its country or state, typed a letter wrong), a country with one zone, or the local time."""
    key = " ".join(text.strip().replace("_", " ").split()).lower()
    if not key or len(key) > 64:
        return None
    zones = _zones()
    if key.replace(" ", "_") in zones:
        return zones[key.replace(" ", "_")]
    if key in zones:
        return zones[key]
    if aliases and key in aliases:
        return aliases[key]
    m = _OFFSET.match(key)
    if m and (key.startswith(("utc", "gmt")) or m.group(1)):
        sign = 1 if m.group(1) == "+" else -1
        return _offset_name(sign * (int(m.group(2)) * 60 + int(m.group(3) or 0)))
    local = parse_time(text)
    if local:
        return _zone_by_clock(local, now)
    city = find_city(text.strip(), countries, least=least, fuzzy=False)
    if city:
        return city.zone
    alone = _single_zone(fold(key), countries)
    if alone:
        return alone
    city = find_city(text.strip(), countries, least=least, fuzzy=True) if fuzzy else None
    return city.zone if city else None


def _single_zone(name: str, countries: Mapping[str, str] | None) -> str | None:
    """The zone of a country named alone, when it has only one ("France"; not "Australia")."""
    code = (countries or {}).get(name) or index().countries.get(name)
    zones = [z for z, c in _zone_countries().items() if c == code] if code else []
    return zones[0] if len(zones) == 1 else None


def _zone_by_clock(local: str, now: datetime) -> str | None:
    """The UTC offset where it is `local` o'clock now (to the nearest offset in use)."""
    hour, minute = map(int, local.split(":"))
    utc = now.astimezone(UTC)
    diff = (hour * 60 + minute) - (utc.hour * 60 + utc.minute)
    diff = (diff + 12 * 60) % (24 * 60) - 12 * 60  # nearest day: -12h .. +12h
    if diff < -10 * 60 - 30:  # -11h and -12h are mostly ocean: New Zealand, Fiji, Tonga
        diff += 24 * 60
    nearest = min(_offsets_now(utc), key=lambda off: abs(off - diff))
    return _offset_name(nearest) if abs(nearest - diff) <= 20 else None


def _offsets_now(utc: datetime) -> set[int]:
    """Every UTC offset, in minutes, that some zone has at this moment."""
    return _offsets_on(utc.replace(minute=0, second=0, microsecond=0))


@lru_cache(maxsize=8)
def _offsets_on(hour: datetime) -> set[int]:
    out = set()
    for name in set(_zones().values()):
        offset = hour.astimezone(ZoneInfo(name)).utcoffset()
        if offset is not None:
            out.add(int(offset.total_seconds() // 60))
    return out


def local_clock(tz: str, now: datetime) -> str:
    """The time it is now in a zone, as "HH:MM"."""
    return now.astimezone(zone(tz)).strftime("%H:%M")
