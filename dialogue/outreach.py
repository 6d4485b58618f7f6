"""The coach writing first: a reminder that came due, and the commands that set reminders.

`due` decides what a due row of the schedule becomes: a reflection or follow-up said now,
or nothing said and the row moved on (missed days are skipped, never sent in a burst; a user
mid-conversation is not interrupted; a user in the safety flow gets no cheerful prompt).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from dialogue.daily import (
    FOLLOW_UP,
    QUIET,
    REFLECTION,
    at_local,
    enabled,
    local_day,
    move_reflection,
    next_reflection,
    parse_stamp,
    quiet,
    stamp,
)
from dialogue.events import Command, Event, Located, Text, Unsupported
from dialogue.flows import daily, onboarding
from dialogue.places import local_clock
from dialogue.replies import Effect

if TYPE_CHECKING:
    from dialogue.engine import Ctx

ZONE_PARSERS = (onboarding.parse_zone,)  # steps whose answer is a zone (a location answers)


def command(ctx: Ctx, event: Command) -> None:
    """/timezone [zone], /pause, /resume: done at once where they can be (said as a side
    answer), else asked. At a step that asks where the user is, /timezone answers it."""
    if event.name == "timezone" and _asks_zone(ctx):
        if not event.arg:
            ctx.engine.prompt(ctx)  # the question on screen is that one
        elif onboarding.parse_zone(event.arg, ctx) is None:  # the question's buttons stay
            _, step = ctx.engine.step(ctx.session.state)
            ctx.say("daily.tz_invalid", ctx.engine.buttons(step, ctx))
        else:
            ctx.engine.on_answer(ctx, Text(event.arg))
        return
    if event.name == "pause":
        daily.pause(ctx, aside=True)
    elif event.name == "resume":
        if not daily.turn_on(ctx, aside=True):
            daily.interrupt(ctx, "daily.time")
    else:
        found = onboarding.parse_zone(event.arg, ctx) if event.arg else None
        if found is None:
            if event.arg:
                ctx.say("daily.tz_invalid")
            daily.interrupt(ctx, "daily.tz")
            return
        ctx.session.profile.tz = found
        ctx.engine.aside(ctx, "daily.tz_set", tz=found, local_now=local_clock(found, ctx.now),
                         time=ctx.session.profile.reflect_time)  # fmt: skip


def _asks_zone(ctx: Ctx) -> bool:
    """Whether the step on screen asks where the user is (a zone typed there answers it)."""
    state = ctx.session.state
    return state != "start.new" and ctx.engine.step(state)[1].parse in ZONE_PARSERS


def located(ctx: Ctx, event: Located) -> Event:
    """A shared location as the event it means: the answer to a question about the zone,
    else (once onboarded) `/timezone <zone>`, set at once."""
    state = ctx.session.state
    if not event.tz or state == "start.new":
        return Unsupported("location")
    _, step = ctx.engine.step(state)
    if step.parse in ZONE_PARSERS:
        return Text(event.tz)
    if not ctx.session.profile.onboarded:  # onboarding asks for the zone in its own time
        return Unsupported("location")
    return Command("timezone", event.tz)


def due(ctx: Ctx, kind: str, ref: str, at: datetime) -> None:
    """A reflection or a follow-up came due (at `at`): say it now, or move it on."""
    if kind == REFLECTION:
        _reflection(ctx, at)
    else:
        _follow_up(ctx, ref)


def _busy(ctx: Ctx) -> bool:
    """Mid-conversation: the user wrote lately, or a reminder just asked them something."""
    s = ctx.session
    sent = s.daily.get("sent_at", "")
    asked = s.flow in ("daily", "followup") and sent and ctx.now - parse_stamp(sent) < QUIET
    return not quiet(s, ctx.now) or bool(asked)


def _reflection(ctx: Ctx, at: datetime) -> None:
    s, now = ctx.session, ctx.now
    p, d = s.profile, s.daily
    today = local_day(p.tz, now)

    def move(moment: datetime | None) -> None:
        ctx.effects.append(move_reflection(moment))

    if not enabled(p):
        move(None)
    elif local_day(p.tz, at) < today and at_local(today, p.reflect_time, p.tz) > now:
        move(next_reflection(p, now, d.get("last_day", "")))  # missed days; today's to come
    elif d.get("last_day") == today.isoformat() or s.flow == "safety":
        move(next_reflection(p, now, today.isoformat()))  # done today, or not today
    elif _busy(ctx):
        later = now + QUIET
        move(later if local_day(p.tz, later) == today
             else next_reflection(p, now, today.isoformat()))  # fmt: skip
    else:
        daily.new_prompt(ctx)
        daily.interrupt(ctx, "daily.prompt")
        d["last_day"], d["sent_at"] = today.isoformat(), stamp(now)
        move(next_reflection(p, now, today.isoformat()))


def _follow_up(ctx: Ctx, ref: str) -> None:
    s = ctx.session
    if not any(plan.get("id") == ref for plan in s.plans):
        ctx.effects.append(Effect(FOLLOW_UP, {"plan": ref, "at": None}))  # gone: forget it
    elif s.flow == "safety" or _busy(ctx):
        later = ctx.now + (timedelta(days=1) if s.flow == "safety" else QUIET)
        ctx.effects.append(Effect(FOLLOW_UP, {"plan": ref, "at": stamp(later)}))
    else:
        s.daily["plan"], s.daily["sent_at"] = ref, stamp(ctx.now)
        daily.interrupt(ctx, "followup.ask")
        ctx.effects.append(Effect(FOLLOW_UP, {"plan": ref, "at": None}))
