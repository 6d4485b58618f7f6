"""`repair-coach run` starting up: a Bot API it cannot reach yet, a token Telegram refuses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from fake_telegram import TOKEN, FakeTelegram

COMMAND = [str(Path(sys.executable).parent / "repair-coach"), "run"]
pytestmark = pytest.mark.slow


def _env(fake: FakeTelegram, tmp_path: Path, token: str = TOKEN) -> dict[str, str]:
    return {**os.environ, "TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_BASE_URL": fake.base_url,
            "REPAIR_COACH_DATABASE": str(tmp_path / "c.db")}  # fmt: skip


def _stop(bot: subprocess.Popen[str]) -> str:
    bot.send_signal(signal.SIGTERM)
    try:
        return bot.communicate(timeout=20)[1]
    except subprocess.TimeoutExpired:
        bot.kill()
        return bot.communicate()[1]


def test_run_waits_for_telegram_with_a_line_a_try_then_starts(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    fake.fail("getMe", status=502, count=2)  # Telegram's gateway down for the first two tries
    bot = subprocess.Popen(COMMAND, env=_env(fake, tmp_path), stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        fake.text(951, "/start")
        fake.wait_until(lambda: len(fake.to(951)) == 1, timeout=60)
    finally:
        err = _stop(bot)
    assert "Traceback" not in err and TOKEN not in err
    tries = [ln for ln in err.splitlines() if "cannot reach the Telegram Bot API" in ln]
    assert len(tries) == 2, err
    assert "trying again in 1 s" in tries[0] and "trying again in 2 s" in tries[1]
    started = [ln for ln in err.splitlines() if "started as @repair_coach_bot" in ln]
    assert len(started) == 1, err
    assert "long polling" in started[0] and "sqlite" in started[0]
    assert "encryption off" in started[0]
    assert "transitions" not in err and "apscheduler" not in err  # no per-turn chatter


def test_a_refused_token_ends_in_one_line(fake: FakeTelegram, tmp_path: Path) -> None:
    proc = subprocess.run(COMMAND, env=_env(fake, tmp_path, token="1:WRONG-token"),
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "WRONG-token" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("repair-coach: TELEGRAM_BOT_TOKEN") and "@BotFather" in last
