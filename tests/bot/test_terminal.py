"""The terminal chat (bot/terminal.py, bot/console.py): a real terminal program."""

from __future__ import annotations

import ast
import inspect
import io
import os
import pty
import re
import select
import shlex
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.fernet import Fernet

from bot import terminal
from bot.cli import parser
from bot.console import CHANNEL, QUIT, Console, numbered
from bot.storage import Sealer, SQLiteStore, open_store
from bot.telegram_adapter.app import COMMANDS
from bot.terminal import clean, interactive, keyboard, resume_command, wrap
from dialogue.check import check_overrides
from dialogue.content import Content
from dialogue.engine import ASIDES, COMMAND_STATES, Engine
from dialogue.events import Press, parse_text
from dialogue.replies import Reply

COMMAND = str(Path(sys.executable).parent / "repair-coach")
# To the body step, where several options can be ticked (the journey of test_console.py).
TO_BODY = [
    "/start", Press("next"), Press("partner"), "Robin", Press("no"), "Dublin", Press("yes"),
    Press("new"), "Robin said I never help. I said 'that's not fair' and went upstairs.",
    "Robin said: you never help. I said: that's not fair, and went upstairs.",
    "Robin sighed and went quiet", "I snapped at Robin and left the room",
]  # fmt: skip
INCLUDE = re.compile(r"{%-?\s*include\s[^%]*%}")
TELEGRAM_WORDS = re.compile(r"\btap(s|ping)?\b|telegram|📎", re.IGNORECASE)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    """A SQLite file of the test's own."""
    opened = SQLiteStore(tmp_path / "coach.db")
    yield opened
    opened.close()


@pytest.fixture
def memory() -> Iterator[SQLiteStore]:
    """A store that keeps nothing (--db :memory:)."""
    opened = SQLiteStore(":memory:")
    yield opened
    opened.close()


def at_body(engine: Engine, store: Any) -> Console:
    """A terminal console at the body step."""
    console = Console(engine, store, "local", channel=CHANNEL)
    for step in TO_BODY:
        console.send(parse_text(step) if isinstance(step, str) else step)
    assert console.state == "conflict.body"
    return console


# -- 2. wrapping -------------------------------------------------------------------------------


def test_paths_and_links_are_never_split() -> None:
    path = "/home/sam/.local/share/repair-coach/exports/repair-coach-export-local-20261127.json"
    text = f"Saved to {path} and see https://findahelpline.com/countries/ie-ireland for more."
    lines = wrap(text, 30).splitlines()
    assert path in lines
    assert any("https://findahelpline.com/countries/ie-ireland" in line for line in lines)
    assert all(len(line) <= 30 for line in lines if " " in line.strip())


def test_hyphenated_words_stay_whole() -> None:
    text = "Take a twenty-minute break, a well-earned one, with a close-to-perfect calm-down plan."
    for width in range(12, 40):
        words = {w for line in wrap(text, width).splitlines() for w in line.split()}
        assert {"twenty-minute", "well-earned", "close-to-perfect", "calm-down"} <= words


def test_list_items_hang_under_their_first_word() -> None:
    text = (
        "Lines:\n• Samaritans: 116 123, free, any time of day or night\n2. Call someone you trust"
    )
    lines = wrap(text, 24).splitlines()
    assert lines[1].startswith("• Samaritans")
    item = lines[1 : lines.index(next(x for x in lines if x.startswith("2.")))]
    assert len(item) > 1 and all(line.startswith("  ") for line in item[1:])
    last = lines[lines.index(next(x for x in lines if x.startswith("2."))) :]
    assert len(last) > 1 and all(line.startswith("   ") for line in last[1:])


def test_empty_lines_stay_and_nothing_is_lost() -> None:
    text = "First paragraph here.\n\nSecond one, somewhat longer than the width."
    out = wrap(text, 20)
    assert "\n\n" in out
    assert out.split() == text.split()


# -- 3 and 5. buttons ----------------------------------------------------------------------------


