"""Listening in the conflict flow (issue 9): the user's words said back safely, verdicts
quoted only from the user's own words, what was already told not asked again."""

from __future__ import annotations

from datetime import datetime

import pytest

from dialogue.content import Content
from dialogue.engine import Engine, Turn
from dialogue.events import Press, Text
from dialogue.flows.listening import phrase
from dialogue.session import Session


def at(state: str, draft: dict[str, object] | None = None, rel: str = "partner") -> Session:
    s = Session("u", seed=3)
    s.profile.onboarded, s.profile.relationship = True, rel
    s.state, s.draft = state, dict(draft or {})
    return s


def text_of(turn: Turn, content: Content) -> str:
    return "\n".join(content.render(r, "en").text for r in turn.replies)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("She threw her bowl. Then I shouted.", "She threw her bowl"),
        ("  he walked out!!  ", "He walked out"),
        ("x " * 60, "X" + (" x" * 28) + "…"),  # cut on a word, marked
        ("", ""),
    ],
)
def test_a_phrase_is_the_first_sentence_trimmed(text: str, said: str) -> None:
    assert phrase(text) == said


def test_the_users_words_are_said_back_as_words_never_as_a_template(
    engine: Engine, content: Content, now: datetime
) -> None:
    turn = engine.handle(at("conflict.what_happened"), Text("{{ them }} <b>left</b> {% if x %}"),
                         now)  # fmt: skip
    shown = text_of(turn, content)
    assert turn.session.state == "conflict.their_side"
    assert "“{{ them }} <b>left</b> {% if x %}.”" in shown  # literally, as typed
    html = content.render(turn.replies[-1], "en").html
    assert "&lt;b&gt;left&lt;/b&gt;" in html and "<b>left" not in html  # escaped in the markup


@pytest.mark.parametrize(
    ("told", "camera", "word"),
    [
        ("She's such a brat, she threw her bowl", True, "brat"),
        ("He is being manipulative again", True, "manipulative"),
        ("She's punishing me with silence", True, "punishing me"),
        ("he said 'you never listen' and walked out", False, ""),
        ('he said "you are so lazy" and slammed the door', False, ""),
        ("my son called me useless and slammed the door", False, ""),
        ("She threw her bowl on the floor. I shouted 'stop it!'", False, ""),
    ],
)
def test_a_verdict_is_quoted_back_and_quoted_speech_is_observation(  # noqa: PLR0917 - fixtures and a table
    engine: Engine, content: Content, now: datetime, told: str, camera: bool, word: str
) -> None:
    turn = engine.handle(at("conflict.what_happened", rel="teen"), Text(told), now)
    assert (turn.session.state == "conflict.camera") == camera, told
    if word:
        assert f"“{word.capitalize()}” is how it felt" in text_of(turn, content)


def test_space_already_told_is_not_asked_again(
    engine: Engine, content: Content, now: datetime
) -> None:
    draft = {"what_happened": "We argued. She asked for space and went to her room.",
             "emotions": []}  # fmt: skip
    turn = engine.handle(at("conflict.intensity", draft), Press("4"), now)
    assert turn.session.state == "conflict.space_feel"
    assert turn.session.draft["space"] == "yes"
    assert "“She asked for space and went to her room”" in text_of(turn, content)
    for told in ("We argued about money.", "I walked out and slammed the door."):
        plain = at("conflict.intensity", {"what_happened": told})
        assert engine.handle(plain, Press("4"), now).session.state == "conflict.space", told


@pytest.mark.parametrize("rel", ["baby", "toddler", "child", "teen", "partner", "other"])
def test_i_dont_know_brings_guesses_for_who_they_are(
    engine: Engine, content: Content, now: datetime, rel: str
) -> None:
    turn = engine.handle(at("conflict.their_side", rel=rel), Text("I don't know"), now)
    assert turn.session.state == "conflict.their_guess"
    ids = [b.id for b in turn.replies[-1].flat_buttons]
    assert len(ids) == 4 and ids[-1] == "none"  # two or three guesses, and "none of these"
    assert "their_side" not in turn.session.draft  # "I don't know" is not their side
    long = "I don't know why, but he threw the remote and went out for hours without a word"
    assert engine.handle(at("conflict.their_side", rel=rel), Text(long), now).session.state == (
        "conflict.my_part"
    )
