"""The schedule on both engines: claimed once by any number of workers, fired exactly once,
parked while a user has blocked the bot, and never lost when a worker dies mid-way."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.coach import Coach
from bot.storage import Store
from bot.storage.outreach import NEVER
from dialogue.daily import FOLLOW_UP_FRESH, expiry
from dialogue.engine import Engine, Turn
from dialogue.events import Command, Press, Text
from dialogue.progress import progress
from dialogue.session import Session

MakeStore = Callable[..., Store]
SAT = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)  # New York's reminder at 20:00 is 01:00 UTC
DUE = datetime(2026, 3, 8, 1, 0, tzinfo=UTC)


def subscribe(store: Store, engine: Engine, user: str, *, now: datetime = SAT,
              tz: str = "America/New_York", clock: str = "20:00") -> None:  # fmt: skip
    """A user past onboarding who wants a reflection at `clock` in `tz`."""

    def step(_: Session | None) -> Turn:
        s = Session(user, seed=1, state="menu.home")
        p = s.profile
        p.onboarded, p.relationship, p.age_band, p.reflections, p.reflect_time = (
            True, "child", "teen", True, clock)  # fmt: skip
        return engine.handle(s, Command("timezone", tz), now)

    store.transact(user, step, now)


def fire_all(coach: Coach, now: datetime, limit: int = 50) -> list[str]:
    """Fire everything due; the users whose reminder said something."""
    spoke = []
    while fired := coach.remind(now=now, outbox=True, limit=limit):
        spoke += [user for user, _, applied in fired if applied.queued]
    return spoke


def test_a_reflection_is_fired_once(make_store: MakeStore, engine: Engine) -> None:
    store = make_store()
    coach = Coach(engine, store)
    subscribe(store, engine, "u")
    assert fire_all(coach, DUE - timedelta(seconds=1)) == []
    assert fire_all(coach, DUE) == ["u"]
    assert fire_all(coach, DUE) == []  # moved on to the next day
    claimed = store.claim_next("u", now=DUE)
    assert claimed is not None and "Today's reflection" in claimed[2]["html"]
    assert store.claim_next("u", claimed[:2], now=DUE) is None  # one message, once
    assert fire_all(coach, DUE + timedelta(hours=23) - timedelta(minutes=1)) == []
    assert fire_all(coach, DUE + timedelta(hours=23)) == ["u"]  # 20:00 EDT the next day


def test_a_worker_that_dies_mid_batch_leaves_every_reminder_due(
    make_store: MakeStore, engine: Engine
) -> None:
    store = make_store()
    for user in ("a", "b", "c"):
        subscribe(store, engine, user)
    calls = []

    def dies(session: Session, kind: str, ref: str, first: datetime) -> Turn:
        calls.append(session.user_id)
        if len(calls) == 2:
            raise KeyboardInterrupt  # killed half-way through the batch
        return engine.tick(session, kind, ref, first, DUE)

    with pytest.raises(KeyboardInterrupt):
        store.fire_due(DUE, dies, limit=10, outbox=lambda turn: [])
    assert sorted(fire_all(Coach(engine, store), DUE)) == ["a", "b", "c"]  # nothing was lost


def test_a_turn_that_raises_postpones_its_row_only(make_store: MakeStore, engine: Engine) -> None:
    store = make_store()
    for user in ("a", "b"):
        subscribe(store, engine, user)

    def broken(session: Session, kind: str, ref: str, first: datetime) -> Turn:
        if session.user_id == "a":
            raise RuntimeError("a bug")
        return engine.tick(session, kind, ref, first, DUE)

    fired = store.fire_due(DUE, broken, limit=10, outbox=lambda turn: [])
    assert [user for user, _, _ in fired] == ["b"]
    assert fire_all(Coach(engine, store), DUE + timedelta(minutes=59)) == []
    assert fire_all(Coach(engine, store), DUE + timedelta(hours=1)) == ["a"]  # an hour later


def test_workers_claiming_together_fire_each_reminder_once(
    make_store: MakeStore, engine: Engine
) -> None:
    stores = [make_store() for _ in range(4)]
    users = [f"u{i}" for i in range(120)]
    for user in users:
        subscribe(stores[0], engine, user)
    spoke: list[str] = []
    lock = threading.Lock()

    def worker(store: Store) -> None:
        got = fire_all(Coach(engine, store), DUE, limit=7)
        with lock:
            spoke.extend(got)

    threads = [threading.Thread(target=worker, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Counter(spoke) == Counter(users)  # every user once, none twice
    sent = Counter(u for u in users
                   for _ in iter(lambda u=u: stores[0].claim_next(u, now=DUE), None))  # fmt: skip
    assert sent == Counter(users)  # and one message each in the outbox


def test_a_blocked_user_is_skipped_until_they_write_again(
    make_store: MakeStore, engine: Engine
) -> None:
    store = make_store()
    coach = Coach(engine, store)
    subscribe(store, engine, "u")
    store.set_active("u", False, SAT)
    with store.transaction() as run:
        assert run("SELECT due_at FROM schedule WHERE user_id = 'u'", ()).fetchone()[0] == NEVER
    assert fire_all(coach, DUE + timedelta(days=3)) == []  # nothing, day after day
    back = DUE + timedelta(days=2, hours=16)  # they write again at 13:00, days later
    coach.apply("u", Text("hello again"), now=back)
    assert fire_all(coach, back) == []  # the missed days are skipped, not sent late
    assert fire_all(coach, back + timedelta(minutes=30)) == []  # not before today's time
    assert fire_all(coach, DUE + timedelta(days=2, hours=23)) == ["u"]  # today's, on time


def test_the_claim_reads_the_due_index(make_store: MakeStore, engine: Engine) -> None:
    """In the claim's own order (due time, then kind), with no sort: 100,000 rows due at the
    same second are not all read and sorted for each batch of 20."""
    store = make_store()
    subscribe(store, engine, "u")
    query = "SELECT user_id FROM schedule WHERE due_at <= ? ORDER BY due_at, kind LIMIT 10"
    with store.transaction() as run:
        if store.dialect == "sqlite":
            plan = str(run(f"EXPLAIN QUERY PLAN {query}", ("x",)).fetchall())
            assert "schedule_due_kind" in plan and "B-TREE" not in plan, plan
        else:
            run("SET LOCAL enable_seqscan = off", ())
            plan = str(run(f"EXPLAIN {query}", ("x",)).fetchall())
            assert "schedule_due_kind" in plan and "Sort" not in plan, plan


def test_a_follow_up_answer_is_a_repair_in_progress(make_store: MakeStore, engine: Engine) -> None:
    store = make_store()
    coach = Coach(engine, store)

    def plan(_: Session | None) -> Turn:
        s = Session("u", seed=1, state="conflict.when")
        p = s.profile
        p.onboarded, p.relationship, p.tz = True, "partner", "Europe/Berlin"
        s.draft = {"what_happened": "we argued", "moves": ["own_part"], "line": "I'm sorry"}
        return engine.handle(s, Press("tomorrow"), SAT)

    store.transact("u", plan, SAT)
    asked = SAT + timedelta(days=1, hours=7)  # 20:00 in Berlin (CET) the next day
    assert fire_all(coach, asked - timedelta(minutes=1)) == []
    assert fire_all(coach, asked) == ["u"]
    coach.apply("u", Press("well"), now=asked + timedelta(minutes=3))
    figures = progress(store.history("u"), asked + timedelta(minutes=5))
    assert sum(figures.ruptures) == 1 and sum(figures.repairs) == 1
    assert [d for d in figures.days_to_repair if d is not None] == [
        pytest.approx(1.29, abs=0.01)  # a day and seven hours from rupture to repair
    ]


# -- a reminder's message is dropped, not sent late -------------------------------------------


def test_a_reflection_left_unsent_expires_at_the_end_of_its_local_day(
    make_store: MakeStore, engine: Engine
) -> None:
    """Fired at 20:00 in New York (01:00 UTC), a reflection whose worker died before sending it
    is still sent by 23:59 there, and dropped from midnight (05:00 UTC, the night before the
    clocks spring forward): the next day's comes on its own, on time."""
    store = make_store()
    coach = Coach(engine, store)
    for user in ("on_time", "late"):
        subscribe(store, engine, user)
    assert sorted(fire_all(coach, DUE)) == ["late", "on_time"]  # both in the outbox
    midnight = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    claimed = store.claim_next("on_time", now=midnight - timedelta(seconds=1))
    assert claimed is not None and "Today's reflection" in claimed[2]["html"]
    assert store.claim_next("late", now=midnight) is None  # too late: dropped, not sent
    assert store.user_rows("late")["outbox"] == 0
    assert sorted(fire_all(coach, DUE + timedelta(hours=23))) == ["late", "on_time"]  # 20:00
    today = store.claim_next("late", now=DUE + timedelta(hours=23, minutes=5))
    assert today is not None and "Today's reflection" in today[2]["html"]


