"""The simulated other person's nervous system: arousal and openness, moved by what you do.

Pure and deterministic: `react(other, persona, move)` returns the new state and what the other
person does (a behaviour, one of BEHAVIOURS), which content turns into words or actions.

What the model reproduces, and where each piece comes from:
- An infant turns away to bring its arousal down and comes back on its own when given time;
  pursuit (calling, leaning in, "look at me") while it is turned away raises arousal and the
  bar to come back ("chase and dodge"), so the sooner the user stops, the sooner it returns.
  Too much stimulation (intensity, pursuit) and too little (an unanswered bid) both lead to
  turning away: an inverted U.
- A bid for contact that meets no response is itself a rupture (the Still-Face experiment):
  first protest, then withdrawal. Warm re-engagement repairs it, but positive affect stays
  below baseline for a while (`carry`, a ceiling on openness that fades), less so after each
  good repair.
- An adult or teen met with a harsh start-up or contempt escalates, or shuts down when
  flooded; flooded, words barely land and only a real break (Gottman: at least 20 minutes)
  brings arousal down. A gentle start-up, owning a part and curiosity open them up.
- No dead ends and no instant forgiveness: quiet always lowers arousal, and openness rises by
  at most OPEN_STEP a turn, so reconnecting takes at least two warm turns after a return.

Every constant is hand-tuned against the scenes in tests/dialogue/test_rehearsal.py; each says
why it has its value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

AROUSAL_MAX = 10.0
# How much each harsh cue in the user's message pushes arousal up (before the persona's gain):
# contempt is the strongest predictor of escalation in Gottman's couples work, so it weighs
# most; criticism next; pressure and defensiveness push less but still push.
PUSH = {"contempt": 3.0, "criticism": 2.0, "pressure": 1.5, "defensiveness": 1.5,
        "evaluation": 1.0, "stonewalling": 1.0}  # fmt: skip
# How much each kind cue soothes (before the persona's gain). Owning a part, apologising,
# empathy and respecting space land most; curiosity and appreciation a little less, as they
# ask something of the other person or can sound like flattery when arousal is high.
SOOTHE = {"ownership": 1.0, "apology": 1.0, "empathy": 1.0, "respect_space": 1.0,
          "warmth": 0.8, "gentle_startup": 0.8, "curiosity": 0.7, "appreciation": 0.7}  # fmt: skip
PURSUIT = 1.6  # arousal a pursuing act adds (before the persona's gain): a clear push
INTENSITY = 2.0  # arousal that a fully intense message adds (all capitals, "!!!", a lecture)
GREET = 1.2  # soothing a warm greeting or a playful, gentle act gives (a baby's "you're back!"):
# a little more than one kind cue, since for a baby the greeting is the whole repair
FLOODED_WORDS = 0.25  # the share of soothing words that still land when the other is flooded
OPEN_STEP = 0.15  # the most openness can rise in one turn: no instant forgiveness (three
# warm turns from a hurt, quiet start to reconnecting)
OPEN_PER_SOOTHE = 0.1  # openness gained per unit of soothing that landed
OPEN_LOST_PER_PUSH = 0.06  # openness lost per unit of push
CONNECT_OPEN = 0.65  # openness at which the two have reconnected (with arousal near baseline)
WARM_TURNS = 2  # warm turns after a return before reconnecting: one hello is not yet repair
MISSED_PROTEST = 1.5  # arousal an unanswered bid adds: the protest phase of the Still-Face
MISSED_OPEN = 0.15  # openness the protest costs
CARRY_FADE = 0.08  # how fast the Still-Face's carry-over fades per turn
CHASE_BAR = 0.5  # each pursuit while away lowers the arousal needed to come back by this much
BREAK_ABOVE = 1.0  # a 20-minute break brings an adult to within this of resting arousal
BREAK_OPEN = 0.3  # openness after a named break kept: as much as a hurt, quiet start


@dataclass(frozen=True)
class Persona:
    """How one kind of person reacts: hand-tuned gains and thresholds (see each field)."""

    name: str
    words: bool  # speaks (teen, partner, other): can escalate, flood, take a break
    baseline: float  # resting arousal
    away_at: float  # arousal at which they turn away (a baby) or go quiet
    back_at: float  # arousal below which they come back on their own, if left in peace
    settle: float  # arousal lost per quiet turn while turned away (self-regulation)
    push_gain: float  # how strongly harsh cues, pursuit and intensity land
    soothe_gain: float  # how strongly warm words land (a baby reads tone, not words)
    flood_at: float  # at or above this, a speaking persona is flooded: stonewalling
    carry: float  # the Still-Face carry-over a withdrawal after missed bids leaves


# Babies settle fastest when left in peace (seconds of look-away) and read tone, not words;
# toddlers and children a little slower; a teen or adult in a conflict settles slowly by
# themselves within a conversation (Gottman's 20 minutes), so waiting does less and a break
# does most. Speaking personas flood at 8, below the top, so harshness can push them there.
# The carry-over is largest for a baby, whose positive affect stayed lowest after the
# Still-Face episode, and set so that it holds openness under CONNECT_OPEN for a few turns.
PERSONAS: dict[str, Persona] = {
    "baby": Persona("baby", False, 3.0, 6.0, 4.5, 1.2, 1.0, 0.6, 99.0, 0.4),
    "toddler": Persona("toddler", False, 3.0, 6.5, 4.5, 1.0, 1.0, 0.8, 99.0, 0.35),
    "child": Persona("child", False, 3.0, 7.0, 5.0, 0.8, 1.0, 1.0, 99.0, 0.35),
    "teen": Persona("teen", True, 3.5, 7.0, 5.0, 0.6, 1.1, 1.0, 8.0, 0.35),
    "partner": Persona("partner", True, 3.5, 7.5, 5.0, 0.5, 1.0, 1.2, 8.0, 0.3),
    "other": Persona("other", True, 3.0, 7.5, 5.0, 0.5, 0.9, 1.0, 8.0, 0.3),
}
SITUATIONS = ("withdrawn", "protesting", "angry", "hurt_quiet")
BEHAVIOURS = (
    "turns_further", "stays_away", "peeks_back", "bid_missed", "withdraws", "protests",
    "softens", "wary", "reconnects", "shuts_down", "escalates", "after_break",
)  # fmt: skip
SPEAKING_ONLY = ("shuts_down", "escalates", "after_break")


@dataclass(frozen=True)
class Move:
    """What the user did this turn, as the model reads it (see moves.read_move)."""

    kind: str = "text"  # text, wait (stay quiet a moment), break (twenty minutes or more)
    harsh: tuple[str, ...] = ()  # harsh cues in the user's words
    kind_cues: tuple[str, ...] = ()  # kind cues in the user's words
    pursue: bool = False  # leaning in, calling, "look at me": contact forced, not offered
    intensity: float = 0.0  # 0..1: capitals, exclamation marks, length
    greet: bool = False  # a warm hello, a smile, gentle play


@dataclass(frozen=True)
class Other:
    """The simulated person's state between turns (stored in the session as a dict)."""

    persona: str
    arousal: float
    openness: float
    away: bool  # turned away, withdrawn or shut down
    bid: bool = False  # reaching out now: a response is expected
    connected: bool = False
    chase: int = 0  # pursuit while away, not yet settled
    missed: int = 0  # unanswered bids in a row
    carry: float = 0.0  # ceiling on openness left by a Still-Face rupture (fades)
    ruptured: bool = False  # withdrew after missed bids; the next warm meeting is a repair
    repairs: int = 0  # good repairs after a rupture: each shrinks the next carry-over
    warm: int = 0  # warm turns since the last return
    turns: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The JSON form kept in the session (dataclasses.asdict deep-copies: 10x slower)."""
        return {f: getattr(self, f) for f in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Other:
        """Read the stored form back (fields a newer model added take their defaults)."""
        return _with(_DEFAULT, **{k: raw[k] for k in cls.__dataclass_fields__ if k in raw})

    @property
    def band(self) -> str:
        """calm, tense or flooded: arousal in three bands for content."""
        if self.arousal >= PERSONAS[self.persona].flood_at or self.arousal >= 8.0:
            return "flooded"
        return "tense" if self.arousal >= 5.0 else "calm"


_DEFAULT = Other("baby", 0.0, 0.0, away=False)


def _with(o: Other, **changes: Any) -> Other:
    """A copy of `o` with some fields changed: dataclasses.replace without its per-call field
    scan, which made it most of a rehearsal turn's model cost. Only known fields are set."""
    new = object.__new__(Other)
    new.__dict__.update(o.__dict__)
    new.__dict__.update(changes)
    return new


