"""Work through a conflict: from what a camera saw to a repair plan card."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dialogue.content import to_plain
from dialogue.daily import stamp
from dialogue.flows import feeling, listening
from dialogue.flows.base import (
    CHOICE,
    GOTO,
    INFO,
    MULTI,
    SCALE,
    TEXT,
    Flow,
    Step,
    entry_id,
    guard,
    say,
)
from dialogue.flows.daily import follow_up_at
from dialogue.flows.lines import (
    LineReading,
    Voice,
    draft_facts,
    read_line,
    voice_of,
    with_name,
)
from dialogue.flows.listening import emotion_words
from dialogue.flows.rehearsal import from_plan
from dialogue.language.analyzer import HARSH_CUES
from dialogue.replies import TEXT_MAX, Effect, excerpt
from dialogue.session import PLANS_KEPT

if TYPE_CHECKING:
    from transitions import EventData

    from dialogue.engine import Ctx

BODY = ("chest", "heart", "stomach", "face", "jaw", "shoulders", "throat", "heavy", "shaky",
        "tears", "restless", "numb_body", "nothing")  # fmt: skip
EMOTIONS = ("anger", "frustration", "sadness", "hurt", "loneliness", "fear", "anxiety", "guilt",
            "shame", "disgust", "numb", "joy", "excitement")  # fmt: skip
MOVES = {
    "baby": ("space_greet", "soothe_voice", "eye_contact", "follow_lead", "hold"),
    "toddler": ("space_greet", "soothe_voice", "name_feeling", "play", "hold", "own_part"),
    "preschool": ("own_part", "apologise", "hold", "name_feeling", "play", "space_greet"),
    "child": ("space_greet", "own_part", "apologise", "ask_curious", "play", "hold"),
    "teen": ("space_greet", "own_part", "apologise", "ask_curious", "humour"),
    "partner": ("space_greet", "own_part", "apologise", "ask_curious", "appreciate", "humour",
                "touch", "named_break"),
    "other": ("space_greet", "own_part", "apologise", "ask_curious", "appreciate"),
}  # fmt: skip
# The order a repair line says the chosen moves in: come back, own it, say sorry, listen,
# then reconnect (drafts.<group>.say.<move> in content).
REPAIR_ORDER = ("space_greet", "named_break", "own_part", "apologise", "name_feeling",
                "soothe_voice", "eye_contact", "ask_curious", "appreciate", "follow_lead",
                "play", "humour", "hold", "touch")  # fmt: skip
DRAFT_GROUP = {"baby": "little", "toddler": "little"}
DRAFT_GROUPS = ("little", "preschool", "child", "teen", "partner", "other")
SPACE_FEEL = ("wait_ok", "anxious", "rejected", "angry", "relieved")
WHEN = ("now", "later", "tonight", "tomorrow", "ready", "own")


def _cues(ctx: Ctx, key: str) -> set[str]:
    return set(ctx.analyzer().cues(ctx.draft.get(key, "")))


def _emotion_options(ctx: Ctx) -> list[str]:
    """Emotions, those spotted in the user's own words first."""
    words = " ".join(ctx.draft.get(k, "") for k in ("what_happened", "camera", "my_part"))
    spotted = [e for e in ctx.analyzer().emotions(words) if e in EMOTIONS]
    return [*spotted, *(e for e in EMOTIONS if e not in spotted)]


def _band(ctx: Ctx) -> str:
    """The relationship, with a child's finer age band (preschool) where it matters."""
    return ctx.session.profile.band


def _move_options(ctx: Ctx) -> list[str]:
    return list(MOVES.get(_band(ctx), MOVES["other"]))


def _accept_vars(ctx: Ctx) -> dict[str, Any]:
    d = ctx.draft
    emotions = d.get("emotions", [])
    i = min(d.get("accept_i", 0), len(emotions) - 1)
    emotion = emotions[i]
    family = ctx.analyzer().emotion_family.get(emotion, "core")
    texts = [*d.get("emotion_words", []), *(d.get(k, "") for k in ("what_happened", "camera",
                                                                    "my_part"))]  # fmt: skip
    return {"emotion": emotion, "family": family, "index": i + 1, "count": len(emotions),
            "said": emotion_words(ctx, emotion, texts)}  # fmt: skip


def _accept_key(ctx: Ctx) -> str:
    emotions = ctx.draft.get("emotions", [])
    return f"accept.{emotions[min(ctx.draft.get('accept_i', 0), len(emotions) - 1)]}"


