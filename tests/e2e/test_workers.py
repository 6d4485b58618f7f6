"""Three `repair-coach run --webhook` workers on one PostgreSQL database, sharing nothing in
memory: every conversation ends exactly as with one worker, with nothing lost or sent twice,
also when a worker is killed with SIGKILL under load and started again."""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from fake_telegram import FakeTelegram
from workers import SECRET, Worker, pg_schema

from bot.telegram_adapter.app import SECRET_HEADER

pytestmark = pytest.mark.slow
SCRIPT: list[tuple[str, str]] = [
    ("text", "/start"), ("press", "next"), ("press", "partner"), ("text", "Robin"),
    ("press", "no"), ("text", "London"), ("press", "yes"), ("press", "new"),
    # Three messages one after another, each to another worker, before the first is applied:
    # applied in order (Telegram sends a chat's next update once the last is acknowledged).
    ("burst", "We argued about money.|Robin went quiet|I raised my voice at Robin"),
    ("press", "chest"), ("press", "done"), ("press", "hurt"),
    ("press", "done"), ("press", "next"), ("press", "heard"), ("press", "understanding"),
    ("press", "3"), ("press", "wait_ok"),  # "went quiet": space is not asked again
]  # fmt: skip


async def deliver(http: aiohttp.ClientSession, workers: list[Worker], start: int,
                  update: dict[str, Any]) -> None:  # fmt: skip
    """POST an update to a worker; on a refused or failed delivery, to the next one (as Telegram
    would deliver it again), until one answers 200."""
    for attempt in range(60):
        worker = workers[(start + attempt) % len(workers)]
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
            async with http.post(worker.url, json=update, headers={SECRET_HEADER: SECRET},
                                 timeout=aiohttp.ClientTimeout(total=10)) as resp:  # fmt: skip
                if resp.status == 200:
                    return
        await asyncio.sleep(0.05)
    raise AssertionError("no worker took the update")


async def converse(  # noqa: PLR0917 - the scenario's parts, named at every call
    fake: FakeTelegram, http: aiohttp.ClientSession, workers: list[Worker], chat: int, db: Any,
    kill_at: int | None = None,
) -> bool:  # fmt: skip
    """One chat's whole script, each update to the next worker in turn, each step once the
    coach has answered the last. False when a reply the script needs was lost with a killed
    worker (the one message that may be lost)."""
    for n, (kind, value) in enumerate(SCRIPT):
        if kind == "burst":
            for i, text in enumerate(value.split("|")):
                fake.text(chat, text)
                with fake.lock:
                    update = next(u for u in fake.updates if _chat_of(u) == chat)
                    fake.updates.remove(update)
                await deliver(http, workers, chat + n + i, update)
        else:
            if kind == "text":
                fake.text(chat, value)
            else:
                try:
                    fake.press(chat, next(m for m in reversed(fake.to(chat)) if m.markup), value)
                except (KeyError, StopIteration):
                    return False
            with fake.lock:
                update = next(u for u in fake.updates if _chat_of(u) == chat)
                fake.updates.remove(update)
            if kill_at is not None and n == kill_at:
                workers[0].kill()
            await deliver(http, workers, chat + n, update)
        if not await answered(fake, db, chat, update["update_id"]):
            return False
    return True


DONE = (  # whether the update is applied; the chat's messages not claimed, and claimed
    "SELECT (SELECT count(*) FROM processed_updates WHERE update_id = %s),"
    " (SELECT count(*) FROM outbox WHERE user_id = %s AND sending = 0),"
    " (SELECT count(*) FROM outbox WHERE user_id = %s AND sending = 1)"
)


async def answered(fake: FakeTelegram, db: Any, chat: int, update_id: int) -> bool:
    """Wait until the update is applied, the chat's replies are sent and the keyboard edits
    that follow a press are done, as a user waits before tapping again (False: 12 s passed).
    A message claimed by a worker that was killed stays claimed (in doubt): after 3 s of that
    the chat goes on without it."""
    for n in range(600):
        cur = await db.execute(DONE, (update_id, f"tg:{chat}", f"tg:{chat}"))
        applied, unclaimed, claimed = await cur.fetchone()
        if applied and not unclaimed and (not claimed or n > 150):
            calls = -1
            while calls != (calls := len(fake.calls_for(chat))):
                await asyncio.sleep(0.1)
            return True
        await asyncio.sleep(0.02)
    return False