def start(persona: str, situation: str) -> Other:
    """The other person at the start of a rehearsal, in the chosen situation."""
    p = PERSONAS[persona]
    if situation == "withdrawn":  # just turned away: above the look-away line, not flooded
        return Other(persona, min(p.away_at + 1.0, p.flood_at - 0.5), 0.3, away=True)
    if situation == "protesting":  # upset and reaching: ignored, it turns into withdrawal
        return Other(persona, p.away_at - 0.5, 0.35, away=False, bid=True)
    if situation == "angry":  # a speaking persona escalates at one harsh line, floods at two
        return Other(persona, min(p.flood_at - 2.5, p.away_at - 0.5), 0.2, away=False)
    return Other(persona, p.back_at + 0.5, 0.25, away=False)  # hurt and quiet


def _push(p: Persona, m: Move) -> float:
    raw = sum(PUSH.get(c, 0.0) for c in m.harsh) + m.intensity * INTENSITY
    if m.pursue:  # pursuit words are pressure too: count the push once
        raw += PURSUIT - (PUSH["pressure"] if "pressure" in m.harsh else 0.0)
    return raw * p.push_gain


def _soothe(p: Persona, m: Move, flooded: bool) -> float:
    words = sum(SOOTHE.get(c, 0.0) for c in m.kind_cues) * p.soothe_gain
    if flooded:
        words *= FLOODED_WORDS
    return words + (GREET if m.greet else 0.0)


