"""A newcomer's whole journey to a plan card, through the real Application over real HTTP."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from bot_harness import polling_bot
from fake_telegram import Chat, FakeTelegram

pytestmark = pytest.mark.slow


async def onboard_partner(chat: Chat) -> None:
    """/start through onboarding as a partner called Robin, in London."""
    out = await chat.say("/start")
    assert "Hi, I'm a coach" in out[0].text
    await chat.tap("Next")
    await chat.tap("My partner")
    await chat.say("Robin")
    await chat.tap("Not now")
    await chat.say("London")
    out = await chat.tap("Yes, that's right")
    assert out[-1].buttons()[0][0] == "Work through a conflict"


def test_newcomer_reaches_a_plan_card(fake: FakeTelegram, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with polling_bot(fake, tmp_path / "coach.db"):
            chat = Chat(fake, 501)
            await onboard_partner(chat)
            await chat.tap("Work through a conflict")
            await chat.say("We argued about the bills. I said 'you never plan ahead' and left.")
            await chat.say("Robin said: you never plan. I said: forget it, and left the room.")
            await chat.say("Robin went quiet")
            # Typed at the body step (no camera question came): the closest choices, then all.
            out = await chat.say("I raised my voice at Robin and walked out")
            assert "/help" not in out[-1].text
            await chat.tap("Show all the choices")
            await chat.tap("Tight chest", expect_messages=False)
            assert chat.keyboard().buttons()[0][0] == "✓ Tight chest"  # ticked in place
            await chat.tap("Done")
            await chat.say("hurt and a bit ashamed")
            await chat.tap("Done")
            await chat.tap("Next")
            await chat.tap("Next")
            await chat.tap("Skip")  # what they would tell a friend (after shame)
            await chat.tap("Done")  # nothing ticked underneath
            await chat.tap("To be heard")
            await chat.tap("Understanding")
            await chat.tap("3")
            await chat.tap("No")
            await chat.tap("Name it and own my part", expect_messages=False)
            await chat.tap("Done")
            out = await chat.tap("Write my own")
            out = await chat.say("You always do this, answer me right now")
            assert "A softer way might be" in out[-1].text
            await chat.tap("Use the softer version")
            out = await chat.tap("Tomorrow")
            card = out[0]
            assert "Your repair plan with Robin" in card.text
            assert "<b>Your repair plan with Robin</b>" in card.html
            assert "Name it and own my part" in card.text
            sends = len(fake.calls_of("sendDocument"))
            out = await chat.say("/export")
            await fake.until(lambda: len(fake.calls_of("sendDocument")) == sends + 1)
            assert fake.to(chat.id)[-1].text == "<document>"
            assert "Everything I keep" in fake.calls_of("sendDocument")[-1]["caption"]
            export = json.loads(fake.files[-1][1])
            assert export["Repair plans"][0]["With"] == "Robin"  # for a person (bot/export.py)
            out = await chat.say("/journal")
            assert "With Robin: “We argued about the bills." in out[-1].text  # its own words
            out = await chat.tap("1")
            assert "Your repair plan with Robin" in out[-1].text
            photos = len(fake.calls_of("sendPhoto"))
            await chat.say("/progress")
            await fake.until(lambda: len(fake.calls_of("sendPhoto")) == photos + 1)
            assert fake.files[-1][1].startswith(b"\x89PNG")
        # Nothing Telegram refused, and every press answered.
        assert fake.errors == []
        assert fake.open_queries == set()  # every press was answered
        menu = [c["command"] for c in fake.commands[""]]
        assert menu[:4] == ["start", "new", "rehearse", "space"]

    asyncio.run(scenario())


def test_crisis_deep_link_and_commands_over_telegram(fake: FakeTelegram, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with polling_bot(fake, tmp_path / "coach.db"):
            chat = Chat(fake, 502)
            await onboard_partner(chat)
            out = await chat.say("/start new")  # a deep link straight into a conflict
            assert "What happened" in out[-1].text
            actions = len(fake.calls_of("sendChatAction"))
            out = await chat.say("honestly i just want to end it all")
            assert len(out) == 3  # care, crisis lines (UK: the user is in London), the question
            assert "Samaritans" in out[1].text and "116 123" in out[1].text
            assert "Do you think you might act on these thoughts tonight?" in out[2].text
            assert len(fake.calls_of("sendChatAction")) == actions + 1  # "typing…" first
            await chat.tap("No, not tonight")
            out = await chat.tap("Go on where we were")
            assert "What happened" in out[-1].text
        assert fake.errors == []

    asyncio.run(scenario())