def _chat_of(update: dict[str, Any]) -> int:
    body = update.get("message") or update["callback_query"]
    return body["chat"]["id"] if "chat" in body else body["message"]["chat"]["id"]


def states(url: str, chats: range) -> dict[int, tuple[str, int]]:
    import psycopg  # noqa: PLC0415

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT user_id, data, version FROM sessions").fetchall()
    import json  # noqa: PLC0415

    def view(data: str) -> tuple[str, tuple[str, ...]]:
        session = json.loads(data)
        d = session["draft"]
        return session["state"], (d.get("what_happened"), d.get("their_side"), d.get("my_part"))

    got = {int(u.removeprefix("tg:")): (*view(d), v) for u, d, v in rows}
    return {c: got.get(c, ("none", (), 0)) for c in chats}


def play(url: str, tmp: Path, workers: int, kill: bool = False) -> tuple[dict, dict, set]:
    """Every chat's script through `workers` workers: the words each chat got, its state, and
    the chats whose script stopped because a reply was lost with a killed worker."""
    fake = FakeTelegram()
    fake.start()
    pool = [Worker(fake, url, tmp) for _ in range(workers)]
    try:

        async def run() -> list[bool]:
            import psycopg  # noqa: PLC0415

            async with (
                aiohttp.ClientSession() as http,
                await psycopg.AsyncConnection.connect(url, autocommit=True) as db,
            ):
                return await asyncio.gather(*(
                    converse(fake, http, pool, c, db, kill_at=7 if kill and c == CHATS[0] else None)
                    for c in CHATS))  # fmt: skip

        finished = asyncio.run(run())
        if not kill:  # every chat played its whole script (a missing button would stop it)
            assert all(finished), [c for c, ok in zip(CHATS, finished, strict=True) if not ok]
        clock = re.compile(r"\b\d\d:\d\d\b")  # "where it's 14:05 now" differs run to run
        said = {c: [clock.sub("HH:MM", m.text) for m in fake.to(c)] for c in CHATS}
        ended = states(url, CHATS)
        if kill:  # back again, and serving: every chat asks it for help
            pool[0].start()

            async def ask() -> None:
                for c in CHATS:
                    fake.text(c, "/help")
                with fake.lock:
                    updates, fake.updates = list(fake.updates), []
                async with aiohttp.ClientSession() as http:
                    await asyncio.gather(*(deliver(http, pool[:1], 0, u) for u in updates))

            asyncio.run(ask())
            fake.wait_until(
                lambda: all(fake.to(c)[-1].text.startswith("How this works") for c in CHATS)
            )
        return said, ended, {c for c, ok in zip(CHATS, finished, strict=True) if not ok}
    finally:
        for w in pool:
            w.stop()
        fake.stop()


CHATS = range(5000, 5024)


def test_three_workers_match_one(tmp_path: Path) -> None:
    with pg_schema() as one, pg_schema() as three, pg_schema() as killed:
        expected, end, _ = play(one, tmp_path, 1)
        short = {c: t[-2:] for c, t in expected.items() if len(t) < len(SCRIPT)}
        assert not short, short
        burst = ("We argued about money.", "Robin went quiet", "I raised my voice at Robin")
        assert all(e[1] == burst for e in end.values()), end  # applied in order
        got, got_end, _ = play(three, tmp_path, 3)
        assert got == expected  # the same words, in the same order, none twice
        assert got_end == end
        after_kill, kill_end, stopped = play(killed, tmp_path, 3, kill=True)
        assert len(stopped) <= len(CHATS) // 3  # only chats with a reply on its way in that worker
        for c in CHATS:
            said = after_kill[c]
            assert said == [t for t in expected[c] if t in said]  # in order, nothing twice
            if c not in stopped:
                assert kill_end[c] == end[c]  # no turn lost, none applied twice
                assert len(said) >= len(expected[c]) - 1  # at most one reply lost
