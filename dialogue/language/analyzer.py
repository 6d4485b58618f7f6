"""Pattern-based detectors; every word list and pattern lives in content/<locale>/data/."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

CUES = (
    "criticism", "contempt", "defensiveness", "stonewalling", "pressure", "evaluation",
    "ownership", "apology", "empathy", "curiosity", "respect_space", "appreciation",
    "gentle_startup", "warmth",
)  # fmt: skip
# Most urgent first: the first kind found leads the safety reply.
CRISIS_KINDS = ("self_harm", "medical", "harm_to_child", "abuse")
HARSH_CUES = frozenset({"criticism", "contempt", "defensiveness", "pressure", "stonewalling"})

_APOSTROPHES = str.maketrans({"’": "", "‘": "", "'": "", "`": "", "´": ""})
_REPEATS = re.compile(r"(.)\1{2,}")
_NOT_WORD = re.compile(r"[^\w?]+")


class LexiconError(ValueError):
    """A word list or pattern in content/<locale>/data is malformed."""


@lru_cache(maxsize=1024)
def normalize(text: str) -> str:
    """Lowercase, drop apostrophes, fold accents and stretched letters, keep words and '?'."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_APOSTROPHES)
    text = _REPEATS.sub(r"\1", text)
    text = text.replace("?", " ? ")
    return " " + " ".join(_NOT_WORD.sub(" ", text).split()) + " "


@dataclass(frozen=True, slots=True)
class Analysis:
    """What one text shows: cues, emotion ids (in order found) and crisis kinds."""

    cues: tuple[str, ...]
    emotions: tuple[str, ...]
    crisis: tuple[str, ...]

    @property
    def risk(self) -> str | None:
        """The most urgent crisis kind, if any."""
        return self.crisis[0] if self.crisis else None


def _compile(patterns: list[str], where: str) -> re.Pattern[str]:
    if not patterns:
        return re.compile(r"(?!x)x")
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns))
    except re.error as err:
        raise LexiconError(f"{where}: {err}") from err


class Analyzer:
    """Detects cues, emotions and risk in one locale's language."""

    def __init__(self, data: dict[str, Any]) -> None:
        cues, emotions, crisis = data.get("cues", {}), data.get("emotions", {}), data.get("crisis")
        if not crisis:
            raise LexiconError("a locale needs data/crisis.yaml: risk must never go unseen")
        unknown = set(cues) - set(CUES)
        if unknown:
            raise LexiconError(f"cues.yaml names unknown cues: {sorted(unknown)}")
        self.cue_patterns = {c: _compile(cues.get(c, []), f"cues.{c}") for c in CUES}
        self.emotion_family: dict[str, str] = {}
        groups = []
        for emotion, spec in emotions.items():
            self.emotion_family[emotion] = spec["family"]
            words = sorted((normalize(w).strip() for w in spec["words"]), key=len, reverse=True)
            groups.append(f"(?P<{emotion}>{'|'.join(map(re.escape, words))})")
        self.emotion_pattern = _compile(
            [rf"\b(?:{'|'.join(groups)})\b"] if groups else [], "emotions"
        )
        self.idioms = _compile(crisis.get("idioms", []), "crisis.idioms")
        missing = set(CRISIS_KINDS) - set(crisis)
        if missing:
            raise LexiconError(f"crisis.yaml lacks {sorted(missing)}")
        self.crisis_patterns = {k: _compile(crisis[k], f"crisis.{k}") for k in CRISIS_KINDS}

    def cues(self, text: str) -> tuple[str, ...]:
        """The cues present, in the canonical order."""
        norm = normalize(text)
        return tuple(c for c in CUES if self.cue_patterns[c].search(norm))

    def emotions(self, text: str) -> tuple[str, ...]:
        """Emotion ids named in the text, in the order they first appear."""
        found = (m.lastgroup for m in self.emotion_pattern.finditer(normalize(text)))
        return tuple(dict.fromkeys(e for e in found if e))

    def crisis(self, text: str) -> tuple[str, ...]:
        """Crisis kinds suggested by the text, most urgent first; idioms are set aside first."""
        norm = self.idioms.sub(" ", normalize(text))
        return tuple(k for k in CRISIS_KINDS if self.crisis_patterns[k].search(norm))

    def analyze(self, text: str) -> Analysis:
        """All three detectors at once."""
        return Analysis(self.cues(text), self.emotions(text), self.crisis(text))