def _more_emotions(ctx: Ctx) -> bool:
    return ctx.draft.get("accept_i", 0) + 1 < len(ctx.draft.get("emotions", []))


def _rest_plan(ctx: Ctx) -> None:
    """Still flooded: sleep, and repair tomorrow. A plan of its own, with a follow-up."""
    ctx.draft["when"] = "tomorrow"
    need = ctx.draft.get("tonight_need", "")
    _save_plan(ctx)
    ctx.draft["tonight_need"] = need  # said on the plan's page, then gone with the flow


def _rest_vars(ctx: Ctx) -> dict[str, Any]:
    return {"plan": ctx.session.plans[-1], "tonight": ctx.draft.get("tonight_need", "")}


def _draft_vars(ctx: Ctx) -> dict[str, Any]:
    """What the drafted opening lines are built from: the user's own act said to the other
    (or only whether the words were hurtful), the emotion that may have driven it, the
    softer one, the moves chosen (in repair order), needs, and a topic for a later talk."""
    loc = ctx.engine.content.locale(ctx.session.locale)
    facts = draft_facts(ctx.draft, _voice(ctx), ctx.session.profile.name, loc.labels)
    offered = MOVES.get(_band(ctx), MOVES["other"])
    chosen = [m for m in REPAIR_ORDER if m in facts["moves"] and m in offered]
    band = _band(ctx)
    return {**facts, "moves": chosen, "group": DRAFT_GROUP.get(band, band),
            "intensity": int(ctx.draft.get("intensity", 0))}  # fmt: skip


def _render_plain(ctx: Ctx, key: str, variables: dict[str, Any]) -> str:
    loc = ctx.engine.content.locale(ctx.session.locale)
    return to_plain(loc.render_text(key, {**ctx.common(), **_them(ctx), **variables}))


def _them(ctx: Ctx) -> dict[str, Any]:
    loc = ctx.engine.content.locale(ctx.session.locale)
    them = ctx.session.profile.name or loc.label(f"them.{ctx.rel}")
    return {"them": them, "Them": them[:1].upper() + them[1:]}


def _use_draft(event: EventData) -> None:
    ctx: Ctx = event.model
    v = _draft_vars(ctx)
    ctx.draft["line"] = _render_plain(ctx, f"drafts.{v['group']}.{ctx.draft['opening']}", v)
    ctx.draft["later"] = v["topic"]
    ctx.draft["kept_harsh"] = False


def _voice(ctx: Ctx) -> Voice:
    """The user's locale's voice word lists, built once by the engine."""
    return ctx.engine.derived(ctx.session.locale, "voice", lambda loc: voice_of(loc.data))


def _reading(ctx: Ctx) -> LineReading:
    line = ctx.draft.get("line", "")
    return read_line(line, ctx.analyzer(), _voice(ctx), ctx.session.profile.name)


def _needs_feedback(ctx: Ctx) -> bool:
    return _reading(ctx).needs_feedback


def _prepare_feedback(event: EventData) -> None:
    """The user's own sentence where it works; a drafted soft line where nothing of it does."""
    ctx: Ctx = event.model
    r = _reading(ctx)
    v = _draft_vars(ctx)
    soft = _render_plain(ctx, f"drafts.soft.{v['group']}", v)
    name, line = ctx.session.profile.name, ctx.draft.get("line", "")
    ctx.draft["soft"] = r.rewrite or with_name(soft, name, line)
    ctx.draft["later"] = r.topic if r.limit else v["topic"]


def _feedback_vars(ctx: Ctx) -> dict[str, Any]:
    r = _reading(ctx)
    feedback = {"line": excerpt(ctx.draft.get("line", "")), "cues": r.cues, "works": r.works,
                "works_kind": r.works_kind, "sting": r.sting, "but_undo": r.but_undo,
                "rule": r.limit, "request": r.request, "rewritten": bool(r.rewrite),
                "soft": excerpt(ctx.draft.get("soft", ""))}  # fmt: skip
    return {**_draft_vars(ctx), **feedback, "topic": r.topic}


def _line_good(event: EventData) -> None:
    ctx: Ctx = event.model
    good = [c for c in ctx.analyzer().cues(ctx.draft.get("line", "")) if c not in HARSH_CUES]
    ctx.draft["later"], ctx.draft["kept_harsh"] = _draft_vars(ctx)["topic"], False
    ctx.say("conflict.line_good", cues=good)


