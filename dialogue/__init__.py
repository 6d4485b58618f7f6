"""The coach itself: pure, synchronous, no Telegram, no database, no clock of its own."""

from dialogue.engine import Engine, Turn
from dialogue.events import Command, Event, Press, Start, Text
from dialogue.session import Session

__all__ = ["Command", "Engine", "Event", "Press", "Session", "Start", "Text", "Turn"]
