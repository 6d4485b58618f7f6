"""Listening in the conflict flow: the user's own words said back, and what they already told.

Every word list lives in content/<locale>/data/listening.yaml. What comes back to the user is
a short excerpt of their own text, passed to a template as a variable (never as a template),
trimmed and shown in quotes by the text around it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from dialogue.flows.base import guard
from dialogue.language import normalize
from dialogue.replies import excerpt

if TYPE_CHECKING:
    from transitions import EventData

    from dialogue.content import Locale
    from dialogue.engine import Ctx

PHRASE_MAX = 60  # the longest phrase of the user's own said back
DONT_KNOW_WORDS = 10  # a longer answer says more than "I don't know"
EMOTION_WORDS = 3  # fewer words than this only name the emotion ("so ashamed"): not said back
JUDGING = frozenset({"evaluation", "contempt"})  # a verdict on a person, in the user's words
_SENTENCE = re.compile(r"(?<=[.!?…])\s+|\n+")
_CLAUSE = re.compile(r"[.!?…;,\n]+|\s+(?:and|but|so|because)\s+", re.I)
_SENTENCES = re.compile(r"[.!?…;\n]+")
_SUBJECT = re.compile(r" (?:i|we|he|she|they|you)(?= )")
_TRAILING = " \t.!?…,;:-–—\"'“”‘’«»"


def phrase(text: str, limit: int = PHRASE_MAX) -> str:
    """The first sentence of the user's text, without its end mark, cut on a word if long,
    starting with a capital (the user's words otherwise as they wrote them)."""
    first = next((s for s in _SENTENCE.split(text.strip()) if s.strip(_TRAILING)), "")
    said = excerpt(first.strip(_TRAILING), limit)
    return said[:1].upper() + said[1:]


def _words(ctx: Ctx, name: str) -> tuple[str, ...]:
    """A list of listening.yaml, normalized (" word "), longest first; built once a locale."""

    def build(loc: Locale) -> tuple[str, ...]:
        said = (normalize(str(w)) for w in loc.data.get("listening", {}).get(name, ()))
        return tuple(sorted({w for w in said if w.strip()}, key=len, reverse=True))

    return ctx.engine.derived(ctx.session.locale, f"listening.{name}", build)


def _first(norm: str, phrases: tuple[str, ...]) -> str:
    """The phrase that starts earliest in a normalized text (the longer one on a tie)."""
    hits = [(norm.find(p), -len(p), p) for p in phrases if p in norm]
    return min(hits)[2].strip() if hits else ""


def judges(ctx: Ctx, text: str) -> bool:
    """Whether the user's own words judge the other person. Quoted or reported speech ("he
    said 'you never listen'") is observation: the analyzer leaves it out before it reads the
    cues. The turn's own analysis is used when the text is the message just typed."""
    a = ctx.analysis
    cues = a.cues if a is not None and ctx.draft.get("what_happened") == text else None
    return bool(JUDGING.intersection(cues if cues is not None else ctx.analyzer().cues(text)))


def verdict_word(ctx: Ctx, text: str) -> str:
    """The first verdict word in the user's own words (not in quoted speech), or ""."""
    return _first(normalize(ctx.analyzer().own_words(text)), _words(ctx, "labels"))


def space_said(ctx: Ctx, *texts: str) -> str:
    """The phrase of the user's own telling in which the other asked for space, or "".

    Not where the user is the one who did it ("I walked out"): the nearest subject before the
    words, in the same clause, must not be "I" or "we".
    """
    phrases = _words(ctx, "asked_space")
    for text in texts:
        if not _first(normalize(text), phrases):
            continue  # most tellings: nothing to look at sentence by sentence
        for sentence in _SENTENCES.split(text):
            norm = normalize(sentence)
            found = _first(norm, phrases)
            before = norm[: norm.find(f" {found} ") + 1]
            subject = (_SUBJECT.findall(before) or [""])[-1].strip()
            if found and subject not in ("i", "we"):
                return phrase(sentence)
    return ""


def acts_told(ctx: Ctx, text: str) -> bool:
    """Whether the user's telling already says what the other person did."""
    name = normalize(ctx.session.profile.name).strip()
    return _acts(name, _words(ctx, "acts")).search(normalize(text)) is not None


@lru_cache(maxsize=256)
def _acts(name: str, verbs: tuple[str, ...]) -> re.Pattern[str]:
    subjects = ["he", "she", "they", *([re.escape(name)] if name else [])]
    either = "|".join(re.escape(w.strip()) for w in verbs)
    return re.compile(rf" (?:{'|'.join(subjects)}) (?:\w+ )?(?:{either}|\w+ed) ")


def says_dont_know(ctx: Ctx, text: str) -> bool:
    """A short "I don't know" about the other's side."""
    if not text or len(text.split()) > DONT_KNOW_WORDS:
        return False
    return bool(_first(normalize(text), _words(ctx, "dont_know")))


def emotion_words(ctx: Ctx, emotion: str, texts: list[str]) -> str:
    """The user's own phrase that named an emotion ("like a bad mom"), the first one found."""
    an = ctx.analyzer()
    for text in texts:
        if emotion not in an.emotions(text):
            continue
        for clause in _CLAUSE.split(text):
            if len(clause.split()) >= EMOTION_WORDS and emotion in an.emotions(clause):
                return phrase(clause)
    return ""


# -- the conflict flow's listening steps ------------------------------------------------

# "I don't know" about their side: two or three guesses for who they are.
GUESSES = {
    "baby": ("too_much", "tired", "closeness"),
    "toddler": ("big_feeling", "control", "tired"),
    "child": ("unfair", "big_feeling", "separation"),
    "teen": ("controlled", "embarrassed", "overloaded"),
    "partner": ("unheard", "overloaded", "alone"),
    "other": ("unheard", "overloaded", "embarrassed"),
}
EVERY_GUESS = (*dict.fromkeys(g for gs in GUESSES.values() for g in gs), "none")


def judgmental(ctx: Ctx) -> bool:
    """A verdict on the other in the user's own words (not in what someone said)."""
    return not ctx.draft.get("camera_asked") and judges(ctx, ctx.draft.get("what_happened", ""))


def ask_camera(event: EventData) -> None:
    ctx: Ctx = event.model
    ctx.draft["camera_asked"] = True
    ctx.draft["verdict"] = verdict_word(ctx, ctx.draft.get("what_happened", ""))


def thanks(event: EventData) -> None:
    ctx: Ctx = event.model
    ctx.say("conflict.thanks", said=phrase(ctx.draft.get("camera", "")))


def camera_vars(ctx: Ctx) -> dict[str, Any]:
    return {"what_happened": excerpt(ctx.draft.get("what_happened", ""), 120),
            "word": ctx.draft.get("verdict", "")}  # fmt: skip


def their_side_vars(ctx: Ctx) -> dict[str, Any]:
    d = ctx.draft
    told = " ".join(d.get(k, "") for k in ("what_happened", "camera"))
    said = "" if d.get("camera_asked") else phrase(d.get("what_happened", ""))
    return {"said": said, "told": acts_told(ctx, told)}


def dont_know(ctx: Ctx) -> bool:
    return says_dont_know(ctx, ctx.draft.get("their_side", ""))


def guess_options(ctx: Ctx) -> list[str]:
    return [*GUESSES.get(ctx.rel, GUESSES["other"]), "none"]


def my_part_vars(ctx: Ctx) -> dict[str, Any]:
    d = ctx.draft
    return {"said": phrase(d.get("their_side", "")), "guess": d.get("their_guess", "")}


def forget(key: str) -> Any:
    def _drop(event: EventData) -> None:
        event.model.draft.pop(key, None)

    return _drop


def space_known(ctx: Ctx) -> bool:
    """The user already told that the other asked for space or pulled away."""
    return bool(space_words(ctx))


def space_words(ctx: Ctx) -> str:
    d = ctx.draft
    return space_said(ctx, *(d.get(k, "") for k in ("what_happened", "camera", "their_side")))


def take_space(event: EventData) -> None:
    ctx: Ctx = event.model
    ctx.draft["space"] = "yes"
    ctx.draft["space_said"] = space_words(ctx)


def to_space(trigger: str, source: str) -> list[dict[str, Any]]:
    """On to the space question, or past it to how the space is for the user when they
    already said the other asked for it."""
    return [
        {"trigger": trigger, "source": source, "dest": "space_feel",
         "conditions": guard(space_known), "before": take_space},
        {"trigger": trigger, "source": source, "dest": "space"},
    ]  # fmt: skip
