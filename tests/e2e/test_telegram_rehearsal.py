"""Rehearsal through the real Application over real HTTP: the peek-a-boo scene with a
simulated baby, "typing…" before each of its replies, and the picture of the turns."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bot_harness import polling_bot
from fake_telegram import Chat, FakeTelegram

pytestmark = pytest.mark.slow


def test_a_parent_rehearses_the_attuned_way_and_the_baby_comes_back(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with polling_bot(fake, tmp_path / "coach.db", persona_pause=0.2):
            chat = Chat(fake, 601)
            await chat.say("/start")
            await chat.tap("Next")
            await chat.tap("My child")
            await chat.tap("Baby (0–1)")
            await chat.say("Leo")
            await chat.tap("Not now")
            await chat.say("London")
            await chat.tap("Yes, that's right")
            out = await chat.say("/rehearse")
            assert [b for b, _ in out[-1].buttons()][:2] == ["A baby", "A toddler"]
            await chat.tap("A baby")
            out = await chat.tap("Turned away, overwhelmed")
            assert "I'll be Leo" in out[0].text
            assert out[-1].html.startswith("<i>")  # a baby's reply is what it does
            labels = [b for b, _ in out[-1].buttons()]
            assert "Wait a moment" in labels and "Take a 20-minute break" not in labels
            # Pursuit first: he turns further away, and the coach says why.
            out = await chat.say("LOOK AT ME! Leo! peekaboo!")
            assert "pressure" in out[-1].text and "sit back" in out[-1].text
            # Then waiting: he settles, and comes back by himself.
            for _ in range(8):
                out = await chat.tap("Wait a moment")
                if "reaching for you" in out[-1].text:
                    break
            assert "reaching for you" in out[-1].text
            photos = len(fake.calls_of("sendPhoto"))
            for _ in range(8):
                out = await chat.say("Oh, there you are! I smile at you")
                if "You reconnected." in fake.to(chat.id)[-1].text:
                    break
            assert "You reconnected." in chat.text()
            await fake.until(lambda: len(fake.calls_of("sendPhoto")) == photos + 1)
            assert fake.files[-1][1].startswith(b"\x89PNG")
            assert "arousal" in fake.calls_of("sendPhoto")[-1]["caption"]
            # Every reply of the simulated baby was preceded by "typing…".
            calls = fake.calls_for(chat.id)
            practice = [i for i, (m, p) in enumerate(calls)
                        if m == "sendMessage" and str(p.get("text", "")).startswith("<i>")
                        and "Coach:" not in str(p.get("text", ""))]  # fmt: skip
            assert len(practice) >= 4
            for i in practice[1:]:  # the first is the scene, set with the intro
                before = [m for m, _ in calls[:i] if m != "answerCallbackQuery"]
                assert before[-1] == "sendChatAction", calls[i]
        assert fake.errors == []
        assert fake.open_queries == set()

    asyncio.run(scenario())