def _clip(x: float, lo: float = 0.0, hi: float = AROUSAL_MAX) -> float:
    return round(min(hi, max(lo, x)), 3)


def react(o: Other, persona: Persona, m: Move) -> tuple[Other, str]:
    """One turn: the user's move lands on the other person; their new state and behaviour."""
    o = _with(o, turns=o.turns + 1, carry=_clip(o.carry - CARRY_FADE, 0.0, 1.0))
    if m.kind == "break":
        return _after_break(o, persona)
    flooded = persona.words and o.arousal >= persona.flood_at
    push = _push(persona, m) if m.kind == "text" else 0.0
    soothe = _soothe(persona, m, flooded) if m.kind == "text" else 0.0
    if o.away:
        return _away(o, persona, m, push, soothe)
    return _present(o, persona, m, push, soothe)


def _after_break(o: Other, p: Persona) -> tuple[Other, str]:
    """A named break of twenty minutes or more: arousal near rest, back and open to a try."""
    if not p.words:  # a child is not left for twenty minutes: a break is a long, quiet wait
        return _away(o, p, Move("wait"), 0.0, 0.0) if o.away else _present(
            o, p, Move("wait"), 0.0, 0.0)  # fmt: skip
    arousal = min(o.arousal, p.baseline + BREAK_ABOVE)
    openness = max(o.openness, BREAK_OPEN)  # coming back as promised is itself a small repair
    return _with(o, arousal=arousal, openness=openness, away=False, bid=True, chase=0,
                 missed=0, warm=0), "after_break"  # fmt: skip


