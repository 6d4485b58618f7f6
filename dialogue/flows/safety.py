"""The safety protocol: coaching stops; the right help for the kind of risk comes first.

A sure risk: care and what to do now for its kind, the lines of the user's country (or the
international directory and "which country are you in?"), then one question — "help is on
its way?" for an emergency happening now, "is your child safe?" for a child, "are you safe
right now?" otherwise. An unsure risk: one direct question (`ask`); "yes" (or "not sure") is
the sure path, "no" resumes where the user was and takes the message they wrote as its
answer there. Coaching resumes only when the user chooses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dialogue.flows.base import CHOICE, GOTO, INFO, Flow, Step
from dialogue.language.risk import KINDS

if TYPE_CHECKING:
    from transitions import EventData

    from dialogue.engine import Ctx

HELD_FLOWS = ("conflict",)  # flows that coach repair with the other person
CHILD_KINDS = ("harm_to_child", "child_risk")
CRISIS_COUNTRIES = ("US", "UK", "IE", "CA", "AU")  # countries whose lines content/ holds
COUNTRY_CHOICES = (*CRISIS_COUNTRIES, "elsewhere")


def _resume_target(ctx: Ctx) -> str:
    """Where coaching goes on: the paused state, unless that would coach towards an abuser."""
    s = ctx.session
    target = s.paused or "menu.home"
    s.paused, s.alert, s.alert_who, s.alert_label, s.alert_kinds = "", "", "", "", []
    if s.hold == "abuse" and target.partition(".")[0] in HELD_FLOWS:
        return "menu.held"
    if target.startswith("safety."):
        return "menu.home"
    return target if s.profile.onboarded or target.startswith("onboarding.") else (
        "onboarding.welcome")  # fmt: skip


def _resume(ctx: Ctx) -> None:
    ctx.say("safety.resume")
    ctx.engine.return_to(ctx, _resume_target(ctx))


def _cleared(ctx: Ctx) -> None:
    """The user said no to the direct question: go on, and use what they wrote as the answer."""
    held = ctx.session.held
    ctx.session.held = ""
    ctx.say("safety.cleared")
    target = _resume_target(ctx)
    ctx.engine.return_to(ctx, target, held if held and ctx.engine.takes_text(target) else None)


def _confirmed(ctx: Ctx) -> None:
    s = ctx.session
    ctx.engine.enter_safety(ctx, s.alert, s.alert_who, s.alert_label, kinds=(s.alert,))


def _was_now(event: EventData) -> bool:
    return event.model.session.alert == "medical"


def _unhold(event: EventData) -> None:
    event.model.session.hold = ""


def safety_vars(ctx: Ctx) -> dict[str, Any]:
    """What every safety text may use: the kind, who, the finer label, every kind, country."""
    s = ctx.session
    return {"kind": s.alert or "sos", "who": s.alert_who or "user", "label": s.alert_label,
            "kinds": list(s.alert_kinds), "country": ctx.engine.country(s)}  # fmt: skip


def _ask_key(ctx: Ctx) -> str:
    return f"safety.ask.{ctx.session.alert or 'self_harm'}"


def _check_options(ctx: Ctx) -> list[str]:
    if ctx.session.alert in CHILD_KINDS:
        return ["child_safe", "child_not_safe", "grounding", "mistaken"]
    if ctx.session.alert == "self_harm":  # the screener's question: acting on it tonight?
        return ["not_tonight", "might_act", "grounding", "mistaken"]
    return ["safe", "not_safe", "grounding", "mistaken"]


def _urgent_options(ctx: Ctx) -> list[str]:
    return ["child_safe" if ctx.session.alert in CHILD_KINDS else "safe", "cant_call"]


def _sos_options(ctx: Ctx) -> list[str]:
    known = ctx.engine.country(ctx.session) != "INTL" or ctx.session.profile.country
    return ["resume", "grounding_sos"] if known else ["resume", "grounding_sos", "country"]


def _answer(ctx: Ctx) -> str:
    """Where the country question leads: the lines, then the kind's own next step."""
    s = ctx.session
    kind = s.alert or "sos"  # /sos sets no alert; its own text shows the lines
    if kind != "sos":
        code = s.profile.country
        if code in CRISIS_COUNTRIES:
            ctx.say(f"safety.lines.{code}", **safety_vars(ctx))
        else:
            ctx.say("safety.country_other")
    return first_step(kind)


