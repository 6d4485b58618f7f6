"""The coach in a terminal, and the JSON-lines protocol for scripts and tests."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from bot import files
from bot.coach import Clock, Coach, utc_now
from bot.export import document
from bot.storage import Store
from dialogue.content import Content, Rendered
from dialogue.engine import Engine, Turn
from dialogue.events import Event, Press, Unsupported, parse_text
from dialogue.flows.base import MULTI
from dialogue.outreach import ZONE_PARSERS
from dialogue.replies import Reply, numbered

QUIT = ("/quit", "/exit")
CHANNEL = "console"  # content's `console.over.<key>` texts replace <key> in the terminal
PRIVACY = "menu.privacy"  # after it, the terminal says where this chat is kept
HELP = "menu.help"  # after it, the terminal's own commands (console.help_more)
MEMORY = ":memory:"


class Console:
    """One user's conversation, stored in SQLite, rendered for a terminal or as JSON."""

    def __init__(
        self, engine: Engine, store: Store, user_id: str, locale: str = "en",
        clock: Clock = utc_now, *, channel: str = "",
    ) -> None:  # fmt: skip
        self.engine, self.store, self.user_id = engine, store, user_id
        self.channel = channel  # CHANNEL for a person at a terminal; "" for JSON lines
        self.coach = Coach(engine, store, clock)
        self.locale, self.clock = locale, clock
        self.export_dir: Path | None = None
        self.written: list[Path] = []  # the files written for the user in this run
        self.erased = False  # whether the user erased everything in this run (/delete)
        self.content: Content = engine.content
        self.buttons: list[tuple[str, str]] = []  # (id, label) of the latest keyboard
        session, _ = store.load(user_id)
        self.state = session.state if session else "start.new"
        if session:
            self.locale = session.locale
            self._remember(self.render(self.coach.current(session, clock())))

    def render(self, replies: Iterable[Reply]) -> list[Rendered]:
        """Replies rendered in the user's locale."""
        return [self.content.render(r, self.locale, self.channel) for r in replies]

    def _remember(self, rendered: list[Rendered]) -> None:
        for r in rendered:
            if r.buttons:
                self.buttons = [b for row in r.buttons for b in row]
                return
        if rendered:
            self.buttons = []

    def send(self, event: Event, now: datetime | None = None) -> tuple[Turn, list[Rendered]]:
        """Apply one event in one stored transaction; render what the coach says."""
        applied = self.coach.apply(self.user_id, event, self.locale, now=now)
        assert applied is not None  # only a repeated update id is skipped; a console has none
        turn, rendered = applied.turn, list(applied.rendered)
        self.locale, self.state = turn.session.locale, turn.session.state
        if self.channel:  # the terminal's own versions of texts (CHANNEL)
            again = self.render(turn.replies)
            rendered = [self._with_place(*pair) for pair in zip(turn.replies, again, strict=True)]
        self.erased = self.erased or any(e.kind == "erase_all" for e in turn.effects)
        for effect in turn.effects:  # files: exports, charts, and their removal on /delete
            if said := files.on_effect(self, effect, now):
                rendered.append(said)
        if not turn.stale:
            self._remember(rendered)
        return turn, rendered

    def tick(self, now: datetime | None = None) -> list[tuple[str, Turn, list[Rendered]]]:
        """Whatever came due for this user by `now` (reminders), said in order."""
        now = now or self.clock()
        out = []
        while fired := self.coach.remind(now=now, user_id=self.user_id):
            for _, kind, applied in fired:
                self.state = applied.turn.session.state
                if applied.rendered:
                    self.locale = applied.turn.session.locale
                    said = self.render(applied.turn.replies) if self.channel else applied.rendered
                    self._remember(said)
                    out.append((kind, applied.turn, list(said)))
        return out

    def export(self, now: datetime | None = None) -> Path:
        """Write everything stored about the user, in the words they saw, to a JSON file."""
        moment = now or self.clock()
        body = document(self.store, self.user_id, moment, self.content, self.locale)
        return self.save("export", "json", body, moment)

    def save(self, what: str, suffix: str, body: bytes, now: datetime | None = None) -> Path:
        """Write a new file for the user into the data folder, atomically, theirs alone."""
        path = files.write_private(self.folder, what, self.user_id, now or self.clock(), suffix,
                                   body)  # fmt: skip
        self.written.append(path)
        return path

    @property
    def folder(self) -> Path:
        """Where this chat's files for the user go (exports, charts)."""
        return self.export_dir or files.exports_folder()

    def nothing_kept(self) -> bool:
        """Whether the user erased everything in this run and has begun nothing since."""
        if not self.erased:
            return False
        session, _ = self.store.load(self.user_id)
        return session is None or session.state == "start.new"

    def resolve(self, typed: str) -> Event:
        """Typed input: a button's label or number presses it, anything else is text."""
        wanted = typed.strip().casefold()
        for bid, label in self.buttons:
            if wanted == label.casefold():
                return Press(bid)
        for number, bid, _ in numbered(self.buttons) if not self.reads_numbers() else ():
            if wanted == str(number):
                return Press(bid)
        return parse_text(typed)

    def reads_numbers(self) -> bool:
        """Whether a typed number at this step is its value (an age: "4" is a 4-year-old),
        so the buttons have no numbers here."""
        return self.state != "start.new" and self.engine.step(self.state)[1].reads_numbers

    def picks(self, typed: str) -> list[str]:
        """Several button numbers in one line ("1, 3, 6") at a step where several can be
        ticked: the buttons, in order (each once); else none."""
        words = [w for w in PICKS.split(typed.strip()) if w]
        if len(words) < 2 or not all(w.isdigit() for w in words):
            return []
        if self.engine.step(self.state)[1].ask != MULTI:
            return []
        by_number = {str(n): bid for n, bid, _ in numbered(self.buttons)}
        if not all(w in by_number for w in words):
            return []
        return list(dict.fromkeys(by_number[w] for w in words))

    def answer(self, typed: str) -> list[Rendered]:
        """A typed line applied: one event, or several picks pressed one after another (what
        each pick said on the way is kept; the keyboard only once, at the end)."""
        presses = self.picks(typed)
        if not presses:
            return self.send(self.resolve(typed))[1]
        said: list[Rendered] = []
        before = self.state
        for n, bid in enumerate(presses, 1):
            _, rendered = self.send(Press(bid))
            if n == len(presses) or self.state != before:
                return said + rendered
            said += [r for r in rendered if not r.edit]
        return said

    def _with_place(self, reply: Reply, rendered: Rendered) -> Rendered:
        """In the terminal, the privacy text says where this chat is kept, and the help text
        adds the terminal's own commands."""
        if reply.key == PRIVACY:
            return replace(rendered, html=rendered.html + "\n\n" + self.kept())
        if reply.key == HELP:
            return replace(rendered, html=rendered.html + "\n" + self.say("help_more"))
        return rendered

    def at_zone_step(self) -> bool:
        """Whether the current step asks where the user is (Enter then offers this machine's
        own time zone)."""
        return self.engine.step(self.state)[1].parse in ZONE_PARSERS

    @property
    def in_memory(self) -> bool:
        """Whether nothing of this chat outlives the process (--db :memory:)."""
        return getattr(self.store, "path", None) == MEMORY

    def kept(self) -> str:
        """Where this chat is kept and whether what the user writes is encrypted there."""
        if self.in_memory:
            return self.say("kept_memory")
        path = getattr(self.store, "path", None)
        say = self.content.locale(self.locale).render_text
        where = say("console.kept_file", {"path": path}) if path else self.say("kept_server")
        return where + "\n" + self.say("sealed" if self.store.sealer.active else "unsealed")

    def say(self, key: str, **variables: Any) -> str:
        """A console-only text from content."""
        return self.content.locale(self.locale).render_text(f"console.{key}", variables)

    def label(self, key: str) -> str:
        """A console-only label from content."""
        return self.content.locale(self.locale).label(f"console.{key}")