def scale() -> tuple[tuple[tuple[str, str], ...], ...]:
    """The 0-10 scale as the engine lays it out (six to a row)."""
    cells = [(str(i), str(i)) for i in range(11)]
    return (tuple(cells[:6]), tuple(cells[6:]))


def test_a_number_keyboard_shows_the_numbers_themselves() -> None:
    shown = "\n".join(keyboard(scale()))
    assert re.findall(r"\[(\d+)\]", shown) == [str(i) for i in range(11)]
    assert not re.search(r"\]\s*\d", shown)  # never "[8] 7"


def test_other_buttons_count_on_after_the_number_labels() -> None:
    page = (
        (("open1", "1"), ("open2", "2"), ("open3", "3")),
        (("older", "Older"), ("menu", "Menu")),
    )
    assert [(n, bid) for n, bid, _ in numbered(b for row in page for b in row)] == [
        (1, "open1"), (2, "open2"), (3, "open3"), (4, "older"), (5, "menu"),
    ]  # fmt: skip
    assert keyboard(page) == ["    [1]   [2]   [3]", "    [4] Older   [5] Menu"]
    plain = ((("a", "Yes, please"), ("b", "Not now")),)
    assert keyboard(plain) == ["    [1] Yes, please   [2] Not now"]


def test_a_wide_row_breaks_between_buttons_never_inside_a_label() -> None:
    row = ((("a", "Tight chest"), ("b", "Knot in my stomach"), ("c", "Lump in my throat")),)
    labels = ["[1] Tight chest", "[2] Knot in my stomach", "[3] Lump in my throat"]
    for width in range(10, 80):
        lines = keyboard(row, width)
        cells = [c.strip() for line in lines for c in line.split("   ") if c.strip()]
        assert cells == labels
        assert all(len(line) <= width for line in lines if line.count("[") > 1)
    assert len(keyboard(row, 30)) == 3 and len(keyboard(row, 200)) == 1


def test_typing_a_number_on_the_scale_means_that_number(engine: Engine, store: Any) -> None:
    console = Console(engine, store, "local", channel=CHANNEL)
    console.buttons = [b for row in scale() for b in row]
    assert console.resolve("7") == Press("7")
    assert console.resolve("0") == Press("0")
    assert console.resolve("11") == parse_text("11")


# -- 4. several picks in one line ----------------------------------------------------------------


@pytest.mark.parametrize("typed", ["1, 3, 4", "1 3 4", "1,3 4", "1 3 4 3"])
def test_several_numbers_tick_each_button_in_order(engine: Engine, store: Any, typed: str) -> None:
    console = at_body(engine, store)
    ids = {n: bid for n, bid, _ in numbered(console.buttons)}
    shown = console.answer(typed)
    session, _ = store.load("local")
    assert session.state == "conflict.body"  # Done is still the user's to press
    assert session.draft["body"] == [ids[1], ids[3], ids[4]]
    assert sum(1 for r in shown if r.buttons) == 1  # the keyboard once, with the ticks
    ticked = [label for row in shown[-1].buttons for _, label in row if label.startswith("✓")]
    assert len(ticked) == 3
    done = next(n for n, bid, _ in numbered(console.buttons) if bid == "done")
    console.answer(str(done))
    assert console.state != "conflict.body"


def test_several_numbers_are_text_where_only_one_can_be_chosen(
    engine: Engine, store: Any, memory: SQLiteStore
) -> None:
    console = Console(engine, store, "local", channel=CHANNEL)
    console.send(parse_text("/start"))
    console.send(Press("next"))
    assert console.state == "onboarding.relationship"
    assert console.picks("1 2") == []
    at = at_body(engine, memory)
    assert at.picks("1 99") == []  # a number with no button: not picks
    assert at.picks("1") == []


# -- 6. no Telegram words in the terminal ---------------------------------------------------------


