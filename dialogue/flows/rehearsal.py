"""Rehearsal: practise the repair with a simulated other person (dialogue/rehearsal/).

The user picks who (or comes from a plan card or a follow-up, which know), and how they are at
the start; then each message, the Wait button, or (with a teen or an adult) a twenty-minute
break moves the other person's arousal and openness, and the other answers from content by
persona and behaviour. A short coaching note follows each turn while notes are on. When the
two reconnect, or the user ends it: what helped, what raised the temperature, the best line
(kept in the plan), and a picture of the turns.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from dialogue.flows.base import CHOICE, GOTO, TEXT, Flow, Step, guard
from dialogue.rehearsal.model import (
    AROUSAL_MAX,
    PERSONAS,
    PUSH,
    SITUATIONS,
    SOOTHE,
    Move,
    Other,
    react,
    start,
)
from dialogue.replies import Effect, excerpt

if TYPE_CHECKING:
    from transitions import EventData

    from dialogue.engine import Ctx

PICK = tuple(PERSONAS)  # baby, toddler, child, teen, partner, other
# Where a rehearsal from a plan starts when the user did not say they asked for space: how
# these ruptures most often leave each kind of person.
FIRST = {"baby": "withdrawn", "toddler": "protesting", "child": "hurt_quiet", "teen": "angry",
         "partner": "hurt_quiet", "other": "hurt_quiet"}  # fmt: skip
# The reasons a turn raised or lowered the temperature: harsh cues, pursuit and intensity;
# kind cues, waiting, a warm hello and a break (content: label group "rcue", note keys).
RAISED = (*PUSH, "pursuit", "intensity", "missed")
HELPED = (*SOOTHE, "wait", "greet", "break")
MOMENTS = ("away", "reaching", "present", "flooded")
NOTES = ("raised", "landed", "flooded", "missed", "waited", "neutral", "break")
LINE_QUOTED = 90  # characters of the user's own line a note quotes back
BEST_KEPT = 300
SUMMARY_TOP = 4  # what helped (or raised the temperature) the summary names, most often first


def _speaks(ctx: Ctx) -> bool:
    """The other person speaks (a teen or adult): only they can take a break."""
    return PERSONAS[ctx.draft["persona"]].words


def _held(ctx: Ctx) -> bool:
    return ctx.session.hold == "abuse"


def _pick_options(ctx: Ctx) -> list[str]:
    """Every persona; no partner rehearsal while the abuse hold is on."""
    return [p for p in PICK if not (_held(ctx) and p == "partner")]


def _reset(ctx: Ctx) -> None:
    """A rehearsal from /rehearse or the menu: nothing carried over."""
    ctx.session.draft = {}


def from_plan(ctx: Ctx, plan: dict[str, Any]) -> None:
    """Start a rehearsal of a plan: its person, a fitting start, and its line as first move."""
    persona = plan.get("rel") if plan.get("rel") in PERSONAS else "other"
    if _held(ctx) and persona == "partner":
        ctx.engine.jump(ctx, "rehearsal.pick")
        return
    ctx.session.draft = {
        "persona": persona,
        "situation": "withdrawn" if plan.get("space") == "yes" else FIRST[persona],
        "plan": plan.get("id", ""),
        "opening": plan.get("line", ""),
        "them": plan.get("them", ""),
    }
    ctx.engine.jump(ctx, "rehearsal.begin")


def _them(ctx: Ctx) -> dict[str, Any]:
    """The other person's name: the plan's or the profile's when it is about them, else
    content's word for the persona."""
    d, profile = ctx.draft, ctx.session.profile
    if "who" in d:  # worked out once at the start of the practice
        return d["who"]
    them = d.get("them") or (profile.name if profile.rel == d.get("persona") else "")
    if not them:
        them = ctx.engine.content.locale(ctx.session.locale).label(f"persona_them.{d['persona']}")
    return {"them": them, "Them": them[:1].upper() + them[1:], "persona": d["persona"]}


