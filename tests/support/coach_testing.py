"""Helpers shared by the tests (tests/support is on pytest's pythonpath)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dialogue.engine import Engine, Turn
from dialogue.events import Event, Located, Press, Unsupported, parse_text
from dialogue.session import Session

NOW = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)


def event_of(step: dict[str, Any]) -> Event:
    """The engine event a scripted step describes."""
    if "text" in step:
        return parse_text(str(step["text"]))
    if "press" in step:
        return Press(str(step["press"]), step.get("token"))
    if "unsupported" in step:
        return Unsupported(step["unsupported"])
    if "located" in step:
        return Located(str(step["located"]))
    raise AssertionError(f"a step needs text, press, unsupported or located: {step}")


def run_step(engine: Engine, session: Session, step: dict[str, Any], now: datetime) -> Turn:
    """One scripted step: an event, or a reminder coming due (`tick: reflection` or
    `tick: follow_up`, with `due` (default: now) and `ref` (default: the newest plan))."""
    if "tick" not in step:
        return engine.handle(session, event_of(step), now)
    kind = str(step["tick"])
    ref = step.get("ref") or (session.plans[-1]["id"] if kind == "follow_up" else "daily")
    due = datetime.fromisoformat(step["due"]) if "due" in step else now
    return engine.tick(session, kind, ref, due, now)
