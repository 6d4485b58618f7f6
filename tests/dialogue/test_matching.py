"""The typed-answer reader as a table: message, group, options -> what it names."""

from __future__ import annotations

import pytest

from dialogue.content import Content
from dialogue.matching import Matcher

BODY = ["chest", "heart", "stomach", "face", "jaw", "shoulders", "throat", "heavy", "shaky",
        "tears", "restless", "numb_body", "nothing"]  # fmt: skip
EMOTIONS = ["anger", "frustration", "sadness", "hurt", "guilt", "shame", "numb", "anxiety"]
WHEN = ["now", "later", "tonight", "tomorrow", "ready", "own"]
YESNO = ["yes", "no"]


@pytest.fixture(scope="module")
def matcher(content: Content) -> Matcher:
    loc = content.locale("en")
    return Matcher(loc.data, loc.labels)


@pytest.mark.parametrize(
    ("text", "group", "options", "ids"),
    [
        ("yes", "yesno", YESNO, ("yes",)),
        ("Yes, please", "yesno", YESNO, ("yes",)),
        ("yeah sure", "yesno", YESNO, ("yes",)),
        ("no", "yesno", YESNO, ("no",)),
        ("nope", "yesno", YESNO, ("no",)),
        ("no thanks", "yesno", YESNO, ("no",)),
        ("No.", "confirm", YESNO, ("no",)),
        ("nah", "confirm", YESNO, ("no",)),
        ("the second one", "opening", ["d1", "d2", "d3", "own"], ("d2",)),
        ("tomorow", "when", WHEN, ("tomorrow",)),
        ("later tonight", "when", WHEN, ("later", "tonight")),
        ("my husband", "relationship", ["child", "partner", "other"], ("partner",)),
        ("tight chest and a lump in my throat", "body", BODY, ("chest", "throat")),
        ("restles and shaky", "body", BODY, ("shaky", "restless")),
        ("frustated and anxius", "emotion", EMOTIONS, ("frustration", "anxiety")),
        ("im not angry just sad", "emotion", EMOTIONS, ("sadness",)),
        ("i don't know", "body", BODY, ("nothing",)),
        ("not sure", "space", ["yes", "no", "unsure"], ("unsure",)),
        ("no", "safety", ["safe", "not_safe", "grounding", "mistaken"], ("not_safe",)),
        ("no", "safety", ["not_tonight", "might_act", "grounding", "mistaken"], ("not_tonight",)),
        ("banana bread", "relationship", ["child", "partner", "other"], ()),
        ("i said yes to her and then no", "yesno", YESNO, ()),  # short words inside a sentence
    ],
)
def test_names(matcher: Matcher, text: str, group: str, options: list[str], ids: tuple) -> None:
    found = matcher.match(text, group, options, many=group in ("body", "emotion"))
    assert set(found.ids) == set(ids), text


@pytest.mark.parametrize("text", ["no", "No", "nope", "nah", "no!", "noo", "n", "not now"])
def test_no_never_becomes_yes(matcher: Matcher, text: str) -> None:
    for group in ("yesno", "confirm", "ask", "space"):
        assert "yes" not in matcher.match(text, group, ["yes", "no", "not_sure", "unsure"]).ids


@pytest.mark.parametrize("text", ["yes", "yeah", "yep", "yess", "ya"])
def test_yes_never_becomes_no(matcher: Matcher, text: str) -> None:
    for group in ("yesno", "confirm", "ask"):
        assert "no" not in matcher.match(text, group, ["yes", "no", "not_sure"]).ids


@pytest.mark.parametrize(
    ("text", "done", "unsure", "nxt"),
    [
        ("that's it", True, False, False),
        ("thats all", True, False, False),
        ("nothing else", True, False, False),
        ("i don't know what i feel", False, True, False),
        ("idk", False, True, False),
        ("ok", False, False, True),
        ("go on", True, False, True),
    ],
)
def test_every_step_words(matcher: Matcher, text: str, done: bool, unsure: bool, nxt: bool) -> None:
    found = matcher.match(text, "emotion", EMOTIONS, many=True)
    assert (found.done, found.unsure, found.next) == (done, unsure, nxt)
    assert found.ids == ()


@pytest.mark.parametrize(
    ("text", "value"),
    [("6", 6), ("like a 6 i guess", 6), ("9/10", 9), ("8 out of 10", 8), ("six", 6),
     ("between 5 and 6", 6), ("3 to 7", 5), ("5-6", 6), ("7.5", 8), ("11", 11), ("100%", 10),
     ("0", 0), ("pretty bad", None), ("1 2 3", None)],
)  # fmt: skip
def test_scale(matcher: Matcher, text: str, value: int | None) -> None:
    read = matcher.scale(text)
    assert (read[0] if read else None) == value


@pytest.mark.parametrize(
    ("text", "furthest"),
    [("-1", -1), ("minus 3", -3), ("Minus three", -3), ("negative 2", -2), ("\u22124", -4),
     ("between -1 and 3", -1), ("150", 150), ("12/10", 12), ("between 9 and 12", 12),
     ("5-6", 6), ("0", 0)],
)  # fmt: skip
def test_scale_keeps_a_number_past_either_end(matcher: Matcher, text: str, furthest: int) -> None:
    read = matcher.scale(text)
    assert read is not None and read[1] == furthest


@pytest.mark.parametrize(
    ("text", "numbers"),
    [("2", [2]), ("1 3 99", [1, 3, 99]), ("1, 3, 99", [1, 3, 99]), ("option 2", [2]),
     ("#2", [2]), ("1 and 3", [1, 3]), ("2 please", [2]), ("-1", None), ("1.5", None),
     ("Zoe 2", None), ("she's 4", None), ("no", None), ("", None)],
)  # fmt: skip
def test_bare_numbers(matcher: Matcher, text: str, numbers: list[int] | None) -> None:
    assert matcher.bare_numbers(text) == numbers


@pytest.mark.parametrize(
    ("text", "years"),
    [("4", 4), ("she's 4", 4), ("my daughter, she's 4", 4), ("18 months", 1.5),
     ("two and a half", 2.5), ("4yo", 4), ("6 weeks", 6 / 52), ("he is fifteen", 15),
     ("a toddler", None)],
)  # fmt: skip
def test_age(matcher: Matcher, text: str, years: float | None) -> None:
    assert matcher.age_years(text) == pytest.approx(years) if years else years is None


def test_nothing_matches_gives_closest(matcher: Matcher) -> None:
    assert matcher.match("banana bread", "menu", ["new", "help"]).ids == ()
    near = matcher.closest("i need some help please", "menu",
                           ["new", "space", "plans", "setup", "privacy", "help"])  # fmt: skip
    assert len(near) == 3 and near[0] == "help"
    assert matcher.closest("xyz", "yesno", YESNO, 3) == ["yes", "no"]


@pytest.mark.parametrize(
    ("text", "urge"),
    [("I just want to text them right now", True), ("can i call him now", True),
     ("i want to go to her room and fix it now", True), ("a bit calmer", False),
     ("my chest is still tight", False)],
)  # fmt: skip
def test_urge(matcher: Matcher, text: str, urge: bool) -> None:
    assert matcher.aside(text, "urge") == urge
