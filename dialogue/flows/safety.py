"""The safety protocol: coaching stops; care, crisis lines, and "are you safe right now?"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dialogue.flows.base import CHOICE, GOTO, INFO, Flow, Step

if TYPE_CHECKING:
    from transitions import EventData

    from dialogue.engine import Ctx

HELD_FLOWS = ("conflict",)  # flows that coach repair with the other person


def _resume_target(ctx: Ctx) -> str:
    """Where coaching goes on: the paused state, unless that would coach towards an abuser."""
    s = ctx.session
    target = s.paused or "menu.home"
    s.paused, s.alert = "", ""
    if s.hold == "abuse" and target.partition(".")[0] in HELD_FLOWS:
        return "menu.held"
    if target.startswith("safety."):
        return "menu.home"
    return target if s.profile.onboarded or target.startswith("onboarding.") else (
        "onboarding.welcome")  # fmt: skip


def _resume(ctx: Ctx) -> None:
    ctx.say("safety.resume")
    ctx.engine.return_to(ctx, _resume_target(ctx))


def _unhold(event: EventData) -> None:
    event.model.session.hold = ""


def _vars(ctx: Ctx) -> dict[str, Any]:
    return {"kind": ctx.session.alert or "sos", "country": ctx.engine.country(ctx.session)}


STEPS = [
    Step("check", CHOICE, ("safe", "not_safe", "grounding", "mistaken"), group="safety",
         columns=1, vars=_vars),
    Step("urgent", CHOICE, ("safe", "grounding"), group="safety", columns=1, vars=_vars),
    Step("grounding", INFO, ("done",), group="safety", vars=_vars),
    Step("safe", CHOICE, ("resume", "menu", "lines"), group="resume", columns=1, vars=_vars),
    Step("sos", CHOICE, ("resume", "grounding_sos"), group="resume", columns=1, vars=_vars),
    Step("grounding_sos", INFO, ("resume",), group="resume", key="safety.grounding",
         vars=_vars),
    Step("resume", GOTO, enter=_resume),
    Step("to_menu", GOTO, goto="menu.home",
         enter=lambda c: setattr(c.session, "paused", "") or setattr(c.session, "alert", "")),
]  # fmt: skip

TRANSITIONS = [
    {"trigger": "safe", "source": ["check", "urgent"], "dest": "safe"},
    {"trigger": "not_safe", "source": "check", "dest": "urgent"},
    {"trigger": "grounding", "source": ["check", "urgent"], "dest": "grounding"},
    {"trigger": "done", "source": "grounding", "dest": "check"},
    {"trigger": "mistaken", "source": "check", "dest": "resume", "before": _unhold},
    {"trigger": "resume", "source": ["safe", "sos", "grounding_sos"], "dest": "resume"},
    {"trigger": "menu", "source": "safe", "dest": "to_menu"},
    {"trigger": "lines", "source": "safe", "dest": "sos"},
    {"trigger": "grounding_sos", "source": "sos", "dest": "grounding_sos"},
]

FLOW = Flow("safety", STEPS, TRANSITIONS)
