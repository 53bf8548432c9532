"""The one place that tells the time, so tests can move it."""

from __future__ import annotations

from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    return _frozen or datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Pin the clock (tests only); ``None`` lets it run again."""
    global _frozen
    _frozen = at
