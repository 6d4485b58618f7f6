"""The scheduler at scale, printed as figures (asserts nothing).

1. The tick's claim query (bot/storage/outreach.py: the earliest due rows, PostgreSQL with
   FOR UPDATE OF s, u SKIP LOCKED) with 1,000,000 users stored, their reminders spread over a
   day, on SQLite and on PostgreSQL (--pg URL or REPAIR_COACH_TEST_POSTGRES_URL): p50, p99
   and max over --queries runs. Target: under 50 ms.
2. 100,000 users due in the same minute, sent through the real Application to the fake Bot
   API server enforcing Telegram's limits (429 with retry_after past them) at --rate messages a
   second: the rate reached over --seconds once sending started, as a fraction of the limit
   (target at least 0.95), 429 answers (target 0), and duplicates (target 0).

   With --workers N (and --pg), the same through N `repair-coach run` processes on PostgreSQL,
   each set to the one limit they share: the rate all of them reach together.

Run: python bench/schedule.py [--users 1000000] [--due 100000] [--rate 30] [--seconds 20]
                              [--pg URL --workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# bench/telegram.py is named like the library: keep this folder off the import path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent / "tests" / "support"))

from bot_harness import polling_bot  # noqa: E402
from fake_telegram import FakeTelegram  # noqa: E402

from bot.storage import open_store  # noqa: E402
from bot.storage.base import SQLStore  # noqa: E402
from dialogue.daily import stamp  # noqa: E402
from dialogue.session import Session  # noqa: E402

NOW = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)
CHUNK = 20_000


def session_json(user: str) -> str:
    """A user past onboarding who wants a reflection at 20:00 in Berlin."""
    s = Session(user, seed=len(user), state="menu.home")
    p = s.profile
    p.onboarded, p.relationship, p.age_band, p.reflections, p.reflect_time, p.tz = (
        True, "child", "teen", True, "20:00", "Europe/Berlin")  # fmt: skip
    return s.to_json()


def rows(
    users: int, due: int, start: int = 1, now: datetime = NOW
) -> Iterator[tuple[str, str, str]]:
    """(user id, session JSON, due time): `due` users due by `now`, the rest over the next day."""
    template = session_json("tg:0")
    for i in range(start, start + users):
        user = f"tg:{i}"
        at = now - timedelta(seconds=i % 60) if i - start < due else (
            now + timedelta(seconds=1 + (i * 7919) % 86_400))  # fmt: skip
        yield user, template.replace('"tg:0"', f'"{user}"', 1), stamp(at)


def fill(store: SQLStore, users: int, due: int, start: int = 1, now: datetime = NOW) -> float:
    """Store users, sessions and schedule rows in bulk; return the seconds it took."""
    began = time.perf_counter()
    made = now.isoformat()
    data = list(rows(users, due, start, now))
    if store.dialect == "sqlite":
        db = store.db  # type: ignore[attr-defined]
        db.execute("BEGIN")
        db.executemany("INSERT INTO users (user_id, created_at) VALUES (?, ?)",
                       ((u, made) for u, _, _ in data))  # fmt: skip
        db.executemany("INSERT INTO sessions VALUES (?, 1, ?, ?)",
                       ((u, d, made) for u, d, _ in data))  # fmt: skip
        db.executemany("INSERT INTO schedule (user_id, kind, ref, due_at) VALUES (?, ?, ?, ?)",
                       ((u, "reflection", "daily", at) for u, _, at in data))  # fmt: skip
        db.execute("COMMIT")
    else:
        import psycopg  # noqa: PLC0415

        with psycopg.connect(store.url) as conn, conn.cursor() as cur:  # type: ignore[attr-defined]
            with cur.copy("COPY users (user_id, created_at) FROM STDIN") as copy:
                for u, _, _ in data:
                    copy.write_row((u, made))
            with cur.copy("COPY sessions (user_id, version, data, updated_at) FROM STDIN") as copy:
                for u, d, _ in data:
                    copy.write_row((u, 1, d, made))
            with cur.copy("COPY schedule (user_id, kind, ref, due_at) FROM STDIN") as copy:
                for u, _, at in data:
                    copy.write_row((u, "reflection", "daily", at))
            cur.execute("ANALYZE")
    return time.perf_counter() - began


def claim_figures(store: SQLStore, queries: int) -> dict[str, float]:
    """The claim query's own time (run and rolled back), in milliseconds."""
    sql = (
        "SELECT s.user_id, s.kind, s.ref, coalesce(s.first_due, s.due_at) FROM schedule s"
        " JOIN users u ON u.user_id = s.user_id WHERE s.due_at <= ?"
        f" ORDER BY s.due_at, s.kind LIMIT ?{store.skip_locked}"
    )
    times = []
    for i in range(queries):
        at = stamp(NOW + timedelta(minutes=i % 600))
        began = time.perf_counter()
        with store.transaction() as run:
            run(sql, (at, 20)).fetchall()
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return {"p50": statistics.median(times), "p99": times[int(len(times) * 0.99) - 1],
            "max": times[-1]}  # fmt: skip


