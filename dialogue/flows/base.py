"""The building blocks of a flow: steps (what each state asks) and the transition table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from transitions import EventData, Machine

if TYPE_CHECKING:
    from dialogue.engine import Ctx

TEXT, CHOICE, MULTI, SCALE, INFO, GOTO = "text", "choice", "multi", "scale", "info", "goto"

Options = tuple[str, ...] | Callable[["Ctx"], list[str]]


@dataclass(frozen=True)
class Step:
    """What one state asks for, how it is answered, and where the answer is kept."""

    name: str
    ask: str
    options: Options = ()
    group: str = ""  # label group of the options: label key "<group>.<id>"
    save: str = ""  # "draft.<key>" or "profile.<field>"
    skip: bool = False  # a text step that may be skipped
    columns: int = 2
    min_picks: int = 0  # multi: how many must be ticked before "done"
    max_len: int = 10_000  # text: longer answers are asked again, shorter
    parse: Callable[[str, Ctx], Any] | None = None  # text -> value, None: not understood
    convert: Callable[[str], Any] | None = None  # choice id -> stored value
    key: str | Callable[[Ctx], str] = ""  # content key; default "<flow>.<name>"
    vars: Callable[[Ctx], dict[str, Any]] | None = None
    enter: Callable[[Ctx], None] | None = None  # effects of arriving here
    goto: str | Callable[[Ctx], str] = ""  # GOTO: the "<flow>.<state>" to go on to
    says: bool = False  # GOTO: says its text first (the content check then requires it)
    # More buttons (label group "ui") under the options, or a callable giving them now.
    extra: tuple[str, ...] | Callable[[Ctx], tuple[str, ...]] = ()
    on_text: str = ""  # a choice step that also takes typed text: the trigger it then fires
    text_save: str = ""  # where that parsed text is kept (a multi: typed words it understood)
    # A choice step whose unmatched typed line answers a text step instead ("Write my own",
    # a story typed at the menu): "<flow>.<state>", or a callable giving it ("" for none).
    text_to: str | Callable[[Ctx], str] = ""
    text_words: int = 1  # the fewest words such a line has
    reads_numbers: bool = False  # a typed number is the answer's value (an age), not a button
    asides: tuple[str, ...] = ()  # answers.yaml asides heard here, said back as "<key>_<aside>"
    keys: tuple[str, ...] = ()  # every key a callable `key` can give (for the content check)
    every_option: tuple[str, ...] = ()  # every id callable `options` can give (content check)
    every_extra: tuple[str, ...] = ()  # every button a callable `extra` can give (content check)
    variant: Callable[[Ctx], int | None] | None = None  # which variant of the text (None: seeded)


@dataclass
class Flow:
    """A flow: its steps and its transition table, and one shared Machine built from them."""

    name: str
    steps: list[Step]
    transitions: list[dict[str, Any]]
    first: str = ""
    machine: Machine = field(init=False, repr=False)
    by_name: dict[str, Step] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.by_name = {s.name: s for s in self.steps}
        self.first = self.first or self.steps[0].name
        self.machine = Machine(
            model=None,
            states=[s.name for s in self.steps],
            transitions=self.transitions,
            initial=self.first,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=True,
        )

    def triggers(self, state: str) -> set[str]:
        """The triggers that leave a state."""
        return set(self.machine.get_triggers(state))


def entry_id(ctx: Ctx) -> str:
    """A journal entry's id, unique per user (the turn counter only grows) and sorting by time."""
    return f"{int(ctx.now.timestamp()):010x}{ctx.session.turn:06x}"


def guard(check: Callable[[Ctx], bool]) -> Callable[[EventData], bool]:
    """Adapt a check on the turn's context into a transitions condition, named after the
    check (the flow diagrams label a guarded transition with it)."""

    def condition(event: EventData) -> bool:
        return check(event.model)

    condition.__name__ = condition.__qualname__ = check.__name__.lstrip("_")
    return condition


def say(key: str, **fixed: Any) -> Callable[[EventData], None]:
    """A transition callback that adds one reply before the next state's prompt."""

    def _say(event: EventData) -> None:
        event.model.say(key, **fixed)

    return _say
