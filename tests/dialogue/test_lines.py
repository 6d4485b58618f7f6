"""Drafted opening lines and feedback on the user's own line, as tables of kinds of sentences.

Drafts: the user's act is said back to the other only when it reads right ("you", never a
"she" left over, never a label the parent used); every age band and relationship gets lines
in its own register. Feedback: what works first, the phrase that may sting, a "but" that
undoes the apology, a rule kept for a later talk, and the user's own sentence rewritten.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from dialogue.content import Content
from dialogue.engine import Engine, Turn
from dialogue.events import Press, Text
from dialogue.flows.conflict import DRAFT_GROUP, DRAFT_GROUPS, MOVES
from dialogue.flows.lines import Voice, act, need_label, read_line, voice_of
from dialogue.session import Session

THIRD = re.compile(r"\b(he|she|they|him|her|his|hers|them|their|he's|she's|they're)\b", re.I)


@pytest.fixture(scope="module")
def voice(content: Content) -> Voice:
    return voice_of(content.locale("en").data)


# --- the user's act, said to the other --------------------------------------------------

SAID_BACK = [
    ("I yelled at her when she wouldn't put her shoes on", "yelled at you"),
    ("I yelled at him", "yelled at you"),
    ("I shouted at them because they never listen", "shouted at you"),
    ("I raised my voice at him and walked out", "raised my voice at you and walked out"),
    ("I took her phone away", "took your phone away"),
    ("I told her to go to her room", "told you to go to your room"),
    ("I grabbed her arm.", "grabbed your arm"),
    ("I made her cry", "made you cry"),
    ("I was short with my partner", "was short with you"),
    ("I lost it at my daughter after a long day", "lost it at you"),
    ("I snapped at my son, then I went to my room", "snapped at you"),
    ("I ignored them for an hour", "ignored you for an hour"),
    ("lost my temper", "lost my temper"),
    ("I yelled at Mia", "yelled at you"),  # the name the user gave
    ("i slammed the door and left the room", "slammed the door and left the room"),
    ("I told her off for hitting her brother", "told you off for hitting your brother"),
    ("Yelled at her", "yelled at you"),
    ("I put him in his room and shut the door", "put you in your room and shut the door"),
    ("I walked away while he was still talking", "walked away"),
    ("I told my husband to shut up", "told you to shut up"),
]
LEFT_OUT = [
    "I called her a brat",  # a label: never said back
    "I told him he was useless",
    "I screamed that she was annoying",
    'I shouted "you\'re so lazy" at him',
    "I said she was being a spoiled little madam and a pain",
    "I yelled at Tom",  # a name we don't know: maybe someone else
    "We argued",  # not the user's own act
    "She hit me and I yelled",
    "I said they were ridiculous",
    "I told my son he is such a disappointment and a nightmare",
    "I called my wife a nag",  # "called ... X" is a name called, whatever X is
    "I called her names",
    'I snapped "what now?" at her',
]


@pytest.mark.parametrize(("my_part", "said"), SAID_BACK)
def test_the_users_act_is_said_to_them(my_part: str, said: str, voice: Voice) -> None:
    assert act(my_part, voice, "Mia") == said


@pytest.mark.parametrize("my_part", LEFT_OUT)
def test_words_that_cannot_be_said_back_are_left_out(my_part: str, voice: Voice) -> None:
    assert act(my_part, voice, "Mia") == ""


# --- drafts per band, pronoun and emotion ---------------------------------------------------

BANDS = [("child", "baby"), ("child", "toddler"), ("child", "preschool"), ("child", "child"),
         ("child", "teen"), ("partner", ""), ("other", "")]  # fmt: skip
MY_PARTS = [
    "I yelled at her when she wouldn't get dressed",
    "I yelled at him because he hit his sister",
    "I shouted at them and they cried",
    "I called her annoying and slammed the door",
    "I told him he was a brat",
    "I took their tablet and said they were lazy",
    "I raised my voice at my daughter",
    "",
]
LABELS = ("annoying", "brat", "lazy")


def drafts(engine: Engine, now: datetime, rel: str, band: str, draft: dict[str, Any]) -> str:
    """The three drafted lines the opening step offers, as plain text."""
    s = Session("u", seed=5)
    s.profile.onboarded, s.profile.relationship, s.profile.age_band = True, rel, band
    s.state, s.draft = "conflict.moves", dict(draft)
    turn = engine.handle(s, Press("done"), now)
    assert turn.session.state == "conflict.opening"
    text = engine.content.render(turn.replies[-1], "en").text
    return "\n".join(re.findall(r"^\d\. (.*?)(?: \(|$)", text, re.M))


@pytest.mark.parametrize(("rel", "band"), BANDS)
@pytest.mark.parametrize("my_part", MY_PARTS)
def test_drafts_read_as_said_to_them(
    engine: Engine, now: datetime, rel: str, band: str, my_part: str
) -> None:
    s = Session("u")
    s.profile.relationship, s.profile.age_band = rel, band
    moves = list(MOVES[s.profile.band])
    lines = drafts(engine, now, rel, band, {"my_part": my_part, "moves": moves,
                                            "emotions": ["frustration", "guilt"]})  # fmt: skip
    assert lines.count("\n") == 2 and all(len(x) > 10 for x in lines.split("\n"))
    assert not THIRD.search(lines), lines  # no "you" beside a "she" left over
    assert not any(word in lines.lower() for word in LABELS), lines
    assert "guilty" not in lines  # guilt came after; it is never named as the cause


def test_a_preschooler_hears_something_short_and_physical(engine: Engine, now: datetime) -> None:
    lines = drafts(engine, now, "child", "preschool", {
        "my_part": "I yelled at her", "moves": ["own_part", "apologise", "hold"]})  # fmt: skip
    first, second, third = lines.split("\n")
    assert first == "I yelled at you. That was scary. I'm sorry. Cuddle?"
    assert all(len(x.split()) <= 12 for x in (first, second, third))
    assert second.startswith("Come here.")


def test_a_teen_gets_no_lecture_side_by_side_and_by_text(engine: Engine, now: datetime) -> None:
    s = Session("u", seed=5)
    s.profile.onboarded, s.profile.relationship, s.profile.age_band = True, "child", "teen"
    s.state, s.draft = "conflict.moves", {"my_part": "I took his phone", "moves": ["apologise"]}
    text = engine.content.render(engine.handle(s, Press("done"), now).replies[-1], "en").text
    assert "side by side" in text and "by text" in text
    assert "No big talk" in text and "I'm sorry I took your phone" in text


@pytest.mark.parametrize("emotions", [["anger"], ["frustration", "shame"], ["anger", "fear"]])
def test_a_partner_hears_the_softer_emotion(
    engine: Engine, now: datetime, emotions: list[str]
) -> None:
    lines = drafts(engine, now, "partner", "", {"my_part": "I yelled", "emotions": emotions,
                                                "moves": ["own_part"]})  # fmt: skip
    assert "angry" not in lines and "frustrated" not in lines
    assert ("scared" if "fear" in emotions else "hurt") in lines


@pytest.mark.parametrize(("rel", "band"), BANDS)
def test_every_chosen_move_is_in_the_first_line(
    engine: Engine, now: datetime, content: Content, rel: str, band: str
) -> None:
    s = Session("u")
    s.profile.relationship, s.profile.age_band = rel, band
    group = DRAFT_GROUP.get(s.profile.band, s.profile.band)
    loc = content.locale("en")
    for move in MOVES[s.profile.band]:
        assert f"drafts.{group}.say.{move}" in loc.templates, (group, move)
        said = drafts(engine, now, rel, band, {"moves": [move]}).split("\n")[0]
        assert said == loc.render_text(f"drafts.{group}.say.{move}", {
            "act": "", "short": False, "loud": False, "hurtful": False, "cause": "",
            "moves": [move], "their_need": "", "name": ""}).strip()  # fmt: skip


def test_every_group_has_its_lines(content: Content) -> None:
    loc = content.locale("en")
    for group in DRAFT_GROUPS:
        assert {f"drafts.{group}.d{i}" for i in (1, 2, 3)} <= set(loc.templates)
        assert f"drafts.soft.{group}" in loc.templates


def test_a_need_or_a_rule_goes_to_a_later_talk(engine: Engine, now: datetime) -> None:
    s = Session("u", seed=5)
    s.profile.onboarded, s.profile.relationship, s.profile.age_band = True, "child", "child"
    s.state = "conflict.moves"
    s.draft = {"what_happened": "She wouldn't go to bed and I shouted", "moves": ["apologise"]}
    turn = engine.handle(s, Press("done"), now)
    text = engine.content.render(turn.replies[-1], "en").text
    assert "Can we talk about bedtime tomorrow" in text
    lines = text.split("Later, something like")[0]
    assert "bedtime" not in lines  # the request stays out of the repair line itself
    s.draft = {"moves": ["apologise"]}  # no need, no rule: no later line
    text = engine.content.render(engine.handle(s, Press("done"), now).replies[-1], "en").text
    assert "Later, something like" not in text


# --- feedback on the user's own line --------------------------------------------------------

CLEAN = [  # own what they name: nothing to flag
    "I'm sorry I called you lazy.",
    "I'm sorry I said you were annoying.",
    "I shouldn't have called you a brat. I'm sorry.",
    "I'm sorry I called you a spoiled brat, that wasn't fair.",
    "I'm sorry I yelled, Mia. I love you.",
    "Sorry I snapped at you. How are you feeling?",
    "I'm sorry I yelled. You mean the world to me.",
    "I'm sorry I yelled, you okay?",
    "I'm sorry I called you a nag.",
    "I'm sorry I yelled. You were tired and I should have seen that.",
    "I'm sorry I snapped at you, love. You're important to me.",
    "I'm sorry I yelled about your room.",  # a topic owned is no rule
    "I'm sorry I lost it over the homework.",
    "You did nothing wrong. I'm sorry I yelled.",
    "I'm sorry I yelled. You're a good kid.",
    "I'm sorry, I was stressed and I took it out on you.",
]
BUT_UNDOES = [
    "Sorry I yelled, but you never listen",
    "I'm sorry I shouted but you were being rude.",
    "I apologise for snapping, but you started it.",
    "I'm sorry I lost my temper, but you know how I get.",
    "Mia, I'm sorry I yelled but you were being so annoying.",
]
STINGS = [  # (line, the word the sting must hold)
    ("I'm sorry I yelled, you are such a brat sometimes.", "brat"),
    ("You're so annoying, I'm sorry I yelled.", "annoying"),
    ("Honestly you're such a brat. Sorry I shouted.", "brat"),
    ("I'm sorry, I was wrong to shout. You're impossible though.", "impossible"),
    ("I'm sorry I yelled, you are so lazy sometimes, I love you.", "lazy"),
    ("Sorry I snapped. It's not my fault you never help.", "never"),
    ("I'm sorry I yelled, you nag.", "nag"),
    ("Mia, you're so moody, I'm sorry I yelled.", "moody"),
]
LIMITS = [  # (line, topic): a rule, not pressure
    ("I'm sorry I yelled, Mia, but you need to clean your room.", "your room"),
    ("Sorry I lost it. Bedtime is still 8 though.", "bedtime"),
    ("Sorry I lost it, Mia, but you still have to do your homework.", "homework"),
    ("I'm sorry I took your phone like that. The phone still goes off at 9.", "screen time"),
    ("Mia, I'm sorry I shouted. Now go clean your room.", "your room"),
    ("I'm sorry for shouting. You still have to do the dishes tonight.", "chores"),
]


@pytest.mark.parametrize("line", CLEAN)
def test_an_owned_word_is_not_flagged(line: str, engine: Engine, voice: Voice) -> None:
    r = read_line(line, engine.analyzer("en"), voice, "Mia")
    assert not r.needs_feedback and r.works_kind == "apology", r


@pytest.mark.parametrize("line", BUT_UNDOES)
def test_a_but_after_sorry_is_named(line: str, engine: Engine, voice: Voice) -> None:
    r = read_line(line, engine.analyzer("en"), voice, "Mia")
    assert r.but_undo and r.needs_feedback, r
    assert r.works and r.works.lower().startswith(("sorry", "i'm sorry", "i apologise")), r
    assert " but " not in r.rewrite and r.rewrite.rstrip(".") in line, r
    assert ("Mia" in r.rewrite) == ("Mia" in line)


@pytest.mark.parametrize(("line", "word"), STINGS)
def test_the_sting_is_quoted_and_left_out(
    line: str, word: str, engine: Engine, voice: Voice
) -> None:
    r = read_line(line, engine.analyzer("en"), voice, "Mia")
    assert word in r.sting and word not in r.rewrite, r
    assert r.rewrite and r.works_kind == "apology", r


@pytest.mark.parametrize(("line", "topic"), LIMITS)
def test_a_rule_is_kept_for_later(line: str, topic: str, engine: Engine, voice: Voice) -> None:
    r = read_line(line, engine.analyzer("en"), voice, "Mia")
    assert r.limit and r.topic == topic and "pressure" not in r.cues, r
    last_word = topic.rsplit(maxsplit=1)[-1]
    assert last_word not in r.rewrite.lower() and "sorry" in r.rewrite.lower(), r
    assert ("Mia" in r.rewrite) == ("Mia" in line), r


REWRITES = [  # the user's own sentence, with only the repair, the name kept
    (
        "Mia, you never listen. Can we talk about what happened?",
        "Mia, can we talk about what happened?",
    ),
    ("Hey Mia, you're being so dramatic, I love you.", "Hey Mia, I love you."),
    ("Mia, you're so lazy, I'm sorry I yelled.", "Mia, I'm sorry I yelled."),
    (
        "I'm sorry I yelled, you are so lazy sometimes, I love you.",
        "I'm sorry I yelled. I love you.",
    ),
    ("Sorry I lost it, Mia, but you still have to do your homework.", "Sorry I lost it, Mia."),
]


@pytest.mark.parametrize(("line", "rewrite"), REWRITES)
def test_the_rewrite_is_the_users_own_sentence(
    line: str, rewrite: str, engine: Engine, voice: Voice
) -> None:
    assert read_line(line, engine.analyzer("en"), voice, "Mia").rewrite == rewrite


def test_nothing_to_keep_gets_a_soft_line_with_the_name(engine: Engine, now: datetime) -> None:
    _, text = feedback(engine, now, "child", "Mia, you always do this!")
    assert "A softer way might be: Mia, I felt angry about what happened" in text
    assert "is warm" not in text  # a bare name is not yet what works


PRESSURE = [
    "I'm sorry. Can we talk right now?",
    "I'm sorry I shouted. Answer me when I talk to you.",
]


@pytest.mark.parametrize("line", PRESSURE)
def test_pressure_without_a_rule_is_still_pressure(line: str, engine: Engine, voice: Voice) -> None:
    r = read_line(line, engine.analyzer("en"), voice)
    assert r.cues == ["pressure"] and not r.limit, r


def feedback(engine: Engine, now: datetime, rel: str, line: str) -> tuple[Turn, str]:
    s = Session("u", seed=5)
    s.profile.onboarded, s.profile.relationship, s.profile.name = True, rel, "Mia"
    s.state, s.draft = "conflict.own_line", {"moves": ["apologise"], "emotions": ["anger"]}
    turn = engine.handle(s, Text(line), now)
    return turn, "\n".join(engine.content.render(r, "en").text for r in turn.replies)


def test_feedback_says_what_works_first_then_the_sting(engine: Engine, now: datetime) -> None:
    turn, text = feedback(engine, now, "child", "I'm sorry I yelled, you are such a brat.")
    assert turn.session.state == "conflict.line_feedback"
    assert text.index("is a clean apology") < text.index('"you are such a brat" may sting')
    assert "appreciation" in text  # contempt's antidote
    assert "\n\nYour own words, with only the repair: I'm sorry I yelled.\n" in text


def test_keeping_a_harsh_line_is_allowed_without_an_a_plus(engine: Engine, now: datetime) -> None:
    turn, _ = feedback(engine, now, "partner", "Sorry I yelled, but you never listen")
    kept = engine.handle(turn.session, Press("keep"), now)
    assert [r.key for r in kept.replies] == ["conflict.kept_harsh", "conflict.when"]
    plan = engine.handle(kept.session, Press("tomorrow"), now)
    text = engine.content.render(plan.replies[-1], "en").text
    assert plan.session.plans[-1]["kept_harsh"] and "A+" not in text
    turn, _ = feedback(engine, now, "partner", "Sorry I yelled, but you never listen")
    used = engine.handle(turn.session, Press("use_soft"), now)
    plan = engine.handle(used.session, Press("tomorrow"), now)
    assert plan.session.plans[-1]["line"] == "Sorry I yelled."
    assert "A+" in engine.content.render(plan.replies[-1], "en").text


def test_a_kept_rule_goes_on_the_plan_for_later(engine: Engine, now: datetime) -> None:
    turn, text = feedback(engine, now, "child", "Sorry I lost it. Bedtime is still 8 though.")
    assert "limit isn't pressure" in text and "Can we talk about bedtime tomorrow" in text
    used = engine.handle(turn.session, Press("use_soft"), now)
    plan = engine.handle(used.session, Press("tomorrow"), now)
    assert plan.session.plans[-1]["later"] == "bedtime"
    assert plan.session.plans[-1]["line"] == "Sorry I lost it."


AGES = [("she's 4", "preschool"), ("3", "preschool"), ("5 years", "preschool"), ("2", "toddler"),
        ("6", "child"), ("he's 12", "child"), ("a preschooler", "preschool"),
        ("kindergarten", "preschool"), ("13", "teen")]  # fmt: skip


@pytest.mark.parametrize(("typed", "band"), AGES)
def test_ages_fall_in_their_band(engine: Engine, now: datetime, typed: str, band: str) -> None:
    s = Session("u")
    s.state, s.profile.relationship = "onboarding.age", "child"
    turn = engine.handle(s, Text(typed), now)
    assert turn.session.profile.age_band == band
    assert turn.session.profile.rel == ("child" if band == "preschool" else band)


def test_stored_bands_from_before_read_as_they_did() -> None:
    s = Session("u")
    s.profile.relationship = "child"
    for stored in ("baby", "toddler", "child", "teen", ""):
        s.profile.age_band = stored
        assert s.profile.band == s.profile.rel == (stored or "child")


def test_needs_come_from_content_labels_only() -> None:
    labels = {"need.rest": "Rest", "need.respect": "To be respected", "need.unsure": "Not sure"}
    assert need_label("unsure", labels) == ""
    assert need_label("rest", labels) == "rest"
    assert need_label(["respect", "rest"], labels) == "to be respected"
    assert need_label("I need a break from all of it", labels) == ""  # the user's words: never
    assert need_label(None, labels) == need_label([], labels) == ""


def test_needs_make_the_later_line(content: Content) -> None:
    loc = content.locale("en")
    text = loc.render_text("drafts.later", {"topic": "", "my_need": "rest", "their_need":
                                            "to be heard"})  # fmt: skip
    assert "I need rest, and I think you need to be heard." in text
    text = loc.render_text("drafts.later", {"topic": "", "my_need": "", "their_need": ""})
    assert text.startswith("Can we talk about what happened tomorrow")


ACTS = ["yelled at {o}", "shouted at {o}", "snapped at {o}", "took {p} phone", "grabbed {p} arm",
        "ignored {o}", "told {o} to go to {p} room", "lost my temper with {o}"]  # fmt: skip
WHO = [("her", "her"), ("him", "his"), ("them", "their"), ("my son", "his"),
       ("my daughter", "her"), ("my partner", "their"), ("Mia", "her")]  # fmt: skip
TAILS = ["", " when she wouldn't listen", " because he was rude", " and called her lazy",
         " and said they were so annoying", ", then I cried", " after he hit his sister",
         " and told him he's a brat"]  # fmt: skip


@pytest.mark.parametrize("tail", TAILS)
def test_said_back_never_mixes_you_with_a_third_person(tail: str, voice: Voice) -> None:
    """Every act, person and ending: said back with "you", or left out — never half of each,
    never with the label in it."""
    for template in ACTS:
        for obj, poss in WHO:
            my_part = "I " + template.format(o=obj, p=poss) + tail
            said = act(my_part, voice, "Mia")
            if not said:
                assert "called" in tail or "said" in tail or "told him" in tail, my_part
                continue
            assert not THIRD.search(said) and "Mia" not in said, (my_part, said)
            assert re.search(r"\byou(r)?\b", said), (my_part, said)
            assert not any(w in said for w in ("lazy", "annoying", "brat", "rude")), said
