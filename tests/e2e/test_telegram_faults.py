"""What Telegram does to a bot in production: 429, 5xx, dropped connections, blocks, slowness."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bot_harness import polling_bot
from fake_telegram import Chat, FakeTelegram

from bot.storage import SQLiteStore
from bot.telegram_adapter.delivery import MAX_ATTEMPTS

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
            fake.fail("sendMessage", 0, drop_after=True)  # carried out, then the line went dead
            out = await chat.tap("My partner")
            assert len(out) == 1 and "What do you call" in out[0].text  # once: not repeated
            fake.fail("sendMessage", 0, delay=0.8)  # slow, but within the timeout
            out = await chat.say("Kai")
            assert len(out) == 1
            fake.fail("editMessageReplyMarkup", 400)  # the tick fails: the turn still goes on
            fake.fail("answerCallbackQuery", 502)
            out = await chat.tap("Not now")
            assert len(out) == 1 and "Where are you" in out[0].text
            fake.fail("getUpdates", 502, count=2)  # polling itself fails, then recovers
            out = await chat.say("Berlin")
            assert "Europe/Berlin" in out[-1].text
            texts = [m.text for m in fake.to(chat.id)]
            assert len(texts) == len(set(texts))  # nothing said twice
            # A reset after the request was written is "in doubt" whether or not Telegram carried
            # it out: never repeated (a gap is better than a duplicate).
            fake.fail("sendMessage", 0, drop=True)
            before = chat.count()
            fake.text(chat.id, "/help")
            await fake.until(lambda: not fake.faults)
            await asyncio.sleep(0.5)
            assert chat.count() == before
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


def test_a_failing_turn_is_tried_again_then_apologised_for(
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
            failures = {"left": 1}

            def flaky(*args: object, **kw: object) -> object:
                if failures["left"]:
                    failures["left"] -= 1
                    words = "SECRET user words must not be logged"
                    raise RuntimeError(words)
                return real(*args, **kw)  # type: ignore[arg-type]

            monkeypatch.setattr(coach.engine, "handle", flaky)
            out = await chat.tap("Next")  # failed once, stored, tried again: answered
            assert [m.text for m in out] == ["Who would you like to work on things with?"]
            failures["left"] = MAX_ATTEMPTS  # a turn that keeps failing: dropped, with an apology
            out = await chat.tap("My partner")
            assert "Sorry, something went wrong" in out[-1].text
            out = await chat.tap("My partner")  # the keyboard still works: nothing was applied
            assert "What do you call" in out[-1].text
            texts = [m.text for m in fake.to(chat.id)]
            assert len(texts) == len(set(texts))

    asyncio.run(scenario())
    assert "turn failed: RuntimeError" in caplog.text
    assert "SECRET" not in caplog.text