def test_every_text_the_terminal_says_is_free_of_telegram_words(content: Content) -> None:
    loc = content.locale("en")
    view = loc.channel(CHANNEL)
    said = {k: v for k, v in view.sources.items() if not k.startswith(("console.", "persona."))}
    # An include's name ("how.tap") is not a word said: the included text is checked itself.
    bare = {k: [INCLUDE.sub("", x) for x in v] for k, v in said.items()}
    found = sorted(k for k, v in bare.items() if any(map(TELEGRAM_WORDS.search, v)))
    assert found == []
    assert TELEGRAM_WORDS.search(loc.render_text("conflict.body", {}))  # Telegram keeps it


def test_an_override_reaches_the_texts_that_include_it(content: Content) -> None:
    said = {"rel": "teen", "persona": "teen", "moment": "flooded", "rcue": "pressure",
            "line": "", "adult": True}  # fmt: skip
    reply = Reply("rehearsal.note.raised", said)
    telegram, term = content.render(reply, "en"), content.render(reply, "en", CHANNEL)
    assert "tap <b>Take a 20-minute break</b>" in telegram.html
    assert "choose <b>Take a 20-minute break</b>" in term.html
    assert "tap" not in term.text.lower().split()


def test_an_override_keeps_the_static_fast_path(content: Content) -> None:
    loc = content.locale("en")
    view = loc.channel(CHANNEL)
    assert view is loc.channel(CHANNEL)  # built once
    over = "console.over.how.share_location"
    assert view.static["how.share_location"] == [loc.sources[over][0].strip()]
    assert view.render_text("how.share_location", {}) == loc.render_text(over, {})
    assert loc.render_text(over, {}) in view.render_text("daily.tz", {})  # through the include
    assert "📎" in loc.render_text("daily.tz", {})
    assert loc.channel("") is loc
    assert loc.channel("nowhere") is loc  # a channel with no versions of its own


def test_jsonl_keeps_the_texts_as_telegram_says_them(engine: Engine, store: Any) -> None:
    console = Console(engine, store, "local")
    for step in TO_BODY:
        console.send(parse_text(step) if isinstance(step, str) else step)
    _, rendered = console.send(Press("chest"))
    _, rendered = console.send(parse_text("/help"))
    assert "Tap the buttons" in rendered[0].text


def test_the_check_names_an_override_of_nothing() -> None:
    loc = SimpleNamespace(name="en", templates={"a.b": [], "console.over.a.b": [],
                                                "console.over.a.gone": []})  # fmt: skip
    assert check_overrides(loc) == ["en: 'console.over.a.gone' overrides no text 'a.gone'"]  # type: ignore[arg-type]


# -- 7. /privacy says where the chat is kept ------------------------------------------------------


def privacy(console: Console) -> str:
    """What /privacy says in the terminal."""
    console.send(parse_text("/start"))
    return "\n".join(r.text for r in console.send(parse_text("/privacy"))[1])


def test_privacy_names_the_file_and_says_it_is_not_encrypted(
    engine: Engine, store: SQLiteStore
) -> None:
    said = privacy(Console(engine, store, "local", channel=CHANNEL))
    assert store.path in said
    assert "not encrypted" in said
    assert "Telegram" not in said


def test_privacy_says_when_the_file_is_encrypted(engine: Engine, tmp_path: Path) -> None:
    sealed = open_store(tmp_path / "c.db", "", Sealer.from_setting(Fernet.generate_key().decode()))
    try:
        said = privacy(Console(engine, sealed, "local", channel=CHANNEL))
    finally:
        sealed.close()
    assert str(tmp_path / "c.db") in said
    assert "encrypted there" in said and "not encrypted" not in said


def test_privacy_in_memory_says_nothing_is_saved(engine: Engine, memory: SQLiteStore) -> None:
    said = privacy(Console(engine, memory, "local", channel=CHANNEL))
    assert "nothing of this chat is written to disk unless you ask for a file with /export" in said
    assert "encrypted" not in said.split("Where it is")[-1]