def _keep_line(event: EventData) -> None:
    """Their line, as they wrote it: allowed, with one warm word about what it may cost (a
    harsh one is not stamped "A+" on the plan card; a rule after the sorry only costs that)."""
    ctx: Ctx = event.model
    r = _reading(ctx)
    ctx.draft["kept_harsh"] = bool(r.sting or r.but_undo)
    key = "conflict.kept_harsh" if ctx.draft["kept_harsh"] else "conflict.kept_limit"
    ctx.say(key, rewritten=bool(r.rewrite))


def _use_soft(event: EventData) -> None:
    event.model.draft["line"] = event.model.draft.get("soft", "")
    event.model.draft["kept_harsh"] = False


def _mark(key: str, value: Any = True) -> Any:
    def _set(event: EventData) -> None:
        event.model.draft[key] = value

    return _set


def _count(key: str) -> Any:
    def _inc(event: EventData) -> None:
        event.model.draft[key] = event.model.draft.get(key, 0) + 1

    return _inc


def _owned(event: EventData) -> None:
    ctx: Ctx = event.model
    if "ownership" in _cues(ctx, "my_part") or "apology" in _cues(ctx, "my_part"):
        ctx.say("conflict.owned")


def make_plan(ctx: Ctx) -> dict[str, Any]:
    """The plan card's fields, from the draft."""
    d = ctx.draft
    when = d.get("when", "ready")
    return {
        "id": entry_id(ctx),
        "created": ctx.now.isoformat(timespec="minutes"),
        "follow_up_at": stamp(
            follow_up_at(when, d.get("when_text", ""), ctx.session.profile.tz, ctx.now)
        ),
        "rel": ctx.rel,
        "them": _them(ctx)["them"],
        "what_happened": excerpt(d.get("camera") or d.get("what_happened", ""), TEXT_MAX),
        "their_side": excerpt(d.get("their_side", ""), TEXT_MAX),
        "my_part": excerpt(d.get("my_part", ""), TEXT_MAX),
        "emotions": list(d.get("emotions", [])),
        "body": list(d.get("body", [])),
        "intensity": int(d.get("intensity", 0)),
        "space": d.get("space", "no"),
        "space_feel": d.get("space_feel", "") if d.get("space", "no") != "no" else "",
        "moves": list(d.get("moves", [])),
        "line": excerpt(d.get("line", ""), TEXT_MAX),
        "later": d.get("later", ""),  # content's words for a rule or request, for a later talk
        "kept_harsh": bool(d.get("kept_harsh")),  # the user kept a line feedback found harsh
        "when": when,
        "when_text": excerpt(d.get("when_text", ""), 200),
        "practised": "",  # the best line of a rehearsal of this plan (flows/rehearsal.py)
    }


def sample_plan() -> dict[str, Any]:
    """The longest plan card the engine can make, for the content check."""
    return {
        "id": "0" * 12, "created": "2026-01-01T20:00+00:00", "follow_up_at": "2026-01-02T20:00",
        "rel": "partner", "them": "x" * 40, "what_happened": "x" * TEXT_MAX,
        "their_side": "x" * TEXT_MAX, "my_part": "x" * TEXT_MAX, "space_feel": "rejected",
        "emotions": list(EMOTIONS), "body": list(BODY), "intensity": 10, "space": "yes",
        "moves": list(MOVES["partner"]), "line": "x" * TEXT_MAX, "when": "own",
        "later": "being on time", "kept_harsh": True,
        "when_text": "x" * 200, "practised": "x" * TEXT_MAX,
    }  # fmt: skip


def _save_plan(ctx: Ctx) -> None:
    plan = make_plan(ctx)
    ctx.session.plans = [*ctx.session.plans, plan][-PLANS_KEPT:]
    ctx.effects.append(Effect("save_plan", plan))
    ctx.effects.append(Effect("follow_up", {"plan": plan["id"], "at": plan["follow_up_at"]}))
    ctx.session.draft = {}


def _plan_vars(ctx: Ctx) -> dict[str, Any]:
    return {"plan": ctx.session.plans[-1]}


def _line_vars(ctx: Ctx) -> dict[str, Any]:
    return _draft_vars(ctx)


