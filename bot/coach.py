"""The turn, for any front end: load, engine.handle, save with effects, in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.storage import AlreadyApplied, Store
from dialogue.content import Content, Rendered
from dialogue.engine import Engine, Turn
from dialogue.events import Event
from dialogue.replies import Reply
from dialogue.session import Session

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Applied:
    """A stored turn and its replies rendered in the user's locale (rendered once)."""

    turn: Turn
    rendered: list[Rendered]
    queued: bool = False  # its messages wait in the outbox (else the caller sends `rendered`)


class Coach:
    """The engine and the store together: the one place a turn is applied."""

    def __init__(self, engine: Engine, store: Store, clock: Clock = utc_now) -> None:
        self.engine, self.store, self.clock = engine, store, clock
        self.content: Content = engine.content

    def turn(
        self, user_id: str, event: Event, locale: str = "en", *, now: datetime | None = None
    ) -> Turn | None:
        """Apply one event durably (without rendering); None for an update applied before."""
        applied = self.apply(user_id, event, locale, now=now)
        return applied.turn if applied else None

    def apply(
        self,
        user_id: str,
        event: Event,
        locale: str = "en",
        *,
        update_id: int | None = None,
        now: datetime | None = None,
        outbox: bool = False,
    ) -> Applied | None:
        """Apply one event durably and render its replies; None for an update applied before.

        With `outbox`, the messages to send are stored with the turn (see Runtime).
        """
        now = now or self.clock()
        rendered: list[Rendered] = []

        def step(session: Session | None) -> Turn:
            session = session or self.engine.new_session(user_id, self.locale_of(locale))
            query = self.engine.wants(session, event)
            data = self.store.fetch(user_id, query) if query else None
            return self.engine.handle(session, event, now, data)

        try:
            keep = self._messages(rendered) if outbox else None
            turn = self.store.transact(user_id, step, now, update_id, keep)
        except AlreadyApplied:
            return None
        return self._applied(turn, rendered)

    def remind(
        self, *, now: datetime | None = None, outbox: bool = False, limit: int = 20,
        user_id: str | None = None,
    ) -> list[tuple[str, str, Applied]]:  # fmt: skip
        """Fire up to `limit` reminders due now, durably (store.fire_due): per reminder, its
        user, kind and what it said (often nothing: a reminder can move on in silence)."""
        now = now or self.clock()
        said: dict[int, list[Rendered]] = {}  # each turn's replies, rendered once

        def tick(session: Session, kind: str, ref: str, first_due: datetime) -> Turn:
            return self.engine.tick(session, kind, ref, first_due, now)

        def keep(turn: Turn) -> list[dict[str, object]]:
            return self._messages(said.setdefault(id(turn), []))(turn)

        fired = self.store.fire_due(
            now, tick, limit=limit, user_id=user_id, outbox=keep if outbox else None
        )
        return [(user, kind, self._applied(turn, said.get(id(turn), [])))
                for user, kind, turn in fired]  # fmt: skip

    def _messages(self, rendered: list[Rendered]) -> Callable[[Turn], list[dict[str, object]]]:
        """What goes into the outbox for a turn: its replies rendered once, kept in `rendered`."""

        def messages(turn: Turn) -> list[dict[str, object]]:
            rendered.extend(self.render(turn.replies, turn.session.locale))
            return [{"html": r.html, "buttons": r.buttons, "token": r.token}
                    for r in rendered if not r.edit]  # fmt: skip

        return messages

    def _applied(self, turn: Turn, rendered: list[Rendered]) -> Applied:
        queued = bool(rendered)
        if not queued:  # no outbox, or a turn that stores none (stale press, erasure)
            rendered = self.render(turn.replies, turn.session.locale)
        return Applied(turn, rendered, queued)

    def current(self, session: Session, now: datetime | None = None) -> list[Reply]:
        """The question the coach is asking now (after a restart), with the data it shows."""
        query = self.engine.wants(session, None)  # type: ignore[arg-type]
        data = self.store.fetch(session.user_id, query) if query else None
        return self.engine.current(session, now or self.clock(), data)

    def chart(self, figures: dict[str, object], locale: str) -> bytes:
        """A chart effect's picture as PNG (/progress, or a rehearsal's turns), its words from
        the locale's content."""
        from bot.charts import progress_png, rehearsal_png  # noqa: PLC0415 - matplotlib when drawn

        loc = self.content.locale(locale)
        if figures.get("kind") == "rehearsal":
            words = ("rehearsal_title", "arousal", "openness", "turn")
            return rehearsal_png(figures, {w: loc.label(f"chart.{w}") for w in words})
        words = ("title", "ruptures", "repairs", "days", "count", "week")
        return progress_png(figures, {w: loc.label(f"chart.{w}") for w in words})

    @staticmethod
    def caption_key(figures: dict[str, object]) -> str:
        """The content key of a chart's caption."""
        return "rehearsal.caption" if figures.get("kind") == "rehearsal" else "progress.caption"

    def locale_of(self, wanted: str | None) -> str:
        """A locale the content has: the wanted one, its language, or the default."""
        if wanted:
            for candidate in (wanted, wanted.split("-")[0].lower()):
                if candidate in self.content.locales:
                    return candidate
        return self.content.default

    def render(self, replies: list[Reply], locale: str) -> list[Rendered]:
        """Replies rendered in a locale."""
        return [self.content.render(r, locale) for r in replies]
