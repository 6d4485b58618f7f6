"""The coach reaching out: the daily reflection, its settings, and the follow-up of a repair.

A tick (Engine.tick) enters `daily.prompt` or `followup.ask` from wherever the user was; the
state it interrupted is kept in `session.daily["resume"]` and asked again at the end, so an
unfinished conflict is not lost. /daily, /timezone, /pause and /resume lead here too.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from dialogue.daily import FOLLOW_UP, at_local, local_day, next_reflection, pick_prompt, stamp
from dialogue.flows.base import CHOICE, GOTO, TEXT, Flow, Step, entry_id
from dialogue.flows.onboarding import TIMES, parse_zone
from dialogue.flows.rehearsal import from_plan
from dialogue.places import find_time, local_clock
from dialogue.replies import Effect, excerpt

if TYPE_CHECKING:
    from datetime import datetime

    from dialogue.engine import Ctx

ANSWER_MAX = 2000  # a reflection's answer; the journal keeps it whole
OUTCOMES = ("well", "partly", "not_yet", "worse")
LATER = ("tonight", "tomorrow", "days3", "week")
TONIGHT, TOMORROW = "20:00", "19:00"  # local: when "ask me again tonight / tomorrow" asks
NEXT = {"well": ("note", "menu"), "partly": ("again", "note", "menu"),
        "worse": ("rehearse", "again", "note", "menu")}  # fmt: skip


# -- shared ------------------------------------------------------------------------------------


def resume(ctx: Ctx) -> None:
    """Go back to what a reflection or follow-up interrupted (its question asked again)."""
    target = ctx.session.daily.pop("resume", "") or "menu.home"
    if target.partition(".")[0] in ("daily", "followup", "start"):
        target = "menu.home"
    ctx.engine.return_to(ctx, target)


def interrupt(ctx: Ctx, target: str) -> None:
    """Enter a daily or follow-up state, remembering where the user was."""
    s = ctx.session
    if s.flow not in ("daily", "followup"):
        s.daily["resume"] = s.state
    ctx.engine.jump(ctx, target)


def _zone_vars(ctx: Ctx) -> dict[str, Any]:
    p = ctx.session.profile
    return {"tz": p.tz or "UTC", "local_now": local_clock(p.tz or "UTC", ctx.now),
            "time": p.reflect_time}  # fmt: skip


# -- the reflection ----------------------------------------------------------------------------


def new_prompt(ctx: Ctx, skip: str = "") -> None:
    """Choose today's prompt: one the user has not had, for who the coaching is about."""
    tags = ctx.engine.content.locale(ctx.session.locale).data.get("prompts", {})
    d = ctx.session.daily
    key, d["used"] = pick_prompt(tags, ctx.rel, list(d.get("used", [])), ctx.session.seed, skip)
    d["prompt"] = key


def _prompt_vars(ctx: Ctx) -> dict[str, Any]:
    return {"prompt": ctx.session.daily.get("prompt", "")}


def _another(event: Any) -> None:
    ctx: Ctx = event.model
    new_prompt(ctx, skip=ctx.session.daily.get("prompt", ""))


def _answered(ctx: Ctx) -> None:
    ctx.effects.append(Effect("reflection", {
        "id": entry_id(ctx), "at": stamp(ctx.now), "prompt": ctx.session.daily.get("prompt", ""),
        "text": ctx.draft.pop("reflection", "")}))  # fmt: skip
    ctx.say("daily.ack")
    resume(ctx)


def _skipped(ctx: Ctx) -> None:
    ctx.say("daily.skipped")
    resume(ctx)


def pause(ctx: Ctx, aside: bool = False) -> None:
    """Stop reflections until /resume (`aside`: said as a side answer, from anywhere)."""
    ctx.session.profile.daily_paused = True
    ctx.engine.aside(ctx, "daily.paused") if aside else ctx.say("daily.paused")


def _paused(ctx: Ctx) -> None:
    pause(ctx)
    resume(ctx)


def _time_set(ctx: Ctx) -> None:
    p = ctx.session.profile
    p.reflections, p.daily_paused = True, False
    ctx.say("daily.time_set", **_zone_vars(ctx))
    resume(ctx)


def _tz_set(ctx: Ctx) -> None:
    ctx.say("daily.tz_set", **_zone_vars(ctx))
    resume(ctx)