PICKS = re.compile(r"[\s,;]+")  # between the numbers of several picks: "1, 3, 6" or "1 3 6"


def _as_json(turn: Turn, rendered: list[Rendered]) -> dict[str, Any]:
    return {
        "replies": [
            {"text": r.text, "html": r.html,
             "buttons": [[{"id": i, "label": lab} for i, lab in row] for row in r.buttons]}
            for r in rendered
        ],
        "state": turn.session.state,
        "safety": turn.safety,
        "risk": turn.risk.as_dict() if turn.risk else None,
        "cues": list(turn.cues),
        **({"partner": turn.partner} if turn.partner is not None else {}),
    }  # fmt: skip


def _ticked(console: Console, now: datetime | None) -> dict[str, Any]:
    """A tick's answer: every reminder's replies in one list, the state after them."""
    came = console.tick(now)
    if not came:
        session, _ = console.store.load(console.user_id)
        return {"replies": [], "state": session.state if session else "start.new",
                "safety": None, "risk": None, "cues": [], "due": []}  # fmt: skip
    merged = _as_json(came[-1][1], [r for _, _, rendered in came for r in rendered])
    merged["due"] = [kind for kind, _, _ in came]
    return merged


def _event_of(console: Console, msg: Any) -> Event | None:
    """The event a line stands for (None: a tick, whatever is due)."""
    if not isinstance(msg, dict):
        raise ValueError("each line must be a JSON object")
    if msg.get("tick") is True:
        return None
    if isinstance(msg.get("text"), str):
        return parse_text(msg["text"])
    if isinstance(msg.get("press"), str):
        for bid, label in console.buttons:
            if msg["press"] in (bid, label):
                return Press(bid)
        raise ValueError(f"no button {msg['press']!r} in the last replies")
    if isinstance(msg.get("unsupported"), str):
        return Unsupported(msg["unsupported"])
    raise ValueError('a line needs "text", "press" or "tick"')


def jsonl(console: Console, inp: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    """One JSON object in per line, one JSON object out per line, nothing else on stdout."""
    for line in inp:
        if not line.strip():
            continue
        try:
            msg = json.loads(line)
            event = _event_of(console, msg)
            now = datetime.fromisoformat(msg["now"]) if "now" in msg else None
            if now is not None and now.tzinfo is None:
                raise ValueError('"now" needs a UTC offset')
        except (ValueError, TypeError) as err:
            out.write(json.dumps({"error": str(err)}) + "\n")
            out.flush()
            continue
        if event is None:
            out.write(json.dumps(_ticked(console, now), ensure_ascii=False) + "\n")
        else:
            turn, rendered = console.send(event, now)
            out.write(json.dumps(_as_json(turn, rendered), ensure_ascii=False) + "\n")
        out.flush()
    return 0
