"""Helpers shared by the tests (tests/support is on pytest's pythonpath)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dialogue.events import Event, Press, Unsupported, parse_text

NOW = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)


def event_of(step: dict[str, Any]) -> Event:
    """The engine event a scripted step describes."""
    if "text" in step:
        return parse_text(str(step["text"]))
    if "press" in step:
        return Press(str(step["press"]), step.get("token"))
    if "unsupported" in step:
        return Unsupported(step["unsupported"])
    raise AssertionError(f"a step needs text, press or unsupported: {step}")
