"""Rehearsal: the other person's nervous system (the peek-a-boo scenes, the Still-Face, a
partner's start-up, flooding and a break), the move reader, and the flow around them."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable
from datetime import datetime

import pytest
from coach_testing import NOW

from dialogue.check import check_rehearsal
from dialogue.content import Content
from dialogue.engine import Engine, Turn
from dialogue.events import Command, Event, Press, Text
from dialogue.flows.rehearsal import HELPED, MOMENTS, NOTES
from dialogue.rehearsal import PERSONAS, SITUATIONS, Move, MoveReader, Other, react
from dialogue.rehearsal.model import PURSUIT, WARM_TURNS, _push, start
from dialogue.rehearsal.moves import intensity
from dialogue.session import Session

WAIT = Move("wait")
BREAK = Move("break")
LEAN_IN = Move("text", pursue=True, intensity=0.5)
HELLO = Move("text", greet=True, kind_cues=("warmth",))
HARSH = Move("text", harsh=("criticism",), intensity=0.5)
CONTEMPT = Move("text", harsh=("contempt",))
GENTLE = Move("text", kind_cues=("ownership", "apology"))
CURIOUS = Move("text", kind_cues=("curiosity", "empathy"))
FLAT = Move("text")  # words with no warmth and no push: "ok."


def play(persona: str, situation: str, moves: Iterable[Move]) -> list[tuple[Other, str]]:
    """Every state and behaviour a sequence of moves goes through."""
    o, p, out = start(persona, situation), PERSONAS[persona], []
    for m in moves:
        o, b = react(o, p, m)
        out.append((o, b))
    return out


def turns_to(trace: list[tuple[Other, str]], behaviour: str) -> int:
    """The turn (1-based) at which a behaviour first shows; a large number when it never does."""
    return next((i for i, (_, b) in enumerate(trace, 1) if b == behaviour), 10_000)


def until_connected(persona: str, situation: str, first: list[Move], warm: Move) -> int:
    """Turns from the start until the two reconnect: `first`, then waiting until the other
    turns back, then `warm` lines."""
    o, p = start(persona, situation), PERSONAS[persona]
    for n, m in enumerate([*first, *([WAIT] * 40)], 1):
        o, _ = react(o, p, m if (o.away or m is not WAIT) else warm)
        if o.connected:
            return n
    return 10_000


# -- the peek-a-boo scenes ---------------------------------------------------------------------


def test_attuned_baby_comes_back_sooner_than_a_pursued_one() -> None:
    attuned = play("baby", "withdrawn", [WAIT] * 3)
    intrusive = play("baby", "withdrawn", [LEAN_IN] * 3 + [WAIT] * 10)
    assert turns_to(attuned, "peeks_back") <= 3
    assert turns_to(intrusive, "peeks_back") > turns_to(attuned, "peeks_back") + 3
    assert max(o.arousal for o, _ in intrusive) > max(o.arousal for o, _ in attuned) + 2
    assert [b for _, b in intrusive[:3]] == ["turns_further"] * 3


def test_intrusive_scene_takes_clearly_more_turns_to_reconnect() -> None:
    attuned = until_connected("baby", "withdrawn", [], HELLO)
    intrusive = until_connected("baby", "withdrawn", [LEAN_IN] * 3, HELLO)
    assert attuned <= 8
    assert intrusive >= attuned + 5


def test_the_sooner_the_pursuit_stops_the_sooner_the_return() -> None:
    returns = [
        turns_to(play("baby", "withdrawn", [LEAN_IN] * k + [WAIT] * 20), "peeks_back") - k
        for k in range(5)
    ]
    assert returns == sorted(returns) and returns[0] < returns[-1], returns


def test_too_much_and_too_little_both_raise_arousal_warmth_lowers_it() -> None:
    reaching = play("baby", "withdrawn", [WAIT] * 3)[-1][0]
    assert reaching.bid
    p = PERSONAS["baby"]
    too_little, b1 = react(reaching, p, WAIT)
    too_much, b2 = react(reaching, p, Move("text", pursue=True, intensity=1.0))
    just_right, b3 = react(reaching, p, HELLO)
    assert too_little.arousal > reaching.arousal and b1 == "bid_missed"
    assert too_much.arousal > reaching.arousal and b2 in ("protests", "withdraws")
    assert just_right.arousal < reaching.arousal and b3 == "softens"


# -- the Still-Face ------------------------------------------------------------------------------


def test_still_face_protest_then_withdrawal_then_slow_repair() -> None:
    trace = play("baby", "protesting", [WAIT, WAIT, *[HELLO] * 12])
    assert [b for _, b in trace[:2]] == ["bid_missed", "withdraws"]
    assert trace[0][0].arousal > start("baby", "protesting").arousal
    assert trace[1][0].away and trace[1][0].carry > 0
    back = turns_to(trace, "peeks_back")
    assert back < len(trace), "warm re-engagement brings the baby back"
    connected = next(i for i, (o, _) in enumerate(trace, 1) if o.connected)
    # Carry-over: positive affect stays below baseline for a while after the return.
    assert connected - back > WARM_TURNS
    assert all(o.openness <= 1.0 - o.carry + 1e-9 for o, _ in trace)


def test_carry_over_is_smaller_after_repeated_good_repairs() -> None:
    p = PERSONAS["baby"]
    reaching = play("baby", "withdrawn", [WAIT] * 3)[-1][0]
    assert reaching.bid and reaching.repairs == 0
    o, carries = reaching, []
    for _ in range(3):
        o = Other.from_dict({**o.as_dict(), "carry": 0.0})  # each rupture's own carry-over
        o, _ = react(o, p, WAIT)  # protest
        o, _ = react(o, p, WAIT)  # withdrawal
        carries.append(o.carry + 2 * 0.08)  # the fade of two turns put back
        while o.away:
            o, _ = react(o, p, WAIT)
        repairs = o.repairs
        o, b = react(o, p, HELLO)  # a bid unanswered before, now met warmly: a repair
        assert b in ("softens", "reconnects") and o.repairs == repairs + 1
        o = Other.from_dict({**o.as_dict(), "bid": True, "connected": False})  # reaching again
    assert carries[0] > carries[1] > carries[2] > 0, carries


# -- a partner or teen ----------------------------------------------------------------------------


def test_partner_harsh_start_up_escalates_gentle_one_opens() -> None:
    harsh = play("partner", "hurt_quiet", [HARSH])
    gentle = play("partner", "hurt_quiet", [GENTLE])
    assert harsh[0][1] in ("escalates", "shuts_down") and harsh[0][0].arousal > 5.5
    assert gentle[0][1] == "softens" and gentle[0][0].arousal < 5.5
    assert gentle[0][0].openness > harsh[0][0].openness
    assert until_connected("partner", "hurt_quiet", [GENTLE], CURIOUS) < until_connected(
        "partner", "hurt_quiet", [HARSH, CONTEMPT], CURIOUS
    )


def test_contempt_floods_a_partner_and_words_then_barely_land() -> None:
    flooded = play("partner", "angry", [CONTEMPT])[-1][0]
    assert flooded.arousal >= PERSONAS["partner"].flood_at and flooded.away
    calm = start("partner", "hurt_quiet")
    drop_flooded = flooded.arousal - react(flooded, PERSONAS["partner"], GENTLE)[0].arousal
    drop_calm = calm.arousal - react(calm, PERSONAS["partner"], GENTLE)[0].arousal
    assert drop_flooded < drop_calm / 2


def test_a_break_brings_a_flooded_partner_back_and_ready() -> None:
    flooded = play("partner", "angry", [CONTEMPT, HARSH])[-1][0]
    after, behaviour = react(flooded, PERSONAS["partner"], BREAK)
    assert behaviour == "after_break" and after.bid and not after.away
    assert after.arousal <= PERSONAS["partner"].baseline + 1.0
    waited = play("partner", "angry", [CONTEMPT, HARSH, WAIT, WAIT])[-1][0]
    assert waited.arousal > after.arousal + 2, "a short wait is not a twenty-minute break"


def test_teen_shuts_down_under_pressure_and_opens_to_curiosity() -> None:
    trace = play("teen", "angry", [Move("text", harsh=("pressure",), pursue=True, intensity=1.0)])
    assert trace[0][1] == "shuts_down"
    assert play("teen", "hurt_quiet", [CURIOUS])[0][1] == "softens"


# -- no dead ends, no instant forgiveness -------------------------------------------------------


@pytest.mark.parametrize("persona", list(PERSONAS))
@pytest.mark.parametrize("situation", SITUATIONS)
def test_repair_is_possible_from_every_state(persona: str, situation: str) -> None:
    rng = random.Random(f"{persona}{situation}")
    moves = [WAIT, BREAK, LEAN_IN, HELLO, HARSH, CONTEMPT, GENTLE, CURIOUS, FLAT]
    p = PERSONAS[persona]
    for _ in range(30):
        o = start(persona, situation)
        for m in rng.choices(moves, k=rng.randrange(1, 15)):
            o, _ = react(o, p, m)
        o = Other.from_dict({**o.as_dict(), "connected": False})
        for n in range(60):  # the kind way back: quiet while away, then warmth
            if o.away and p.words and n == 0:
                o, _ = react(o, p, BREAK)
            o, _ = react(o, p, WAIT if o.away else GENTLE)
            if o.connected:
                break
        assert o.connected, (persona, situation, o)


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_one_warm_line_is_never_instant_forgiveness(persona: str) -> None:
    p = PERSONAS[persona]
    for situation in SITUATIONS:
        o = start(persona, situation)
        o, _ = react(o, p, Move("text", kind_cues=tuple(HELPED[:8])))
        assert not o.connected


def test_a_warm_hello_with_an_exclamation_is_not_a_chase() -> None:
    away = start("baby", "withdrawn")
    hello = Move("text", kind_cues=("warmth",), greet=True, intensity=0.17)
    o, b = react(away, PERSONAS["baby"], hello)
    assert b in ("stays_away", "peeks_back") and o.chase == 0 and o.arousal < away.arousal


def test_an_angry_partner_argues_back_then_floods() -> None:
    criticism = Move("text", harsh=("criticism",))
    trace = play("partner", "angry", [criticism, criticism])
    assert [b for _, b in trace] == ["escalates", "shuts_down"]


def test_the_model_is_deterministic() -> None:
    moves = [LEAN_IN, WAIT, HELLO, WAIT, HARSH, GENTLE, CURIOUS, BREAK]
    assert play("teen", "angry", moves) == play("teen", "angry", moves)


# -- reading a move -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reader(engine: Engine) -> MoveReader:
    return engine.move_reader("en")


@pytest.mark.parametrize(
    ("text", "kind", "pursue", "greet"),
    [
        ("*sits back and waits*", "wait", False, False),
        ("I lean back and give him a moment", "wait", False, False),
        ("...", "wait", False, False),
        ("I lean in and click my tongue", "text", True, False),
        ("Leo! Look at me! Peekaboo!", "text", True, False),
        ("Oh, there you are! I smile", "text", False, True),
        ("we need to talk right now, don't you walk away", "text", True, False),
        ("I wait... then LOOK AT ME", "text", True, False),
        ("I'm sorry I yelled. That wasn't fair to you.", "text", False, False),
        ("I need twenty minutes, then I'll come back", "break", False, False),
        ("I get down to her level and smile", "text", False, True),
    ],
)
def test_reader_acts(reader: MoveReader, text: str, kind: str, pursue: bool, greet: bool) -> None:
    m = reader.read(text, ())
    assert (m.kind, m.pursue, m.greet) == (kind, pursue, greet)


def test_a_kind_question_is_not_pressure_unless_shouted(reader: MoveReader) -> None:
    cues = ("pressure", "curiosity")
    assert reader.read("Can you tell me what it was like for you?", cues).harsh == ()
    assert reader.read("CAN YOU TELL ME WHAT IT WAS LIKE?!", cues).harsh == ("pressure",)
    assert reader.read("answer me", ("pressure",)).harsh == ("pressure",)
    answer_me = reader.read("answer me", ("pressure",))
    assert answer_me.pursue and _push(PERSONAS["teen"], answer_me) == pytest.approx(
        PURSUIT * PERSONAS["teen"].push_gain
    )  # pursuit words are pressure: counted once


def test_described_acts_are_not_kept_as_the_best_line(reader: MoveReader) -> None:
    assert reader.described("I smile and coo back") and reader.described("*waits*")
    assert not reader.described("I'm sorry I snapped at you")


def test_described_acts_are_not_ownership(reader: MoveReader) -> None:
    assert "ownership" not in reader.read("I lean in closer", ("ownership",)).kind_cues
    assert "ownership" in reader.read("I yelled and that was on me", ("ownership",)).kind_cues


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [("ok", 0.0, 0.0), ("LOOK AT ME", 0.5, 0.5), ("stop!!!", 0.5, 0.5),
     ("WHY WON'T YOU LISTEN!!!", 1.0, 1.0), ("Fine!", 0.1, 0.2), ("x " * 200, 0.3, 0.3)],
)  # fmt: skip
def test_intensity(text: str, low: float, high: float) -> None:
    assert low <= intensity(text) <= high


# -- the flow -------------------------------------------------------------------------------------


def onboarded(engine: Engine, rel: str = "child", age: str = "baby", name: str = "Leo") -> Session:
    s = engine.new_session("u1", seed=3)
    s.profile.relationship, s.profile.age_band, s.profile.name = rel, age, name
    s.profile.onboarded, s.state = True, "menu.home"
    return s


def drive(engine: Engine, s: Session, events: list[Event], now: datetime = NOW) -> list[Turn]:
    turns = []
    for e in events:
        t = engine.handle(s, e, now)
        s = Session.from_json(t.session.to_json())
        turns.append(t)
    return turns


def keys(turn: Turn) -> list[str]:
    return [r.key for r in turn.replies]


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_every_persona_is_reachable(engine: Engine, persona: str) -> None:
    turns = drive(engine, onboarded(engine), [Command("rehearse"), Press(persona),
                                              Press("withdrawn")])  # fmt: skip
    last = turns[-1]
    assert last.session.state == "rehearsal.practice"
    assert keys(last) == ["rehearsal.intro", f"persona.{persona}.start_withdrawn"]
    p = PERSONAS[persona]
    assert last.partner == {"persona": persona, "arousal": min(p.away_at + 1.0, p.flood_at - 0.5),
                            "openness": 0.3, "connected": False}  # fmt: skip
    assert last.partner["arousal"] < p.flood_at  # turned away, not flooded
    buttons = [b.id for b in last.replies[-1].flat_buttons]
    assert ("break" in buttons) == PERSONAS[persona].words
    assert "wait" in buttons and "end" in buttons


def test_attuned_scene_through_the_engine(engine: Engine, content: Content) -> None:
    events: list[Event] = [Command("rehearse"), Press("baby"), Press("withdrawn")]
    events += [Press("wait")] * 3 + [Text("Oh, there you are!")] * 3
    turns = drive(engine, onboarded(engine), events)
    assert turns[5].partner is not None and not turns[5].partner["connected"]
    assert keys(turns[5])[0] == "persona.baby.peeks_back"
    end = turns[-1]
    assert end.session.state == "rehearsal.summary"
    assert keys(end)[-2:] == ["persona.baby.reconnects", "rehearsal.summary"]
    chart = [e for e in end.effects if e.kind == "chart"]
    assert chart and chart[0].data["kind"] == "rehearsal" and len(chart[0].data["arousal"]) == 7
    text = content.render(end.replies[-1], "en").text
    assert "Oh, there you are!" in text and "waiting" in text


def test_notes_follow_each_turn_and_can_be_turned_off(engine: Engine) -> None:
    events: list[Event] = [Command("rehearse"), Press("teen"), Press("angry"),
                           Text("You NEVER listen!!"), Press("notes_off"), Text("ok")]  # fmt: skip
    turns = drive(engine, onboarded(engine, "child", "teen", "Sam"), events)
    assert keys(turns[3])[1] == "rehearsal.note.raised"
    assert turns[3].replies[1].vars["rcue"] == "criticism"
    assert keys(turns[4]) == ["rehearsal.notes_off", turns[3].replies[0].key]
    assert len(turns[5].replies) == 1 and keys(turns[5])[0].startswith("persona.teen.")
    assert [b.id for b in turns[5].replies[0].flat_buttons][-2:] == ["notes_on", "end"]


def test_replies_do_not_repeat_back_to_back(engine: Engine) -> None:
    events: list[Event] = [Command("rehearse"), Press("baby"), Press("withdrawn")]
    events += [Text("LOOK AT ME! Leo! over here!")] * 12
    turns = drive(engine, onboarded(engine), events)[3:]
    said = [(t.replies[0].key, t.replies[0].variant) for t in turns]
    assert all(a != b for a, b in itertools.pairwise(said)), said


def test_variants_turn_through_more_than_two(engine: Engine) -> None:
    events: list[Event] = [Command("rehearse"), Press("partner"), Press("angry")]
    events += [Text("You NEVER help!!"), Text("You ALWAYS do this!!")] + [Press("wait")] * 12
    turns = drive(engine, onboarded(engine, "partner", "", "Alex"), events)[5:]
    said = {t.replies[0].variant for t in turns if t.replies[0].key.endswith("shuts_down")}
    assert len(said) >= 3, said


def test_an_unanswered_reach_shows_in_the_summary(engine: Engine, content: Content) -> None:
    events: list[Event] = [Command("rehearse"), Press("baby"), Press("protesting"),
                           Press("wait"), Press("wait"), Press("end")]  # fmt: skip
    turns = drive(engine, onboarded(engine), events)
    assert keys(turns[3])[1] == "rehearsal.note.missed"
    assert turns[-1].replies[-1].vars["raised"] == ["missed"]
    assert "no answer when they reached out" in content.render(turns[-1].replies[-1], "en").text


def test_same_seed_same_conversation(engine: Engine, content: Content) -> None:
    events: list[Event] = [Command("rehearse"), Press("partner"), Press("hurt_quiet")]
    events += [Text("You always do this"), Press("wait"), Press("break"),
               Text("I'm sorry I snapped"), Text("How was it for you?")]  # fmt: skip

    def texts(seed: int) -> list[str]:
        s = onboarded(engine, "partner", "", "Alex")
        s.seed = seed
        return [content.render(r, "en").text for t in drive(engine, s, events) for r in t.replies]

    assert texts(11) == texts(11)
    assert any(texts(11) != texts(n) for n in (12, 13, 14))


def test_typed_stop_ends_with_a_summary(engine: Engine) -> None:
    events: list[Event] = [Command("rehearse"), Press("child"), Press("hurt_quiet"),
                           Text("I'm sorry I shouted"), Text("stop")]  # fmt: skip
    end = drive(engine, onboarded(engine), events)[-1]
    assert end.session.state == "rehearsal.summary"
    assert keys(end) == ["rehearsal.summary"]
    assert [b.id for b in end.replies[-1].flat_buttons] == ["again", "menu"]


def test_risk_inside_a_rehearsal_stops_it(engine: Engine) -> None:
    events: list[Event] = [Command("rehearse"), Press("partner"), Press("angry"),
                           Text("he has his hands around my neck right now")]  # fmt: skip
    last = drive(engine, onboarded(engine, "partner", "", "Alex"), events)[-1]
    assert last.safety is not None and last.session.flow == "safety"
    assert not any(k.startswith("persona.") for k in keys(last))


def test_no_partner_rehearsal_while_the_abuse_hold_is_on(engine: Engine) -> None:
    s = onboarded(engine, "partner", "", "Alex")
    s.hold = "abuse"
    pick = drive(engine, s, [Command("rehearse")])[-1]
    assert "partner" not in [b.id for b in pick.replies[-1].flat_buttons]


# -- content: every key the model can ask for exists, and every key is used --------------------


def test_every_reply_key_exists_and_every_one_is_used(content: Content) -> None:
    loc = content.locale("en")
    assert check_rehearsal(loc) == []  # every persona x behaviour there, nothing unknown
    notes = {f"rehearsal.note.{n}" for n in NOTES}
    assert notes == {k for k in loc.templates if k.startswith("rehearsal.note.")}
    assert set(MOMENTS) == {"away", "reaching", "present", "flooded"}


def test_every_band_reply_is_said_and_fits_its_band(content: Content, engine: Engine) -> None:
    """A reply written for an arousal band (persona.baby.stays_away_flooded) is one the model
    really produces, in that band: a seeded walk of random moves reaches every one."""
    loc = content.locale("en")
    bands = ("calm", "tense", "flooded")
    written = {k for k in loc.templates if k.startswith("persona.") and k.endswith(bands)}
    assert len(written) >= 30  # replies vary by band, not only by persona and cue
    rng, seen = random.Random(7), set()
    harsh, kind = ["criticism", "contempt", "pressure", "defensiveness"], ["warmth", "ownership"]
    for _ in range(4000):
        name = rng.choice(sorted(PERSONAS))
        o = start(name, rng.choice(SITUATIONS))
        for _ in range(12):
            roll = rng.random()
            m = (WAIT if roll < 0.2 else BREAK if roll < 0.25 else Move(
                "text", harsh=tuple(rng.sample(harsh, rng.choice((0, 0, 1, 2)))),
                kind_cues=tuple(rng.sample(kind, rng.choice((0, 1, 2)))),
                pursue=rng.random() < 0.2, intensity=rng.choice((0.0, 0.0, 0.5, 1.0)),
                greet=rng.random() < 0.2))  # fmt: skip
            o, behaviour = react(o, PERSONAS[name], m)
            seen.add(f"persona.{name}.{behaviour}_{o.band}")
            if o.connected:
                break
    assert written <= seen, sorted(written - seen)
