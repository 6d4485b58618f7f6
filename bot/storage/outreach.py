"""The schedule: reminders fired when due by any number of workers, each exactly once.

`fire_due` takes a few due rows in one transaction (PostgreSQL: `FOR UPDATE ... SKIP LOCKED`
on the row and its user, so workers firing together take different users and never wait on
each other or on a user's own turn) and, for each, runs the user's turn (Engine.tick), stores
it, puts its messages into the outbox and moves the row on or deletes it, then commits. A
worker killed half-way commits nothing: the rows are due again at once for any worker. Once
committed, the messages are in the outbox, where they are sent once (SQLStore.claim_next), or
dropped unsent once they expire (a reflection at the end of its local day, a follow-up
FOLLOW_UP_FRESH later: dialogue/daily.py `expiry`), so a worker's death never sends a prompt
the next day.
Each row has its own savepoint: a turn that raises postpones that row only.

Users who blocked the bot have their rows parked at NEVER, out of every claim's range, until
they write again; `first_due` keeps when a parked row first came due.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.storage.crypto import SealError
from dialogue.daily import expiry, parse_stamp, stamp
from dialogue.session import SessionError

if TYPE_CHECKING:
    from bot.storage.base import Run
    from dialogue.engine import Turn
    from dialogue.session import Session

log = logging.getLogger(__name__)
NEVER = "9999-12-31T00:00:00+00:00"
OUTBOX_ROW = ("INSERT INTO outbox (user_id, update_id, seq, at, sending, data, expires)"
              " VALUES (?, ?, ?, ?, 0, ?, ?)")  # fmt: skip
RETRY = timedelta(hours=1)  # a row whose turn raised is tried again this much later
Tick = Callable[["Session", str, str, datetime], "Turn"]  # session, kind, ref, first due
Fired = tuple[str, str, "Turn"]  # user id, kind, the turn


class OutreachStore:
    """The schedule's part of SQLStore (a mixin: needs transaction, _load, _write)."""

    skip_locked = ""  # PostgreSQL: " FOR UPDATE OF s, u SKIP LOCKED"

    def fire_due(
        self, now: datetime, tick: Tick, *, limit: int = 20, user_id: str | None = None,
        outbox: Callable[[Turn], list[dict[str, Any]]] | None = None,
    ) -> list[Fired]:  # fmt: skip
        """Fire up to `limit` reminders due at `now`, earliest first (one user's, if given);
        return what each turn said. Nothing left to fire: []."""
        mine = " AND s.user_id = ?" if user_id else ""
        params: tuple[Any, ...] = (stamp(now), *((user_id,) if user_id else ()), limit)
        claim = (
            "SELECT s.user_id, s.kind, s.ref, coalesce(s.first_due, s.due_at) FROM schedule s"
            f" JOIN users u ON u.user_id = s.user_id WHERE s.due_at <= ?{mine}"
            f" ORDER BY s.due_at, s.kind LIMIT ?{self.skip_locked}"
        )
        fired: list[Fired] = []
        with self.transaction() as run:  # type: ignore[attr-defined]
            for user, kind, ref, first in run(claim, params).fetchall():
                run("SAVEPOINT reminder", ())
                try:
                    turn = self._fire_one(run, user, kind, ref, first, now, tick, outbox)
                except (SessionError, SealError, ValueError, KeyError, RuntimeError) as err:
                    run("ROLLBACK TO SAVEPOINT reminder", ())
                    log.error("a reminder failed (%s): tried again later", type(err).__name__)
                    self.schedule(run, user, kind, ref, stamp(now + RETRY))
                    continue
                run("RELEASE SAVEPOINT reminder", ())
                if turn is not None:
                    fired.append((user, kind, turn))
        return fired

    def _fire_one(  # noqa: PLR0917 - one row and the turn's parts
        self, run: Run, user: str, kind: str, ref: str, first: str, now: datetime, tick: Tick,
        outbox: Callable[[Turn], list[dict[str, Any]]] | None,
    ) -> Turn | None:  # fmt: skip
        run("DELETE FROM schedule WHERE user_id = ? AND kind = ? AND ref = ?", (user, kind, ref))
        session, version = self._load(run, user)  # type: ignore[attr-defined]
        if session is None:
            return None
        turn = tick(session, kind, ref, parse_stamp(first))
        sealer = self._write(run, user, turn, version, now, reach=False)  # type: ignore[attr-defined]
        if outbox is not None and sealer is not None:
            from bot.storage.base import seal_json  # noqa: PLC0415 - base imports this module

            at, late = stamp(now), stamp(expiry(kind, turn.session.profile.tz, now))
            for seq, message in enumerate(outbox(turn)):  # a reminder's "update id": -turn
                row = (user, -turn.session.turn, seq, at, seal_json(sealer, message), late)
                run(OUTBOX_ROW, row)
        return turn

    def park(self, run: Run, user_id: str) -> None:
        """A user blocked the bot: their reminders wait, out of every claim's range."""
        run("UPDATE schedule SET first_due = coalesce(first_due, due_at), due_at = ?"
            " WHERE user_id = ? AND due_at <> ?", (NEVER, user_id, NEVER))  # fmt: skip

    def unpark(self, run: Run, user_id: str, now: datetime) -> None:
        """A user is back: parked reminders come due now (their turn decides what is still
        due: a reflection of an earlier day is skipped)."""
        run("UPDATE schedule SET due_at = ? WHERE user_id = ? AND due_at = ?",
            (stamp(now), user_id, NEVER))  # fmt: skip

    def schedule(self, run: Run, user_id: str, kind: str, ref: str, at: str | None) -> None:
        """Set (or, with None, delete) one reminder."""
        if at is None:
            run("DELETE FROM schedule WHERE user_id = ? AND kind = ? AND ref = ?",
                (user_id, kind, ref))  # fmt: skip
            return
        run(
            "INSERT INTO schedule (user_id, kind, ref, due_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (user_id, kind, ref) DO UPDATE SET due_at = excluded.due_at,"
            " first_due = NULL",
            (user_id, kind, ref, stamp(parse_stamp(at))),
        )
