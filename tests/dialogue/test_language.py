"""The cue, emotion and crisis detectors on their own tables."""

from __future__ import annotations

import pytest

from dialogue.content import Content
from dialogue.language import CUES, Analyzer


@pytest.fixture(scope="module")
def analyzer(content: Content) -> Analyzer:
    return Analyzer(content.locale("en").data)


SELF_HARM = [
    "I want to kill myself",
    "i wanna die",
    "kms",
    "honestly kms right now",
    "I've been thinking about suicide",
    "im suicidal",
    "Ive been having sucidal thoughts",
    "I don't want to live anymore",
    "I dont want to be here anymore",
    "everyone would be better off without me",
    "there's no reason to live",
    "I wish I was dead",
    "I want to end it all",
    "thinking of ending my life",
    "I've been cutting again",
    "I hurt myself last night on purpose",
    "I took too many pills",
    "I want to dieeee",
    "I just want to disappear forever",
    "I'm going to take my own life",
    "I can't go on like this",
    "I Want To Die.",
    "i want to unalive myself",
]
HARM_TO_CHILD = [
    "I'm scared I'll hurt my baby",
    "I'm afraid I might shake him",
    "I had the urge to throw her against the wall",
    "I hit my son",
    "i slapped my daughter today",
    "I shook the baby",
    "sometimes I feel like I could hurt my kid",
    "my daughter was molested by her uncle",
    "my stepdad touched my son inappropriately",
    "I'm worried I'll snap and hurt them",
    "I almost hit my toddler",
]
ABUSE = [
    "my husband hits me",
    "he choked me last night",
    "she threatened to kill me",
    "my boyfriend threatened to take the kids",
    "I'm afraid of him",
    "I fear for my safety",
    "he won't let me leave the house",
    "he took my phone and my money",
    "he forced me to have sex",
    "I was raped",
    "my partner is abusive",
    "I'm not safe at home",
    "she pushed me down the stairs",
    "my ex is going to kill me",
    "I don't feel safe with him",
]
MEDICAL = [
    "my baby is not breathing",
    "he can't breathe",
    "I have chest pain",
    "she's having a seizure",
    "he's unconscious",
    "my toddler swallowed a battery",
    "he fell and hit his head and won't wake up",
    "the baby is turning blue",
    "she took too many pills",
]
IDIOMS_AND_SAFE = [
    "this is killing me",
    "I could kill for a coffee",
    "my feet are killing me",
    "these shoes are killing me",
    "the waiting is killing me",
    "I'm dying to see her",
    "I nearly died of embarrassment",
    "my wife is going to kill me when she sees the bill",
    "I need to cut myself some slack",
    "I killed myself laughing at that show",
    "we were just killing time",
    "I'm dead tired",
    "she nailed it, she was killing it",
    "he slammed the door and I yelled at him",
    "my toddler threw a tantrum at dinner",
    "we argued about the dishes again",
    "I feel guilty for snapping at her",
    "I'm so tired of fighting",
    "he was so frustrated he cried",
    "I'm scared of the dark lol",
    "I shot myself in the foot with that comment",
    "I feel safe at home now",
]


RISK = {"self_harm": SELF_HARM, "harm_to_child": HARM_TO_CHILD, "abuse": ABUSE, "medical": MEDICAL}


@pytest.mark.parametrize(
    ("kind", "text"), [(kind, text) for kind, texts in RISK.items() for text in texts]
)
def test_real_risk_is_seen(analyzer: Analyzer, kind: str, text: str) -> None:
    assert kind in analyzer.crisis(text)


@pytest.mark.parametrize("text", IDIOMS_AND_SAFE)
def test_idioms_and_everyday_conflict_do_not_trigger(analyzer: Analyzer, text: str) -> None:
    assert analyzer.crisis(text) == ()


def test_most_urgent_kind_leads(analyzer: Analyzer) -> None:
    assert analyzer.analyze("I took too many pills and want to die").risk == "self_harm"


CUE_TABLE = [
    ("You always leave your stuff everywhere", "criticism"),
    ("Why can't you ever listen?", "criticism"),
    ("You're such a slob", "criticism"),
    ("Grow up, you're acting like an idiot", "contempt"),
    ("whatever, oh please", "contempt"),
    ("It's not my fault, but you started it", "defensiveness"),
    ("I was just joking", "defensiveness"),
    ("I'm done talking, leave me alone", "stonewalling"),
    ("Look at me right now and answer me", "pressure"),
    ("We need to talk, stop ignoring me", "pressure"),
    ("He is so disrespectful", "evaluation"),
    ("She does it on purpose to annoy me", "evaluation"),
    ("That was my fault, I yelled", "ownership"),
    ("I shouldn't have said that", "ownership"),
    ("I'm sorry for shouting", "apology"),
    ("I apologise", "apology"),
    ("That must have been scary for you", "empathy"),
    ("I can see why you were upset", "empathy"),
    ("How was that for you?", "curiosity"),
    ("Help me understand what happened for you", "curiosity"),
    ("Take your time, I'll be here when you're ready", "respect_space"),
    ("No rush", "respect_space"),
    ("Thank you for telling me", "appreciation"),
    ("I love how you tried", "appreciation"),
    ("I feel hurt when plans change, could we talk?", "gentle_startup"),
    ("I need a bit of quiet", "gentle_startup"),
    ("Oh, there you are, sweetheart", "warmth"),
    ("Come here for a hug", "warmth"),
]


@pytest.mark.parametrize(("text", "cue"), CUE_TABLE)
def test_cue_is_found(analyzer: Analyzer, text: str, cue: str) -> None:
    assert cue in analyzer.cues(text)


def test_every_cue_has_a_row() -> None:
    assert {cue for _, cue in CUE_TABLE} == set(CUES)


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("I'm sorry I yelled. How was that for you?", {"criticism", "contempt", "pressure"}),
        ("Take your time, I'm here when you're ready", {"pressure", "stonewalling"}),
        ("I feel sad about earlier and I'd like us to be okay", {"criticism", "defensiveness"}),
    ],
)
def test_gentle_lines_carry_no_horsemen(analyzer: Analyzer, text: str, absent: set[str]) -> None:
    assert not set(analyzer.cues(text)) & absent


@pytest.mark.parametrize(
    ("text", "emotions"),
    [
        ("I was so angry and then guilty", ("anger", "guilt")),
        ("honestly I feel ashamed and anxious", ("shame", "anxiety")),
        ("I felt lonely, kind of numb", ("loneliness", "numb")),
        ("frustrated and sad", ("frustration", "sadness")),
    ],
)
def test_emotions_in_order_found(analyzer: Analyzer, text: str, emotions: tuple[str, ...]) -> None:
    assert analyzer.emotions(text) == emotions


def test_emotions_have_families(analyzer: Analyzer) -> None:
    assert analyzer.emotion_family["anger"] == "core"
    assert analyzer.emotion_family["shame"] == "inhibitory"
    assert analyzer.emotion_family["numb"] == "defense"
