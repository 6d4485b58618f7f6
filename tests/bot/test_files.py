"""The terminal's files: private from creation, never colliding, removed by /delete, and a kind
line (never a traceback) when the folder cannot be written."""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from bot import files
from bot.console import Console
from bot.storage import Store, open_store
from dialogue.content import Content
from dialogue.engine import Engine
from dialogue.events import Command, Press
from dialogue.replies import Effect, Reply

CHART = Effect("chart", {"kind": "progress"})


def _mode(path: Path) -> int:
    """A file's permission bits."""
    return stat.S_IMODE(path.stat().st_mode)


def _say(content: Content, key: str, **variables: str) -> str:
    """A content text as the terminal shows it."""
    return content.render(Reply(key, variables), "en").text


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A SQLite store in a temporary folder."""
    opened = open_store(tmp_path / "coach.db")
    yield opened
    opened.close()


def console_for(engine: Engine, store: Store, user: str, folder: Path, now: datetime) -> Console:
    """A terminal chat for `user` writing its files into `folder`, charts drawn as stand-ins."""
    console = Console(engine, store, user, clock=lambda: now)
    console.export_dir = folder
    console.coach.chart = lambda figures, locale: b"\x89PNG stand-in"  # type: ignore[method-assign]
    return console


def test_two_files_in_the_same_second_never_collide(tmp_path: Path, now: datetime) -> None:
    one = files.write_private(tmp_path / "x", "export", "u", now, "json", b"one")
    two = files.write_private(tmp_path / "x", "export", "u", now, "json", b"two")
    assert one != two and (one.read_bytes(), two.read_bytes()) == (b"one", b"two")
    assert sorted(os.listdir(tmp_path / "x")) == sorted([one.name, two.name])  # no temp left


def test_an_existing_name_is_never_replaced(
    tmp_path: Path, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    hexes = iter(["aaaaaa", "t1t1t1t1", "bbbbbb", "t2t2t2t2"])
    monkeypatch.setattr(files.secrets, "token_hex", lambda n: next(hexes))
    taken = tmp_path / f"repair-coach-export-u-{now:%Y%m%d-%H%M%S}-aaaaaa.json"
    taken.write_bytes(b"earlier")
    path = files.write_private(tmp_path, "export", "u", now, "json", b"new")
    assert taken.read_bytes() == b"earlier" and path.name.endswith("-bbbbbb.json")
    assert path.read_bytes() == b"new"


def test_files_are_private_from_creation_whatever_the_umask(
    tmp_path: Path, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[tuple[int, int]] = []
    real_open = os.open

    def spy(path: str, flags: int, mode: int = 0o777) -> int:
        opened.append((flags, mode))
        return real_open(path, flags, mode)

    monkeypatch.setattr(files.os, "open", spy)
    folder = tmp_path / "data" / "exports"
    folder.mkdir(parents=True, mode=0o755)
    folder.chmod(0o755)  # a folder left open by someone: tightened
    old = os.umask(0)
    try:
        path = files.write_private(folder, "export", "u", now, "json", b"{}")
        fresh = files.write_private(tmp_path / "new" / "exports", "export", "u", now, "json", b"")
    finally:
        os.umask(old)
    assert _mode(path) == 0o600 and _mode(folder) == 0o700
    assert _mode(fresh.parent) == _mode(fresh.parent.parent) == 0o700  # parents made private too
    assert [(f & os.O_EXCL, f & os.O_CREAT, m) for f, m in opened] == [
        (os.O_EXCL, os.O_CREAT, 0o600)
    ] * 2  # created 0600 by the one call that made it: never readable by others, even briefly


def test_safe_ids_never_share_a_name() -> None:
    ids = ["a.b", "a_b", "a/b", "a:b", "a b", "a-b", "ab", "tg:1", "tg_1", "..", "a.2e.b"]
    assert len({files.safe_id(i) for i in ids}) == len(ids)
    assert all("/" not in files.safe_id(i) for i in ids)


def test_delete_removes_this_users_exports_and_charts_only(
    engine: Engine, store: Store, content: Content, tmp_path: Path, now: datetime
) -> None:
    folder = tmp_path / "exports"
    mine = console_for(engine, store, "a", folder, now)
    others = [console_for(engine, store, u, folder, now) for u in ("a-b", "a_b", "a.b", "b")]
    for who in (mine, *others):
        who.send(Command("start"))
        who.send(Command("export"))
        assert files.on_effect(who, CHART, now) is not None
    legacy = folder / f"repair-coach-progress-a-{now:%Y%m%d-%H%M%S}.png"  # an older version's
    legacy.write_bytes(b"old")
    theirs = sorted(p for p in folder.iterdir() if p != legacy and "-a-2" not in p.name)
    assert len(files.user_files(folder, "a")) == 3 and len(theirs) == 8
    mine.send(Command("delete"))
    _, rendered = mine.send(Press("erase"))
    assert files.user_files(folder, "a") == [] and not legacy.exists()
    assert sorted(folder.iterdir()) == theirs  # everyone else's untouched
    assert all("couldn't remove" not in r.text for r in rendered)


def test_delete_says_where_the_files_are_when_it_cannot_remove_them(
    engine: Engine, store: Store, content: Content, tmp_path: Path, now: datetime
) -> None:
    folder = tmp_path / "exports"
    console = console_for(engine, store, "a", folder, now)
    console.send(Command("start"))
    stuck = folder / f"repair-coach-export-a-{now:%Y%m%d-%H%M%S}-abcdef.json"
    stuck.mkdir(parents=True)  # cannot be unlinked, even by root
    console.send(Command("delete"))
    _, rendered = console.send(Press("erase"))
    named = "repair-coach-*-a-*"  # matches the file left, and only user a's
    assert rendered[-1].text == _say(content, "console.files_left", folder=str(folder),
                                     named=named)  # fmt: skip
    assert str(folder) in rendered[-1].text and named in rendered[-1].text
    assert fnmatch.fnmatch(stuck.name, named) and not fnmatch.fnmatch(
        "repair-coach-export-ab-x", named
    )


def test_a_folder_that_cannot_be_written_gets_a_kind_line(
    engine: Engine, store: Store, content: Content, tmp_path: Path, now: datetime
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    folder = blocker / "exports"  # NotADirectoryError, for root too
    console = console_for(engine, store, "a", folder, now)
    console.send(Command("start"))
    _, rendered = console.send(Command("export"))
    kind = _say(content, "console.not_saved", folder=str(folder))
    assert rendered[-1].text == kind
    assert files.on_effect(console, CHART, now).text == kind  # type: ignore[union-attr]
    _, rendered = console.send(Command("delete"))
    _, rendered = console.send(Press("erase"))  # nothing to remove there: nothing to say
    assert "couldn't" not in rendered[-1].text


def test_in_memory_keeps_no_chart_but_writes_the_export_asked_for(
    engine: Engine, content: Content, tmp_path: Path, now: datetime
) -> None:
    memory = open_store(":memory:")
    folder = tmp_path / "exports"
    console = console_for(engine, memory, "a", folder, now)
    try:
        console.send(Command("start"))
        said = files.on_effect(console, CHART, now)
        assert said is not None and said.text == _say(content, "console.not_kept")
        assert not folder.exists()
        _, rendered = console.send(Command("export"))
        assert [p.name.split("-")[2] for p in folder.iterdir()] == ["export"]
        assert rendered[-1].text.startswith("Saved to ")
    finally:
        memory.close()
