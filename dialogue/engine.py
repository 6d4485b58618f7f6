"""handle(session, event, now) -> Turn: one shared transitions Machine per flow, fired per turn.

Exceptions: EngineError (a flow or state that does not exist: a programming error, never
the user's) derives from RuntimeError; content problems raise content.ContentError.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from dialogue import gazetteer, outreach
from dialogue.content import Content, Locale
from dialogue.daily import move_reflection, next_reflection, schedule_of, stamp
from dialogue.events import Command, Edited, Event, Located, Press, Start, Text, Unsupported
from dialogue.flows import FLOWS, daily, journal
from dialogue.flows.base import CHOICE, GOTO, INFO, MULTI, SCALE, TEXT, Flow, Step
from dialogue.flows.safety import CRISIS_COUNTRIES, first_step, safety_vars
from dialogue.language import Analysis, Analyzer, normalize
from dialogue.language.risk import Risk
from dialogue.matching import Found, Matcher
from dialogue.places import country_of, parse_zone, zone
from dialogue.progress import progress, week_labels
from dialogue.rehearsal import MoveReader
from dialogue.replies import Button, Effect, Reply, excerpt, numbered, rows
from dialogue.session import HISTORY_KEPT, Session

T = TypeVar("T")
MAX_TEXT = 10_000  # longest message the coach takes in; longer ones get a kind note
CLOSEST = 3  # options offered when a typed answer matches none
TYPED_KEPT = 3  # typed messages a multi-select keeps (Step.text_save)
COVERED = 0.5  # share of a long message an option's words must take to beat `text_to`


class EngineError(RuntimeError):
    """The flows are wired wrong: a state or flow that does not exist."""


@dataclass
class Turn:
    """The result of one event: the new session, what to say, what to store."""

    session: Session
    replies: list[Reply]
    effects: list[Effect]
    cues: tuple[str, ...] = ()
    safety: str | None = None  # the kind of risk this turn acted on, or asked about
    stale: bool = False  # a press on an old keyboard: nothing changed
    risk: Risk | None = None  # the risk that decided the turn, with who and how sure
    partner: dict[str, Any] | None = None  # in rehearsal: the simulated other person now


class Ctx:
    """The model a shared Machine fires on: one user's turn."""

    __slots__ = ("analysis", "aside", "before", "data", "effects", "engine", "now", "replies",
                 "risk", "safety", "session", "shown", "state")  # fmt: skip

    def __init__(
        self, engine: Engine, session: Session, now: datetime, data: dict[str, Any] | None = None
    ) -> None:
        self.engine, self.session, self.now, self.data = engine, session, now, data
        self.state = session.state.partition(".")[2]
        self.replies: list[Reply] = []
        self.effects: list[Effect] = []
        self.analysis: Analysis | None = None
        self.safety: str | None = None
        self.risk: Risk | None = None
        self.aside = False  # a side answer: the keyboard on screen stays current
        self.shown: list[str] | None = None  # the keyboard sent, when not the step's own
        self.before = schedule_of(session.profile)  # what the reflection row was computed from

    @property
    def draft(self) -> dict[str, Any]:
        """The answers of the flow under way."""
        return self.session.draft

    @property
    def rel(self) -> str:
        """baby, toddler, child, teen, partner or other."""
        return self.session.profile.rel

    def common(self) -> dict[str, Any]:
        """Variables every template may use."""
        p = self.session.profile
        return {"name": p.name, "rel": p.rel, "age": p.age_band}

    def say(
        self, key: str, buttons: tuple[tuple[Button, ...], ...] = (), variant: int | None = None,
        **extra: Any,
    ) -> None:  # fmt: skip
        """Add a reply with the common variables; the variant is seeded unless given."""
        if variant is None:
            variant = zlib.crc32(f"{self.session.seed}:{self.session.turn}:{key}".encode())
        self.replies.append(
            Reply(key, {**self.common(), **extra}, buttons, variant, token=self.session.token)
        )

    def analyzer(self) -> Analyzer:
        """The language analyzer of the user's locale."""
        return self.engine.analyzer(self.session.locale)

    def matcher(self) -> Matcher:
        """The typed-answer reader of the user's locale."""
        return self.engine.matcher(self.session.locale)


