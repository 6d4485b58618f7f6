"""The coach in a terminal, and the JSON-lines protocol for scripts and tests."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from platformdirs import user_data_dir

from bot.coach import Clock, Coach, utc_now
from bot.storage import Store
from dialogue.content import Content, Rendered
from dialogue.engine import Engine, Turn
from dialogue.events import Event, Press, Unsupported, parse_text
from dialogue.replies import Reply

QUIT = ("/quit", "/exit")


class Console:
    """One user's conversation, stored in SQLite, rendered for a terminal or as JSON."""

    def __init__(
        self, engine: Engine, store: Store, user_id: str, locale: str = "en",
        clock: Clock = utc_now,
    ) -> None:  # fmt: skip
        self.engine, self.store, self.user_id = engine, store, user_id
        self.coach = Coach(engine, store, clock)
        self.locale, self.clock = locale, clock
        self.export_dir: Path | None = None
        self.content: Content = engine.content
        self.buttons: list[tuple[str, str]] = []  # (id, label) of the latest keyboard
        session, _ = store.load(user_id)
        if session:
            self.locale = session.locale
            self._remember(self.render(self.coach.current(session, clock())))

    def render(self, replies: Iterable[Reply]) -> list[Rendered]:
        """Replies rendered in the user's locale."""
        return [self.content.render(r, self.locale) for r in replies]

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
        self.locale = turn.session.locale
        say = self.content.locale(self.locale).render_text
        for effect in turn.effects:
            if effect.kind == "export":
                path = self.export(now)
                rendered.append(Rendered(say("console.exported", {"path": str(path)}), ()))
            elif effect.kind == "chart":
                what = str(effect.data.get("kind", "progress"))
                path = self.save(what, "png", self.coach.chart(effect.data, self.locale), now)
                rendered.append(Rendered(say("console.chart_saved", {"path": str(path)}), ()))
        if not turn.stale:
            self._remember(rendered)
        return turn, rendered

    def tick(self, now: datetime | None = None) -> list[tuple[str, Turn, list[Rendered]]]:
        """Whatever came due for this user by `now` (reminders), said in order."""
        now = now or self.clock()
        out = []
        while fired := self.coach.remind(now=now, user_id=self.user_id):
            for _, kind, applied in fired:
                if applied.rendered:
                    self.locale = applied.turn.session.locale
                    self._remember(applied.rendered)
                    out.append((kind, applied.turn, list(applied.rendered)))
        return out

    def export(self, now: datetime | None = None) -> Path:
        """Write everything stored about the user to a JSON file; return its path."""
        doc = self.store.export(self.user_id, now or self.clock())
        body = json.dumps(doc, ensure_ascii=False, indent=2).encode()
        return self.save("export", "json", body, now)

    def save(self, what: str, suffix: str, body: bytes, now: datetime | None = None) -> Path:
        """Write a file for the user into the data folder, readable by them only."""
        moment = now or self.clock()
        folder = self.export_dir or Path(user_data_dir("repair-coach", appauthor=False)) / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in self.user_id)
        path = folder / f"repair-coach-{what}-{safe}-{moment:%Y%m%d-%H%M%S}.{suffix}"
        path.write_bytes(body)
        path.chmod(0o600)
        return path

    def resolve(self, typed: str) -> Event:
        """Typed input: a button's label or number presses it, anything else is text."""
        wanted = typed.strip().casefold()
        for bid, label in self.buttons:
            if wanted == label.casefold():
                return Press(bid)
        if wanted.isdigit() and 1 <= int(wanted) <= len(self.buttons):
            return Press(self.buttons[int(wanted) - 1][0])
        return parse_text(typed)

    def say(self, key: str) -> str:
        """A console-only text from content."""
        return self.content.locale(self.locale).render_text(f"console.{key}", {})

    def label(self, key: str) -> str:
        """A console-only label from content."""
        return self.content.locale(self.locale).label(f"console.{key}")


def wrap(text: str, width: int) -> str:
    """Wrap each paragraph to the terminal's width, keeping the line breaks the text has."""
    return "\n".join(
        textwrap.fill(line, width, subsequent_indent="  " if line.startswith("•") else "")
        if line
        else ""
        for line in text.splitlines()
    )


def show(rendered: list[Rendered], out: TextIO, width: int = 0) -> None:
    """Print replies as plain text, buttons numbered across the whole keyboard."""
    for r in rendered:
        if not r.edit:
            out.write((wrap(r.text, width) if width else r.text) + "\n")
        n = 0
        for row in r.buttons:
            cells = []
            for _, label in row:
                n += 1
                cells.append(f"[{n}] {label}")
            out.write("    " + "   ".join(cells) + "\n")
        out.write("\n")
    out.flush()


def interactive(console: Console, inp: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    """The chat loop for a person at a terminal."""
    width = min(shutil.get_terminal_size((88, 24)).columns - 2, 88)
    out.write(wrap(console.say("hello"), width) + "\n\n")
    session, _ = console.store.load(console.user_id)
    came = console.tick() if session else []
    if came:  # what came due while the chat was closed: a reflection, a follow-up
        out.write(console.say("while_away") + "\n\n")
        for _, _, rendered in came:
            show(rendered, out, width)
    elif session and session.state != "start.new":
        out.write(console.say("resumed") + "\n\n")
        show(console.render(console.coach.current(session, console.clock())), out, width)
    else:
        show(console.send(parse_text("/start"))[1], out, width)
    you = console.label("you")
    while True:
        out.write(f"{you}> ")
        out.flush()
        try:
            line = inp.readline()
        except KeyboardInterrupt:
            line = ""
        if not line or line.strip().lower() in QUIT:
            out.write("\n" + console.say("bye") + "\n")
            return 0
        if not line.strip():
            continue
        _, rendered = console.send(console.resolve(line.rstrip("\n")))
        out.write("\n")
        show(rendered, out, width)


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
