"""The outbox: events appended in the same transaction as the state they describe.

Workers read it after commit (``published_at IS NULL``) and relay it to the sync engine, notifications,
webhooks or a broker. ``coalesce_key`` lets a consumer keep only the newest event per key (e.g. one stock
change per variant and channel).

Delivery state (see ``platform/dispatcher.py``): a worker claims a row by writing ``claimed_by`` and a lease in
``claimed_until``; after a failure ``claimed_until`` holds the back-off ("not before") and ``last_error`` the
reason; after too many attempts ``parked_at`` is set and the row waits for an operator.

Waking workers up at once (no polling delay): every statement that appends events flags its session
(``append_event(s)``, any outbox INSERT sent through the session, and :func:`appended_through_driver` for SQL
sent straight through the driver); after the session commits,

* PostgreSQL: the committing process sends ``pg_notify('omniretail_outbox', '')`` on a pooled connection
  (:class:`CommitNotifier`: after the commit, at most one in flight and one per ``NOTIFY_GAP``, so a burst of
  commits sends one or two), and
  a worker that ``LISTEN``s (``platform/outbox_wakeup.py``) claims the rows right away. Not a trigger: a NOTIFY
  inside the writing transaction makes every such commit queue on PostgreSQL's single notification lock, held
  through the commit's WAL flush — order placement stalled on it at a few hundred commits per second. Rows
  written by other programs are found at the workers' next poll;
* SQLite (one process): the callbacks registered with :func:`on_local_commit` run (the in-process worker's
  wake-up).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, TextClause, event, insert, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import clock
from .models import Base, IdMixin, JSONType, UTCDateTime


class OutboxEvent(IdMixin, Base):
    __tablename__ = "outbox"

    topic: Mapped[str] = mapped_column(String(100))
    coalesce_key: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    parked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        # parked events, for the operators' list; with the next index it covers every unpublished event
        # (migration 0017: a new event goes into one index besides the key, not two)
        Index("ix_outbox_parked", "id", sqlite_where=text("published_at IS NULL AND parked_at IS NOT NULL"),
              postgresql_where=text("published_at IS NULL AND parked_at IS NOT NULL")),
        # the worker's claim query: pending rows of the topics it has handlers for, oldest first
        Index("ix_outbox_pending_topic", "topic", "id",
              sqlite_where=text("published_at IS NULL AND parked_at IS NULL"),
              postgresql_where=text("published_at IS NULL AND parked_at IS NULL")),
    )


NOTIFY_CHANNEL = "omniretail_outbox"  # PostgreSQL LISTEN/NOTIFY channel the workers listen on
# seconds at least between two notifications from one process. Under load, one notification per round trip
# took a pooled connection and a statement for every third order placed; now a worker waits ≤ 20 ms longer.
NOTIFY_GAP = 0.02
NOTIFIER = "omniretail.outbox.notifier"  # a PostgreSQL session's CommitNotifier (session.info)
_APPENDED = "omniretail.outbox.appended"
_local_listeners: list[Callable[[], None]] = []
log = logging.getLogger("omniretail.outbox")


def on_local_commit(callback: Callable[[], None]) -> Callable[[], None]:
    """Call ``callback()`` after every commit in this process that appended outbox events; returns the
    function that unregisters it. Callbacks must be quick and never raise (set an ``asyncio.Event``)."""
    _local_listeners.append(callback)

    def unregister() -> None:
        if callback in _local_listeners:
            _local_listeners.remove(callback)

    return unregister


class CommitNotifier:
    """Sends the outbox notification for one PostgreSQL engine after commits that appended events: at most one
    ``pg_notify`` in flight, and one more ``NOTIFY_GAP`` after it if commits came meanwhile; each is one
    autocommitted statement."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self._again = False
        self._task: asyncio.Task | None = None

    def poke(self) -> None:
        self._again = True
        if self._task is None:
            try:
                self._task = asyncio.get_running_loop().create_task(self._send())
            except RuntimeError:  # no loop (a synchronous caller): the workers' poll finds the rows
                self._again = False

    async def _send(self) -> None:
        try:
            while self._again:
                self._again = False
                async with self.engine.connect() as conn:
                    raw = await conn.get_raw_connection()
                    await raw.driver_connection.execute(f"SELECT pg_notify('{NOTIFY_CHANNEL}', '')")
                await asyncio.sleep(NOTIFY_GAP)  # the commits of the next few ms share the next notification
        except Exception as exc:  # the workers' poll finds the rows
            log.warning("could not notify the workers of new outbox events: %s", exc)
        finally:
            self._task = None


def _flag(session) -> None:
    session.info[_APPENDED] = True


def appended_through_driver(session: AsyncSession) -> None:
    """Events were appended by SQL sent straight through the driver (a hot path's single statement): wake the
    workers after the commit all the same."""
    _flag(session)


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state) -> None:
    """An outbox INSERT sent through the session (a Core insert, or SQL text such as the stock CTEs)."""
    stmt = state.statement
    table = getattr(stmt, "table", None)
    if (table is not None and getattr(table, "name", None) == "outbox" and stmt.is_insert) or (
            isinstance(stmt, TextClause) and "INSERT INTO outbox" in stmt.text):
        _flag(state.session)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_APPENDED, False):
        notifier = session.info.get(NOTIFIER)
        if notifier is not None:
            notifier.poke()
        for callback in list(_local_listeners):  # noqa: PERF101 - a callback may unregister itself
            callback()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_APPENDED, None)


async def append_event(
    session: AsyncSession, topic: str, payload: dict[str, Any], *, coalesce_key: str | None = None
) -> None:
    """Append one event; it becomes visible only if the surrounding transaction commits."""
    await session.execute(
        insert(OutboxEvent).values(
            topic=topic, coalesce_key=coalesce_key, payload=payload, created_at=clock.now()
        )
    )
    _flag(session)


async def append_events(session: AsyncSession, events: list[dict[str, Any]]) -> None:
    """Append many events in one statement: dicts with ``topic``, ``payload`` and optional ``coalesce_key``."""
    if not events:
        return
    at = clock.now()
    await session.execute(
        insert(OutboxEvent),
        [
            {"topic": e["topic"], "payload": e["payload"], "coalesce_key": e.get("coalesce_key"), "created_at": at}
            for e in events
        ],
    )
    _flag(session)