class Engine:
    """The coach: shared flows and content, no I/O, no clock of its own."""

    def __init__(self, content: Content, default_country: str = "") -> None:
        self.content = content
        self.flows: dict[str, Flow] = {f.name: f for f in FLOWS}
        self.default_country = default_country
        self._analyzers: dict[str, Analyzer] = {}
        self._matchers: dict[str, Matcher] = {}
        self._readers: dict[str, MoveReader] = {}
        self._derived: dict[str, dict[str, Any]] = {}  # name -> locale -> a flow's word lists
        self._building = threading.Lock()

    def analyzer(self, locale: str) -> Analyzer:
        """The analyzer of a locale, built once."""
        return self._once(self._analyzers, locale, lambda loc: Analyzer(loc.data))

    def matcher(self, locale: str) -> Matcher:
        """The typed-answer reader of a locale, built once."""
        return self._once(self._matchers, locale, lambda loc: Matcher(loc.data, loc.labels))

    def move_reader(self, locale: str) -> MoveReader:
        """The rehearsal's reader of a locale's moves, built once."""
        return self._once(self._readers, locale, lambda loc: MoveReader(loc.data))

    def derived(self, locale: str, name: str, build: Callable[[Locale], T]) -> T:
        """What a flow reads from a locale's data (its word lists, normalized), built once."""
        return self._once(self._derived.setdefault(name, {}), locale, build)

    def _once(self, built: dict[str, T], locale: str, build: Callable[[Locale], T]) -> T:
        """A locale's part from `built`, built under a lock the first time (turns may run in
        several threads at once)."""
        loc = self.content.locale(locale)
        found = built.get(loc.name)
        if found is None:
            with self._building:
                found = built.get(loc.name) or build(loc)
                built[loc.name] = found
        return found

    def warm(self) -> None:
        """Build every locale's analyzer and matcher, and the gazetteer, now (before a server
        takes updates: the first user to type a place must not wait half a second for it)."""
        gazetteer.index()
        for name in self.content.locales:
            self.analyzer(name)
            self.matcher(name)
            self.move_reader(name)

    def new_session(self, user_id: str, locale: str = "en", seed: int | None = None) -> Session:
        """A fresh session with a reproducible seed."""
        return Session(
            user_id, locale=locale, seed=zlib.crc32(user_id.encode()) if seed is None else seed
        )

    # -- the turn ---------------------------------------------------------------------------

    def wants(self, session: Session | None, event: Event) -> tuple[Any, ...] | None:
        """The stored history a turn needs (a journal page, an entry, progress), or None."""
        if isinstance(event, Command) and event.name == "progress":
            return ("progress",)
        return journal.wants(session, event)

    def handle(
        self, session: Session, event: Event, now: datetime, data: dict[str, Any] | None = None
    ) -> Turn:
        """Apply one event to a copy of the session and say what follows.

        `data` is what `wants` asked for, read from storage by the caller.
        """
        if isinstance(event, Press) and event.token is not None and not session.shows(event.token):
            ctx = Ctx(self, session, now)
            ctx.say("common.stale")
            return Turn(session, ctx.replies, [], stale=True)
        session = session.copy()
        session.turn += 1
        session.last_at = stamp(now)
        ctx = Ctx(self, session, now, data)
        if isinstance(event, Located):
            event = outreach.located(ctx, event)
        if isinstance(event, Text) and self._screen(ctx, event.text):
            return self._turn(ctx)
        if session.state == "start.new" and not isinstance(event, Command):
            self.jump(ctx, "onboarding.welcome")
        elif isinstance(event, Start):
            self.on_start(ctx, event)
        elif isinstance(event, Command):
            self.on_command(ctx, event)
        elif isinstance(event, Edited):
            ctx.say("common.edited")
        elif isinstance(event, Unsupported):
            ctx.say("common.unsupported")
            self.prompt(ctx)
        else:
            self.on_answer(ctx, event)
        return self._turn(ctx)

    def _screen(self, ctx: Ctx, text: str) -> bool:
        """Read a text for risk first; True when that decided the turn (too long, or risk)."""
        if len(text) > MAX_TEXT:
            ctx.say("common.too_long", limit=MAX_TEXT)
            self.prompt(ctx)
            return True
        ctx.analysis = ctx.analyzer().analyze(text)
        lead = ctx.analysis.lead
        if lead is None or (not lead.sure and ctx.session.flow == "safety"):
            return False
        ctx.risk = lead
        if lead.sure:
            self.enter_safety(ctx, lead.kind, lead.who, lead.label, kinds=ctx.analysis.crisis)
        else:
            self.ask_safety(ctx, lead, text)
        return True

    def current(
        self, session: Session, now: datetime, data: dict[str, Any] | None = None
    ) -> list[Reply]:
        """What the coach is asking right now, to show again after a restart (changes nothing)."""
        if session.state == "start.new":
            return []
        ctx = Ctx(self, session.copy(), now, data)
        self.prompt(ctx)
        return ctx.replies

    def tick(self, session: Session, kind: str, ref: str, due: datetime, now: datetime) -> Turn:
        """A stored reminder came due: say it, or say nothing and move it on (outreach.due).
        The turn's effects always say where the row goes next (a new time, or None)."""
        session = session.copy()
        session.turn += 1
        ctx = Ctx(self, session, now)
        outreach.due(ctx, kind, ref, due)
        return self._turn(ctx)

    def _turn(self, ctx: Ctx) -> Turn:
        if not ctx.aside and any(not r.edit for r in ctx.replies):  # older keyboards are old
            ctx.session.keyboard_at = ctx.session.turn
        s = ctx.session
        if ctx.replies:  # typed button numbers mean the keyboard sent last
            s.shown = ctx.shown
        erased = any(e.kind == "erase_all" for e in ctx.effects)
        if schedule_of(s.profile) != ctx.before and not erased:  # settings changed: new time
            ctx.effects.append(
                move_reflection(next_reflection(s.profile, ctx.now, s.daily.get("last_day", "")))
            )
        a = ctx.analysis
        other = s.draft.get("other") if s.flow == "rehearsal" else None
        partner = None if other is None else {
            "persona": other["persona"], "arousal": round(other["arousal"], 2),
            "openness": round(other["openness"], 3), "connected": other["connected"],
        }  # fmt: skip
        return Turn(ctx.session, ctx.replies, ctx.effects, a.cues if a else (), ctx.safety,
                    risk=ctx.risk, partner=partner)  # fmt: skip

    # -- moving between states ----------------------------------------------------------------

    def step(self, state: str) -> tuple[Flow, Step]:
        """The flow and step of a "<flow>.<state>" name."""
        flow_name, _, name = state.partition(".")
        try:
            flow = self.flows[flow_name]
            return flow, flow.by_name[name]
        except KeyError:
            raise EngineError(f"no state {state!r}") from None

    def jump(self, ctx: Ctx, target: str) -> None:
        """Enter a state directly (a flow's start, a goto, /back): say its prompt."""
        s = ctx.session
        if target.partition(".")[0] != s.flow:
            _leave(s)
            s.history.clear()
        s.state = target
        ctx.state = target.partition(".")[2]
        self.arrive(ctx)

    def return_to(self, ctx: Ctx, target: str, answer: str | None = None) -> None:
        """Go back to a state already entered once, with no entry effects: ask its question
        again, or take `answer` (a message held while the coach asked about safety) as it."""
        _, step = self.step(target)
        if step.ask == GOTO or target.startswith("start."):
            self.jump(ctx, target)
            return
        if target.partition(".")[0] != ctx.session.flow:
            _leave(ctx.session)
            ctx.session.history.clear()
        ctx.session.state = target
        ctx.state = target.partition(".")[2]
        if answer is None:
            self.prompt(ctx)
        else:
            self.on_answer(ctx, Text(answer))

    def fire(self, ctx: Ctx, trigger: str) -> bool:
        """Fire a trigger on the current flow's shared machine; enter the new state."""
        flow = self.flows[ctx.session.flow]
        before = ctx.state
        event = flow.machine.events.get(trigger)
        if event is None or not event.trigger(ctx):
            return False
        s = ctx.session
        s.history = [*s.history, before][-HISTORY_KEPT:]
        s.state = f"{flow.name}.{ctx.state}"
        self.arrive(ctx)
        return True

    def arrive(self, ctx: Ctx) -> None:
        """Run the state's entry effects, then say its prompt (or go on, for a goto)."""
        flow, step = self.step(ctx.session.state)
        if step.enter:
            step.enter(ctx)
        if ctx.session.state != f"{flow.name}.{step.name}":
            return  # the entry moved on by itself
        if step.ask == GOTO:
            if step.says:  # a missing text fails loudly, never a line silently skipped
                ctx.say(self.key(flow, step, ctx), **(step.vars(ctx) if step.vars else {}))
            target = step.goto(ctx) if callable(step.goto) else step.goto
            self.jump(ctx, target)
            return
        self.prompt(ctx)

    def key(self, flow: Flow, step: Step, ctx: Ctx) -> str:
        """The content key a state says."""
        if callable(step.key):
            return step.key(ctx)
        return step.key or f"{flow.name}.{step.name}"

    def options(self, step: Step, ctx: Ctx) -> list[str]:
        """The option ids a state offers now."""
        return step.options(ctx) if callable(step.options) else list(step.options)

    def prompt(self, ctx: Ctx, edit: bool = False) -> None:
        """Say the current state's prompt with its buttons."""
        flow, step = self.step(ctx.session.state)
        laid = self.buttons(step, ctx)
        extra = step.vars(ctx) if step.vars else {}
        variant = step.variant(ctx) if step.variant else None
        ctx.say(self.key(flow, step, ctx), laid, variant, **extra)
        if edit:
            ctx.replies[-1] = _as_edit(ctx.replies[-1])

    def buttons(self, step: Step, ctx: Ctx) -> tuple[tuple[Button, ...], ...]:
        """A state's buttons as laid out under its prompt: the options, then the tail row."""
        picked = set(self._picked(step, ctx)) if step.ask == MULTI else set()
        buttons = [Button(o, f"{step.group}.{o}", o in picked) for o in self.options(step, ctx)]
        laid = rows(buttons, step.columns) if buttons else ()
        tail = [Button(x, f"ui.{x}") for x in self._tail(step, ctx)]
        return (*laid, tuple(tail)) if tail else laid

    def aside(self, ctx: Ctx, key: str, **extra: Any) -> None:
        """A side answer (/help, /progress, a zone set…): said with one button of its own that
        goes on where the user was, never the step's buttons or question again; the keyboard
        already on screen stays current too."""
        s = ctx.session
        if s.state == "start.new":
            ctx.say(key, **extra)
            return
        ctx.aside = True
        ctx.say(key, ((Button(GO_ON, f"ui.{GO_ON}"),),), **extra)
        ctx.shown = [GO_ON]

    def go_on(self, ctx: Ctx) -> None:
        """Back from a side answer: the step's question again, or, where the step's text is
        long content (a journal entry, a page) that is still on screen above, one short line
        with its buttons instead of all of it again."""
        flow, step = self.step(ctx.session.state)
        extra = {**ctx.common(), **(step.vars(ctx) if step.vars else {})}
        variant = (step.variant(ctx) if step.variant else None) or 0
        text = self.content.render(Reply(self.key(flow, step, ctx), extra, (), variant),
                                   ctx.session.locale).text  # fmt: skip
        if len(text) <= SHORT_PROMPT:
            self.prompt(ctx)
        else:
            ctx.say("common.where_we_were", self.buttons(step, ctx))

    def _tail(self, step: Step, ctx: Ctx) -> tuple[str, ...]:
        tail = step.extra(ctx) if callable(step.extra) else step.extra
        if step.ask == INFO and not step.options:
            tail = ("next", *tail)
        elif step.ask == MULTI:
            tail = ("done", *tail)
        elif step.ask == TEXT and step.skip:
            tail = ("skip", *tail)
        return tail

    def _picked(self, step: Step, ctx: Ctx) -> list[str]:
        return list(ctx.draft.get(step.save.partition(".")[2], []))

    # -- answers ------------------------------------------------------------------------------

    def on_answer(self, ctx: Ctx, event: Text | Press) -> None:
        """Answer the current state's question with a press or a text."""
        flow, step = self.step(ctx.session.state)
        if isinstance(event, Text) and step.ask != TEXT:
            self._typed(ctx, flow, step, event.text.strip())
            return
        if isinstance(event, Text) and (tail := self._tail(step, ctx)):  # "Skip", typed
            press = self._tail_word(ctx, tail, event.text)
            event = Press(press) if press else event
        if isinstance(event, Press) and event.button in (ALL, GO_ON):
            self.prompt(ctx) if event.button == ALL else self.go_on(ctx)
            return
        if isinstance(event, Press) and event.button in self._tail(step, ctx):
            if event.button in ("done", "next", "skip"):
                self._done(ctx, step) if event.button == "done" else self.fire(ctx, event.button)
            else:
                self.fire(ctx, event.button)
            return
        if step.ask == TEXT:
            self._text_answer(ctx, step, event)
            return
        choice = event.button if event.button in self.options(step, ctx) else None
        if choice is None:
            ctx.say("common.stale")
            self.prompt(ctx)
            return
        if step.ask == MULTI:
            self._toggle(ctx, step, choice)
            self.prompt(ctx, edit=True)
            return
        self._pick(ctx, flow, step, choice)

    def _pick(self, ctx: Ctx, flow: Flow, step: Step, choice: str) -> None:
        """Take one option of a choice or scale step and go on."""
        if step.save:
            self.store(ctx, step.save, step.convert(choice) if step.convert else choice)
        if not self.fire(ctx, choice if choice in flow.triggers(step.name) else "answer"):
            self.prompt(ctx)

    # -- typed answers at a step with buttons -------------------------------------------------

    def _typed(self, ctx: Ctx, flow: Flow, step: Step, text: str) -> None:
        """A typed message where buttons were offered: read it as the buttons (dialogue/matching).

        What was understood is said back in one line, unless it was the button's own words;
        when nothing fits, the closest options are offered with one kind sentence.
        """
        m = ctx.matcher()
        tail = self._tail(step, ctx)
        press = self._tail_word(ctx, tail, text)
        if press:
            self.on_answer(ctx, Press(press))
            return
        for aside in step.asides:  # an answer to something said beside the question
            if m.aside(text, aside):
                ctx.say(f"{self.key(flow, step, ctx)}_{aside}")
                self.prompt(ctx)
                return
        opts = self.options(step, ctx)
        if step.ask in (CHOICE, MULTI, INFO) and not step.reads_numbers:
            numbers = m.bare_numbers(text)
            if numbers is not None:
                self._numbers(ctx, flow, step, numbers)
                return
        if step.ask == MULTI:
            self._typed_multi(ctx, step, text, opts)
            return
        read = m.scale(text) if step.ask == SCALE else None
        if read is not None:
            self._scale(ctx, step, text, read, (int(opts[0]), int(opts[-1])))
            return
        self._typed_choice(ctx, flow, step, text, opts)

    def _scale(
        self, ctx: Ctx, step: Step, text: str, read: tuple[int, float], ends: tuple[int, int]
    ) -> None:
        """A typed point on a scale. Past the top is the top, said so; below the bottom
        cannot be placed: one kind line and the question again."""
        value, furthest = read
        lo, hi = ends
        if furthest < lo:
            ctx.say("common.scale_below", number=_shown_number(furthest), lo=lo, hi=hi)
            self.prompt(ctx)
            return
        if furthest > hi:
            ctx.say("common.scale_above", number=_shown_number(furthest), intensity=hi)
            value = hi
        elif normalize(text).strip() != str(value):
            self._understood(ctx, step, [str(value)])
        flow, _ = self.step(ctx.session.state)
        self._pick(ctx, flow, step, str(max(lo, min(hi, value))))

    def keyboard(self, step: Step, ctx: Ctx) -> list[tuple[int, str]]:
        """The keyboard on screen, numbered as the terminal numbers it: each button's number
        and id (the step's own buttons, or the closest few or a side answer's, if sent last)."""
        loc = self.content.locale(ctx.session.locale)
        shown = ctx.session.shown
        if shown is None:
            ids = [b for row in self.buttons(step, ctx) for b in row]
        else:
            opts = self.options(step, ctx)
            ids = [Button(i, _label_key(step, opts, i)) for i in shown]
        return [(n, i) for n, i, _ in numbered((b.id, loc.label(b.label)) for b in ids)]

    def _numbers(self, ctx: Ctx, flow: Flow, step: Step, numbers: list[int]) -> None:
        """Typed button numbers ("2", "1 3 99"): the numbered buttons on screen. What was
        taken is said back; a number that is not a button is named, kindly, with the range."""
        board = self.keyboard(step, ctx)
        by_number = dict(board)
        ids = list(dict.fromkeys(by_number[n] for n in numbers if n in by_number))
        missing = [str(n) for n in dict.fromkeys(numbers) if n not in by_number]
        opts = self.options(step, ctx)
        chosen = [i for i in ids if i in opts]
        pressed = [i for i in ids if i not in opts]  # Done, Skip, Next, Show all, Go on
        span = {"missing": missing, "first": board[0][0] if board else 0,
                "last": board[-1][0] if board else 0}  # fmt: skip
        if ctx.session.flow == "safety":  # help comes first: only a number that is no button
            chosen_said: list[str] = []
        else:
            chosen_said = chosen
        if step.ask == MULTI and (chosen or pressed):
            picked = self._picked(step, ctx)
            for choice in chosen:
                if choice not in picked:
                    self._toggle(ctx, step, choice)
            if chosen_said or missing:
                ctx.say("common.numbers", chosen=self._labels(ctx, step, chosen_said), **span)
            if pressed:
                self.on_answer(ctx, Press(pressed[0]))
            else:
                self.prompt(ctx)
        elif step.ask != MULTI and len(ids) == 1:
            if missing or (ids[0] in opts and chosen_said):
                ctx.say("common.numbers", chosen=self._labels(ctx, step, chosen_said), **span)
            self.on_answer(ctx, Press(ids[0]))
        elif len(ids) > 1:  # one choice only: which of these?
            laid = rows([Button(i, _label_key(step, opts, i)) for i in ids], 1)
            ctx.say("common.numbers_one", laid, chosen=[], **span)
            ctx.shown = ids
        else:  # none of them is a button: the keyboard on screen again, under one kind line
            shown = ctx.session.shown
            laid = self.buttons(step, ctx) if shown is None else rows(
                [Button(i, _label_key(step, opts, i)) for i in shown], 1)  # fmt: skip
            ctx.say("common.numbers", laid, chosen=[], **span)
            ctx.shown = shown

    def _typed_choice(self, ctx: Ctx, flow: Flow, step: Step, text: str, opts: list[str]) -> None:
        """One option from a typed message: its own words, a parsed value, a phrase, a typo."""
        found = ctx.matcher().match(text, step.group, opts)
        if found.whole and found.ids:
            if not found.exact:
                self._understood(ctx, step, found.ids)
            self._pick(ctx, flow, step, found.ids[0])
            return
        if step.on_text and self._on_text(ctx, step, text, opts):
            return
        target = step.text_to(ctx) if callable(step.text_to) else step.text_to
        words = len(text.split())
        long = words >= step.text_words > 1 and found.covered < COVERED
        if len(found.ids) == 1 and not (target and long):
            self._understood(ctx, step, found.ids)
            self._pick(ctx, flow, step, found.ids[0])
        elif found.next and not found.ids and "next" in self._tail(step, ctx):
            self.on_answer(ctx, Press("next"))
        elif found.next and not found.ids and step.ask == INFO and len(opts) == 1:
            self._pick(ctx, flow, step, opts[0])  # "ok" on a page whose one button goes on
        elif not (
            target
            and (long or not found.ids)
            and words >= step.text_words
            and self._take_text(ctx, target, text)
        ):
            self._offer(ctx, step, text, opts, found)

    def _tail_word(self, ctx: Ctx, tail: tuple[str, ...], text: str) -> str | None:
        """A typed "Next", "Done" or "Skip": the button's label or id, as a whole message."""
        labels = self.content.locale(ctx.session.locale).labels
        wanted = normalize(text).strip()
        for b in tail:
            if wanted in (b, normalize(labels.get(f"ui.{b}", "")).strip()):
                return b
        return None

    def _on_text(self, ctx: Ctx, step: Step, text: str, opts: list[str]) -> bool:
        """A step that also takes typed text (a place, an age): parse it, keep it, go on."""
        value = step.parse(text, ctx) if step.parse else text
        if value is None:
            return False
        flow, _ = self.step(ctx.session.state)
        if isinstance(value, str) and value != step.on_text and value in flow.triggers(step.name):
            self.fire(ctx, value)  # the reading chose a way on of its own (an adult's age)
            return True
        self.store(ctx, step.text_save, value)
        if isinstance(value, str) and value in opts:
            self._understood(ctx, step, [value])
        self.fire(ctx, step.on_text)
        return True

    def _typed_multi(self, ctx: Ctx, step: Step, text: str, opts: list[str]) -> None:
        """Tick every option the message names; "that's it" finishes, "not sure" too."""
        m = ctx.matcher()
        found = m.match(text, step.group, opts, many=True)
        ids = list(found.ids)
        unsure_only = found.unsure and set(ids) <= set(m.unsure_means.get(step.group, ()))
        finish = found.done or unsure_only
        if step.group == "emotion" and not finish:  # the analyzer's emotion words too
            ids += [e for e in ctx.analyzer().emotions(text) if e in opts and e not in ids]
        if ids and step.text_save:  # the user's own words for what they ticked, kept to say back
            kept = step.text_save.partition(".")[2]
            ctx.draft[kept] = [*ctx.draft.get(kept, []), excerpt(text)][-TYPED_KEPT:]
        picked = self._picked(step, ctx)
        for choice in ids:
            if choice not in picked:
                self._toggle(ctx, step, choice)
        if finish:
            self._understood(ctx, step, ids)
            self._done(ctx, step)
        elif ids:
            ctx.say("common.ticked", chosen=self._labels(ctx, step, ids))
            self.prompt(ctx)
        else:
            self._offer(ctx, step, text, opts, found)

    def _understood(self, ctx: Ctx, step: Step, ids: list[str] | tuple[str, ...]) -> None:
        """Say back, in one line, the options a typed message was taken as.

        Not in the safety flow: there the help comes first and its texts say what they do.
        """
        if ctx.session.flow == "safety":
            return
        if step.ask == SCALE and ids:
            ctx.say("common.understood_scale", intensity=int(ids[0]))
        elif ids:
            ctx.say("common.understood", chosen=self._labels(ctx, step, ids))

    def _labels(self, ctx: Ctx, step: Step, ids: list[str] | tuple[str, ...]) -> list[str]:
        loc = self.content.locale(ctx.session.locale)
        return [loc.label(f"{step.group}.{i}") for i in ids]

    def _offer(self, ctx: Ctx, step: Step, text: str, opts: list[str], found: Found) -> None:
        """Nothing fitted (or several did): one kind sentence and the closest options."""
        if step.ask == SCALE:
            self.prompt(ctx)
            ctx.replies[-1] = _rekeyed(ctx.replies[-1], "common.closest_scale")
            return
        if len(found.ids) > 1:
            near = list(found.ids[:CLOSEST])
        elif len(opts) <= CLOSEST + 1:
            near = opts  # few enough to show them all, as the question laid them out
        else:
            near = ctx.matcher().closest(text, step.group, opts, CLOSEST)
        picked = set(self._picked(step, ctx)) if step.ask == MULTI else set()
        laid = rows([Button(o, f"{step.group}.{o}", o in picked) for o in near], 1)
        tail = [Button(x, f"ui.{x}") for x in self._tail(step, ctx)]
        if len(opts) > len(near):
            tail.append(Button(ALL, f"ui.{ALL}"))
        if tail:
            laid = (*laid, tuple(tail))
        ctx.say("common.closest" if near else "common.closest_next", laid)
        ctx.shown = [b.id for row in laid for b in row]

    def _take_text(self, ctx: Ctx, target: str, text: str) -> bool:
        """Take a typed line as the answer of a text step ("write my own", the menu's story)."""
        _, to = self.step(target)
        if to.parse and to.parse(text, ctx) is None:
            return False
        s = ctx.session
        if target.partition(".")[0] != s.flow:
            _leave(s)
            s.history.clear()
            s.draft = {}
            ctx.say("common.heard")
        else:
            self._store_way_to(ctx, target.partition(".")[2])
            s.history = [*s.history, ctx.state][-HISTORY_KEPT:]
        s.state = target
        ctx.state = target.partition(".")[2]
        self._text_answer(ctx, to, Text(text))
        return True

    def _store_way_to(self, ctx: Ctx, dest: str) -> None:
        """Keep the option that leads to `dest` ("own" for a typed line), as a press would."""
        flow, here = self.step(ctx.session.state)
        if not here.save:
            return
        for o in self.options(here, ctx):
            event = flow.machine.events.get(o)
            if event and any(t.dest == dest for t in event.transitions.get(here.name, [])):
                self.store(ctx, here.save, here.convert(o) if here.convert else o)
                return

    def _text_answer(self, ctx: Ctx, step: Step, event: Text | Press) -> None:
        if isinstance(event, Press):
            ctx.say("common.stale")
            self.prompt(ctx)
            return
        text = event.text.strip()
        if not text:
            ctx.say("common.nudge_text")
            self.prompt(ctx)
            return
        if len(text) > step.max_len:
            ctx.say("common.too_long", limit=step.max_len)
            self.prompt(ctx)
            return
        value: Any = step.parse(text, ctx) if step.parse else text
        if value is None:  # said with the step's buttons (Skip), which stay on offer
            flow, _ = self.step(ctx.session.state)
            ctx.say(f"{self.key(flow, step, ctx)}_invalid", self.buttons(step, ctx))
            return
        if step.save:
            self.store(ctx, step.save, value)
        self.fire(ctx, "answer")

    def _toggle(self, ctx: Ctx, step: Step, choice: str) -> None:
        key = step.save.partition(".")[2]
        picked = list(ctx.draft.get(key, []))
        picked.remove(choice) if choice in picked else picked.append(choice)
        ctx.draft[key] = picked

    def _done(self, ctx: Ctx, step: Step) -> None:
        if len(self._picked(step, ctx)) < step.min_picks:
            ctx.say("common.pick_one")
            self.prompt(ctx)
            return
        self.fire(ctx, "answer")

    def store(self, ctx: Ctx, path: str, value: Any) -> None:
        """Keep an answer: "draft.<key>" or "profile.<field>"."""
        where, _, name = path.partition(".")
        if where == "profile":
            setattr(ctx.session.profile, name, value)
        else:
            ctx.draft[name] = value

    # -- commands -----------------------------------------------------------------------------

    def on_start(self, ctx: Ctx, event: Start) -> None:
        """Greet: onboarding for a newcomer, the menu (or a deep link) for a returning user."""
        s = ctx.session
        if not s.profile.onboarded:
            self.go_on_setup(ctx, "onboarding.welcome")
            return
        ctx.say("menu.welcome_back")
        self.jump(ctx, "menu.to_new" if event.payload == "new" else "menu.home")

    def on_command(self, ctx: Ctx, event: Command) -> None:  # noqa: PLR0912 - one per command
        """Slash commands work from every state."""
        s = ctx.session
        name = event.name
        if s.state == "start.new" and name not in ("sos", "privacy", "help", "delete", "export",
                                                   "progress"):  # fmt: skip
            self.jump(ctx, "onboarding.welcome")
            return
        if name == "new" and s.flow == "onboarding" and not s.profile.onboarded:
            self.go_on_setup(ctx, "onboarding.relationship")
        elif name == "back":
            self.back(ctx)
        elif name == "progress":
            local_now = ctx.now.astimezone(zone(s.profile.tz or "UTC"))  # the user's weeks
            figures = progress(ctx.data.get("progress", {}) if ctx.data else {}, local_now)
            if figures.reading != "none":  # nothing logged: nothing to draw
                words = week_labels(figures.weeks, self.content.locale(s.locale).label)
                ctx.effects.append(Effect("chart", {**figures.as_dict(), "week_labels": words}))
            self.aside(ctx, f"progress.{figures.reading}")
        elif name == "export":
            ctx.effects.append(Effect("export", {"user_id": s.user_id}))
            self.aside(ctx, "menu.export")
        elif name in ASIDES and s.state != "start.new":  # before the start: their own page
            self.aside(ctx, ASIDES[name])
        elif name == "cancel":
            self.cancel(ctx)
        elif name in ("timezone", "pause", "resume"):
            outreach.command(ctx, event)
        elif name in COMMAND_STATES:
            if name == "sos" and s.flow != "safety":
                s.paused = s.state
            if COMMAND_STATES[name] in DAILY_STATES:
                daily.interrupt(ctx, COMMAND_STATES[name])
            else:
                self.jump(ctx, COMMAND_STATES[name])
        else:
            self.aside(ctx, "common.unknown_command")

    def go_on_setup(self, ctx: Ctx, first: str) -> None:
        """A newcomer coming back to setup (/start, /new, the menu): on from the step they
        left, with one line saying so; `first` when nothing was answered yet."""
        s = ctx.session
        at = s.state if s.flow == "onboarding" else s.setup_at
        if not at or at == "onboarding.welcome":
            self.jump(ctx, first)
            return
        ctx.say("onboarding.go_on")
        if at == s.state:
            self.prompt(ctx)
        else:
            self.return_to(ctx, at)

    def back(self, ctx: Ctx) -> None:
        """Go back one step in the flow under way."""
        s = ctx.session
        if not s.history:
            ctx.say("common.no_back")
            self.prompt(ctx)
            return
        previous = s.history[-1]
        s.history = s.history[:-1]
        ctx.say("common.going_back")
        self.return_to(ctx, f"{s.flow}.{previous}")

    def cancel(self, ctx: Ctx) -> None:
        """Leave the flow under way; nothing of its draft is kept."""
        s = ctx.session
        if s.flow == "safety":
            s.paused = ""
        s.draft = {}
        ctx.say("common.cancelled")
        self.jump(ctx, "menu.home")

    # -- safety -------------------------------------------------------------------------------

    def enter_safety(
        self, ctx: Ctx, kind: str, who: str = "user", label: str = "", *,
        kinds: tuple[str, ...] = (),
    ) -> None:  # fmt: skip
        """Stop coaching: care and what to do now for the kind, lines, then one question."""
        s = ctx.session
        if kind == "abuse" and s.profile.relationship in ("partner", "other", ""):
            s.hold = "abuse"
        self._alert(ctx, kind, who, label, kinds)
        extra = safety_vars(ctx)
        ctx.say(f"safety.care.{kind}", **extra)
        ctx.say(f"safety.lines.{extra['country']}", **extra)
        if extra["country"] == "INTL" and not s.profile.country:
            self.jump(ctx, "safety.country")
        else:
            self.jump(ctx, first_step(kind))

    def ask_safety(self, ctx: Ctx, risk: Risk, text: str) -> None:
        """Unsure: one direct, gentle question; the message waits for the answer."""
        self._alert(ctx, risk.kind, risk.who, risk.label, ())
        ctx.session.held = text
        self.jump(ctx, "safety.ask")

    def _alert(self, ctx: Ctx, kind: str, who: str, label: str, kinds: tuple[str, ...]) -> None:
        """Pause coaching (once) and remember the risk the safety flow is about."""
        s = ctx.session
        if s.flow != "safety":
            s.paused = s.state if s.state != "start.new" else "onboarding.welcome"
        s.alert, s.alert_who, s.alert_label = kind, who, label
        s.alert_kinds = list(dict.fromkeys((kind, *kinds)))
        s.held = ""
        ctx.safety = kind

    def takes_text(self, state: str) -> bool:
        """A state whose question a typed story answers (a text step, on_text or text_to)."""
        if state.startswith("start."):
            return False
        _, step = self.step(state)
        return step.ask == TEXT or bool(step.on_text or step.text_to)

    def country(self, s: Session) -> str:
        """The country whose crisis lines to give; INTL when it is not known."""
        code = _lines_code(s.profile.country or country_of(s.profile.tz) or self.default_country)
        return code if code in CRISIS_COUNTRIES else "INTL"

    def parse_country(self, text: str, ctx: Ctx) -> str | None:
        """A country code from its name, a city or a time zone; "elsewhere" for other places.

        "i'm in dublin", "we live in the uk", "Dublin, Ireland": the first words are dropped
        one by one until a place is found.
        """
        loc = self.content.locale(ctx.session.locale)
        names = loc.data.get("countries", {})
        words = normalize(text).replace("?", " ").split()[:8]
        for i in range(len(words)):
            key = " ".join(words[i:])
            code = names.get(key)
            if code is None:
                tz = parse_zone(key, ctx.now, loc.data.get("places", {}), names)
                code = country_of(tz) if tz and "/" in tz else None
            if code is not None:
                code = _lines_code(str(code))
                return code if code in CRISIS_COUNTRIES else "elsewhere"
        return None