# -- 8. the goodbye tells the truth --------------------------------------------------------------


def chat_in(console: Console, typed: str) -> str:
    """The interactive loop on typed lines; what it printed."""
    out = io.StringIO()
    assert interactive(console, io.StringIO(typed), out) == 0
    return out.getvalue()


def test_goodbye_in_memory_says_nothing_was_saved(engine: Engine, memory: SQLiteStore) -> None:
    shown = chat_in(Console(engine, memory, "local"), "/quit\n")
    hello = " ".join(shown.split("\n\n")[0].split())  # wrapped to the terminal's width
    assert "Nothing is saved in this chat" in hello
    assert "except a file you ask for with /export" in hello
    bye = shown.rstrip().split("\n\n")[-1]
    assert "Nothing of this chat was saved" in bye and "repair-coach chat" not in bye


def test_goodbye_names_a_command_that_comes_back(
    engine: Engine, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    console = Console(engine, store, "sam lee")
    bye = chat_in(console, "1\n").rstrip().splitlines()
    assert "Everything is saved" in bye[-2]
    args = parser().parse_args(shlex.split(bye[-1].strip())[1:])
    assert (args.command, args.db, args.user) == ("chat", store.path, "sam lee")
    monkeypatch.setattr(terminal, "default_db", lambda: Path(store.path))
    assert resume_command(Console(engine, store, "local")) == "repair-coach chat"


def goodbye_of(shown: str) -> str:
    """The goodbye: everything after the last keyboard or text before it."""
    return shown.rstrip().split("\n\n")[-1]


def test_goodbye_after_delete_says_nothing_is_kept(
    engine: Engine, store: SQLiteStore, tmp_path: Path
) -> None:
    console = Console(engine, store, "sam")
    console.export_dir = tmp_path / "exports"
    bye = goodbye_of(chat_in(console, "/delete\n1\n"))  # 1: Erase
    assert store.load("sam")[0] is None
    assert "Everything is saved" not in bye and "repair-coach chat" not in bye
    assert "I keep nothing of our conversations now" in bye and "--db" not in bye
    assert "still on this computer" not in bye  # no file was written
    # Erased, then a new start: that conversation is kept, and the goodbye says so again.
    again = goodbye_of(chat_in(Console(engine, store, "sam"), "/delete\n1\n/start\n1\n"))
    assert "Everything is saved" in again and "sam" in again


def test_goodbye_after_delete_names_the_files_still_there(
    engine: Engine, store: SQLiteStore, tmp_path: Path
) -> None:
    console = Console(engine, store, "sam")
    console.export_dir = tmp_path / "exports"
    bye = goodbye_of(chat_in(console, "/delete\n1\n/export\n"))  # a file asked for after
    [written] = list((tmp_path / "exports").iterdir())
    assert "I keep nothing of our conversations now" in bye
    assert "still on this computer" in bye and f"    {written}" in bye.splitlines()


def test_goodbye_in_memory_names_the_export_it_wrote(
    engine: Engine, memory: SQLiteStore, tmp_path: Path
) -> None:
    console = Console(engine, memory, "local")
    console.export_dir = tmp_path / "exports"
    bye = goodbye_of(chat_in(console, "/export\n/export\n"))
    written = sorted((tmp_path / "exports").iterdir())
    assert len(written) == 2
    lines = bye.splitlines()
    assert all(f"    {path}" in lines for path in written)  # each path whole, on its own line
    assert "kept in memory only" in bye and "Nothing of this chat was saved" not in bye
    assert "repair-coach chat" not in bye


# -- /help lists every command the coach takes -------------------------------------------------


def engine_commands() -> set[str]:
    """Every command the engine answers: the names `Engine.on_command` compares with, the
    asides and the commands that lead to a state, and /start (an event of its own)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(Engine.on_command)))
    named = {
        c.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name)
        and node.left.id == "name"
        for c in ast.walk(ast.Tuple(elts=node.comparators))
        if isinstance(c, ast.Constant) and isinstance(c.value, str)
    }  # fmt: skip
    return named | set(ASIDES) | set(COMMAND_STATES) | {"start"}


def help_commands(console: Console) -> set[str]:
    """The commands /help names (every /word in its text)."""
    said = "\n".join(r.text for r in console.send(parse_text("/help"))[1])
    return set(re.findall(r"(?<![\w/])/([a-z_]+)\b", said))


def test_help_lists_every_command_the_coach_takes(
    engine: Engine, memory: SQLiteStore, tmp_path: Path
) -> None:
    known = engine_commands()
    assert set(COMMANDS) == known, "register the command in bot/telegram_adapter/app.py"
    telegram = Console(engine, memory, "t")
    telegram.export_dir = tmp_path  # /export writes its file here, not in the data folder
    for step in TO_BODY[:7]:  # onboarded: every command answered as itself
        telegram.send(parse_text(step) if isinstance(step, str) else step)
    assert telegram.state == "menu.home"
    assert help_commands(telegram) == known, "list it in menu.help (content/en/menu.yaml)"
    terminal = Console(engine, memory, "t", channel=CHANNEL)
    assert help_commands(terminal) == known | {q.removeprefix("/") for q in QUIT}
    unknown = engine.content.locale("en").render_text("common.unknown_command", {})
    for name in sorted(known - {"delete", "sos", "start"}):  # each really answered as known
        said = [r.text for r in telegram.send(parse_text(f"/{name}"))[1]]
        assert unknown not in said, name
        telegram.send(parse_text("/menu"))
    assert unknown in [r.text for r in telegram.send(parse_text("/nosuch"))[1]]


# -- 1. line editing -----------------------------------------------------------------------------


def test_escape_sequences_never_reach_an_answer(engine: Engine, store: SQLiteStore) -> None:
    assert clean("Rob\x1b[D\x1b[Din\x1bOD\x07\r\n") == "Robin"
    assert clean("\x1b[A") == ""
    typed = "1\n2\nRo\x1b[Dbin\n\x1b[A/quit\n"  # without line editing, ESC [ D comes through
    shown = chat_in(Console(engine, store, "local"), typed)
    assert "See you soon" in shown and "know that command" not in shown
    session, _ = store.load("local")
    assert session.profile.name == "Robin"


def read_until(fd: int, wanted: bytes, seen: bytearray) -> None:
    """Read the terminal's output until `wanted` has appeared (60 seconds at most)."""
    while wanted not in seen:
        ready, _, _ = select.select([fd], [], [], 60)
        assert ready, f"no {wanted!r} in {bytes(seen)[-300:]!r}"
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        seen += chunk


@pytest.mark.slow
def test_arrow_keys_edit_the_line_in_a_real_terminal(tmp_path: Path) -> None:
    db = tmp_path / "coach.db"
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "80", "HOME": str(tmp_path),
           "XDG_DATA_HOME": str(tmp_path / "data")}  # fmt: skip
    proc = subprocess.Popen([COMMAND, "chat", "--db", str(db)], stdin=slave, stdout=slave,
                            stderr=slave, env=env, close_fds=True)  # fmt: skip
    os.close(slave)
    seen, shown = bytearray(), bytearray()
    try:
        for keys in (b"1\r", b"2\r", b"Rbin\x1b[D\x1b[D\x1b[Do\r", b"\x1b[A\x1b[B/quit\r"):
            read_until(master, b"you> ", seen)
            shown += seen
            del seen[:]
            os.write(master, keys)
        read_until(master, b"See you soon", seen)
        shown += seen
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert b"^[[D" not in shown  # a terminal without line editing echoes ESC [ D so
    reopened = SQLiteStore(db)
    try:
        session, _ = reopened.load("local")
    finally:
        reopened.close()
    assert session is not None and session.profile.name == "Robin"
    assert not list(tmp_path.glob(".*history*"))  # nothing typed is written to a history file