def _settings_options(ctx: Ctx) -> list[str]:
    p = ctx.session.profile
    switch = "pause" if p.reflections and not p.daily_paused and p.reflect_time else "resume"
    return ["retime", switch, "zone", "menu"]


def _settings_vars(ctx: Ctx) -> dict[str, Any]:
    p = ctx.session.profile
    due = next_reflection(p, ctx.now, ctx.session.daily.get("last_day", ""))
    return {**_zone_vars(ctx), "on": due is not None}


def turn_on(ctx: Ctx, aside: bool = False) -> bool:
    """Resume reflections; False when there is no time yet (then it must be asked).
    `aside`: said as a side answer, from anywhere."""
    p = ctx.session.profile
    if not p.reflect_time:
        return False
    p.reflections, p.daily_paused = True, False
    if aside:
        ctx.engine.aside(ctx, "daily.resumed", **_zone_vars(ctx))
    else:
        ctx.say("daily.resumed", **_zone_vars(ctx))
    return True


def _resumed(ctx: Ctx) -> None:
    if turn_on(ctx):
        resume(ctx)
    else:
        ctx.engine.jump(ctx, "daily.time")


# -- the follow-up -----------------------------------------------------------------------------


def _plan(ctx: Ctx) -> dict[str, Any]:
    wanted = ctx.session.daily.get("plan", "")
    plan = next((p for p in ctx.session.plans if p.get("id") == wanted), None)
    return plan or {"id": wanted, "them": ctx.session.profile.name or "", "line": ""}


def _ask_vars(ctx: Ctx) -> dict[str, Any]:
    plan = _plan(ctx)
    return {"plan": plan, "line": excerpt(plan.get("line", ""), 300)}


def _record(event: Any) -> None:
    ctx: Ctx = event.model
    outcome = event.event.name
    d = ctx.session.daily
    d["outcome"], d["at"] = outcome, stamp(ctx.now)
    ctx.effects.append(
        Effect(
            "outcome",
            {
                "plan_id": _plan(ctx)["id"],
                "at": d["at"],
                "outcome": outcome,
                "them": _plan(ctx).get("them", ""),
            },
        )
    )


def _next_key(ctx: Ctx) -> str:
    return f"daily.outcome.{ctx.session.daily.get('outcome', 'well')}"


def _next_options(ctx: Ctx) -> list[str]:
    return list(NEXT.get(ctx.session.daily.get("outcome", ""), ("menu",)))


def later_at(choice: str, tz: str, now: datetime) -> datetime:
    """When to ask again how the repair went: tonight, tomorrow, in three days, in a week."""
    if choice == "tonight":
        moment = at_local(local_day(tz, now), TONIGHT, tz)
        return moment if moment - now >= timedelta(hours=1) else now + timedelta(hours=2)
    if choice == "tomorrow":
        return at_local(local_day(tz, now) + timedelta(days=1), TOMORROW, tz)
    return now + timedelta(days=3 if choice == "days3" else 7)


def follow_up_at(when: str, when_text: str, tz: str, now: datetime) -> datetime:
    """When to ask how a planned repair went, from when the user said they would make it."""
    if when == "own":
        clock = find_time(when_text)
        if clock:
            day = local_day(tz, now)
            moment = at_local(day, clock, tz)
            if moment <= now:
                moment = at_local(day + timedelta(days=1), clock, tz)
            return moment + timedelta(hours=2)
    if when == "tonight":
        late = at_local(local_day(tz, now), "22:00", tz)
        return max(late, now + timedelta(hours=2))
    if when == "tomorrow":
        return at_local(local_day(tz, now) + timedelta(days=1), "20:00", tz)
    hours = {"now": 2, "later": 5}.get(when, 24)
    return now + timedelta(hours=hours)


def _rescheduled(ctx: Ctx) -> None:
    choice = ctx.draft.pop("later", "tomorrow")
    at = later_at(choice, ctx.session.profile.tz, ctx.now)
    ctx.effects.append(Effect(FOLLOW_UP, {"plan": _plan(ctx)["id"], "at": stamp(at)}))
    ctx.say("followup.rescheduled", when=choice)
    resume(ctx)


def _note(ctx: Ctx) -> None:
    d = ctx.session.daily
    plan = _plan(ctx)
    ctx.effects.append(Effect("outcome", {
        "plan_id": plan["id"], "at": d.get("at", stamp(ctx.now)), "outcome": d.get("outcome", ""),
        "them": plan.get("them", ""), "note": ctx.draft.pop("note", "")}))  # fmt: skip
    ctx.say("followup.noted")
    resume(ctx)


