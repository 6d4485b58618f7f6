"""Listening in the conflict flow: the user's own words said back, and what they already told.

Every word list lives in content/<locale>/data/listening.yaml. What comes back to the user is
a short excerpt of their own text, passed to a template as a variable (never as a template),
trimmed and shown in quotes by the text around it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from dialogue.language import normalize
from dialogue.replies import excerpt

if TYPE_CHECKING:
    from dialogue.engine import Ctx

PHRASE_MAX = 60  # the longest phrase of the user's own said back
DONT_KNOW_WORDS = 10  # a longer answer says more than "I don't know"
EMOTION_WORDS = 3  # fewer words than this only name the emotion ("so ashamed"): not said back
JUDGING = frozenset({"evaluation", "contempt"})  # a verdict on a person, in the user's words
_SENTENCE = re.compile(r"(?<=[.!?…])\s+|\n+")
_CLAUSE = re.compile(r"[.!?…;,\n]+|\s+(?:and|but|so|because)\s+", re.I)
_TRAILING = " \t.!?…,;:-–—\"'“”‘’«»"


def phrase(text: str, limit: int = PHRASE_MAX) -> str:
    """The first sentence of the user's text, without its end mark, cut on a word if long,
    starting with a capital (the user's words otherwise as they wrote them)."""
    first = next((s for s in _SENTENCE.split(text.strip()) if s.strip(_TRAILING)), "")
    said = excerpt(first.strip(_TRAILING), limit)
    return said[:1].upper() + said[1:]


def _words(ctx: Ctx, name: str) -> tuple[str, ...]:
    data = ctx.engine.content.locale(ctx.session.locale).data.get("listening", {})
    return _normalized(tuple(str(w) for w in data.get(name, ())))


@lru_cache(maxsize=32)
def _normalized(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({normalize(w) for w in words if normalize(w).strip()}, key=len,
                        reverse=True))  # fmt: skip


def _first(norm: str, phrases: tuple[str, ...]) -> str:
    """The phrase that starts earliest in a normalized text (the longer one on a tie)."""
    hits = [(norm.find(p), -len(p), p) for p in phrases if p in norm]
    return min(hits)[2].strip() if hits else ""


def verdict(ctx: Ctx, text: str) -> tuple[bool, str]:
    """Whether the user's own words judge the other person, and the word to quote back.

    Quoted or reported speech ("he said 'you never listen'") is observation: the analyzer
    leaves it out before it reads the cues, and so does the search for the word.
    """
    if not JUDGING & set(ctx.analyzer().cues(text)):
        return False, ""
    own = normalize(ctx.analyzer().own_words(text))
    return True, _first(own, _words(ctx, "labels"))


def space_said(ctx: Ctx, *texts: str) -> str:
    """The phrase of the user's own telling in which the other asked for space, or ""."""
    phrases = _words(ctx, "asked_space")
    for text in texts:
        for sentence in _CLAUSE.split(text):
            if _first(normalize(sentence), phrases):
                return phrase(sentence)
    return ""


def acts_told(ctx: Ctx, text: str) -> bool:
    """Whether the user's telling already says what the other person did."""
    name = normalize(ctx.session.profile.name).strip()
    subjects = ["he", "she", "they", *([re.escape(name)] if name else [])]
    verbs = "|".join(re.escape(w.strip()) for w in _words(ctx, "acts"))
    pattern = rf" (?:{'|'.join(subjects)}) (?:\w+ )?(?:{verbs}|\w+ed) "
    return re.search(pattern, normalize(text)) is not None


def dont_know(ctx: Ctx, text: str) -> bool:
    """A short "I don't know" about the other's side."""
    norm = normalize(text)
    if len(norm.split()) > DONT_KNOW_WORDS:
        return False
    return bool(_first(norm, _words(ctx, "dont_know")))


def emotion_words(ctx: Ctx, emotion: str, texts: list[str]) -> str:
    """The user's own phrase that named an emotion ("like a bad mom"), the first one found."""
    an = ctx.analyzer()
    for text in texts:
        for clause in _CLAUSE.split(text):
            if len(clause.split()) >= EMOTION_WORDS and emotion in an.emotions(clause):
                return phrase(clause)
    return ""


def said_vars(text: str) -> dict[str, Any]:
    """A reply's `said`: one short phrase of the user's own answer."""
    return {"said": phrase(text)}
