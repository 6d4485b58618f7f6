"""First contact: what this is, who it is about, daily reflections and the user's time zone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dialogue.flows.base import CHOICE, GOTO, INFO, TEXT, Flow, Step, say
from dialogue.places import find_time, find_zone, local_clock

if TYPE_CHECKING:
    from dialogue.engine import Ctx

TIMES = {"t0800": "08:00", "t1230": "12:30", "t2000": "20:00", "t2130": "21:30"}
NAME_MAX = 40
# Under so many years; "child" is school age (6-12); 18 and over: an adult child.
AGE_BANDS = ((1, "baby"), (3, "toddler"), (6, "preschool"), (13, "child"), (18, "teen"))
OLDEST = 80  # a child older than this (or below 0) is no age the coach can take: asked again


def parse_zone(text: str, ctx: Ctx) -> str | None:
    """A zone from a city, a zone name or the local time ("it's 9pm here")."""
    data = ctx.engine.content.locale(ctx.session.locale).data
    return find_zone(text, ctx.now, data.get("places", {}), data.get("countries", {}))


def _age_band(text: str, ctx: Ctx) -> str | None:
    """An age band from a typed age: "4", "she's 4", "18 months" (button numbers don't count).

    Grown up (18 or more): "adult", coached as between two adults. Not an age (below 0, over
    OLDEST, or several bare numbers: "1, 3, 99"): "no_age", asked again kindly.
    """
    m = ctx.matcher()
    numbers = m.bare_numbers(text)
    if numbers is not None and len(numbers) > 1:
        return "no_age"
    years = m.age_years(text)
    if years is None:
        return None
    if years < 0 or years > OLDEST:
        return "no_age"
    return next((band for below, band in AGE_BANDS if years < below), "adult")


def _name(text: str, _: Ctx) -> str | None:
    """A name or nickname has a letter in it ("2" or "1, 3, 99" is not one)."""
    return text if any(c.isalpha() for c in text) else None


def _as_child(event: Any) -> None:
    """An age band chosen: the coaching is about a child (again, after /back from "adult")."""
    event.model.session.profile.relationship = "child"


def _as_adults(event: Any) -> None:
    """A grown-up child: coached as between two adults (the setup can change it)."""
    ctx: Ctx = event.model
    ctx.session.profile.relationship, ctx.session.profile.age_band = "other", ""
    ctx.say("onboarding.adult_child")


def _zone_vars(ctx: Ctx) -> dict[str, Any]:
    tz = ctx.session.profile.tz
    return {"tz": tz, "local_now": local_clock(tz, ctx.now)}


def _done(ctx: Ctx) -> None:
    ctx.session.profile.onboarded = True
    ctx.session.setup_at = ""


def _time_vars(ctx: Ctx) -> dict[str, Any]:
    return {"time": ctx.session.profile.reflect_time}


STEPS = [
    Step("welcome", INFO),
    Step("relationship", CHOICE, ("child", "partner", "other"), group="relationship",
         save="profile.relationship", columns=1),
    Step("age", CHOICE, ("baby", "toddler", "preschool", "child", "teen"), group="age",
         save="profile.age_band", columns=2, on_text="answer", parse=_age_band,
         text_save="profile.age_band", reads_numbers=True),
    Step("name", TEXT, skip=True, save="profile.name", max_len=NAME_MAX, parse=_name),
    Step("reflections", CHOICE, ("yes", "no"), group="yesno", save="profile.reflections",
         convert=lambda c: c == "yes"),
    Step("time", CHOICE, (*TIMES, "own"), group="time", save="profile.reflect_time",
         convert=lambda c: TIMES.get(c, ""), text_to="onboarding.time_own"),
    Step("time_own", TEXT, save="profile.reflect_time", parse=lambda t, _: find_time(t)),
    Step("tz", TEXT, save="profile.tz", parse=parse_zone, vars=_time_vars),
    Step("tz_confirm", CHOICE, ("yes", "no"), group="confirm", vars=_zone_vars,
         on_text="retype", parse=parse_zone, text_save="profile.tz"),
    Step("done", GOTO, enter=_done, goto="menu.home", says=True),
]  # fmt: skip

TRANSITIONS = [
    {"trigger": "next", "source": "welcome", "dest": "relationship"},
    {"trigger": "child", "source": "relationship", "dest": "age"},
    {"trigger": "answer", "source": "relationship", "dest": "name"},
    {"trigger": "answer", "source": "age", "dest": "name", "before": _as_child},
    {"trigger": "adult", "source": "age", "dest": "name", "before": _as_adults},
    {"trigger": "no_age", "source": "age", "dest": "age", "before": say("onboarding.no_age")},
    {"trigger": "answer", "source": "name", "dest": "reflections"},
    {"trigger": "skip", "source": "name", "dest": "reflections"},
    {"trigger": "yes", "source": "reflections", "dest": "time"},
    {"trigger": "no", "source": "reflections", "dest": "tz"},
    {"trigger": "own", "source": "time", "dest": "time_own"},
    {"trigger": "answer", "source": "time", "dest": "tz"},
    {"trigger": "answer", "source": "time_own", "dest": "tz"},
    {"trigger": "answer", "source": "tz", "dest": "tz_confirm"},
    {"trigger": "yes", "source": "tz_confirm", "dest": "done"},
    {"trigger": "no", "source": "tz_confirm", "dest": "tz"},
    {"trigger": "retype", "source": "tz_confirm", "dest": "tz_confirm"},
]

FLOW = Flow("onboarding", STEPS, TRANSITIONS)
