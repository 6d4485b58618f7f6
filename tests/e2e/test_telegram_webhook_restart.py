"""Webhook mode (stored before 200, secret checked, redelivery harmless) and restarts."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from bot_harness import polling_bot, webhook_bot
from fake_telegram import TOKEN, Chat, FakeTelegram

from bot.storage import SQLiteStore, StorageError

pytestmark = pytest.mark.slow


async def deliver(client, chat: Chat, action) -> list:
    before = chat.count()
    action()
    statuses = await client.deliver()
    assert statuses == [200]
    return await chat.settle(before)


def test_webhook_journey_secret_and_redelivery(fake: FakeTelegram, tmp_path: Path) -> None:
    db = tmp_path / "c.db"

    async def scenario() -> None:
        async with webhook_bot(fake, db) as client:
            chat = Chat(fake, 901)
            await deliver(client, chat, lambda: fake.text(chat.id, "/start"))
            fake.press(chat.id, chat.keyboard(), "Next")
            with fake.lock:
                update = fake.updates[-1]
            assert await client.post(update, secret="wrong") == 401
            assert chat.count() == 1
            for body in ([update], "update", 7, {"update_id": "1"}, {"message": {}}):
                assert await client.post(body) == 400  # type: ignore[arg-type]
            with SQLiteStore(db).transaction() as run:
                assert run("SELECT count(*) FROM inbox", ()).fetchone()[0] == 0  # nothing kept
            assert await client.post(update) == 200  # stored when 200 comes back, then applied
            await fake.until(lambda: "Who would you like" in chat.text())
            assert SQLiteStore(db).load("tg:901")[0].state == "onboarding.relationship"  # type: ignore[union-attr]
            sent = chat.count()
            assert await client.post(update) == 200  # Telegram redelivers: applied once only
            await asyncio.sleep(0.2)
            assert chat.count() == sent
            with fake.lock:
                fake.updates.clear()
            out = await deliver(
                client, chat, lambda: fake.press(chat.id, chat.keyboard(), "My partner")
            )
            assert "What do you call" in out[-1].text
        assert fake.errors == []

    asyncio.run(scenario())


def test_webhook_unstored_update_is_503_and_a_failed_turn_is_tried_again(
    fake: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "c.db"

    async def scenario() -> None:
        async with webhook_bot(fake, db) as client:
            chat = Chat(fake, 902)
            await deliver(client, chat, lambda: fake.text(chat.id, "/start"))
            failures = {"receive": 1, "transact": 1}

            def flaky(name):
                real = getattr(SQLiteStore, name)

                def call(self, *args, **kw):
                    if failures[name]:
                        failures[name] -= 1
                        raise StorageError("disk hiccup")
                    return real(self, *args, **kw)

                return call

            for name in failures:
                monkeypatch.setattr(SQLiteStore, name, flaky(name))
            fake.press(chat.id, chat.keyboard(), "Next")
            with fake.lock:
                update = fake.updates.pop()
            assert await client.post(update) == 503  # not stored: Telegram will send it again
            assert await client.post(update) == 200  # stored; its turn fails once, then applies
            await fake.until(lambda: "Who would you like" in chat.text())
            assert SQLiteStore(db).load("tg:902")[0].state == "onboarding.relationship"  # type: ignore[union-attr]
            assert chat.text().count("Who would you like") == 1
            assert "Sorry" not in chat.text()  # never asked to repeat what was kept

    asyncio.run(scenario())


def test_a_restart_in_the_middle_resumes_the_conversation(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "c.db"

    async def first() -> None:
        async with polling_bot(fake, db):
            chat = Chat(fake, 903)
            await chat.say("/start")
            await chat.tap("Next")
            await chat.tap("My child")

    async def second() -> None:
        async with polling_bot(fake, db):
            chat = Chat(fake, 903)
            out = await chat.tap("Teen (13+)")  # the keyboard sent before the restart
            assert "What do you call" in out[-1].text

    asyncio.run(first())
    asyncio.run(second())


def test_repair_coach_run_survives_kill_9(fake: FakeTelegram, tmp_path: Path) -> None:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": fake.base_url,
           "REPAIR_COACH_DATABASE": str(tmp_path / "c.db")}  # fmt: skip
    command = [str(Path(sys.executable).parent / "repair-coach"), "run"]

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    bot = start()
    try:
        fake.text(904, "/start")
        fake.wait_until(lambda: len(fake.to(904)) == 1)
        fake.press(904, fake.to(904)[-1], "Next")
        fake.wait_until(lambda: len(fake.to(904)) == 2)
        bot.send_signal(signal.SIGKILL)
        _, first_err = bot.communicate(timeout=10)
        assert b"TEST-token" not in first_err
        bot = start()
        fake.press(904, fake.last(904), "My partner")
        fake.wait_until(lambda: len(fake.to(904)) == 3)
        assert "What do you call" in fake.to(904)[-1].text
    finally:
        bot.send_signal(signal.SIGTERM)
        try:
            _, err = bot.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            bot.kill()
            _, err = bot.communicate()
    assert b"Traceback" not in err
    assert b"TEST-token" not in err  # the token never reaches the logs
