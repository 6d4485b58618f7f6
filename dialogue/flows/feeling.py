"""Below the surface, needs and regulation: the conflict flow's steps between the emotions
and the space question (the Change Triangle, NVC's needs, calming or waking the body).

Guards keep their names in the flow diagrams ("answer if still_high").
"""

from __future__ import annotations

from itertools import dropwhile
from typing import TYPE_CHECKING, Any

from dialogue.flows.listening import phrase

if TYPE_CHECKING:
    from transitions import EventData

    from dialogue.engine import Ctx

CALM_EXERCISES = 3
GROUND_EXERCISES = 3
HIGH_INTENSITY = 7
# Below the surface (the Change Triangle): after these, the core emotions underneath.
BELOW = frozenset({"guilt", "shame", "numb"})
CORE = ("fear", "sadness", "anger", "joy", "excitement", "disgust")
# Hypo-arousal: heavy, numb, far away. Met with waking the body gently, not with calming.
LOW_BODY = frozenset({"heavy", "numb_body"})
MY_NEEDS = ("connection", "rest", "respect", "heard", "understanding", "help", "calm",
            "cooperation", "trust", "space", "unsure")  # fmt: skip
THEIR_NEEDS = {
    "baby": ("comfort", "rest", "calm", "closeness", "space", "unsure"),
    "toddler": ("comfort", "closeness", "play", "choice", "rest", "space", "unsure"),
    "child": ("connection", "understanding", "heard", "choice", "fairness", "play", "unsure"),
    "teen": ("choice", "respect", "heard", "understanding", "space", "trust", "unsure"),
    "partner": ("connection", "respect", "heard", "understanding", "appreciation", "help",
                "space", "unsure"),
    "other": ("respect", "heard", "understanding", "space", "trust", "connection", "unsure"),
}  # fmt: skip
TONIGHT_NEEDS = ("sleep", "quiet", "comfort", "talk", "cry", "care")


def exercise_vars(state: str, count: int) -> Any:
    """Which exercise of a calming (or waking) step: one more per "again" in a row, so /back
    goes one exercise back; its opening words only the first time the step is met."""

    def _vars(ctx: Ctx) -> dict[str, Any]:
        history = ctx.session.history
        again = len(history) - len(list(dropwhile(lambda s: s == state, reversed(history))))
        arriving = ctx.draft.get(f"{state}_at") == ctx.session.turn  # not a question asked again
        return {"index": again % count, "opening": arriving and state not in history}

    return _vars


def arrived(state: str) -> Any:
    def _note(ctx: Ctx) -> None:
        ctx.draft[f"{state}_at"] = ctx.session.turn

    return _note


def shame(ctx: Ctx) -> bool:
    return "shame" in ctx.draft.get("emotions", [])


def below(ctx: Ctx) -> bool:
    """Guilt, shame or numbness: something may be underneath."""
    return bool(BELOW & set(ctx.draft.get("emotions", [])))


def low(ctx: Ctx) -> bool:
    """Numb or heavy, and not flooded: hypo-arousal."""
    d = ctx.draft
    return "numb" in d.get("emotions", []) or bool(LOW_BODY & set(d.get("body", [])))


def still_high(ctx: Ctx) -> bool:
    return int(ctx.draft.get("intensity_after", 0)) >= HIGH_INTENSITY


def check_now(ctx: Ctx) -> bool:
    """A "now" while the other asked for space, or while still flooded: one gentle check."""
    d = ctx.draft
    level = int(d.get("intensity_after", d.get("intensity", 0)))
    return (
        d.get("when") == "now"
        and not d.get("now_checked")
        and (d.get("space") == "yes" or level >= HIGH_INTENSITY)
    )


def now_vars(ctx: Ctx) -> dict[str, Any]:
    d = ctx.draft
    level = int(d.get("intensity_after", d.get("intensity", 0)))
    return {"space": d.get("space") == "yes", "high": level >= HIGH_INTENSITY}


def their_need_options(ctx: Ctx) -> list[str]:
    return list(THEIR_NEEDS.get(ctx.rel, THEIR_NEEDS["other"]))


def kind_heard(event: EventData) -> None:
    ctx: Ctx = event.model
    ctx.say("conflict.kind_heard", said=phrase(ctx.draft.get("kind_words", "")))


def underneath_heard(event: EventData) -> None:
    ctx: Ctx = event.model
    found = list(ctx.draft.get("underneath", []))
    if found:
        ctx.say("conflict.underneath_heard", emotions=found)


def has_emotions(ctx: Ctx) -> bool:
    return bool(ctx.draft.get("emotions"))


def high(ctx: Ctx) -> bool:
    return int(ctx.draft.get("intensity", 0)) >= HIGH_INTENSITY