def _begin(ctx: Ctx) -> None:
    """Set the scene: the other person in the chosen situation, notes on, an empty log."""
    d = ctx.draft
    other = start(d["persona"], d["situation"])
    d.pop("who", None)
    d.update(other=other.as_dict(), notes=d.get("notes", True), log=[_point(other)],
             helped={}, raised={}, best="", gain=0.0, shown={}, last_v={})  # fmt: skip
    d["who"] = _them(ctx)
    ctx.say("rehearsal.intro", **_them(ctx), adult=PERSONAS[d["persona"]].words)
    _show(ctx, f"start_{d['situation']}", other, note=None)
    opening = d.pop("opening", "")
    if opening:  # the scene first, then the plan's line lands on it
        _say_reply(ctx)
        ctx.say("rehearsal.opening", line=excerpt(opening, BEST_KEPT))
        _move(ctx, opening)


def _point(o: Other) -> list[float]:
    return [round(o.arousal, 2), round(o.openness, 3)]


# -- a turn ------------------------------------------------------------------------------------


def _typed(event: EventData) -> None:
    ctx: Ctx = event.model
    text = ctx.draft.pop("move", "")
    if ctx.engine.move_reader(ctx.session.locale).ends(text):
        ctx.draft["ending"] = True  # "stop", "I'm done": the practice step goes to the summary
        return
    _move(ctx, text)


def _waited(event: EventData) -> None:
    ctx: Ctx = event.model
    _apply(ctx, Move("wait"), "")


def _broke(event: EventData) -> None:
    ctx: Ctx = event.model
    _apply(ctx, Move("break"), "")


def _move(ctx: Ctx, text: str) -> None:
    """Read a typed message as a move and let it land."""
    cues = ctx.analysis.cues if ctx.analysis else ctx.analyzer().cues(text)
    _apply(ctx, ctx.engine.move_reader(ctx.session.locale).read(text, cues), text)


def _reasons(m: Move) -> tuple[list[str], list[str]]:
    """What in a move pushes (strongest first) and what soothes."""
    raised = sorted(m.harsh, key=lambda c: -PUSH[c]) if m.kind == "text" else []
    if m.pursue and "pressure" not in raised:
        raised.append("pursuit")
    if m.intensity >= 0.5:
        raised.append("intensity")
    if m.kind in ("wait", "break"):
        return raised, [m.kind]
    helped = sorted(m.kind_cues, key=lambda c: -SOOTHE[c])
    return raised, (["greet"] if m.greet else []) + helped


def _apply(ctx: Ctx, m: Move, text: str) -> None:
    d = ctx.draft
    before = Other.from_dict(d["other"])
    persona = PERSONAS[before.persona]
    after, behaviour = react(before, persona, m)
    d["other"] = after.as_dict()
    d["log"] = [*d["log"], _point(after)]
    raised, helped = _reasons(m)
    if behaviour in ("bid_missed", "withdraws") and not raised:  # a reach met with nothing
        raised, helped = ["missed"], []
    gain = (before.arousal - after.arousal) + 5.0 * (after.openness - before.openness)
    tally = "raised" if gain < 0 and raised else "helped" if gain > 0 and helped else ""
    if tally:
        counts = dict(d[tally])
        for r in raised if tally == "raised" else helped:
            counts[r] = counts.get(r, 0) + 1
        d[tally] = counts
    reader = ctx.engine.move_reader(ctx.session.locale)
    if text and not raised and gain > d.get("gain", 0.0) and not reader.described(text):
        d["best"], d["gain"] = excerpt(text, BEST_KEPT), round(gain, 3)
    note = _note(before, after, behaviour, m, raised=raised, helped=helped, text=text,
                 speaking=persona.words)  # fmt: skip
    _show(ctx, behaviour, after, note, cue=raised[0] if raised else "")


def _moment(o: Other, speaking: bool) -> str:
    if speaking and o.arousal >= PERSONAS[o.persona].flood_at:
        return "flooded"
    if o.away:
        return "away"
    return "reaching" if o.bid else "present"


