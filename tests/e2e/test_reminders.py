"""Reminders through the real Application and the fake Bot API: on time, once each, within
Telegram's limits, past blocked users and failed sends."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from bot_harness import coach_for, polling_bot
from fake_telegram import Chat, FakeTelegram
from workers import Worker, pg_schema

from bot.coach import Coach
from bot.storage import SQLiteStore
from bot.storage.outreach import NEVER
from bot.storage.postgres import PostgresStore
from dialogue.daily import stamp
from dialogue.engine import Engine, Turn
from dialogue.events import Command
from dialogue.session import Session

pytestmark = pytest.mark.slow
SET_UP = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
DUE = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)  # 20:00 in Berlin (CEST)


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def subscribe(db: Path, chats: list[int], tz: str = "Europe/Berlin") -> None:
    """Users past onboarding who want a reflection at 20:00 in `tz`."""
    coach = coach_for(db)
    engine: Engine = coach.engine
    for chat in chats:

        def step(_: Session | None, chat: int = chat) -> Turn:
            s = Session(f"tg:{chat}", seed=chat, state="menu.home")
            p = s.profile
            p.onboarded, p.relationship, p.reflections, p.reflect_time = (
                True, "partner", True, "20:00")  # fmt: skip
            return engine.handle(s, Command("timezone", tz), SET_UP)

        coach.store.transact(f"tg:{chat}", step, SET_UP)
    coach.store.close()


def test_a_batch_due_at_once_arrives_once_each_within_the_limits(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    chats = list(range(1000, 1150))
    subscribe(tmp_path / "coach.db", chats)
    fake.set_limits(rate=30, chat_burst=1)
    clock = Clock(DUE - timedelta(minutes=5))

    async def scenario() -> None:
        async with polling_bot(fake, tmp_path / "coach.db", clock, tick_seconds=0.2,
                               send_rate=30):  # fmt: skip
            await asyncio.sleep(0.6)
            assert fake.calls_of("sendMessage") == []  # not before 20:00
            clock.now = DUE + timedelta(seconds=5)
            await fake.until(lambda: len(fake.calls_of("sendMessage")) >= len(chats), 60)
            await asyncio.sleep(1.0)  # nothing more comes

    asyncio.run(scenario())
    sent = Counter(int(c["chat_id"]) for c in fake.calls_of("sendMessage"))
    assert sent == Counter(chats)  # every user once: nothing lost, nothing twice
    assert all("Today's reflection" in m.text for m in fake.sent)
    assert [e for e in fake.errors if e[1] == 429] == []  # the throttle kept within the limits


def test_a_blocked_user_is_skipped_until_they_write_again(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "coach.db"
    subscribe(db, [71, 72])
    fake.blocked.add(72)
    clock = Clock(DUE + timedelta(seconds=5))

    async def scenario() -> None:
        async with polling_bot(fake, db, clock, tick_seconds=0.2):
            await fake.until(lambda: len(fake.to(71)) == 1, 15)
            await fake.until(lambda: 72 in fake.forbidden, 15)
            clock.now = DUE + timedelta(days=2, seconds=5)  # two days later: 72 still blocked
            await fake.until(lambda: len(fake.to(71)) == 2, 15)
            await asyncio.sleep(0.8)
            assert fake.forbidden.count(72) == 1  # refused once, then parked
            fake.blocked.discard(72)
            clock.now = DUE + timedelta(days=2, hours=1)
            await Chat(fake, 72).say("hi, I'm back")
            await asyncio.sleep(0.8)
            assert [m for m in fake.to(72) if "Today's reflection" in m.text] == []  # not late
            clock.now = DUE + timedelta(days=3, seconds=5)
            await fake.until(lambda: any("Today's reflection" in m.text for m in fake.to(72)), 15)

    asyncio.run(scenario())
    store = SQLiteStore(db)
    assert store.is_active("tg:72")
    store.close()


def test_a_send_that_could_not_reach_telegram_is_retried_later_once(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "coach.db"
    subscribe(db, [81])
    fake.fail("sendMessage", 502, count=5)  # every attempt of the first try fails
    clock = Clock(DUE + timedelta(seconds=5))

    async def scenario() -> None:
        async with polling_bot(fake, db, clock, tick_seconds=0.2):
            await fake.until(lambda: len(fake.to(81)) == 1, 30)
            await asyncio.sleep(1.5)  # the sweep has run again since: nothing twice

    asyncio.run(scenario())
    assert len(fake.to(81)) == 1
    assert len([e for e in fake.errors if e[1] == 502]) == 5


def due_now(url: str, chats: list[int], tmp_path: Path, held: bool = False) -> PostgresStore:
    """Users on PostgreSQL whose reflection came due a second ago (today in UTC); `held`: not
    yet due (`release` makes them due at once)."""
    store = PostgresStore(url)
    store.migrate()
    coach = Coach(coach_for(tmp_path / "unused.db").engine, store)
    now = datetime.now(UTC)
    for chat in chats:
        user = f"tg:{chat}"

        def step(_: Session | None, user: str = user) -> Turn:
            s = Session(user, seed=7, state="menu.home")
            p = s.profile
            p.onboarded, p.relationship, p.reflections, p.reflect_time, p.tz = (
                True, "teen", True, "12:00", "UTC")  # fmt: skip
            return coach.engine.handle(s, Command("daily"), now - timedelta(hours=1))

        store.transact(user, step, now - timedelta(hours=1))
        with store.transaction() as run:  # due a second ago, today in UTC
            run("INSERT INTO schedule (user_id, kind, ref, due_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_id, kind, ref) DO UPDATE SET due_at = excluded.due_at",
                (user, "reflection", "daily",
                 NEVER if held else stamp(now - timedelta(seconds=1))))  # fmt: skip
    return store


def release(store: PostgresStore) -> None:
    """Every held reflection due a second ago, in one commit."""
    with store.transaction() as run:
        run("UPDATE schedule SET due_at = ?", (stamp(datetime.now(UTC) - timedelta(seconds=1)),))


def test_two_workers_share_a_batch_without_duplicates_and_a_kill_loses_nothing_due(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    """Two `repair-coach run` processes on PostgreSQL, 200 users due at once, one worker
    killed with SIGKILL mid-batch: every user gets their reflection at most once, and all of
    them but those whose message was on the wire when the worker died."""
    chats = list(range(2000, 2200))
    fake.set_limits(rate=30, chat_burst=1)
    with pg_schema() as url:
        store = due_now(url, chats, tmp_path)
        env = {"REPAIR_COACH_TICK_SECONDS": "0.3", "REPAIR_COACH_SEND_RATE": "30"}  # shared
        workers = [Worker(fake, url, tmp_path, env) for _ in range(2)]
        try:
            fake.wait_until(lambda: len(fake.calls_of("sendMessage")) >= 40, 60)
            workers[0].kill()  # mid-batch
            fake.wait_until(lambda: len(fake.calls_of("sendMessage")) >= len(chats) - 1, 90)
            time.sleep(1.5)  # nothing more comes
        finally:
            for w in workers:
                w.stop()
        sent = Counter(int(c["chat_id"]) for c in fake.calls_of("sendMessage"))
        assert max(sent.values()) == 1  # never twice
        missing = set(chats) - set(sent)
        with store.transaction() as run:  # a message on the wire when its worker died
            doubt = {int(r[0][3:]) for r in run("SELECT user_id FROM outbox WHERE sending = 1",
                                                ()).fetchall()}  # fmt: skip
        assert missing <= doubt, (missing, doubt)  # lost only if it may have arrived
        assert len(missing) <= 2  # and only what was on the wire: nothing waiting in a queue
        assert [e for e in fake.errors if e[1] == 429] == []  # 30 a second between both
        store.close()


def test_stopping_with_a_backlog_keeps_the_rest_due(fake: FakeTelegram, tmp_path: Path) -> None:
    db = tmp_path / "coach.db"
    chats = list(range(3000, 3400))
    subscribe(db, chats)
    fake.set_limits(rate=30, chat_burst=1)
    clock = Clock(DUE + timedelta(seconds=5))

    async def scenario() -> None:
        async def run_briefly() -> None:
            async with polling_bot(fake, db, clock, tick_seconds=0.2, send_rate=30):
                await fake.until(lambda: len(fake.sent) >= 10, 30)

        await asyncio.wait_for(run_briefly(), 40)  # stops promptly, mid-backlog

    asyncio.run(scenario())
    first = Counter(int(c["chat_id"]) for c in fake.calls_of("sendMessage"))
    assert 10 <= len(first) < len(chats) and max(first.values()) == 1

    async def again() -> None:  # restarted: the rest are sent, none of the first twice
        async with polling_bot(fake, db, clock, tick_seconds=0.2, send_rate=300):
            await fake.until(lambda: len(fake.calls_of("sendMessage")) >= len(chats), 60)
            await asyncio.sleep(0.5)

    fake.set_limits(rate=300, chat_burst=1)
    asyncio.run(again())
    total = Counter(int(c["chat_id"]) for c in fake.calls_of("sendMessage"))
    assert total == Counter(chats)


def most_in_a_window(times: list[float], width: float) -> int:
    """The most messages that arrived within any `width` seconds (a sliding window)."""
    times, most, start = sorted(times), 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= width:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_three_workers_keep_to_one_overall_limit_together(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    """Three `repair-coach run` workers on PostgreSQL, each set to the bot's limit of 20 a
    second, send 300 reflections due at once through the fake server enforcing that limit:
    each arrives once, no 429, and the arrivals the fake recorded never run above 20 a second
    (one budget for all three, not 20 each)."""
    rate, chats = 20, list(range(5000, 5300))
    fake.set_limits(rate=rate, chat_burst=1)
    with pg_schema() as url:
        store = due_now(url, chats, tmp_path, held=True)
        env = {"REPAIR_COACH_TICK_SECONDS": "0.3", "REPAIR_COACH_SEND_RATE": str(rate)}
        workers = [Worker(fake, url, tmp_path, env, wait=False) for _ in range(3)]
        try:
            for w in workers:  # started together (slow on a busy machine), then all due at once
                w.ready(180)
            release(store)
            fake.wait_until(lambda: len(fake.calls_of("sendMessage")) >= len(chats), 120)
            time.sleep(1.0)  # nothing more comes
        finally:
            for w in workers:
                w.stop()
        store.close()
    sent = Counter(int(c["chat_id"]) for c in fake.calls_of("sendMessage"))
    arrived = sorted(m.at for m in fake.sent)
    assert sent == Counter(chats)  # nothing lost, nothing twice
    assert [e for e in fake.errors if e[1] == 429] == []
    # Any second holds at most the rate, give or take the few sends a worker may bunch (a
    # reserved time used up to a tenth of a second late) and the network's jitter; alone,
    # each worker would have sent 20 a second: 60 together.
    assert most_in_a_window(arrived, 1.0) <= rate * 1.2 + 1
    assert most_in_a_window(arrived, 5.0) <= rate * 5 + rate * 0.2 + 1
    assert (len(arrived) - 1) / (arrived[-1] - arrived[0]) <= rate * 1.02  # on average


@pytest.mark.parametrize(("late", "sent"), [(timedelta(hours=3, minutes=59), True),
                                             (timedelta(hours=4), False)])  # fmt: skip
def test_a_reflection_a_dead_worker_left_unsent_is_sent_that_day_only(
    fake: FakeTelegram, tmp_path: Path, late: timedelta, sent: bool
) -> None:
    """A worker committed the tick (the reflection is in the outbox) and died before sending
    it: the sweep of the next start sends it the same evening (23:59 in Berlin), and drops it
    from midnight on instead of sending yesterday's prompt."""
    db = tmp_path / "coach.db"
    subscribe(db, [91])
    coach = coach_for(db)
    fired = coach.remind(now=DUE + timedelta(seconds=5), outbox=True)  # committed, not sent
    coach.store.close()
    assert [user for user, _, applied in fired if applied.queued] == ["tg:91"]

    def outbox() -> int:
        store = SQLiteStore(db)
        try:
            return store.user_rows("tg:91")["outbox"]
        finally:
            store.close()

    async def scenario() -> None:
        async with polling_bot(fake, db, Clock(DUE + late), tick_seconds=0.2):
            await fake.until(lambda: outbox() == 0, 15)  # sent, or dropped
            await asyncio.sleep(1.2)  # the sweep has run again since: nothing more

    asyncio.run(scenario())
    assert [m.text for m in fake.to(91) if "Today's reflection" in m.text] == (
        [fake.to(91)[0].text] if sent else [])  # fmt: skip
    assert len(fake.to(91)) == int(sent)
