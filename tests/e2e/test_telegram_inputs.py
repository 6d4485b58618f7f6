"""Bad input of every kind, over real HTTP: a kind reply, nothing lost, nothing said twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bot_harness import polling_bot
from fake_telegram import Chat, FakeTelegram

pytestmark = pytest.mark.slow


def test_non_text_edits_groups_and_long_text(fake: FakeTelegram, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with polling_bot(fake, tmp_path / "c.db"):
            chat = Chat(fake, 601)
            await chat.say("/start")
            await chat.tap("Next")
            await chat.tap("My partner")
            for send in (fake.sticker, fake.photo, fake.voice, fake.location):
                before = chat.count()
                send(chat.id)
                out = await chat.settle(before)
                assert "text" in out[0].text  # "I can only read text…" / "…only text."
                assert "What do you call" in out[-1].text  # the question again: no dead end
            out = await chat.say("<b>Sam</b> {{ 7*7 }} & co")
            assert "Would you like one short reflection" in out[-1].text
            out = await chat.say("/back")
            assert "&lt;b&gt;Sam&lt;/b&gt; {{ 7*7 }} &amp; co" in out[-1].html  # escaped, as text
            assert "<b>Sam</b> {{ 7*7 }} & co" in out[-1].text and "49" not in out[-1].text
            await chat.say("Sam")
            before = chat.count()
            fake.edited(chat.id, "changed my mind")
            out = await chat.settle(before)
            assert "edited" in out[0].text
            long = "I was tired. " * 300  # 3,900 characters
            out = await chat.say(long)  # no answer to the yes/no: the choices again, kindly
            assert [label for label, _ in out[-1].buttons()] == ["Yes, please", "Not now"]
            assert "/help" not in out[-1].text
            for _ in range(3):
                fake.group_text(-100777, chat.id, "hello coach")
            await fake.until(lambda: len(fake.to(-100777)) == 1)
            await asyncio.sleep(0.3)
            assert len(fake.to(-100777)) == 1  # said once, nothing personal
            assert "private" in fake.to(-100777)[0].text
        assert fake.errors == []

    asyncio.run(scenario())


def test_double_taps_stale_and_forged_buttons(fake: FakeTelegram, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with polling_bot(fake, tmp_path / "c.db"):
            chat = Chat(fake, 602)
            await chat.say("/start")
            welcome = chat.keyboard()
            await chat.tap("Next")
            assert fake.messages[(chat.id, welcome.message_id)].buttons()[0][0] == "✓ Next"
            before, answers = chat.count(), len(fake.calls_of("answerCallbackQuery"))
            fake.press(chat.id, fake.messages[(chat.id, welcome.message_id)], "next")
            fake.press_data(chat.id, welcome, "zz|partner")  # forged token
            fake.press_data(chat.id, welcome, "x" * 64)  # forged, no token at all
            await fake.until(lambda: len(fake.calls_of("answerCallbackQuery")) == answers + 3)
            await asyncio.sleep(0.2)
            assert chat.count() == before  # nothing sent, nothing changed
            notes = fake.calls_of("answerCallbackQuery")[-3:]
            assert all("earlier message" in n.get("text", "") for n in notes)
            out = await chat.tap("My child")  # the current keyboard still works
            assert "How old" in out[-1].text
        assert fake.errors == []

    asyncio.run(scenario())


def test_one_chat_in_order_many_chats_at_once(fake: FakeTelegram, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with polling_bot(fake, tmp_path / "c.db"):
            users = [Chat(fake, 700 + i) for i in range(20)]
            for u in users:  # a burst: every user's three messages queued before any reply
                fake.text(u.id, "/start")
                fake.text(u.id, "/help")
                fake.text(u.id, "/privacy")
            for u in users:
                await fake.until(lambda u=u: len(fake.to(u.id)) >= 3)
            await asyncio.sleep(0.2)
            for u in users:
                texts = [m.text for m in fake.to(u.id)]
                assert len(texts) == 3, texts
                assert texts[0].startswith("Hi, I'm a coach")
                assert texts[1].startswith("How this works")
                assert texts[2].startswith("What I keep")

    asyncio.run(scenario())


def test_a_shared_location_sets_the_time_zone(fake: FakeTelegram, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with polling_bot(fake, tmp_path / "c.db"):
            chat = Chat(fake, 602)
            await chat.say("/start")
            await chat.tap("Next")
            await chat.tap("My partner")
            await chat.say("Sam")
            await chat.tap("Not now")
            before = chat.count()
            fake.location(chat.id)  # Berlin, at the question where they are: the answer
            out = await chat.settle(before)
            assert "Europe/Berlin" in out[-1].text
            await chat.tap("Yes, that's right")
            await chat.say("/timezone")
            before = chat.count()
            fake.location(chat.id)
            out = await chat.settle(before)
            assert "Got it: Europe/Berlin" in out[0].text
        assert fake.errors == []

    asyncio.run(scenario())