def part_claim(users: int, queries: int, pg: str) -> None:
    print(f"1. the tick's claim query, {users:,} users stored, {queries} queries")
    with tempfile.TemporaryDirectory() as tmp:
        engines: list[tuple[str, str]] = [("SQLite", "")]
        if pg:
            engines.append(("PostgreSQL", pg))
        for name, url in engines:
            store = open_store(Path(tmp) / "coach.db", _fresh_schema(url) if url else "")
            store.migrate()
            took = fill(store, users, due=users // 100)
            f = claim_figures(store, queries)
            print(f"  {name:11} filled in {took:5.0f} s; claim p50 {f['p50']:6.2f} ms, "
                  f"p99 {f['p99']:6.2f} ms, max {f['max']:6.2f} ms  (target < 50 ms)")  # fmt: skip
            store.close()


def _fresh_schema(url: str, part: str = "claim") -> str:
    """A throwaway schema of the PostgreSQL database (dropped at exit)."""
    import atexit  # noqa: PLC0415

    import psycopg  # noqa: PLC0415

    name = f"bench_schedule_{part}_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        conn.execute(f"CREATE SCHEMA {name}")

    def drop() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")

    atexit.register(drop)
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options=-csearch_path%3D{name}"


def part_send(due: int, rate: float, seconds: float) -> None:
    print(f"2. {due:,} users due in the same minute, sent at a limit of {rate:g} a second")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "coach.db"
        store = open_store(db)
        store.migrate()
        took = fill(store, due, due)
        store.close()
        fake = FakeTelegram()
        fake.start()
        fake.set_limits(rate=rate, chat_burst=1)
        marks: list[float] = []

        async def scenario() -> None:
            async with polling_bot(fake, db, lambda: NOW, tick_seconds=0.5, send_rate=rate):
                await asyncio.to_thread(fake.wait_until, lambda: fake.sent, 120)
                marks.append(time.monotonic())
                await asyncio.sleep(seconds)
                with fake.lock:
                    marks.append(len(fake.sent))

        asyncio.run(scenario())
        sent = int(marks[1])
        calls = Counter(int(c["chat_id"]) for c in fake.calls_of("sendMessage"))
        refused = sum(1 for e in fake.errors if e[1] == 429)
        fake.stop()
    reached = sent / seconds
    print(f"  filled in {took:.0f} s; {sent:,} sent in {seconds:g} s: {reached:.1f} a second, "
          f"{reached / rate:.3f} of the limit (target >= 0.95); 429 answers {refused} "
          f"(target 0); duplicates {sum(n - 1 for n in calls.values())} (target 0)")  # fmt: skip


def part_send_workers(due: int, rate: float, seconds: float, pg: str, workers: int) -> None:
    """Part 2 with `workers` real `repair-coach run` processes on PostgreSQL, all set to the
    one limit they share (the send_budget row): the real clock, users due a minute ago."""
    from workers import Worker  # noqa: PLC0415 - needs pytest only for this mode

    print(f"2. {due:,} users due in the same minute, {workers} workers on PostgreSQL sharing "
          f"a limit of {rate:g} a second")  # fmt: skip
    url = _fresh_schema(pg, "send")
    store = open_store("", url)
    store.migrate()
    now = datetime.now(UTC)
    took = fill(store, due, 0, now=now + timedelta(hours=1))  # none due until all listen
    fake = FakeTelegram()
    fake.start()
    fake.set_limits(rate=rate, chat_burst=1)
    env = {"REPAIR_COACH_TICK_SECONDS": "0.5", "REPAIR_COACH_SEND_RATE": f"{rate:g}"}
    with tempfile.TemporaryDirectory() as tmp:
        procs = [Worker(fake, url, Path(tmp), env, wait=False) for _ in range(workers)]
        try:
            for w in procs:
                w.ready(300)
            with store.transaction() as run:  # every user due at once
                run("UPDATE schedule SET due_at = ?", (stamp(datetime.now(UTC)),))
            fake.wait_until(lambda: fake.sent, 120)
            time.sleep(seconds + 1)
        finally:
            for w in procs:
                w.stop()
    with fake.lock:
        arrived = sorted(m.at for m in fake.sent)
    calls = Counter(int(c["chat_id"]) for c in fake.calls_of("sendMessage"))
    refused = sum(1 for e in fake.errors if e[1] == 429)
    fake.stop()
    store.close()
    sent = sum(1 for at in arrived if at < arrived[0] + seconds)
    reached = sent / seconds
    print(f"  filled in {took:.0f} s; {sent:,} sent in {seconds:g} s: {reached:.1f} a second, "
          f"{reached / rate:.3f} of the limit (target >= 0.95); 429 answers {refused} "
          f"(target 0); duplicates {sum(n - 1 for n in calls.values())} (target 0)")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--due", type=int, default=100_000)
    ap.add_argument("--rate", type=float, default=30.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--pg", default=os.environ.get("REPAIR_COACH_TEST_POSTGRES_URL", ""))
    ap.add_argument("--skip", choices=("claim", "send"), default=None)
    ap.add_argument("--workers", type=int, default=0,
                    help="send through this many `repair-coach run` processes on PostgreSQL "
                         "(--pg) sharing the limit, instead of one process on SQLite")  # fmt: skip
    args: Any = ap.parse_args(argv)
    if args.skip != "claim":
        part_claim(args.users, args.queries, args.pg)
    if args.skip != "send" and args.workers:
        part_send_workers(args.due, args.rate, args.seconds, args.pg, args.workers)
    elif args.skip != "send":
        part_send(args.due, args.rate, args.seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
