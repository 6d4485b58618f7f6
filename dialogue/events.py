"""What can happen to the coach: frozen dataclasses, one per kind of input."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Start:
    """The user opened the chat (/start), with an optional deep-link payload."""

    payload: str = ""


@dataclass(frozen=True, slots=True)
class Text:
    """The user wrote something."""

    text: str


@dataclass(frozen=True, slots=True)
class Press:
    """The user pressed a button; token says which keyboard it came from (None: the current one)."""

    button: str
    token: str | None = None


@dataclass(frozen=True, slots=True)
class Command:
    """A slash command other than /start, e.g. Command("back")."""

    name: str
    arg: str = ""


@dataclass(frozen=True, slots=True)
class Unsupported:
    """Something the coach cannot read: a sticker, a photo, a voice note..."""

    kind: str


@dataclass(frozen=True, slots=True)
class Located:
    """The user shared a location; the front end has resolved it to a time zone ("": none)."""

    tz: str


@dataclass(frozen=True, slots=True)
class Edited:
    """The user edited a message they had sent."""


Event = Start | Text | Press | Command | Unsupported | Edited | Located


def parse_text(text: str) -> Event:
    """Turn raw typed text into Start, Command or Text."""
    stripped = text.strip()
    if stripped.startswith("/") and len(stripped) > 1:
        head, _, arg = stripped[1:].partition(" ")
        name = head.split("@", 1)[0].lower()
        if name.isascii() and name.replace("_", "").isalnum():
            if name == "start":
                return Start(arg.strip())
            return Command(name, arg.strip())
    return Text(text)