def _away(o: Other, p: Persona, m: Move, push: float, soothe: float) -> tuple[Other, str]:
    """Turned away: pursuit drives them further; peace (and quiet warmth) lets them return."""
    if push > soothe:  # a warm hello with one "!" is not a chase
        o = _with(o, arousal=_clip(o.arousal + push - soothe * 0.5), chase=o.chase + 1,
                    openness=_clip(o.openness - push * OPEN_LOST_PER_PUSH, 0.0, 1.0))  # fmt: skip
        if p.words and o.arousal >= p.flood_at:
            return o, "shuts_down"
        return o, "turns_further"
    # Left in peace: self-regulation, helped a little by quiet warmth ("I'm here when
    # you're ready"), which is not pursuit. Each quiet turn also lets go of one chase.
    o = _with(o, arousal=_clip(o.arousal - p.settle - soothe * 0.5), chase=max(0, o.chase - 1))
    if o.arousal <= p.back_at - CHASE_BAR * o.chase:
        return _with(o, away=False, bid=True, missed=0, warm=0), "peeks_back"
    if p.words and o.arousal >= p.flood_at:
        return o, "shuts_down"
    return o, "stays_away"


def _present(o: Other, p: Persona, m: Move, push: float, soothe: float) -> tuple[Other, str]:
    """Facing the user: harshness and too much raise arousal, a missed bid is a rupture,
    warmth opens them a step at a time."""
    responsive = m.kind == "text" and (soothe > 0.0 or push > 0.0)
    if o.bid and not responsive:  # the Still-Face: a reach that meets nothing
        return _missed(o, p)
    if push > soothe:
        return _pushed(o, p, m, push, soothe)
    if soothe > 0.0:
        return _soothed(o, p, soothe)
    calmer = _clip(o.arousal - p.settle * 0.5)  # nothing much: a little calmer with time
    return _with(o, arousal=calmer, bid=False), "wary"


def _pushed(o: Other, p: Persona, m: Move, push: float, soothe: float) -> tuple[Other, str]:
    """More push than soothing while facing the user: arousal up, openness down."""
    arousal = _clip(o.arousal + push - soothe * 0.5)
    openness = _clip(o.openness - (push - soothe) * OPEN_LOST_PER_PUSH, 0.0, 1.0)
    o = _with(o, arousal=arousal, openness=openness, bid=False, warm=0)
    if p.words:  # an adult or teen argues back until flooded, then stonewalls
        if arousal >= p.flood_at:
            return _with(o, away=True), "shuts_down"
        return o, "escalates" if m.harsh else "protests"
    if arousal >= p.away_at:
        return _with(o, away=True), "withdraws"
    return o, "protests"


def _missed(o: Other, p: Persona) -> tuple[Other, str]:
    """An unanswered bid: protest first, then withdrawal with a carry-over."""
    missed = o.missed + 1
    arousal = _clip(o.arousal + MISSED_PROTEST)
    openness = _clip(o.openness - MISSED_OPEN, 0.0, 1.0)
    if missed == 1 and arousal < p.away_at + 2.0:
        return _with(o, arousal=arousal, openness=openness, missed=missed, warm=0), "bid_missed"
    carry = _clip(o.carry + p.carry / (1 + o.repairs), 0.0, 0.6)
    arousal = max(arousal, p.away_at + 0.5)  # withdrawal: turned away, above the line
    return _with(o, arousal=arousal, openness=openness, missed=missed, away=True, bid=False,
                   carry=carry, warm=0, ruptured=True), "withdraws"  # fmt: skip


def _soothed(o: Other, p: Persona, soothe: float) -> tuple[Other, str]:
    """Warmth landed: calmer, a step more open (never above the carry-over's ceiling)."""
    repaired = o.missed > 0 or o.ruptured
    arousal = _clip(max(p.baseline - 0.5, o.arousal - soothe))
    openness = min(1.0 - o.carry, o.openness + min(OPEN_STEP, soothe * OPEN_PER_SOOTHE))
    o = _with(o, arousal=arousal, openness=_clip(openness, 0.0, 1.0), bid=False, missed=0,
                warm=o.warm + 1, repairs=o.repairs + (1 if repaired else 0),
                ruptured=False)  # fmt: skip
    near_rest = arousal <= p.back_at
    if near_rest and o.openness >= CONNECT_OPEN and o.warm >= WARM_TURNS:
        return _with(o, connected=True), "reconnects"
    return o, "softens"
