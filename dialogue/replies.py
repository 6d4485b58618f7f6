"""What the coach says: Reply(key, vars, buttons) — keys into content, never prose."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dialogue.language.risk import KINDS, LABELS, WHO

# Every variable a template may use, with the longest value the engine can pass.
# The content check renders each template with values this long; the engine never passes longer.
TEXT_MAX = 300  # an excerpt of the user's own words inside a reply
RELS = ("baby", "toddler", "child", "teen", "partner", "other")


@dataclass(frozen=True, slots=True)
class Var:
    """A template variable: its kind, longest size, and values (or the label group of them)."""

    kind: str  # str, int, enum, list, plan, entries, entry, prompt
    size: int = 0
    values: tuple[Any, ...] = ()
    group: str = ""  # enum or list values are the ids of this label group
    optional: bool = False  # "" (enum) or [] (list) is possible too


VARS: dict[str, Var] = {
    "name": Var("str", 40, optional=True),  # the user's name for the other person
    "them": Var("str", 40),  # the name, or content's word for them ("your partner")
    "Them": Var("str", 40),
    "child": Var("str", 40),  # the name of the user's child, or "your child": safety texts
    "rel": Var("enum", values=RELS),
    "age": Var("enum", values=("baby", "toddler", "preschool", "child", "teen"), optional=True),
    "group": Var("enum", values=("little", "preschool", "child", "teen", "partner", "other")),
    "what_happened": Var("str", 120),
    "line": Var("str", TEXT_MAX),
    "soft": Var("str", TEXT_MAX),
    "my_part": Var("str", 90, optional=True),
    # Listening (flows/listening.py): one phrase of the user's own answer, said back in quotes;
    # the verdict word quoted at the camera question; what they already told or guessed.
    "said": Var("str", 60, optional=True),
    "word": Var("str", 24, optional=True),
    "told": Var("enum", values=(True, False)),
    "guess": Var("enum", group="guess", optional=True),
    "mine": Var("enum", group="need"),  # the user's own need, at the guess at the other's
    "opening": Var("enum", values=(True, False)),  # an exercise step met the first time
    "space": Var("enum", values=(True, False)),  # "now" while the other asked for space
    "high": Var("enum", values=(True, False)),  # ... or while still flooded
    "tonight": Var("enum", group="tonight_need", optional=True),
    # Drafted opening lines (flows/conflict.py _draft_vars, flows/lines.py draft_facts): the
    # user's act said to the other ("yelled at you"), whether it is short, loud, or was left
    # out for hurtful words; the emotion that may have driven it and the softer one; the
    # moves chosen; needs (content's labels); the topic of a later talk (content's words).
    "act": Var("str", 90, optional=True),
    "short": Var("enum", values=(True, False)),
    "loud": Var("enum", values=(True, False)),
    "hurtful": Var("enum", values=(True, False)),
    "cause": Var("enum", group="emotion", optional=True),
    "softer": Var("enum", group="emotion", optional=True),
    "moves": Var("list", 14, group="move", optional=True),
    "my_need": Var("str", 40, optional=True),
    "their_need": Var("str", 40, optional=True),
    "topic": Var("str", 30, optional=True),
    # Feedback on the user's own line (flows/lines.py read_line): what works in it and how,
    # the phrase that may sting, a "but" after the apology, a rule or request in it.
    "works": Var("str", 120, optional=True),
    "works_kind": Var(
        "enum",
        values=(
            "apology",
            "ownership",
            "curiosity",
            "empathy",
            "appreciation",
            "warmth",
            "respect_space",
            "gentle_startup",
        ),
        optional=True,
    ),
    "sting": Var("str", 120, optional=True),
    "request": Var("str", 120, optional=True),
    "but_undo": Var("enum", values=(True, False)),
    "rule": Var("enum", values=(True, False)),  # a rule or request in the line
    "rewritten": Var("enum", values=(True, False)),
    "emotion": Var("enum", group="emotion"),
    "family": Var("enum", values=("core", "inhibitory", "defense")),
    "emotions": Var("list", 16, group="emotion"),
    # Labels of the options a typed answer was taken as (content's words, never the user's).
    "chosen": Var("list", 13, values=("W" * 32,) * 13),
    "cues": Var("list", 14, group="cue", optional=True),
    "intensity": Var("int", 10),
    "number": Var("str", 12),  # a number as the user typed it, past a scale's end ("-3", "150")
    "lo": Var("int", 0),
    "hi": Var("int", 10),
    # Typed button numbers that are no button, and the numbers of the buttons on screen.
    "missing": Var("list", 8, values=("9" * 6,) * 8, optional=True),
    "first": Var("int", 99),
    "last": Var("int", 99),
    "count": Var("int", 999),
    "index": Var("int", 99),
    "time": Var("str", 5, optional=True),
    "prompt": Var("prompt"),  # the key of a daily prompt: daily.prompt.<key> (data/prompts.yaml)
    "on": Var("enum", values=(True, False)),  # whether reflections are coming
    "when": Var("enum", values=("tonight", "tomorrow", "days3", "week")),
    "tz": Var("str", 40),
    "local_now": Var("str", 5),
    "kind": Var("enum", values=(*KINDS, "sos")),
    "who": Var("enum", values=WHO),
    "label": Var("enum", values=tuple(LABELS), optional=True),
    "kinds": Var("list", len(KINDS), values=KINDS, optional=True),
    "country": Var("enum", values=("US", "UK", "IE", "CA", "AU", "INTL")),
    "limit": Var("int", 10_000),
    "path": Var("str", 300),  # a file the console wrote
    "folder": Var("str", 300),  # the folder the console writes files into
    "named": Var("str", 300),  # how the console names one user's files (a shell pattern)
    "plan": Var("plan"),  # a plan card's fields: flows/conflict.py make_plan
    "entries": Var("entries"),  # a journal page: [{kind, id, at, data}] (flows/journal.py)
    "entry": Var("entry"),  # one journal entry, whole
    # Rehearsal (flows/rehearsal.py): who is simulated, the moment they are in, what a turn
    # did (label group "rcue"), and the end's tallies.
    "persona": Var("enum", values=RELS),
    "adult": Var("enum", values=(True, False)),
    "moment": Var("enum", values=("away", "reaching", "present", "flooded")),
    "rcue": Var("enum", group="rcue"),  # "" only for notes that do not name one
    "helped": Var("list", 4, group="rcue", optional=True),
    "raised": Var("list", 4, group="rcue", optional=True),
    "connected": Var("enum", values=(True, False)),
    "kept": Var("enum", values=(True, False)),
}


@dataclass(frozen=True, slots=True)
class Effect:
    """Something storage must do with a turn: save_plan, follow_up, erase_all."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Button:
    """One button: an id the engine understands and a label key in content."""

    id: str
    label: str  # content label key, e.g. "emotion.anger"
    ticked: bool = False


