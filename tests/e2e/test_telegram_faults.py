"""What Telegram does to a bot in production: 429, 5xx, dropped connections, blocks, slowness."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bot_harness import polling_bot
from fake_telegram import Chat, FakeTelegram

from bot.storage import SQLiteStore

pytestmark = pytest.mark.slow


def test_faults_lose_nothing_and_send_nothing_twice(fake: FakeTelegram, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with polling_bot(fake, tmp_path / "c.db"):
            chat = Chat(fake, 801)
            fake.fail("sendMessage", 429, retry_after=1)
            out = await chat.say("/start")
            assert len(out) == 1 and "Hi, I'm a coach" in out[0].text
            fake.fail("sendMessage", 500, count=2)
            out = await chat.tap("Next")
            assert [m.text for m in out] == ["Who would you like to work on things with?"]
            fake.fail("sendMessage", 0, drop=True)
            out = await chat.tap("My partner")
            assert len(out) == 1 and "What do you call" in out[0].text
            fake.fail("sendMessage", 0, delay=0.8)  # slow, but within the timeout
            out = await chat.say("Kai")
            assert len(out) == 1
            fake.fail("editMessageReplyMarkup", 400)  # the tick fails: the turn still goes on
            fake.fail("answerCallbackQuery", 502)
            out = await chat.tap("Not now")
            assert len(out) == 1 and "where are you" in out[0].text
            fake.fail("getUpdates", 502, count=2)  # polling itself fails, then recovers
            out = await chat.say("Berlin")
            assert "Europe/Berlin" in out[-1].text
            texts = [m.text for m in fake.to(chat.id)]
            assert len(texts) == len(set(texts))  # nothing said twice
        assert {code for _, code, _ in fake.errors} == {429, 500, 400, 502}

    asyncio.run(scenario())


def test_a_user_who_blocks_the_bot_is_marked_inactive(fake: FakeTelegram, tmp_path: Path) -> None:
    db = tmp_path / "c.db"

    async def scenario() -> None:
        async with polling_bot(fake, db):
            chat = Chat(fake, 802)
            await chat.say("/start")
            fake.member(chat.id, "kicked")
            await fake.until(lambda: not SQLiteStore(db).is_active("tg:802"))
            fake.member(chat.id, "member")
            await fake.until(lambda: SQLiteStore(db).is_active("tg:802"))
            with fake.lock:
                fake.blocked.add(chat.id)  # blocked, but the update did not reach us
            fake.press(chat.id, chat.keyboard(), "Next")
            await fake.until(lambda: not SQLiteStore(db).is_active("tg:802"))
            with fake.lock:
                fake.blocked.discard(chat.id)
            out = await chat.say("/help")  # they come back: active again, answered
            assert "How this works" in out[-1].text
            assert SQLiteStore(db).is_active("tg:802")

    asyncio.run(scenario())


def test_an_error_in_a_turn_gets_an_apology_not_silence(
    fake: FakeTelegram,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        async with polling_bot(fake, tmp_path / "c.db") as app:
            chat = Chat(fake, 803)
            await chat.say("/start")
            coach = app.bot_data["runtime"].coach
            real = coach.engine.handle
            calls = {"n": 0}

            def flaky(*args: object, **kw: object) -> object:
                calls["n"] += 1
                if calls["n"] == 1:
                    words = "SECRET user words must not be logged"
                    raise RuntimeError(words)
                return real(*args, **kw)  # type: ignore[arg-type]

            monkeypatch.setattr(coach.engine, "handle", flaky)
            out = await chat.tap("Next")
            assert "Sorry, something went wrong" in out[0].text
            out = await chat.tap("Next")  # the keyboard still works: nothing was applied
            assert "Who would you like" in out[-1].text

    asyncio.run(scenario())
    assert "turn failed: RuntimeError" in caplog.text
    assert "SECRET" not in caplog.text
