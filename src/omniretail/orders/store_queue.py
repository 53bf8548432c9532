"""A store's pickup queue as the store app shows it: the live fulfilment orders of one location
(``promise.store_queue``, with their promise clocks) sorted into what the store must do now, and a cheap
version of the queue that changes whenever it does.

Sections (each live fulfilment order appears in exactly one):

* ``curbside`` — a curbside customer has checked in and waits outside (shown first);
* ``to_pick`` — new, being picked, picked and not yet ready (pickups) or shipped (ship-from-store), or
  waiting for a ship-to-store transfer;
* ``expiring`` — ready for pickup, but the customer's time to collect ends within ``EXPIRING_WITHIN``;
* ``ready`` — ready for pickup, waiting for the customer.

The collect-by time is the store's closing time the channel's ``pickup_expiry_days`` after ``ready_at``
(``pickup_deadline.collect_by``: what ``fulfilment.mark_ready`` tells the customer and the expiry job applies).

``queue_version`` is what the live queue polls: one aggregate over the location's open fulfilment orders (count,
newest id, last update; index ``ix_fulfilment_order_location``), so a page learns of a new, moved or
checked-in order within one poll.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.locations.models import Location

from . import pickup_deadline, promise
from .service import FULFILMENT, ORDERS
from .states import FULFILMENT_OPEN, FulfilmentState
from .tables import channel_t

F = FulfilmentState
EXPIRING_WITHIN = timedelta(hours=24)
MAX_ROWS = 300
OPEN_STATES = sorted(s.value for s in FULFILMENT_OPEN)
SECTIONS = ("curbside", "to_pick", "expiring", "ready")
_LOCATION = Location.__table__


@dataclass(frozen=True)
class QueueRow:
    id: int
    order_id: int
    number: str
    customer: str
    delivery_method: str
    state: str
    lines: list[dict[str, Any]]  # {"order_line_id", "sku", "quantity", "received"}
    promised_by: datetime | None
    minutes_left: int | None  # until the promise; negative when late; None without a promise
    late: bool
    due_soon: bool
    checked_in_at: datetime | None
    check_in: dict[str, Any] | None
    in_transit: int
    collect_by: datetime | None

    @property
    def units(self) -> int:
        return sum(int(x["quantity"]) for x in self.lines)


@dataclass
class StoreQueue:
    location_id: int
    now: datetime
    version: str
    sections: dict[str, list[QueueRow]] = field(default_factory=lambda: {s: [] for s in SECTIONS})

    @property
    def total(self) -> int:
        return sum(len(rows) for rows in self.sections.values())


def collect_by(ready_at: datetime | None, settings: dict | None, opening_hours: dict | None = None,
               timezone: str | None = None) -> datetime | None:
    if ready_at is None:
        return None
    return pickup_deadline.collect_by(ready_at, days=pickup_deadline.expiry_days(settings),
                                      opening_hours=opening_hours, timezone=timezone)


def section_of(row: QueueRow, now: datetime) -> str:
    if row.checked_in_at is not None:
        return "curbside"
    if row.state == F.READY_FOR_PICKUP:
        if row.collect_by is not None and row.collect_by - now <= EXPIRING_WITHIN:
            return "expiring"
        return "ready"
    return "to_pick"


async def queue_version(session: AsyncSession, location_id: int) -> str:
    """Changes when an open fulfilment order of the location is added, moved, checked in or leaves."""
    count, newest, touched = (await session.execute(
        select(func.count(), func.max(FULFILMENT.c.id), func.max(FULFILMENT.c.updated_at))
        .where(FULFILMENT.c.location_id == location_id, FULFILMENT.c.state.in_(OPEN_STATES)))).one()
    stamp = touched.isoformat() if isinstance(touched, datetime) else str(touched or "")
    return f"{count}:{newest or 0}:{stamp}"


async def _collect_by(session: AsyncSession, where) -> dict[int, datetime | None]:
    rows = await session.execute(
        select(FULFILMENT.c.id, FULFILMENT.c.ready_at, channel_t.c.settings, _LOCATION.c.opening_hours,
               _LOCATION.c.timezone)
        .select_from(FULFILMENT.join(ORDERS, ORDERS.c.id == FULFILMENT.c.order_id)
                     .join(channel_t, channel_t.c.id == ORDERS.c.channel_id)
                     .outerjoin(_LOCATION, _LOCATION.c.id == FULFILMENT.c.location_id))
        .where(where, FULFILMENT.c.ready_at.is_not(None)))
    return {r.id: collect_by(r.ready_at, r.settings, r.opening_hours, r.timezone) for r in rows}


def _row(item: promise.QueueItem, collect: datetime | None) -> QueueRow:
    return QueueRow(
        id=item.fulfilment_order_id, order_id=item.order_id, number=item.order_number, customer=item.customer_name,
        delivery_method=item.delivery_method, state=item.state, lines=item.lines, promised_by=item.promised_by,
        minutes_left=item.minutes_left, late=item.late, due_soon=item.due_soon, checked_in_at=item.checked_in_at,
        check_in=item.check_in, in_transit=item.in_transit, collect_by=collect)


async def queue_row(session: AsyncSession, fo_id: int, *, now: datetime) -> QueueRow:
    """One fulfilment order as the queue shows it (whatever its state); the caller checked access."""
    fo = (await session.execute(select(FULFILMENT, ORDERS.c.number, ORDERS.c.contact)
                                .join(ORDERS, ORDERS.c.id == FULFILMENT.c.order_id)
                                .where(FULFILMENT.c.id == fo_id))).one()._mapping
    tick = promise.clock_of(state=fo["state"], promised_by=fo["promised_by"], assigned_at=fo["created_at"], now=now)
    collect = (await _collect_by(session, FULFILMENT.c.id == fo_id)).get(fo_id)
    return QueueRow(
        id=fo["id"], order_id=fo["order_id"], number=fo["number"], customer=(fo["contact"] or {}).get("name", ""),
        delivery_method=fo["delivery_method"], state=fo["state"], lines=list(fo["lines"] or []),
        promised_by=fo["promised_by"], minutes_left=tick.minutes_left, late=tick.level == 2,
        due_soon=tick.level == 1, checked_in_at=fo["checked_in_at"], check_in=fo["check_in"], in_transit=0,
        collect_by=collect)


async def store_queue(session: AsyncSession, location_id: int, *, now: datetime) -> StoreQueue:
    """The live fulfilment orders at ``location_id`` by section, most urgent first."""
    version = await queue_version(session, location_id)
    items = await promise.store_queue(session, location_id, now=now)
    collect = await _collect_by(session, (FULFILMENT.c.location_id == location_id)
                                & (FULFILMENT.c.state == F.READY_FOR_PICKUP.value))
    queue = StoreQueue(location_id=location_id, now=now, version=version)
    for item in items[:MAX_ROWS]:
        row = _row(item, collect.get(item.fulfilment_order_id))
        queue.sections[section_of(row, now)].append(row)
    far = datetime.max.replace(tzinfo=now.tzinfo)
    for name in ("expiring", "ready"):
        queue.sections[name].sort(key=lambda r: (r.collect_by or far, r.id))
    return queue