def _note(
    before: Other, after: Other, behaviour: str, m: Move, *, raised: list[str],
    helped: list[str], text: str, speaking: bool,
) -> dict[str, Any] | None:  # fmt: skip
    """The coaching note for a turn: what happened in plain words, and what fits now."""
    if after.connected:
        return None
    if m.kind == "break":
        kind, cue = "break", "break"
    elif raised == ["missed"]:
        kind, cue = "missed", "missed"
    elif m.kind == "wait":
        kind, cue = "waited", "wait"
    elif raised and (after.arousal > before.arousal or after.openness < before.openness
                     or before.arousal >= AROUSAL_MAX):  # fmt: skip
        kind, cue = "raised", raised[0]
    elif speaking and before.arousal >= PERSONAS[before.persona].flood_at and helped:
        kind, cue = "flooded", helped[0]
    elif helped and (after.arousal < before.arousal or after.openness > before.openness):
        kind, cue = "landed", helped[0]
    else:
        kind, cue = "neutral", ""
    return {
        "key": f"rehearsal.note.{kind}",
        "vars": {"rcue": cue, "moment": _moment(after, speaking),
                 "line": excerpt(text, LINE_QUOTED)},
    }  # fmt: skip


def _show(ctx: Ctx, behaviour: str, o: Other, note: dict[str, Any] | None, cue: str = "") -> None:
    """Keep what the other does (and the note) as the prompt; with notes on, the other's
    reply is said first and the note carries the buttons."""
    d = ctx.draft
    key = _reply_key(ctx, o, behaviour, cue)
    d["shown"] = {"key": key, "variant": _variant(ctx, key), "note": note}
    if d.get("notes") and note and not o.connected:
        _say_reply(ctx)


def _reply_key(ctx: Ctx, o: Other, behaviour: str, cue: str) -> str:
    """persona.<persona>.<behaviour>, or its version for the strongest harsh cue or the band."""
    templates = ctx.engine.content.locale(ctx.session.locale).templates
    base = f"persona.{o.persona}.{behaviour}"
    for key in (f"{base}_{cue}" if cue else "", f"{base}_{o.band}"):
        if key and key in templates:
            return key
    return base


def _variant(ctx: Ctx, key: str) -> int:
    """A seeded variant of a reply, never the one this key said last."""
    n = len(ctx.engine.content.locale(ctx.session.locale).templates.get(key, [None]))
    # blake2b, not crc32: crc32's low bits barely change from one turn to the next, so the
    # same variant came back for turns on end and the no-repeat rule only flipped between two.
    seed = f"{ctx.session.seed}:{ctx.session.turn}:{key}".encode()
    v = int.from_bytes(hashlib.blake2b(seed, digest_size=4).digest(), "big") % n
    last = dict(ctx.draft.get("last_v", {}))
    if n > 1 and last.get(key) == v:
        v = (v + 1) % n
    last[key] = v
    ctx.draft["last_v"] = last
    return v


def _say_reply(ctx: Ctx) -> None:
    shown = ctx.draft["shown"]
    ctx.say(shown["key"], variant=shown["variant"], **_them(ctx))


def _prompt_key(ctx: Ctx) -> str:
    shown = ctx.draft.get("shown", {})
    if ctx.draft.get("notes") and shown.get("note"):
        return str(shown["note"]["key"])
    return str(shown.get("key", "rehearsal.your_move"))


def _prompt_vars(ctx: Ctx) -> dict[str, Any]:
    shown = ctx.draft.get("shown", {})
    extra = shown["note"]["vars"] if ctx.draft.get("notes") and shown.get("note") else {}
    return {**_them(ctx), **extra}


def _prompt_variant(ctx: Ctx) -> int | None:
    shown = ctx.draft.get("shown", {})
    if ctx.draft.get("notes") and shown.get("note"):
        return None
    return shown.get("variant")


def _extra(ctx: Ctx) -> tuple[str, ...]:
    speaking = PERSONAS[ctx.draft.get("persona", "baby")].words
    notes = "notes_off" if ctx.draft.get("notes") else "notes_on"
    return ("wait", "break", notes, "end") if speaking else ("wait", notes, "end")


def _notes(on: bool) -> Any:
    def toggle(event: EventData) -> None:
        ctx: Ctx = event.model
        ctx.draft["notes"] = on
        ctx.say(f"rehearsal.notes_{'on' if on else 'off'}")

    return toggle


def _reconnected(ctx: Ctx) -> None:
    """Arriving at the practice step after a turn: reconnected (or asked to end) means the
    summary."""
    if ctx.draft.pop("ending", False):
        ctx.engine.jump(ctx, "rehearsal.summary")
    elif ctx.draft.get("other", {}).get("connected"):
        _say_reply(ctx)
        ctx.engine.jump(ctx, "rehearsal.summary")


# -- the end -----------------------------------------------------------------------------------


