"""The home menu, help, privacy, my plans, and erasing everything."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dialogue.flows.base import CHOICE, GOTO, INFO, Flow, Step
from dialogue.replies import Effect

STORY_WORDS = 4  # a message this long at the menu that names no option starts a conflict

if TYPE_CHECKING:
    from dialogue.engine import Ctx


def _held(ctx: Ctx) -> bool:
    return ctx.session.hold == "abuse" and ctx.session.profile.relationship != "child"


def _onboarded(ctx: Ctx) -> bool:
    return ctx.session.profile.onboarded


def _story_to(ctx: Ctx) -> str:
    """Where a story typed at the menu goes: the conflict flow's first question."""
    return "conflict.what_happened" if _onboarded(ctx) and not _held(ctx) else ""


def _new_conflict(ctx: Ctx) -> None:
    if not _onboarded(ctx) and not _held(ctx):  # a newcomer first finishes setup (where left)
        ctx.engine.go_on_setup(ctx, "onboarding.relationship")
        return
    ctx.session.draft = {}


def _plans_vars(ctx: Ctx) -> dict[str, Any]:
    plans = ctx.session.plans
    return {"count": len(plans), **({"plan": plans[-1]} if plans else {})}


def _erase(ctx: Ctx) -> None:
    ctx.effects.append(Effect("erase_all", {"user_id": ctx.session.user_id}))
    fresh = ctx.engine.new_session(ctx.session.user_id, ctx.session.locale)
    fresh.turn = ctx.session.turn
    ctx.session.__dict__.update(fresh.__dict__)
    ctx.say("menu.erased")


def _pause_here(ctx: Ctx) -> None:
    ctx.session.paused = "menu.home"


def _unhold(event: Any) -> None:
    event.model.session.hold = ""


STEPS = [
    Step("home", CHOICE, ("new", "rehearse", "space", "plans", "setup", "privacy", "help"),
         group="menu",
         columns=2, text_to=_story_to, text_words=STORY_WORDS),
    Step("to_new", GOTO, goto=lambda c: "menu.held" if _held(c) else "conflict.what_happened",
         enter=_new_conflict),
    Step("to_space", GOTO, goto="space.intro"),
    Step("to_rehearse", GOTO, goto="rehearsal.start"),
    Step("to_setup", GOTO, goto="onboarding.relationship"),
    Step("held", CHOICE, ("sos", "mistaken", "menu"), group="held", columns=1),
    Step("plans", INFO, ("menu",), group="ui", vars=_plans_vars),
    Step("help", INFO, ("menu",), group="ui"),
    Step("privacy", INFO, ("menu",), group="ui"),
    Step("delete", CHOICE, ("erase", "keep"), group="delete", columns=1),
    Step("to_sos", GOTO, enter=_pause_here, goto="safety.sos"),
    Step("erased", GOTO, enter=_erase),
]  # fmt: skip

TRANSITIONS = [
    {"trigger": "new", "source": "home", "dest": "to_new"},
    {"trigger": "space", "source": "home", "dest": "to_space"},
    {"trigger": "rehearse", "source": "home", "dest": "to_rehearse"},
    {"trigger": "plans", "source": "home", "dest": "plans"},
    {"trigger": "setup", "source": "home", "dest": "to_setup"},
    {"trigger": "privacy", "source": "home", "dest": "privacy"},
    {"trigger": "help", "source": "home", "dest": "help"},
    {"trigger": "menu", "source": ["plans", "help", "privacy", "held"], "dest": "home"},
    {"trigger": "sos", "source": "held", "dest": "to_sos"},
    {"trigger": "mistaken", "source": "held", "dest": "to_new", "before": _unhold},
    {"trigger": "erase", "source": "delete", "dest": "erased"},
    {"trigger": "keep", "source": "delete", "dest": "home"},
]  # fmt: skip

FLOW = Flow("menu", STEPS, TRANSITIONS)
