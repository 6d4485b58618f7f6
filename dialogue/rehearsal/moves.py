"""A user's rehearsal turn read as a Move: the language layer's cues, the acts a parent
describes ("I lean in", "I sit back and wait"), and the message's intensity.

The acts are phrases in content/<locale>/data/rehearsal.yaml (`wait`, `pursue`, `greet`),
matched as whole words in normalised text (language.analyzer.normalize).

Exceptions: RehearsalDataError (a malformed rehearsal.yaml) derives from ValueError.
"""

from __future__ import annotations

import re
from typing import Any

from dialogue.language.analyzer import HARSH_CUES, normalize
from dialogue.rehearsal.model import PUSH, SOOTHE, Move

ACTS = ("wait", "pursue", "greet", "rest")
# Kind cues that make a lone "pressure" reading unlikely: "Can you tell me how it was for you?"
# is an invitation (the cue model can read its "can you" as a demand), unless it is shouted.
INVITING = frozenset({"curiosity", "empathy", "ownership", "apology", "respect_space"})
ENDS = "end"  # whole messages that end the rehearsal ("stop", "I'm done")
LOUD_SHARE = 0.6  # a message this much in capitals (and at least LOUD_LETTERS long) is shouting
LOUD_LETTERS = 4
BANGS_FULL = 3  # this many "!" (or "?!") is as intense as it gets
LECTURE = 280  # characters: a message this long is a lecture to a child or a flooded adult


class RehearsalDataError(ValueError):
    """data/rehearsal.yaml lacks a list of phrases or holds something else."""


def _compile(phrases: list[str], where: str) -> re.Pattern[str]:
    if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
        raise RehearsalDataError(f"{where}: a list of phrases")
    alts = sorted({normalize(p).strip() for p in phrases if normalize(p).strip()}, key=len)
    if not alts:
        return re.compile(r"(?!x)x")
    return re.compile(" (?:" + "|".join(re.escape(a) for a in reversed(alts)) + ") ")


class MoveReader:
    """Reads one rehearsal message as a Move, with one locale's act phrases."""

    def __init__(self, data: dict[str, Any]) -> None:
        acts = data.get("rehearsal")
        if not isinstance(acts, dict) or set(ACTS) - set(acts):
            raise RehearsalDataError(f"data/rehearsal.yaml needs lists {ACTS}")
        self.acts = {a: _compile(acts[a], f"rehearsal.{a}") for a in ACTS}
        if not isinstance(acts.get(ENDS), list):
            raise RehearsalDataError(f"data/rehearsal.yaml needs a list {ENDS!r}")
        self.ends_with = frozenset(normalize(str(p)).strip() for p in acts[ENDS])

    def ends(self, text: str) -> bool:
        """Whether a whole message asks to end the rehearsal."""
        return normalize(text).strip() in self.ends_with

    def acts_in(self, text: str) -> set[str]:
        """The acts a message describes or performs."""
        norm = normalize(text)
        return {a for a, pattern in self.acts.items() if pattern.search(norm)}

    def read(self, text: str, cues: tuple[str, ...]) -> Move:
        """The move a typed message makes. An act described in the first person ("I lean in")
        is not owning a part, whatever the cue patterns make of its "I"."""
        if not normalize(text).strip():  # "...", an emoji-free silence: a quiet turn
            return Move("wait")
        acts = self.acts_in(text)
        harsh = tuple(c for c in cues if c in HARSH_CUES or c in PUSH)
        kind = tuple(c for c in cues if c in SOOTHE and not (c == "ownership" and acts))
        # A described wait is a quiet turn unless it also pushes ("I wait... LOOK AT ME"):
        # pursuit words or a harsh cue other than pressure, which the cue model can read into
        # "sits back and waits" itself.
        if "wait" in acts and "pursue" not in acts and set(harsh) <= {"pressure"}:
            return Move("wait", kind_cues=kind)
        if "rest" in acts and not set(harsh) - {"pressure"}:  # "I need twenty minutes, then
            # I'll come back" (its "come back" is no chase, its "need" no demand)
            return Move("break", kind_cues=kind)
        loud = intensity(text)
        if harsh == ("pressure",) and INVITING & set(kind) and "pursue" not in acts and loud < 0.5:
            harsh = ()
        return Move("text", harsh, kind, "pursue" in acts, loud, "greet" in acts)

    def described(self, text: str) -> bool:
        """Whether a message describes what the user does ("I smile", "*waits*") rather than
        says it: such a line is not kept as the best line to say."""
        norm = normalize(text)
        return (norm.startswith((" i ", " im ")) and bool(self.acts_in(text))) or "*" in text


def intensity(text: str) -> float:
    """0..1: shouting in capitals, exclamation marks, and lecture length, added up."""
    letters = sum(map(str.isalpha, text))  # counted in C: this runs on every message
    loud = letters >= LOUD_LETTERS and sum(map(str.isupper, text)) >= LOUD_SHARE * letters
    bangs = min(text.count("!"), BANGS_FULL) / BANGS_FULL
    long = 0.3 if len(text) >= LECTURE else 0.0
    return round(min(1.0, (0.5 if loud else 0.0) + 0.5 * bangs + long), 3)