def _plan(ctx: Ctx) -> dict[str, Any] | None:
    wanted = ctx.draft.get("plan", "")
    return next((p for p in ctx.session.plans if p.get("id") == wanted), None) if wanted else None


def _summarise(ctx: Ctx) -> None:
    """The picture of the turns, and the best line kept in the plan it came from."""
    d = ctx.draft
    log = d.get("log", [])
    ctx.effects.append(Effect("chart", {
        "kind": "rehearsal", "arousal": [p[0] for p in log], "openness": [p[1] for p in log],
    }))  # fmt: skip
    plan = _plan(ctx)
    if plan is not None and d.get("best"):
        kept = {**plan, "practised": d["best"]}
        ctx.session.plans = [kept if p is plan else p for p in ctx.session.plans]
        ctx.effects.append(Effect("save_plan", kept))


def _top(counts: dict[str, int], order: tuple[str, ...]) -> list[str]:
    return sorted(counts, key=lambda c: (-counts[c], order.index(c)))[:SUMMARY_TOP]


def _summary_vars(ctx: Ctx) -> dict[str, Any]:
    d = ctx.draft
    o = Other.from_dict(d["other"])
    return {
        **_them(ctx), "helped": _top(d.get("helped", {}), HELPED),
        "raised": _top(d.get("raised", {}), RAISED), "connected": o.connected,
        "line": d.get("best", ""), "kept": _plan(ctx) is not None and bool(d.get("best")),
        "count": max(0, len(d.get("log", [])) - 1),
    }  # fmt: skip


def _after_options(ctx: Ctx) -> list[str]:
    return ["again", "plan", "menu"] if _plan(ctx) else ["again", "menu"]


def _again(ctx: Ctx) -> None:
    d = ctx.draft
    ctx.session.draft = {k: d[k] for k in ("persona", "situation", "plan", "them", "notes")
                         if k in d}  # fmt: skip
    ctx.engine.jump(ctx, "rehearsal.begin")


def _plan_vars(ctx: Ctx) -> dict[str, Any]:
    return {"plan": _plan(ctx) or {}}


STEPS = [
    Step("start", GOTO, enter=_reset, goto="rehearsal.pick"),
    Step("pick", CHOICE, _pick_options, group="persona", save="draft.persona", columns=3,
         every_option=PICK),
    Step("situation", CHOICE, SITUATIONS, group="situation", save="draft.situation", columns=1,
         vars=_them),
    Step("begin", GOTO, enter=_begin, goto="rehearsal.practice"),
    Step("practice", TEXT, save="draft.move", max_len=1000, key=_prompt_key, vars=_prompt_vars,
         variant=_prompt_variant, extra=_extra, enter=_reconnected,
         every_extra=("wait", "break", "notes_on", "notes_off", "end"),
         keys=("rehearsal.your_move",)),
    Step("summary", CHOICE, _after_options, group="after_rehearsal", enter=_summarise,
         vars=_summary_vars, columns=1, every_option=("again", "plan", "menu")),
    Step("plan", CHOICE, ("again", "menu"), group="after_rehearsal", vars=_plan_vars,
         columns=1),
    Step("again", GOTO, enter=_again),
    Step("to_menu", GOTO, goto="menu.home"),
]  # fmt: skip

TRANSITIONS = [
    {"trigger": "answer", "source": "pick", "dest": "situation"},
    {"trigger": "answer", "source": "situation", "dest": "begin"},
    {"trigger": "answer", "source": "practice", "dest": "practice", "before": _typed},
    {"trigger": "wait", "source": "practice", "dest": "practice", "before": _waited},
    {"trigger": "break", "source": "practice", "dest": "practice", "before": _broke,
     "conditions": guard(_speaks)},
    {"trigger": "notes_on", "source": "practice", "dest": "practice", "before": _notes(True)},
    {"trigger": "notes_off", "source": "practice", "dest": "practice", "before": _notes(False)},
    {"trigger": "end", "source": "practice", "dest": "summary"},
    {"trigger": "again", "source": ["summary", "plan"], "dest": "again"},
    {"trigger": "plan", "source": "summary", "dest": "plan"},
    {"trigger": "menu", "source": ["summary", "plan"], "dest": "to_menu"},
]  # fmt: skip

FLOW = Flow("rehearsal", STEPS, TRANSITIONS, first="pick")
