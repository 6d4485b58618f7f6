"""The one schema, for both engines: SQLAlchemy Core tables compiled to each dialect's DDL.

Every free-text field lives in a `data` column (JSON, sealed with Fernet when a key is set).
MIGRATIONS[n] takes a database from schema n to n + 1; a released step is never edited.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable, DDLElement

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
# Messages a turn must send, written with the turn and deleted once sent: a worker that dies
# between the two leaves them here, and the update's redelivery sends them.
# A row marked `sending` was on its way when its worker died: it may have arrived, so it is not
# sent again (at most one message of a turn is lost, none is ever sent twice).
outbox = _owned("outbox", Column("update_id", BigInteger, nullable=False),
                Column("seq", Integer, nullable=False), Column("at", Text, nullable=False),
                Column("sending", Integer, nullable=False, server_default="0"),
                Column("data", Text, nullable=False), key=("update_id", "seq"))  # fmt: skip
# Updates received by some worker and not yet applied, per chat: a worker applies an update
# only when no earlier one of the same chat is waiting, so workers keep a chat's order.
inbox = Table(
    "inbox", metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("update_id", BigInteger, nullable=False),
    Column("at", Text, nullable=False),
    PrimaryKeyConstraint("chat_id", "update_id"),
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
schedule_due = Index("schedule_due", schedule.c.due_at)
processed_at = Index("processed_at", processed_updates.c.at)

USER_TABLES = ("sessions", "plans", "outcomes", "reflections", "schedule", "outbox")  # +users
SEALED = {"sessions": "user_id", "plans": "id", "outcomes": "at", "reflections": "id",
          "outbox": "update_id"}  # fmt: skip

# Schema 0 -> 1: everything above, as first released.
MIGRATIONS: list[list[DDLElement]] = [
    [CreateTable(t) for t in metadata.sorted_tables] + [CreateIndex(schedule_due),
                                                        CreateIndex(processed_at)],
]  # fmt: skip
SCHEMA_VERSION = len(MIGRATIONS)
DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}


def ddl(step: int, dialect: str) -> list[str]:
    """The SQL statements of one migration step, in a dialect."""
    return [str(element.compile(dialect=DIALECTS[dialect])).strip() for element in MIGRATIONS[step]]