@dataclass(frozen=True, slots=True)
class Reply:
    """One message: a content key, its variables, and buttons laid out in rows."""

    key: str
    vars: dict[str, Any] = field(default_factory=dict)
    buttons: tuple[tuple[Button, ...], ...] = ()
    variant: int = 0  # which of the text's variants to say
    edit: bool = False  # replaces the keyboard of the previous message (multi-select tick)
    token: str = ""  # identifies the keyboard, so a press on an old one is recognised

    @property
    def flat_buttons(self) -> list[Button]:
        """All buttons, row after row."""
        return [b for row in self.buttons for b in row]


def rows(buttons: list[Button], columns: int) -> tuple[tuple[Button, ...], ...]:
    """Lay buttons out in rows of at most `columns`."""
    columns = max(1, columns)
    return tuple(tuple(buttons[i : i + columns]) for i in range(0, len(buttons), columns))


def numbered(buttons: Iterable[tuple[str, str]]) -> list[tuple[int, str, str]]:
    """Each button's number, as the terminal shows it and typed numbers mean it: a button
    whose label is a whole number (a 0-10 scale) is that number; the others count on from
    the highest such label (from 1 when there is none). (number, id, label) in order."""
    buttons = list(buttons)
    n = max((int(label) for _, label in buttons if is_number(label)), default=0)
    out = []
    for bid, label in buttons:
        if is_number(label):
            out.append((int(label), bid, label))
        else:
            n += 1
            out.append((n, bid, label))
    return out


def is_number(label: str) -> bool:
    """Whether a label is a whole number, so typing it means it."""
    return label.isascii() and label.isdigit()


def excerpt(text: str, limit: int = TEXT_MAX) -> str:
    """Shorten the user's words for quoting, on a word boundary, marking the cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return (cut or text[: limit - 1]) + "…"


CALLBACK_MAX_BYTES = 64
TOKEN_MAX = 8  # base36 of the turn counter


def callback_data(token: str, button_id: str) -> str:
    """Compact callback data for Telegram: '<token>|<button id>'."""
    return f"{token}|{button_id}"


def parse_callback(data: str) -> tuple[str | None, str]:
    """Split callback data into (token, button id); a bare id has no token."""
    token, sep, button = data.partition("|")
    return (token, button) if sep else (None, data)
