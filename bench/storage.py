"""Storage figures (asserts nothing): turn cost on SQLite and PostgreSQL, a worker's memory
as the number of stored users grows, and database size per user with a typical journal.

Run: python bench/storage.py [--stored 100000] [--served 1000] [--pg postgresql://…]
PostgreSQL is measured where --pg or REPAIR_COACH_TEST_POSTGRES_URL names a server.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import yaml

from bot.storage import Sealer, Store, open_store
from bot.storage.crypto import new_key
from dialogue.content import Content
from dialogue.engine import Engine
from dialogue.events import Event, Press, parse_text
from dialogue.session import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from pg import temporary_schema

NOW = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests/dialogue/conversations/toddler_to_plan.yaml"


def events() -> list[Event]:
    """The scripted newcomer-to-plan conversation."""
    steps = yaml.safe_load(SCRIPT.read_text())["steps"]
    return [parse_text(str(s["text"])) if "text" in s else Press(str(s["press"])) for s in steps]


def turn_cost(store: Store, engine: Engine, users: int) -> float:
    """Median microseconds of a stored turn (load, engine, write, effects) over the script."""
    evs = events()
    times = []
    for u in range(users):
        uid = f"bench-{uuid.uuid4().hex[:8]}-{u}"
        start = time.perf_counter()
        for i, ev in enumerate(evs):
            store.transact(
                uid, lambda s, ev=ev, uid=uid: engine.handle(s or Session(uid, seed=1), ev, NOW),
                NOW, update_id=hash((uid, i)) & 0x7FFFFFFFFFFF,
            )  # fmt: skip
        times.append((time.perf_counter() - start) / len(evs))
    return statistics.median(times) * 1e6


def engine_cost(engine: Engine, users: int) -> float:
    """The same turns without storage, for the difference."""
    evs = events()
    times = []
    for u in range(users):
        session = Session(f"e{u}", seed=1)
        start = time.perf_counter()
        for ev in evs:
            session = engine.handle(session, ev, NOW).session
        times.append((time.perf_counter() - start) / len(evs))
    return statistics.median(times) * 1e6


def typical_user(engine: Engine, uid: str) -> tuple[Session, list[dict]]:
    """A user after onboarding and one whole conflict, with a journal of five plans."""
    session = Session(uid, seed=7)
    for ev in events():
        session = engine.handle(session, ev, NOW).session
    plan = session.plans[-1]
    return session, [{**plan, "id": f"{plan['id']}{n}"} for n in range(5)]


def fill(store: Store, engine: Engine, users: int) -> None:
    """Store `users` typical users quickly (one transaction, bulk inserts)."""
    session, plans = typical_user(engine, "template")
    body = session.to_json()
    with store.transaction() as run:
        for n in range(users):
            uid = f"stored-{n}"
            run("INSERT INTO users (user_id, created_at) VALUES (?, ?)", (uid, NOW.isoformat()))
            sealed = store.sealer.seal(body.replace("template", uid))
            run("INSERT INTO sessions VALUES (?, 1, ?, ?)", (uid, sealed, NOW.isoformat()))
            for p in plans:
                run("INSERT INTO plans VALUES (?, ?, ?, ?)",
                    (uid, p["id"], p["created"], store.sealer.seal(json.dumps(p))))  # fmt: skip


def rss_after_serving(db: str, served: int) -> int:
    """Resident memory (KiB) of a fresh worker process after serving `served` users."""
    code = f"""
import sys, resource
sys.path.insert(0, {str(ROOT / "bench")!r})
from storage import *
store = open_store({db!r})
engine = Engine(Content())
turn_cost(store, engine, {served})
print(int(open('/proc/self/status').read().split('VmRSS:')[1].split()[0]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1])


def sqlite_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def main() -> int:
    """Print every figure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stored", type=int, default=100_000)
    parser.add_argument("--served", type=int, default=1_000)
    parser.add_argument("--turn-users", type=int, default=30)
    parser.add_argument("--pg", default=os.environ.get("REPAIR_COACH_TEST_POSTGRES_URL", ""))
    args = parser.parse_args()
    engine = Engine(Content())
    bare = engine_cost(engine, args.turn_users)
    print(f"engine alone                               {bare:8.1f} us/turn")
    with tempfile.TemporaryDirectory() as tmp:
        for label, sealer in (("SQLite", Sealer()), ("SQLite, encrypted", Sealer([new_key()]))):
            store = open_store(Path(tmp) / f"{label[-4:]}.db", sealer=sealer)
            cost = turn_cost(store, engine, args.turn_users)
            print(f"{label:<20} stored turn              {cost:8.1f} us/turn"
                  f"  (storage {cost - bare:7.1f})")  # fmt: skip
            store.close()
        if args.pg:
            with temporary_schema(args.pg, "bench") as url:
                store = open_store("", url)
                cost = turn_cost(store, engine, args.turn_users)
                print(f"{'PostgreSQL':<20} stored turn              {cost:8.1f} us/turn"
                      f"  (storage {cost - bare:7.1f})")  # fmt: skip
                fill(store, engine, 10_000)
                with store.transaction() as run:
                    size = run("SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c"
                               " JOIN pg_namespace n ON n.oid = c.relnamespace"
                               " WHERE n.nspname = current_schema() AND c.relkind = 'r'",
                               ()).fetchone()[0]  # fmt: skip
                print(f"PostgreSQL size with 10,000 typical users: {size / 2**20:,.1f} MiB, "
                      f"{size / 10_030 / 1024:.1f} KiB per user")  # fmt: skip
                store.close()
        else:
            print("PostgreSQL: not measured (no --pg and no REPAIR_COACH_TEST_POSTGRES_URL)")
        small, big = Path(tmp) / "small.db", Path(tmp) / "big.db"
        for path, count in ((small, 1_000), (big, args.stored)):
            store = open_store(path)
            fill(store, engine, count)
            store.close()
        size = sqlite_size(big)
        print(f"SQLite size with {args.stored:,} typical users (5 plans each): "
              f"{size / 2**20:,.1f} MiB, {size / args.stored / 1024:.1f} KiB per user")  # fmt: skip
        rss_small = rss_after_serving(str(small), args.served)
        rss_big = rss_after_serving(str(big), args.served)
        print(f"worker RSS after serving {args.served:,} users: {rss_small / 1024:.1f} MiB with "
              f"1,000 stored, {rss_big / 1024:.1f} MiB with {args.stored:,} stored")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