STEPS = [
    Step("what_happened", TEXT, save="draft.what_happened"),
    Step("camera", TEXT, skip=True, save="draft.camera", vars=listening.camera_vars),
    Step("their_side", TEXT, skip=True, save="draft.their_side", vars=listening.their_side_vars),
    Step("their_guess", CHOICE, listening.guess_options, group="guess", save="draft.their_guess",
         columns=1, every_option=listening.EVERY_GUESS),
    Step("my_part", TEXT, skip=True, save="draft.my_part", vars=listening.my_part_vars),
    Step("body", MULTI, BODY, group="body", save="draft.body"),
    Step("emotions", MULTI, _emotion_options, group="emotion", save="draft.emotions",
         every_option=EMOTIONS, text_save="draft.emotion_words"),
    Step("accept", INFO, key=_accept_key, vars=_accept_vars,
         keys=tuple(f"accept.{e}" for e in EMOTIONS)),
    Step("self_kind", TEXT, skip=True, save="draft.kind_words", max_len=1000),
    Step("underneath", MULTI, feeling.CORE, group="emotion", save="draft.underneath"),
    Step("my_need", CHOICE, feeling.MY_NEEDS, group="need", save="draft.my_need"),
    Step("their_need", CHOICE, feeling.their_need_options, group="need", save="draft.their_need",
         vars=lambda c: {"mine": c.draft.get("my_need", "unsure")},
         every_option=tuple(dict.fromkeys(n for ns in feeling.THEIR_NEEDS.values() for n in ns))),
    Step("intensity", SCALE, tuple(str(i) for i in range(11)), group="scale",
         save="draft.intensity", convert=int, columns=6),
    Step("calm", CHOICE, ("done", "again"), group="calm", columns=1, asides=("urge",),
         vars=feeling.exercise_vars("calm", feeling.CALM_EXERCISES), enter=feeling.arrived("calm")),
    Step("rerate", SCALE, tuple(str(i) for i in range(11)), group="scale",
         save="draft.intensity_after", convert=int, columns=6),
    Step("tonight", CHOICE, ("rest", "calm", "go_on"), group="tonight", columns=1,
         asides=("urge",)),
    Step("tonight_need", CHOICE, feeling.TONIGHT_NEEDS, group="tonight_need",
         save="draft.tonight_need"),
    Step("rest_plan", CHOICE, ("menu",), group="after_rest", enter=_rest_plan, vars=_rest_vars,
         columns=1),
    Step("ground", CHOICE, ("done", "again"), group="ground", columns=1,
         vars=feeling.exercise_vars("ground", feeling.GROUND_EXERCISES),
         enter=feeling.arrived("ground")),
    Step("space", CHOICE, ("yes", "no", "unsure"), group="space", save="draft.space",
         columns=1),
    Step("space_feel", CHOICE, SPACE_FEEL, group="space_feel", save="draft.space_feel", columns=1,
         vars=lambda c: {"said": c.draft.get("space_said", "")}),
    Step("space_reflect", INFO, key=lambda c: f"conflict.space_reflect.{c.draft['space_feel']}",
         keys=tuple(f"conflict.space_reflect.{f}" for f in SPACE_FEEL)),
    Step("moves", MULTI, _move_options, group="move", save="draft.moves", min_picks=1,
         columns=1, every_option=tuple(dict.fromkeys(m for ms in MOVES.values() for m in ms))),
    Step("opening", CHOICE, ("d1", "d2", "d3", "own"), group="opening", save="draft.opening",
         vars=_line_vars, columns=3, text_to="conflict.own_line"),
    Step("own_line", TEXT, save="draft.line", max_len=1000),
    Step("line_feedback", CHOICE, ("use_soft", "keep", "retry"), group="feedback",
         vars=_feedback_vars, columns=1),
    Step("when", CHOICE, WHEN, group="when", save="draft.when", columns=2,
         text_to="conflict.when_own"),
    Step("now_check", CHOICE, ("go", "wait"), group="now_check", columns=1, vars=feeling.now_vars),
    Step("when_own", TEXT, save="draft.when_text", max_len=200),
    Step("plan", CHOICE, ("rehearse", "space", "menu"), group="after_plan", enter=_save_plan,
         vars=_plan_vars, columns=1),
    Step("to_menu", GOTO, goto="menu.home"),
    Step("to_space", GOTO, goto="space.intro"),
    Step("to_rehearse", GOTO, enter=lambda c: from_plan(c, c.session.plans[-1])),
]  # fmt: skip