def first_step(kind: str) -> str:
    """The question that follows the help: an emergency, a child, or the user."""
    if kind == "sos":
        return "safety.sos"
    return "safety.now" if kind == "medical" else "safety.check"


def parse_country(text: str, ctx: Ctx) -> str | None:
    """A country code from a country's name, a city or a time zone; "elsewhere" if known."""
    return ctx.engine.parse_country(text, ctx)


def _keep_country(ctx: Ctx) -> None:
    value = ctx.draft.pop("country_choice", "")
    if value:
        ctx.session.profile.country = value


STEPS = [
    Step("check", CHOICE, _check_options, group="safety", columns=1, vars=safety_vars,
         every_option=("safe", "not_safe", "child_safe", "child_not_safe", "not_tonight",
                       "might_act", "grounding", "mistaken")),
    Step("now", CHOICE, ("help_coming", "cant_call", "mistaken"), group="safety", columns=1,
         vars=safety_vars),
    Step("cant_call", INFO, ("done",), group="safety", vars=safety_vars),
    Step("ask", CHOICE, ("yes", "not_sure", "no"), group="ask", columns=1, vars=safety_vars,
         key=_ask_key, keys=tuple(f"safety.ask.{k}" for k in KINDS)),
    Step("confirm", GOTO, enter=_confirmed),
    Step("cleared", GOTO, enter=_cleared),
    Step("country", CHOICE, COUNTRY_CHOICES, group="country", columns=2, vars=safety_vars,
         save="draft.country_choice", on_text="typed", parse=parse_country,
         text_save="draft.country_choice"),
    Step("after_country", GOTO, enter=_keep_country, goto=_answer),
    Step("urgent", CHOICE, _urgent_options, group="safety", columns=1, vars=safety_vars,
         every_option=("safe", "child_safe", "cant_call")),
    Step("grounding", INFO, ("done",), group="safety", vars=safety_vars),
    Step("safe", CHOICE, ("resume", "menu", "lines"), group="resume", columns=1, vars=safety_vars),
    Step("sos", CHOICE, _sos_options, group="resume", columns=1, vars=safety_vars,
         every_option=("resume", "grounding_sos", "country")),
    Step("grounding_sos", INFO, ("resume",), group="resume", key="safety.grounding",
         vars=safety_vars),
    Step("resume", GOTO, enter=_resume),
    Step("to_menu", GOTO, goto="menu.home",
         enter=lambda c: setattr(c.session, "paused", "") or setattr(c.session, "alert", "")),
]  # fmt: skip

TRANSITIONS = [
    {"trigger": "safe", "source": ["check", "urgent"], "dest": "safe"},
    {"trigger": "child_safe", "source": ["check", "urgent"], "dest": "safe"},
    {"trigger": "not_tonight", "source": "check", "dest": "safe"},
    {"trigger": "might_act", "source": "check", "dest": "urgent"},
    {"trigger": "not_safe", "source": "check", "dest": "urgent"},
    {"trigger": "child_not_safe", "source": "check", "dest": "urgent"},
    {"trigger": "grounding", "source": "check", "dest": "grounding"},
    {"trigger": "done", "source": "grounding", "dest": "check"},
    {"trigger": "mistaken", "source": ["check", "now"], "dest": "resume", "before": _unhold},
    {"trigger": "help_coming", "source": "now", "dest": "safe"},
    {"trigger": "cant_call", "source": ["now", "urgent"], "dest": "cant_call"},
    {"trigger": "done", "source": "cant_call", "dest": "now", "conditions": _was_now},
    {"trigger": "done", "source": "cant_call", "dest": "urgent"},
    {"trigger": "yes", "source": "ask", "dest": "confirm"},
    {"trigger": "not_sure", "source": "ask", "dest": "confirm"},
    {"trigger": "no", "source": "ask", "dest": "cleared"},
    {"trigger": "answer", "source": "country", "dest": "after_country"},
    {"trigger": "typed", "source": "country", "dest": "after_country"},
    {"trigger": "resume", "source": ["safe", "sos", "grounding_sos"], "dest": "resume"},
    {"trigger": "menu", "source": "safe", "dest": "to_menu"},
    {"trigger": "lines", "source": "safe", "dest": "sos"},
    {"trigger": "grounding_sos", "source": "sos", "dest": "grounding_sos"},
    {"trigger": "country", "source": "sos", "dest": "country"},
]

FLOW = Flow("safety", STEPS, TRANSITIONS)
