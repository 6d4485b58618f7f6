"""The files the terminal coach writes for a user (exports, charts): private, atomic, unique,
and found again by the user's id so /delete can remove them."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_data_dir

from dialogue.content import Rendered
from dialogue.replies import Effect

if TYPE_CHECKING:
    from bot.console import Console

PREFIX = "repair-coach"
TRIES = 20  # unique names tried before giving up (each has 24 random bits)
# repair-coach-<what>-<safe id>-<YYYYmmdd-HHMMSS>[-<hex>].<suffix>, or a temporary
# .<that name>.<hex>.tmp left by a crash; the fixed tail makes the safe id unambiguous.
NAME = re.compile(
    rf"^\.?{PREFIX}-(?P<what>[a-z]+)-(?P<safe>.+)-\d{{8}}-\d{{6}}(?:-[0-9a-f]{{6}})?"
    r"\.[a-z]+(?:\.[0-9a-f]+\.tmp)?$"
)


def data_folder() -> Path:
    """The user's data folder for the coach (the database lives here by default)."""
    return Path(user_data_dir(PREFIX, appauthor=False))


def exports_folder() -> Path:
    """Where the terminal coach writes exports and charts."""
    return data_folder() / "exports"


def safe_id(user_id: str) -> str:
    """A user id as part of a file name: letters, digits, - and _ kept, the rest escaped.

    The escape (.<hex>.) never appears otherwise, so two ids never share a name.
    """
    return "".join(c if c.isalnum() or c in "-_" else f".{ord(c):x}." for c in user_id)


def private_folder(folder: Path) -> None:
    """Create the folder (and any missing parent) readable by its owner only, and tighten it
    if it was not."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        folder.chmod(0o700)


def write_private(  # noqa: PLR0917 - what the name is made of, and the bytes
    folder: Path, what: str, user_id: str, moment: datetime, suffix: str, body: bytes
) -> Path:
    """Write a new file atomically, 0600 from its creation; never replace an existing one."""
    private_folder(folder)
    for _ in range(TRIES):
        name = f"{PREFIX}-{what}-{safe_id(user_id)}-{moment:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
        path = folder / f"{name}.{suffix}"
        temp = folder / f".{path.name}.{secrets.token_hex(4)}.tmp"
        _write_new(temp, body)
        try:
            os.link(temp, path)  # atomic, and fails rather than overwrite
        except FileExistsError:
            continue
        except OSError:  # a filesystem without hard links: the random name keeps it unique
            if path.exists():
                continue
            os.replace(temp, path)
            return path
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
        return path
    raise FileExistsError(folder)


def _write_new(path: Path, body: bytes) -> None:
    """Create `path` 0600 (never an existing file), write and flush it; remove it on failure."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise


def user_files(folder: Path, user_id: str) -> list[Path]:
    """Every file the coach wrote into `folder` for this user (none if there is no folder)."""
    try:
        names = sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    safe = safe_id(user_id)
    return [folder / n for n in names if (m := NAME.match(n)) and m["safe"] == safe]


def remove_user_files(folder: Path, user_id: str) -> list[Path]:
    """Remove every file the coach wrote for this user; return those that could not be."""
    try:
        found = user_files(folder, user_id)
    except OSError:  # the folder cannot even be read
        return [folder]
    left = []
    for path in found:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            left.append(path)
    return left


def on_effect(console: Console, effect: Effect, now: datetime | None = None) -> Rendered | None:
    """Carry out a turn's effect on the user's files in the terminal; the line it says, if any.

    /export writes its file even when the chat keeps nothing (the user asked for it); a chart
    is then not saved. A folder that cannot be written gets a kind line, never a traceback.
    """
    say = console.content.locale(console.locale).render_text
    folder = console.folder
    try:
        if effect.kind == "export":
            return Rendered(say("console.exported", {"path": str(console.export(now))}), ())
        if effect.kind == "chart":
            if console.in_memory:
                return Rendered(say("console.not_kept", {}), ())
            what = str(effect.data.get("kind", "progress"))
            path = console.save(what, "png", console.coach.chart(effect.data, console.locale), now)
            return Rendered(say("console.chart_saved", {"path": str(path)}), ())
    except OSError:
        return Rendered(say("console.not_saved", {"folder": str(folder)}), ())
    if effect.kind == "erase_all" and remove_user_files(folder, console.user_id):
        named = f"{PREFIX}-*-{safe_id(console.user_id)}-*"
        return Rendered(say("console.files_left", {"folder": str(folder), "named": named}), ())
    return None