TRANSITIONS = [
    {"trigger": "answer", "source": "what_happened", "dest": "camera",
     "conditions": guard(listening.judgmental), "before": listening.ask_camera},
    {"trigger": "answer", "source": "what_happened", "dest": "their_side"},
    {"trigger": "answer", "source": "camera", "dest": "their_side",
     "after": listening.thanks},
    {"trigger": "skip", "source": "camera", "dest": "their_side"},
    {"trigger": "answer", "source": "their_side", "dest": "their_guess",
     "conditions": guard(listening.dont_know), "before": listening.forget("their_side")},
    {"trigger": "answer", "source": "their_side", "dest": "my_part",
     "before": listening.forget("their_guess")},
    {"trigger": "skip", "source": "their_side", "dest": "my_part"},
    {"trigger": "answer", "source": "their_guess", "dest": "my_part"},
    {"trigger": "answer", "source": "my_part", "dest": "body", "before": _owned},
    {"trigger": "skip", "source": "my_part", "dest": "body"},
    {"trigger": "answer", "source": "body", "dest": "emotions"},
    {"trigger": "answer", "source": "emotions", "dest": "accept",
     "conditions": guard(feeling.has_emotions), "before": _mark("accept_i", 0)},
    {"trigger": "answer", "source": "emotions", "dest": "my_need",
     "after": say("conflict.no_emotions")},
    {"trigger": "next", "source": "accept", "dest": "accept",
     "conditions": guard(_more_emotions), "before": _count("accept_i")},
    {"trigger": "next", "source": "accept", "dest": "self_kind",
     "conditions": guard(feeling.shame)},
    {"trigger": "next", "source": "accept", "dest": "underneath",
     "conditions": guard(feeling.below)},
    {"trigger": "next", "source": "accept", "dest": "my_need"},
    {"trigger": "answer", "source": "self_kind", "dest": "underneath", "after": feeling.kind_heard},
    {"trigger": "skip", "source": "self_kind", "dest": "underneath"},
    {"trigger": "answer", "source": "underneath", "dest": "my_need",
     "before": feeling.underneath_heard},
    {"trigger": "answer", "source": "my_need", "dest": "their_need"},
    {"trigger": "answer", "source": "their_need", "dest": "intensity"},
    {"trigger": "answer", "source": "intensity", "dest": "calm", "conditions": guard(feeling.high)},
    {"trigger": "answer", "source": "intensity", "dest": "ground",
     "conditions": guard(feeling.low)},
    *listening.to_space("answer", "intensity"),
    {"trigger": "again", "source": "calm", "dest": "calm"},
    {"trigger": "done", "source": "calm", "dest": "rerate"},
    {"trigger": "answer", "source": "rerate", "dest": "tonight",
     "conditions": guard(feeling.still_high)},
    *listening.to_space("answer", "rerate"),
    {"trigger": "rest", "source": "tonight", "dest": "tonight_need"},
    {"trigger": "calm", "source": "tonight", "dest": "calm"},
    *listening.to_space("go_on", "tonight"),
    {"trigger": "answer", "source": "tonight_need", "dest": "rest_plan"},
    {"trigger": "menu", "source": "rest_plan", "dest": "to_menu"},
    {"trigger": "again", "source": "ground", "dest": "ground"},
    *listening.to_space("done", "ground"),
    {"trigger": "no", "source": "space", "dest": "moves"},
    {"trigger": "answer", "source": "space", "dest": "space_feel"},
    {"trigger": "answer", "source": "space_feel", "dest": "space_reflect"},
    {"trigger": "next", "source": "space_reflect", "dest": "moves"},
    {"trigger": "answer", "source": "moves", "dest": "opening"},
    {"trigger": "own", "source": "opening", "dest": "own_line"},
    {"trigger": "answer", "source": "opening", "dest": "when", "before": _use_draft},
    {"trigger": "answer", "source": "own_line", "dest": "line_feedback",
     "conditions": guard(_needs_feedback), "before": _prepare_feedback},
    {"trigger": "answer", "source": "own_line", "dest": "when", "after": _line_good},
    {"trigger": "use_soft", "source": "line_feedback", "dest": "when", "before": _use_soft},
    {"trigger": "keep", "source": "line_feedback", "dest": "when", "after": _keep_line},
    {"trigger": "retry", "source": "line_feedback", "dest": "own_line"},
    {"trigger": "own", "source": "when", "dest": "when_own"},
    {"trigger": "answer", "source": "when", "dest": "now_check",
     "conditions": guard(feeling.check_now),
     "before": _mark("now_checked")},
    {"trigger": "answer", "source": "when", "dest": "plan"},
    {"trigger": "go", "source": "now_check", "dest": "plan"},
    {"trigger": "wait", "source": "now_check", "dest": "when"},
    {"trigger": "answer", "source": "when_own", "dest": "plan"},
    {"trigger": "menu", "source": "plan", "dest": "to_menu"},
    {"trigger": "space", "source": "plan", "dest": "to_space"},
    {"trigger": "rehearse", "source": "plan", "dest": "to_rehearse"},
]  # fmt: skip

FLOW = Flow("conflict", STEPS, TRANSITIONS, first="what_happened")
