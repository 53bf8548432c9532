"""The outbox: events appended in the same transaction as the state they describe.

Workers read it after commit (``published_at IS NULL``) and relay it to the sync engine, notifications,
webhooks or a broker. ``coalesce_key`` lets a consumer keep only the newest event per key (e.g. one stock
change per variant and channel).

Delivery state (see ``platform/dispatcher.py``): a worker claims a row by writing ``claimed_by`` and a lease in
``claimed_until``; after a failure ``claimed_until`` holds the back-off ("not before") and ``last_error`` the
reason; after too many attempts ``parked_at`` is set and the row waits for an operator.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, insert, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

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
        Index("ix_outbox_unpublished", "id", sqlite_where=text("published_at IS NULL"),
              postgresql_where=text("published_at IS NULL")),
        # the worker's claim query: pending rows of the topics it has handlers for, oldest first
        Index("ix_outbox_pending_topic", "topic", "id",
              sqlite_where=text("published_at IS NULL AND parked_at IS NULL"),
              postgresql_where=text("published_at IS NULL AND parked_at IS NULL")),
    )


async def append_event(
    session: AsyncSession, topic: str, payload: dict[str, Any], *, coalesce_key: str | None = None
) -> None:
    """Append one event; it becomes visible only if the surrounding transaction commits."""
    await session.execute(
        insert(OutboxEvent).values(
            topic=topic, coalesce_key=coalesce_key, payload=payload, created_at=clock.now()
        )
    )


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
