"""The one schema, for both engines: SQLAlchemy Core tables compiled to each dialect's DDL.

Every free-text field lives in a `data` column (JSON, sealed with Fernet when a key is set).
MIGRATIONS[n] takes a database from schema n to n + 1; a released step is never edited.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import DDL, CreateIndex, CreateTable, DDLElement, DropTable

metadata = MetaData()


def _owned(name: str, *columns: Column, key: tuple[str, ...] = ()) -> Table:
    """A table of one user's rows: erased with the user (ON DELETE CASCADE)."""
    owner = Column("user_id", Text, ForeignKey("users.user_id", ondelete="CASCADE"), nullable=False)
    return Table(name, metadata, owner, *columns, PrimaryKeyConstraint("user_id", *key))


users = Table(
    "users", metadata,
    Column("user_id", Text, primary_key=True),
    Column("created_at", Text, nullable=False),
    Column("active", Integer, nullable=False, server_default="1"),
)  # fmt: skip
sessions = _owned(
    "sessions",
    Column("version", Integer, nullable=False),
    Column("data", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)
plans = _owned("plans", Column("id", Text, nullable=False),
               Column("created_at", Text, nullable=False), Column("data", Text, nullable=False),
               key=("id",))  # fmt: skip
outcomes = _owned("outcomes", Column("plan_id", Text, nullable=False),
                  Column("at", Text, nullable=False), Column("data", Text, nullable=False),
                  key=("plan_id", "at"))  # fmt: skip
reflections = _owned("reflections", Column("id", Text, nullable=False),
                     Column("at", Text, nullable=False), Column("data", Text, nullable=False),
                     key=("id",))  # fmt: skip
schedule = _owned("schedule", Column("kind", Text, nullable=False),
                  Column("ref", Text, nullable=False), Column("due_at", Text, nullable=False),
                  key=("kind", "ref"))  # fmt: skip
# Schema 3: when a parked row (its user blocked the bot) first came due; its `due_at` is then
# far in the future, out of every claim (bot/storage/outreach.py).
FIRST_DUE = DDL("ALTER TABLE schedule ADD COLUMN first_due TEXT")
# Messages a turn must send, written with the turn and deleted once sent: a worker that dies
# between the two leaves them here, and the update's redelivery sends them.
# A row marked `sending` was on its way when its worker died: it may have arrived, so it is not
# sent again (at most one message of a turn is lost, none is ever sent twice).
outbox = _owned("outbox", Column("update_id", BigInteger, nullable=False),
                Column("seq", Integer, nullable=False), Column("at", Text, nullable=False),
                Column("sending", Integer, nullable=False, server_default="0"),
                Column("data", Text, nullable=False), key=("update_id", "seq"))  # fmt: skip
# Schema 1 only: updates noted on arrival, for a reordering window (replaced in schema 2).
inbox_v1 = Table(
    "inbox", MetaData(),
    Column("chat_id", BigInteger, nullable=False),
    Column("update_id", BigInteger, nullable=False),
    Column("at", Text, nullable=False),
    PrimaryKeyConstraint("chat_id", "update_id"),
)  # fmt: skip
# Updates stored before they are acknowledged (webhook 200, polling offset), until applied:
# whoever holds a chat applies its rows in update-id order. `data` is the update's JSON, sealed.
inbox = Table(
    "inbox", metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("at", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("owner", Text),  # the user whose key seals `data` (none for groups)
    Column("data", Text, nullable=False),
)  # fmt: skip
inbox_chat = Index("inbox_chat", inbox.c.chat_id, inbox.c.update_id)
# Each user's data key, sealed with the configured keys: erased with the user, which leaves
# every copy of their words (old row versions, the write-ahead log) unreadable.
user_keys = _owned("user_keys", Column("key", Text, nullable=False))
# Facts about the database itself: a canary sealed with the encryption key, so a process
# started with another key refuses to run instead of mixing two keys.
meta = Table(
    "meta", metadata,
    Column("name", Text, primary_key=True),
    Column("value", Text, nullable=False),
)  # fmt: skip
# Update ids already applied. No user id: erasing a user leaves nothing of theirs here, and a
# redelivered update stays harmless.
processed_updates = Table(
    "processed_updates", metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("at", Text, nullable=False),
)  # fmt: skip
group_notices = Table(
    "group_notices", metadata, Column("chat_id", BigInteger, primary_key=True, autoincrement=False)
)
# Schema 4: when a message a reminder's tick wrote is too late to send (the end of that local
# day for a reflection); the sender drops it instead (SQLStore.claim_next). NULL: no end (a
# reply to what the user wrote).
OUTBOX_EXPIRES = DDL("ALTER TABLE outbox ADD COLUMN expires TEXT")
# Telegram's overall send limit, shared by every worker on one database (PostgreSQL; a SQLite
# database has one process, which keeps its budget in memory): `tat` is when the next send
# may go (the database server's clock, epoch seconds), moved on by one atomic UPDATE for a few
# sends at a time; `paused_until` is a 429's retry_after, seen by one worker, held by all.
send_budget = Table(
    "send_budget", metadata,
    Column("name", Text, primary_key=True),
    Column("tat", Double, nullable=False),
    Column("paused_until", Double, nullable=False),
)  # fmt: skip
schedule_due = Index("schedule_due", schedule.c.due_at)
# Schema 4: the claim's whole order (due time, then kind: a follow-up before the day's
# reflection), so a claim reads its 20 rows off the index even when 100,000 are due at the
# same second (with `due_at` alone, PostgreSQL sorted them all: 0.36 s a claim).
schedule_due_kind = Index("schedule_due_kind", schedule.c.due_at, schedule.c.kind)
processed_at = Index("processed_at", processed_updates.c.at)

USER_TABLES = ("sessions", "plans", "outcomes", "reflections", "schedule", "outbox",
               "user_keys")  # and users  # fmt: skip
# Every sealed column: table -> (column, primary key). `repair-coach rekey` walks them by key.
SEALED = {
    "sessions": ("data", ("user_id",)),
    "plans": ("data", ("user_id", "id")),
    "outcomes": ("data", ("user_id", "plan_id", "at")),
    "reflections": ("data", ("user_id", "id")),
    "outbox": ("data", ("user_id", "update_id", "seq")),
    "inbox": ("data", ("update_id",)),
    "meta": ("value", ("name",)),
    "user_keys": ("key", ("user_id",)),
}

_V1 = [users, sessions, plans, outcomes, reflections, schedule, outbox, inbox_v1,
       processed_updates, group_notices]  # fmt: skip
MIGRATIONS: list[list[DDLElement]] = [
    # Schema 0 -> 1: as first released.
    [CreateTable(t) for t in _V1] + [CreateIndex(schedule_due), CreateIndex(processed_at)],
    # 1 -> 2: the inbox holds whole updates until applied; the key canary.
    [DropTable(inbox_v1), CreateTable(inbox), CreateIndex(inbox_chat), CreateTable(meta),
     CreateTable(user_keys)],
    # 2 -> 3: reminders parked while their user has blocked the bot (bot/storage/outreach.py).
    [FIRST_DUE],
    # 3 -> 4: reminders' messages expire in the outbox; the send budget workers share; the
    # due index in the claim's order.
    [OUTBOX_EXPIRES, CreateTable(send_budget), DDL("DROP INDEX schedule_due"),
     CreateIndex(schedule_due_kind)],
]  # fmt: skip
SCHEMA_VERSION = len(MIGRATIONS)
DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}


def ddl(step: int, dialect: str) -> list[str]:
    """The SQL statements of one migration step, in a dialect."""
    return [str(element.compile(dialect=DIALECTS[dialect])).strip() for element in MIGRATIONS[step]]
