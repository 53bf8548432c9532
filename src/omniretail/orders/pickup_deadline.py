"""By when a customer must collect a ready pickup (or curbside) order: the collect-by deadline.

One rule, used by everything that speaks of it — the ``ready_for_pickup`` message (``fulfilment.mark_ready``'s
intent, ``orders.messages``), the ``pickup_expired`` cancellation, the store's queue (``store_queue``) and the
expiry job (``orders.tasks.expire_uncollected``) — so what the customer is told is what happens:

* the channel allows ``pickup_expiry_days`` (default :data:`DEFAULT_DAYS`) calendar days after the order became
  ready, counted on the store's own calendar (its time zone);
* the deadline is the store's **closing time** on that local day; when the store is closed that day (a Sunday,
  a day without opening hours, a closed date), it is the closing time of the next day the store is open — the
  customer never gets less time, and never a moment when nobody could hand the order over;
* a store without any opening hours gets the end of that local day (23:59:59), so the message can name the
  date alone.

Opening hours are the location's own format (``{"mon": [["09:00", "21:00"]], …, "sun": []}``, a day's spans in
local wall-clock time; ``"24:00"`` closes at midnight). Locations do not model holidays yet: ``closed_dates``
takes the store's closed local dates for when they do (and for tests). Local times are converted with the
zone's rules of that very day, so 21:00 stays 21:00 across a daylight-saving change.

:func:`collect_by` is pure; :func:`location_clock` reads what it needs of a location.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.locations.capacity import zone
from omniretail.locations.models import Location

DEFAULT_DAYS = 5
DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SEARCH_DAYS = 370  # a store open at least once a year
_LOCATION = Location.__table__


def expiry_days(settings: Mapping[str, Any] | None) -> int:
    """The channel's ``pickup_expiry_days`` (checked on write by ``channels.settings``), else the default."""
    try:
        days = int((settings or {}).get("pickup_expiry_days", DEFAULT_DAYS))
    except (TypeError, ValueError):
        return DEFAULT_DAYS
    return days if days >= 1 else DEFAULT_DAYS


def _clock(value: Any) -> tuple[int, int] | None:
    """``"HH:MM"`` as (hours, minutes); ``"24:00"`` is (24, 0); anything else None."""
    text = str(value).strip()
    hh, sep, mm = text.partition(":")
    if not sep or not hh.isdigit() or not mm.isdigit() or len(mm) != 2:
        return None
    hours, minutes = int(hh), int(mm)
    if (hours, minutes) == (24, 0) or (0 <= hours < 24 and 0 <= minutes < 60):
        return hours, minutes
    return None


def closing_time(opening_hours: Mapping[str, Any] | None, day: date) -> tuple[int, int] | None:
    """When the store closes on a local date: the end of its last span that day; None when it is closed."""
    last = None
    for span in (opening_hours or {}).get(DAY_KEYS[day.weekday()]) or []:
        try:
            start, end = (_clock(x) for x in span)
        except (TypeError, ValueError):
            continue
        if start is None or end is None or end <= start:
            continue
        last = end if last is None else max(last, end)
    return last


def _has_hours(opening_hours: Mapping[str, Any] | None) -> bool:
    return any(closing_time(opening_hours, date(2024, 1, 1) + timedelta(days=i)) for i in range(7))


def _local_moment(day: date, hm: tuple[int, int], tz) -> datetime:
    hours, minutes = hm
    if hours == 24:
        return datetime.combine(day + timedelta(days=1), time(0), tz)
    return datetime.combine(day, time(hours, minutes), tz)


def collect_by(ready_at: datetime, *, days: int, opening_hours: Mapping[str, Any] | None, timezone: str | None,
               closed_dates: Collection[date] = ()) -> datetime:
    """The collect-by deadline (UTC) of an order ready at ``ready_at`` (see the module docstring)."""
    if ready_at.tzinfo is None:
        ready_at = ready_at.replace(tzinfo=UTC)
    tz = zone(timezone)
    day = ready_at.astimezone(tz).date() + timedelta(days=max(0, days))
    with_hours = _has_hours(opening_hours)
    for _ in range(SEARCH_DAYS):
        if day not in closed_dates:
            if not with_hours:
                return (datetime.combine(day + timedelta(days=1), time(0), tz) - timedelta(seconds=1)
                        ).astimezone(UTC)
            closes = closing_time(opening_hours, day)
            if closes is not None:
                return _local_moment(day, closes, tz).astimezone(UTC)
        day += timedelta(days=1)
    return (ready_at + timedelta(days=days)).astimezone(UTC)  # never open: the plain count


async def location_clock(session: AsyncSession, location_id: int) -> tuple[dict[str, Any], str]:
    """A location's ``(opening_hours, timezone)`` (empty hours and the default zone when it is gone)."""
    row = (await session.execute(select(_LOCATION.c.opening_hours, _LOCATION.c.timezone)
                                 .where(_LOCATION.c.id == location_id))).first()
    if row is None:
        return {}, ""
    return dict(row.opening_hours or {}), row.timezone or ""
