"""What one message shows: risk (risk.py), cues and emotions. Word lists live in content/.

Cues are found in layers too: patterns (content/<locale>/data/cues.yaml) over the user's own
words — quoted or reported speech ("he said 'you never listen'", "she called me lazy") is
taken out first, since it is an observation, not the user's criticism — and, where a cue
model is shipped (content/<locale>/model/cues.json), its probability above the cue's
threshold. Emotions come from the emotion word list.

Exceptions: LexiconError (a malformed word list or pattern) derives from ValueError.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from dialogue.language.model import LinearModel, ModelError
from dialogue.language.patterns import (
    PatternError,
    PatternSet,
    regex,
    required_words,
    split_first_group,
)
from dialogue.language.risk import KINDS, Risk, RiskDataError, RiskNet
from dialogue.language.text import Folder, LanguageError

CUES = (
    "criticism", "contempt", "defensiveness", "stonewalling", "pressure", "evaluation",
    "ownership", "apology", "empathy", "curiosity", "respect_space", "appreciation",
    "gentle_startup", "warmth",
)  # fmt: skip
CRISIS_KINDS = KINDS  # most urgent first
HARSH_CUES = frozenset({"criticism", "contempt", "defensiveness", "pressure", "stonewalling"})
_DEFENSIVENESS = frozenset({"defensiveness"})
_EVALUATION = frozenset({"evaluation"})
_OWNABLE = HARSH_CUES | _EVALUATION  # not read again in what the user owns
_ALL_CUES = frozenset(CUES)

_SPACES = re.compile(r"[ \t]{2,}")
_REPORTED = ("double_quotes", "single_quotes", "clause", "called", "actions", "owned")
_DOUBLE_QUOTES = frozenset('"“”«»')
_SINGLE_QUOTES = frozenset("'‘’")
_OPENING_SINGLE = re.compile(r"(?:^|[\s(])['‘]")
_APOSTROPHES = str.maketrans({"’": "", "‘": "", "'": "", "`": "", "´": ""})
_REPEATS = re.compile(r"(.)\1{2,}")
_NOT_WORD = re.compile(r"[^\w?]+")


def _fast_start(pattern: str) -> str:
    r"""A leading `\b` as a space: normalized text has one before every word, and a pattern
    that starts with plain letters is found many times faster than one that starts with `\b`."""
    return " " + pattern[2:] if pattern.startswith("\\b") else pattern


def _keep(m: re.Match[str]) -> str:
    """What a reported-speech pattern leaves: its `keep` group (the user's own act, "I called
    her"), or one space."""
    kept = m.groupdict().get("keep")
    return f" {kept} " if kept else " "


class LexiconError(ValueError):
    """A word list, pattern or model in content/<locale>/ is malformed."""


@lru_cache(maxsize=1024)
def normalize(text: str) -> str:
    """Lowercase, drop apostrophes, fold accents and stretched letters, keep words and '?'."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_APOSTROPHES)
    text = _REPEATS.sub(r"\1", text)
    text = text.replace("?", " ? ")
    return " " + " ".join(_NOT_WORD.sub(" ", text).split()) + " "


@dataclass(frozen=True, slots=True)
class Analysis:
    """What one text shows: cues, emotion ids (in order found) and risks (most urgent first)."""

    cues: tuple[str, ...]
    emotions: tuple[str, ...]
    risks: tuple[Risk, ...] = ()

    @property
    def crisis(self) -> tuple[str, ...]:
        """The answers the sure risks need, most urgent first."""
        return tuple(dict.fromkeys(r.kind for r in self.risks if r.sure))

    @property
    def risk(self) -> str | None:
        """The most urgent answer a sure risk needs, if any."""
        crisis = self.crisis
        return crisis[0] if crisis else None

    @property
    def unsure(self) -> Risk | None:
        """The risk to ask about when none is sure: the most urgent unsure one."""
        if self.crisis or not self.risks:
            return None
        return self.risks[0]

    @property
    def lead(self) -> Risk | None:
        """The risk that decides the turn: the most urgent sure one, else the one to ask about."""
        return self.risks[0] if self.risks else None


def _compile(patterns: list[str], where: str, flags: int = 0) -> re.Pattern[str]:
    if not patterns:
        return re.compile(r"(?!x)x")
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns), flags)
    except re.error as err:
        raise LexiconError(f"{where}: {err}") from err


class Analyzer:
    """Detects cues, emotions and risk in one locale's language."""

    def __init__(self, data: dict[str, Any]) -> None:
        cues, emotions, crisis = data.get("cues", {}), data.get("emotions", {}), data.get("crisis")
        if not crisis:
            raise LexiconError("a locale needs data/crisis.yaml: risk must never go unseen")
        reported = cues.get("reported", {})
        unknown = set(cues) - set(CUES) - {"reported", "reporting", "emoji", "common_words"}
        if unknown:
            raise LexiconError(f"cues.yaml names unknown cues: {sorted(unknown)}")
        entries = []
        for c in CUES:
            for i, p in enumerate(cues.get(c, [])):
                try:
                    re.compile(p)
                    entries.extend(
                        (c, regex(_fast_start(piece)), required_words(piece))
                        for piece in split_first_group(p)
                    )
                except re.error as err:
                    raise LexiconError(f"cues.{c}[{i}]: {err}") from err
        # Index each cue pattern by its rarest word: the common ones would make every
        # message run every pattern (speed only; what is found does not change).
        common = [*crisis.get("common_words", []), *cues.get("common_words", [])]
        self.cue_set = PatternSet(entries, frozenset(normalize(str(w)).strip() for w in common))
        self.emoji = {str(k): str(v) for k, v in (cues.get("emoji") or {}).items()}
        if not isinstance(reported, dict) or set(reported) - set(_REPORTED):
            raise LexiconError(f"cues.reported: a mapping of {', '.join(_REPORTED)}")
        self.reported = {
            k: _compile([reported[k]] if k in reported else [], f"cues.reported.{k}", re.I)
            for k in _REPORTED
        }
        self.emotion_family: dict[str, str] = {}
        # First word -> (the phrase's words, emotion), longest phrases first: one pass over
        # the words of a message finds every emotion named in it.
        self.emotion_index: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for emotion, spec in emotions.items():
            self.emotion_family[emotion] = spec["family"]
            for w in spec["words"]:
                phrase = tuple(normalize(w).split())
                if phrase:
                    self.emotion_index.setdefault(phrase[0], []).append((phrase, emotion))
        for options in self.emotion_index.values():
            options.sort(key=lambda o: -len(o[0]))
        models = data.get("models", {})
        try:
            self.folder = Folder(data.get("language", {}))
            risk_model = LinearModel.from_dict(models["risk"], "model/risk.json") if (
                "risk" in models) else None  # fmt: skip
            self.cue_model = LinearModel.from_dict(models["cues"], "model/cues.json") if (
                "cues" in models) else None  # fmt: skip
            self.risk_net = RiskNet(self.folder, crisis, risk_model)
        except (LanguageError, PatternError, RiskDataError, ModelError) as err:
            raise LexiconError(str(err)) from err
        self.reporting = self.risk_net.guards.reporting | frozenset(
            self.folder.stem_phrase(str(w)) for w in cues.get("reporting", [])
        )
        if self.cue_model and set(self.cue_model.classes) - set(CUES):
            raise LexiconError("model/cues.json knows cues that CUES does not")

    def own_words(self, text: str) -> str:
        """The text without quoted or reported speech (what others said is observation)."""
        if self.reporting.isdisjoint(self.folder.stems(text).split()):
            return text  # no word that reports speech: nothing to take out
        chars = set(text)
        if chars & _DOUBLE_QUOTES:  # what is taken out leaves one space, so clauses still read
            text = self.reported["double_quotes"].sub(" ", text)
        if chars & _SINGLE_QUOTES and _OPENING_SINGLE.search(text):
            text = self.reported["single_quotes"].sub(" ", text)
        text = self.reported["clause"].sub(" ", text)
        return _SPACES.sub(" ", self.reported["called"].sub(_keep, text))

    def cues(self, text: str) -> tuple[str, ...]:
        """The cues present, in the canonical order.

        Harsh cues are read in the user's own words less what they own ("sorry I walked out")
        and less what others did; evaluation (a label for someone) in the own words. A cue the
        model is sure of is not searched for again by the patterns (it is found either way).
        """
        found, _ = self.cue_evidence(text, model_first=True)
        return tuple(c for c in CUES if c in found)

    def cue_evidence(
        self, text: str, *, model_first: bool = False
    ) -> tuple[set[str], dict[str, float]]:
        """What the patterns find, and the cue model's probabilities (empty without a model).

        With `model_first`, the cues above their model threshold are in the set too, and the
        patterns only look for the others.
        """
        for emoji, words in self.emoji.items():
            text = text.replace(emoji, words)
        own = self.own_words(text)
        norm = normalize(own)
        probs: dict[str, float] = {}
        if self.cue_model is not None and norm.strip():
            probs = self.cue_model.probabilities(self.folder.stems(own))
        sure: set[str] = set()
        if model_first and probs:
            th = self.cue_model.thresholds if self.cue_model else {}
            sure = {c for c, p in probs.items() if p >= th.get(c, 0.5)}
        found = self.cue_set.keys(norm, _ALL_CUES - sure if sure else None)
        harsh = found & _OWNABLE
        if harsh:
            not_owned = self.reported["owned"].sub(" ", own)
            rest = normalize(self.reported["actions"].sub(" ", not_owned))
            kept = self.cue_set.keys(rest, frozenset(harsh - _EVALUATION))
            if "evaluation" in harsh:  # a label the user owns ("sorry I called you lazy")
                kept |= self.cue_set.keys(normalize(not_owned), _EVALUATION)
            if "defensiveness" in harsh - kept:  # an excuse often tells what others did
                kept |= self.cue_set.keys(normalize(not_owned), _DEFENSIVENESS)
            found -= harsh - kept
        return found | sure, probs

    def emotions(self, text: str) -> tuple[str, ...]:
        """Emotion ids named in the text, in the order they first appear."""
        words = normalize(text).split()
        found: list[str] = []
        i = 0
        while i < len(words):
            for phrase, emotion in self.emotion_index.get(words[i], ()):
                if tuple(words[i : i + len(phrase)]) == phrase:
                    found.append(emotion)
                    i += len(phrase) - 1
                    break
            i += 1
        return tuple(dict.fromkeys(found))

    def risks(self, text: str) -> tuple[Risk, ...]:
        """Every risk found, most urgent first, sure before unsure."""
        return self.risk_net.detect(text)

    def crisis(self, text: str) -> tuple[str, ...]:
        """The answers sure risks need, most urgent first (unsure ones are left out)."""
        return Analysis((), (), self.risks(text)).crisis

    def stems(self, text: str) -> str:
        """The text as the risk patterns read it (for writers tuning patterns)."""
        return self.folder.stems(text).strip()

    def analyze(self, text: str) -> Analysis:
        """All three detectors at once."""
        return Analysis(self.cues(text), self.emotions(text), self.risks(text))