def test_a_follow_up_left_unsent_expires_half_a_day_later(
    make_store: MakeStore, engine: Engine
) -> None:
    store = make_store()
    coach = Coach(engine, store)

    for user in ("a", "b"):

        def plan(_: Session | None, user: str = user) -> Turn:
            s = Session(user, seed=1, state="conflict.when")
            p = s.profile
            p.onboarded, p.relationship, p.tz = True, "partner", "Europe/Berlin"
            s.draft = {"what_happened": "we argued", "moves": ["own_part"], "line": "I'm sorry"}
            return engine.handle(s, Press("tomorrow"), SAT)

        store.transact(user, plan, SAT)
    asked = SAT + timedelta(days=1, hours=7)
    assert sorted(fire_all(coach, asked)) == ["a", "b"]
    fresh = store.claim_next("a", now=asked + FOLLOW_UP_FRESH - timedelta(seconds=1))
    assert fresh is not None
    assert store.claim_next("b", now=asked + FOLLOW_UP_FRESH) is None  # dropped unsent
    assert store.user_rows("b")["outbox"] == 0


def test_a_reply_never_expires_and_the_prune_drops_expired_reminders(
    make_store: MakeStore, engine: Engine
) -> None:
    """Only a tick's messages expire (a reply waits for its sweep however late); what expired
    and nobody claimed is pruned too."""
    store = make_store()
    coach = Coach(engine, store)
    subscribe(store, engine, "u")
    subscribe(store, engine, "v")
    coach.apply("u", Text("hello"), now=DUE - timedelta(hours=1), update_id=41, outbox=True)
    assert sorted(fire_all(coach, DUE)) == ["u", "v"]
    later = DUE + timedelta(hours=5)  # past midnight in New York
    assert store.prune(later)["outbox"] == 2  # both reflections, not the reply
    claimed, more = store.claim("u", now=later)  # the reply, hours later still
    sent = []
    while claimed is not None:  # each claim tells whether another message waits after it
        sent.append(claimed[0])
        if not more:
            break
        claimed, more = store.claim("u", claimed[:2], now=later)
    assert sent and set(sent) == {41}
    assert store.claim("u", (41, len(sent) - 1), now=later, take=False) == (None, False)
    assert store.user_rows("u")["outbox"] == 0  # the last one forgotten without a claim
    assert store.claim_next("v", now=later) is None


@pytest.mark.parametrize(
    ("tz", "fired", "ends"),
    [
        ("America/New_York", "2026-03-08T01:00:00+00:00", "2026-03-08T05:00:00+00:00"),
        ("America/New_York", "2026-11-01T23:30:00+00:00", "2026-11-02T05:00:00+00:00"),
        ("Asia/Kathmandu", "2026-06-01T14:15:00+00:00", "2026-06-01T18:15:00+00:00"),
        ("Asia/Kolkata", "2026-06-01T18:29:00+00:00", "2026-06-01T18:30:00+00:00"),
        ("America/Santiago", "2026-09-05T20:00:00+00:00", "2026-09-06T04:00:00+00:00"),
    ],
)
def test_a_reflection_expires_at_its_local_midnight(tz: str, fired: str, ends: str) -> None:
    """Midnight in the user's zone, through the changes (Santiago springs forward at
    midnight: that day starts at 01:00) and the half and quarter hours."""
    moment = datetime.fromisoformat(fired)
    assert expiry("reflection", tz, moment) == datetime.fromisoformat(ends)
    assert expiry("follow_up", tz, moment) == moment + FOLLOW_UP_FRESH