def _again(ctx: Ctx) -> None:
    ctx.session.daily.pop("resume", None)
    ctx.engine.jump(ctx, "menu.to_new")


def _rehearse(ctx: Ctx) -> None:
    ctx.session.daily.pop("resume", None)
    from_plan(ctx, _plan(ctx))


DAILY_STEPS = [
    Step("prompt", TEXT, key="daily.ask", vars=_prompt_vars, skip=True, save="draft.reflection",
         max_len=ANSWER_MAX, extra=("another", "pause", "retime")),
    Step("thanks", GOTO, enter=_answered),
    Step("skipped", GOTO, enter=_skipped),
    Step("paused", GOTO, enter=_paused),
    Step("time", CHOICE, (*TIMES, "own"), group="time", save="profile.reflect_time",
         convert=lambda c: TIMES.get(c, ""), text_to="daily.time_own"),
    Step("time_own", TEXT, save="profile.reflect_time", parse=lambda t, _: find_time(t)),
    Step("time_set", GOTO, enter=_time_set),
    Step("settings", CHOICE, _settings_options, group="daily", vars=_settings_vars, columns=1,
         every_option=("retime", "pause", "resume", "zone", "menu")),
    Step("resumed", GOTO, enter=_resumed),
    Step("tz", TEXT, save="profile.tz", parse=parse_zone, vars=_zone_vars),
    Step("tz_set", GOTO, enter=_tz_set),
    Step("menu", GOTO, enter=resume),
]  # fmt: skip

DAILY_TRANSITIONS = [
    {"trigger": "answer", "source": "prompt", "dest": "thanks"},
    {"trigger": "skip", "source": "prompt", "dest": "skipped"},
    {"trigger": "another", "source": "prompt", "dest": "prompt", "before": _another},
    {"trigger": "pause", "source": ["prompt", "settings"], "dest": "paused"},
    {"trigger": "retime", "source": ["prompt", "settings"], "dest": "time"},
    {"trigger": "own", "source": "time", "dest": "time_own"},
    {"trigger": "answer", "source": ["time", "time_own"], "dest": "time_set"},
    {"trigger": "resume", "source": "settings", "dest": "resumed"},
    {"trigger": "zone", "source": "settings", "dest": "tz"},
    {"trigger": "answer", "source": "tz", "dest": "tz_set"},
    {"trigger": "menu", "source": "settings", "dest": "menu"},
]

FOLLOWUP_STEPS = [
    Step("ask", CHOICE, OUTCOMES, group="outcome", vars=_ask_vars, columns=2),
    Step("next", CHOICE, _next_options, group="followup", key=_next_key, columns=1,
         keys=tuple(f"daily.outcome.{o}" for o in NEXT),
         every_option=("rehearse", "again", "note", "menu")),
    Step("later", CHOICE, (*LATER, "again", "rehearse"), group="later", save="draft.later",
         columns=2,
         key="daily.outcome.not_yet"),
    Step("rescheduled", GOTO, enter=_rescheduled),
    Step("note", TEXT, skip=True, save="draft.note", max_len=ANSWER_MAX),
    Step("noted", GOTO, enter=_note),
    Step("again", GOTO, enter=_again),
    Step("rehearse", GOTO, enter=_rehearse),
    Step("menu", GOTO, enter=resume),
]  # fmt: skip

FOLLOWUP_TRANSITIONS = [
    {"trigger": o, "source": "ask", "dest": "next", "before": _record} for o in NEXT
] + [
    {"trigger": "not_yet", "source": "ask", "dest": "later", "before": _record},
    {"trigger": "answer", "source": "later", "dest": "rescheduled"},
    {"trigger": "again", "source": ["next", "later"], "dest": "again"},
    {"trigger": "rehearse", "source": ["next", "later"], "dest": "rehearse"},
    {"trigger": "note", "source": "next", "dest": "note"},
    {"trigger": "answer", "source": "note", "dest": "noted"},
    {"trigger": "skip", "source": "note", "dest": "menu"},
    {"trigger": "menu", "source": "next", "dest": "menu"},
]

DAILY = Flow("daily", DAILY_STEPS, DAILY_TRANSITIONS)
FOLLOWUP = Flow("followup", FOLLOWUP_STEPS, FOLLOWUP_TRANSITIONS)
