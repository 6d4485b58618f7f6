"""The chat for a person at a terminal: line editing, wrapped text, numbered buttons."""

from __future__ import annotations

import re
import shlex
import shutil
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot import files
from bot.console import CHANNEL, QUIT, Console
from bot.settings import default_db
from dialogue.content import Rendered
from dialogue.events import parse_text
from dialogue.replies import is_number, numbered

INDENT = "    "  # before each row of buttons
GAP = "   "  # between two buttons of a row
# What starts a list item: its text hangs under the words after it, not under the bullet.
HANG = re.compile(r"\s*(?:[•*–-]\s+|\d{1,3}[.)]\s+)?")
# Escape sequences and control characters a terminal without line editing lets through (an
# arrow key typed as ESC [ D): never part of an answer.
CONTROL = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|O.|.?)|[\x00-\x08\x0b-\x1f\x7f]")


def wrap(text: str, width: int) -> str:
    """Wrap each paragraph to the terminal's width, keeping the line breaks the text has;
    a word longer than the width (a path, a link) stays whole, and hyphens never break."""
    return "\n".join(_wrap_line(line, width) if line.strip() else "" for line in text.splitlines())


def _wrap_line(line: str, width: int) -> str:
    """One paragraph wrapped, a list item's lines hanging under its first word."""
    hang = " " * len(HANG.match(line).group(0))  # type: ignore[union-attr]  # always matches
    return textwrap.fill(line, width, subsequent_indent=hang, break_long_words=False,
                         break_on_hyphens=False)  # fmt: skip


def keyboard(
    rows: tuple[tuple[tuple[str, str], ...], ...], width: int = 0, numbered_: bool = True
) -> list[str]:
    """A keyboard's lines: each button with its number (one that is a number shows only
    that; none where typed numbers are the answer's value, `numbered_` False), a row too wide
    for the terminal broken between buttons, never inside one."""
    numbers = iter(numbered(b for row in rows for b in row))
    lines = []
    for row in rows:
        line = ""
        for _ in row:
            number, _, label = next(numbers)
            cell = f"[{label}]" if is_number(label) or not numbered_ else f"[{number}] {label}"
            if line and width and len(INDENT + line + GAP + cell) > width:
                lines.append(INDENT + line)
                line = ""
            line += (GAP if line else "") + cell
        lines.append(INDENT + line)
    return lines


def show(rendered: list[Rendered], out: TextIO, width: int = 0, numbers: bool = True) -> None:
    """Print replies as plain text, buttons numbered across the whole keyboard (unless
    typed numbers are the answer's value: `numbers` False)."""
    for r in rendered:
        if not r.edit:
            out.write((wrap(r.text, width) if width else r.text) + "\n")
        for line in keyboard(r.buttons, width, numbers):
            out.write(line + "\n")
        out.write("\n")
    out.flush()


def reader(inp: TextIO, out: TextIO, prompt: str) -> Callable[[], str]:
    """How a line is read: with editing and history (readline) when a person types at a
    terminal; else as it comes. "" at the end of input or on Ctrl-C."""
    if inp is sys.stdin and out is sys.stdout and inp.isatty() and out.isatty():
        try:
            import readline  # noqa: F401, PLC0415 - input() edits lines once it is loaded
        except ImportError:  # a Python built without it: lines come as typed
            pass
        else:  # history in memory only: it is never written to a file

            def edited() -> str:
                try:
                    return input(prompt) + "\n"
                except (EOFError, KeyboardInterrupt):
                    return ""

            return edited

    def plain() -> str:
        out.write(prompt)
        out.flush()
        try:
            return inp.readline()
        except KeyboardInterrupt:
            return ""

    return plain


def machine_zone() -> str:
    """The IANA zone this computer is set to ("" when it cannot tell)."""
    import tzlocal  # noqa: PLC0415 - only when someone presses Enter at a zone step

    try:
        name = tzlocal.get_localzone_name()
    except (OSError, ValueError, LookupError):  # no zone configured, or one tzlocal cannot read
        return ""
    if name in ("UTC", "Etc/UTC", "Etc/Universal", "Etc/Zulu", "Etc/GMT", "GMT"):
        return "UTC"
    return "" if not name or name.startswith("Etc/") else name  # Etc/GMT+5 is UTC-5: not typed


def clean(line: str) -> str:
    """A typed line without escape sequences or control characters."""
    return CONTROL.sub("", line).strip()


def resume_command(console: Console) -> str:
    """The command that comes back to this conversation."""
    words = ["repair-coach", "chat"]
    path = getattr(console.store, "path", None)
    if path and Path(path).resolve() != default_db().resolve():
        words += ["--db", str(Path(path).resolve())]
    if console.user_id != "local":
        words += ["--user", console.user_id]
    return shlex.join(words)


def goodbye(console: Console, width: int) -> str:
    """The last words, true to what is kept: how to come back (the command whole, on its
    line); or, in memory or after /delete, that the conversation is not kept, with the files
    written for the user that are still on this computer (each path whole, on its line)."""
    if console.in_memory:
        left = [p for p in console.written if p.exists()]
        head = console.say("bye_memory_files" if left else "bye_memory", count=len(left))
    elif console.nothing_kept():
        left = files.user_files(console.folder, console.user_id)
        head = console.say("bye_erased")
        if left:
            head += " " + console.say("bye_files", count=len(left))
    else:
        return wrap(console.say("bye"), width) + "\n" + INDENT + resume_command(console)
    return "\n".join([wrap(head, width), *(INDENT + str(p) for p in left)])


def greet(console: Console, out: TextIO, width: int) -> None:
    """The first lines: how to answer, then where we are."""
    out.write(wrap(console.say("hello_memory" if console.in_memory else "hello"), width) + "\n\n")
    session, _ = console.store.load(console.user_id)
    came = console.tick() if session else []
    if came:  # what came due while the chat was closed: a reflection, a follow-up
        out.write(console.say("while_away") + "\n\n")
        for _, _, rendered in came:
            show(rendered, out, width)
    elif session and session.state != "start.new":
        out.write(console.say("resumed") + "\n\n")
        now = console.coach.current(session, console.clock())
        show(console.render(now), out, width, not console.reads_numbers())
    else:
        show(console.send(parse_text("/start"))[1], out, width)


def interactive(console: Console, inp: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    """The chat loop for a person at a terminal."""
    console.channel = CHANNEL
    width = min(shutil.get_terminal_size((88, 24)).columns - 2, 88)
    greet(console, out, width)
    read = reader(inp, out, f"{console.label('you')}> ")
    while True:
        line = read()
        typed = clean(line)
        if not line or typed.lower() in QUIT:
            out.write("\n" + goodbye(console, width) + "\n")
            return 0
        if not typed and console.at_zone_step():  # Enter where a zone is asked: this machine's
            typed = machine_zone()
        if not typed:
            continue
        rendered = console.answer(typed)
        out.write("\n")
        show(rendered, out, width, not console.reads_numbers())