def _leave(s: Session) -> None:
    """Leaving a flow: a newcomer's unfinished setup is remembered, to go on from later."""
    if s.flow == "onboarding" and not s.profile.onboarded:
        s.setup_at = s.state


def _label_key(step: Step, opts: list[str], button: str) -> str:
    """The label of a button id at a step: one of its options, or a "ui" button."""
    return f"{step.group}.{button}" if button in opts else f"ui.{button}"


def _shown_number(value: float) -> str:
    """A typed number as the user wrote it: "-1", "7.5", "150"."""
    return str(int(value)) if value == int(value) else str(value)


def _lines_code(code: str) -> str:
    """An ISO country code as content/ names its lines (Great Britain's are "UK")."""
    return {"GB": "UK"}.get(code, code)


def _as_edit(reply: Reply) -> Reply:
    return Reply(reply.key, reply.vars, reply.buttons, reply.variant, True, reply.token)


def _rekeyed(reply: Reply, key: str) -> Reply:
    return Reply(key, reply.vars, reply.buttons, reply.variant, reply.edit, reply.token)


ALL = "all"  # the button that shows every option again after the closest few
GO_ON = "go_on"  # a side answer's button: back to the step the user was at
SHORT_PROMPT = 400  # a step's text longer than this is not said again on the way back


ASIDES = {"help": "menu.help", "privacy": "menu.privacy"}  # answered where the user is
COMMAND_STATES = {
    "new": "menu.to_new",
    "menu": "menu.home",
    "help": "menu.help",
    "privacy": "menu.privacy",
    "sos": "safety.sos",
    "space": "space.intro",
    "plans": "menu.plans",
    "delete": "menu.delete",
    "journal": "journal.list",
    "daily": "daily.settings",
    "rehearse": "rehearsal.start",
}
DAILY_STATES = ("daily.settings",)  # commands that come back to where the user was

__all__ = ["Ctx", "Effect", "Engine", "EngineError", "Turn"]
