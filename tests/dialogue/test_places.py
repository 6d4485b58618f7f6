"""Times and time zones from what people type."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dialogue.places import country_of, find_zone, local_clock, parse_time, parse_zone, zone

NOON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("8", "08:00"), ("8pm", "20:00"), ("8.30 am", "08:30"), ("20:30", "20:30"),
     ("12am", "00:00"), ("12 pm", "12:00"), ("7h", "07:00"), ("24:00", None), ("13pm", None),
     ("soon", None), ("9:75", None)],
)  # fmt: skip
def test_parse_time(text: str, expected: str | None) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Europe/Berlin", "Europe/Berlin"), ("europe/berlin", "Europe/Berlin"),
     ("Berlin", "Europe/Berlin"),
     ("new york", "America/New_York"), ("  Los   Angeles ", "America/Los_Angeles"),
     ("UTC+2", "UTC+02:00"), ("gmt-5", "UTC-05:00"), ("+05:30", "UTC+05:30"),
     ("14:00", "UTC+02:00"), ("2:30 am", "UTC-09:30"), ("11:45", "UTC+00:00"),
     ("San Francisco", "America/Los_Angeles"), ("Xyzzyville", None), ("", None), ("UTC+15", None)],
)  # fmt: skip
def test_parse_zone(text: str, expected: str | None) -> None:
    aliases = {"san francisco": "America/Los_Angeles"}
    assert parse_zone(text, NOON, aliases) == expected


def test_local_time_east_of_twelve() -> None:
    late = datetime(2026, 1, 1, 22, 0, tzinfo=UTC)  # 11:00 next day in Auckland (summer, +13)
    assert parse_zone("11:00", late) == "UTC+13:00"


def test_zone_and_clock() -> None:
    assert local_clock("Europe/Berlin", NOON) == "14:00"
    assert local_clock("UTC-05:00", NOON) == "07:00"
    assert zone("Nowhere/Atall") is UTC
    assert country_of("Europe/London") == "GB"
    assert country_of("Australia/Sydney") == "AU"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("UTC", "UTC+00:00"), ("CET", "Europe/Paris"), ("est", "America/New_York"),
     ("Paris, France", "Europe/Paris"), ("london uk", "Europe/London"),
     ("Melbourne, Australia", "Australia/Melbourne"), ("Melborne", "Australia/Melbourne"),
     ("Portland", "America/Los_Angeles"), ("Portland, Maine", "America/New_York"),
     ("portland ME", "America/New_York"), ("Springfield, IL", "America/Chicago"),
     ("Montréal", "America/Toronto"), ("Zürich", "Europe/Zurich"), ("Bangalore", "Asia/Kolkata"),
     ("belfast", "Europe/London"), ("France", "Europe/Paris"), ("Australia", None),
     ("I'm in london", "Europe/London"), ("we live near Reading", "Europe/London"),
     ("I think Dublin", "Europe/Dublin"), ("deal with it", None), ("in it to win it", None)],
)  # fmt: skip
def test_places_from_the_gazetteer(
    places: tuple[dict, dict], text: str, expected: str | None
) -> None:
    """Cities of the GeoNames gazetteer with a country or state, abbreviations, one-zone
    countries, typos; everyday words inside a sentence are not places ("in", "it", "deal")."""
    aliases, countries = places
    assert find_zone(text, NOON, aliases, countries) == expected
    if expected and "/" in expected:
        assert country_of(expected)  # every zone found has a country for the crisis lines


@pytest.fixture(scope="module")
def places() -> tuple[dict, dict]:
    from dialogue.content import Content  # noqa: PLC0415

    data = Content().locale("en").data
    return data["places"], data["countries"]
