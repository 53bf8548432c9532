"""A location's daily fulfilment capacity: how many fulfilment orders it takes on one of its own (local) days.

What is used is counted, not kept in a counter: the live (not cancelled) fulfilment orders assigned to the
location on that local day (``fulfilment_order.assigned_day``, set from the location's timezone when the order
is assigned). Cancelling or re-routing a fulfilment order therefore gives its slot back at once, and whoever
writes fulfilment orders (placement, pick-exception re-routing) consumes capacity the same way — nothing can
drift. A manager raises (or lowers) one day's capacity with an override (``extra``), or changes
``daily_capacity`` itself with ``PATCH /locations/{id}``.

Routing reads the same figures in the one channel statement of order placement (``orders/sourcing.py``):
the counts and overrides for the three dates "today" can be anywhere on Earth (UTC date −1, 0, +1), and the
location's timezone picks one (:func:`pick_for_today`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Date, ForeignKey, Integer, String, column, func, select, table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from omniretail.auth.schemas import Principal
from omniretail.platform import clock
from omniretail.platform.errors import InvalidInput
from omniretail.platform.models import Base, BigIntPK, UTCDateTime

from . import service
from .models import Location

DEFAULT_TIMEZONE = "Europe/Warsaw"
MAX_EXTRA = 100_000


class LocationCapacity(Base):
    """A manager's change to one local day's capacity: ``daily_capacity + extra`` (never below 0)."""

    __tablename__ = "location_capacity"

    location_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("location.id", ondelete="CASCADE"),
                                             primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    extra: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[str] = mapped_column(String(300), default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


CAPACITY = LocationCapacity.__table__
# read as a plain table: orders writes it, locations only counts
_FULFILMENT = table("fulfilment_order", column("location_id"), column("assigned_day"), column("state"))


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def local_day(timezone: str | None, at: datetime | None = None) -> date:
    """The location's calendar date at ``at`` (now by default)."""
    return (at or clock.now()).astimezone(zone(timezone)).date()


def candidate_days(at: datetime) -> tuple[date, date, date]:
    """The dates it can be somewhere on Earth at ``at``: the UTC date and the days either side."""
    d = at.date() if at.tzinfo is None else at.astimezone(zone("UTC")).date()
    return d - timedelta(days=1), d, d + timedelta(days=1)


def pick_for_today(timezone: str | None, at: datetime, figures: tuple) -> int:
    """Of three figures for :func:`candidate_days`, the one for the location's own today."""
    today = local_day(timezone, at)
    for d, figure in zip(candidate_days(at), figures, strict=True):
        if d == today:
            return int(figure or 0)
    return 0


@dataclass(frozen=True)
class CapacityDay:
    """One local day at a location. ``capacity``/``left`` are None when the location has no daily limit."""

    location_id: int
    day: date
    daily_capacity: int | None
    extra: int
    capacity: int | None
    used: int
    left: int | None
    timezone: str


def effective(daily_capacity: int | None, extra: int) -> int | None:
    return None if daily_capacity is None else max(0, daily_capacity + extra)


async def capacity_on(session: AsyncSession, location: Location, day: date | None = None) -> CapacityDay:
    """Capacity, used and left on ``day`` (the location's today by default)."""
    day = day or local_day(location.timezone)
    fo = _FULFILMENT
    used = (await session.execute(select(func.count()).select_from(fo).where(
        fo.c.location_id == location.id, fo.c.assigned_day == day, fo.c.state != "cancelled"))).scalar_one()
    extra = (await session.execute(select(CAPACITY.c.extra).where(
        CAPACITY.c.location_id == location.id, CAPACITY.c.day == day))).scalar_one_or_none() or 0
    cap = effective(location.daily_capacity, extra)
    return CapacityDay(location.id, day, location.daily_capacity, extra, cap, int(used),
                       None if cap is None else max(0, cap - int(used)), location.timezone or DEFAULT_TIMEZONE)


async def get_capacity(session: AsyncSession, location_id: int, *, principal: Principal,
                       day: date | None = None) -> CapacityDay:
    location = await service.get_location(session, location_id, principal=principal)
    return await capacity_on(session, location, day)


async def set_extra(session: AsyncSession, location_id: int, *, day: date | None, extra: int, actor: str,
                    principal: Principal) -> CapacityDay:
    """Set one day's extra capacity (replacing an earlier figure for that day: repeating it is harmless).
    A past day is refused; 0 removes the override."""
    location = await service.get_location(session, location_id, principal=principal)
    today = local_day(location.timezone)
    day = day or today
    if day < today:
        raise InvalidInput(f"{day} is over at {location.code} (today is {today} there)", field="date")
    if location.daily_capacity is None:
        raise InvalidInput(f"{location.code} has no daily capacity to raise; set daily_capacity first",
                           field="extra")
    if not -MAX_EXTRA <= extra <= MAX_EXTRA:
        raise InvalidInput(f"extra must be between {-MAX_EXTRA} and {MAX_EXTRA}", field="extra")
    ins = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    values = {"location_id": location_id, "day": day, "extra": extra, "set_by": actor, "updated_at": clock.now()}
    stmt = ins(CAPACITY).values(**values)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[CAPACITY.c.location_id, CAPACITY.c.day],
        set_={"extra": extra, "set_by": actor, "updated_at": values["updated_at"]}))
    return await capacity_on(session, location, day)
