"""The promise clock of a fulfilment order: by when the location must have it ready (pickup, curbside) or
dispatched (ship, ship-to-store), what the store's queue shows, and the escalation when it runs late.

The promise (``promised_by``) is fixed when the fulfilment order is assigned:

* pickup / curbside: ready within ``pickup_promise_hours`` (channel setting, default 2) of the store's opening
  hours — counted in open time from the assignment, so an order placed 30 minutes before closing is due
  90 minutes after the next opening. A store without opening hours counts calendar hours.
* ship, pickup point, ship-to-store (the source's leg): dispatched by the end of the next business day (the
  closing time of the location's next open day; without opening hours: the end of the next weekday).
* the pickup leg of ship-to-store: the source's dispatch promise plus ``transfer_days`` (default 1) in transit,
  then the pickup hours as above.

Escalation (:func:`escalate_due`, run every 60 s by ``orders.tasks``): an order not ready (not dispatched) at
75 % of its window is "due soon" (level 1), past ``promised_by`` it is "late" (level 2). Each level is raised once
with a conditional ``UPDATE … WHERE escalation_level < :level`` and announced with an ``orders.store_alert``
(kind ``due_soon`` / ``late``, for the store manager and the back office) and a timeline entry; a late order
that was never "due soon" (the worker was down) gets only the "late" alert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.locations.capacity import local_day, zone
from omniretail.platform import clock

from .models import FulfilmentOrder, Order
from .states import COLLECTED, FULFILMENT_OPEN, SHIP_TO_STORE, FulfilmentState
from .timeline import STORE_ALERT, OrderRef, Timeline

F = FulfilmentState
FULFILMENT, ORDERS = FulfilmentOrder.__table__, Order.__table__
DEFAULT_PICKUP_HOURS = 2.0
DEFAULT_TRANSFER_DAYS = 1
DUE_SOON_SHARE = 0.75
DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# the states in which the location still owes the promised step (ready for pickup, or dispatched)
NOT_READY = frozenset({F.NEW, F.PICKING, F.PICKED, F.AWAITING_TRANSFER})
LEVELS = {1: "due_soon", 2: "late"}
# the delivery methods that are fulfilment work (capacity, promise); a counter sale is not
CLOCKED = COLLECTED | {"ship", "pickup_point", SHIP_TO_STORE}
ALERT_AUDIENCE = ["store_manager", "back_office"]
HORIZON = timedelta(days=3)  # a window longer than 4 × this is announced "due soon" late; see escalate_due
ACTOR = "system:orders.promise"


# --- the arithmetic (pure) -----------------------------------------------------------------------------

def _intervals(hours: dict[str, Any] | None, day: date) -> list[tuple[time, time]] | None:
    """The open intervals of a local date; None when the location has no opening hours at all."""
    if not hours:
        return None
    out = []
    for pair in hours.get(DAY_KEYS[day.weekday()]) or []:
        try:
            start, end = (time.fromisoformat(str(x)) for x in pair)
        except (TypeError, ValueError):
            continue
        if end > start:
            out.append((start, end))
    return sorted(out)


def add_open_hours(start: datetime, hours: float, opening_hours: dict[str, Any] | None, timezone: str | None
                   ) -> datetime:
    """``start`` plus ``hours`` of the location's open time (calendar hours when it has no opening hours)."""
    left = timedelta(hours=hours)
    tz = zone(timezone)
    local = start.astimezone(tz)
    if _intervals(opening_hours, local.date()) is None:
        return start + left
    day = local.date()
    for _ in range(370):  # a location open at least once a year
        for open_at, close_at in _intervals(opening_hours, day) or []:
            begin = datetime.combine(day, open_at, tz)
            end = datetime.combine(day, close_at, tz)
            begin = max(begin, local)
            if begin >= end:
                continue
            if begin + left <= end:
                return (begin + left).astimezone(start.tzinfo)
            left -= end - begin
        day += timedelta(days=1)
    return start + timedelta(hours=hours)  # never open: fall back to calendar hours


def end_of_next_business_day(start: datetime, opening_hours: dict[str, Any] | None, timezone: str | None
                             ) -> datetime:
    """The closing time of the location's next open day after ``start``'s local date (the end of the next
    weekday when it has no opening hours)."""
    tz = zone(timezone)
    day = start.astimezone(tz).date()
    for _ in range(370):
        day += timedelta(days=1)
        intervals = _intervals(opening_hours, day)
        if intervals is None:
            if day.weekday() < 5:
                return (datetime.combine(day + timedelta(days=1), time(0), tz) - timedelta(seconds=1)
                        ).astimezone(start.tzinfo)
            continue
        if intervals:
            return datetime.combine(day, intervals[-1][1], tz).astimezone(start.tzinfo)
    return start + timedelta(days=1)


def promised_by(*, delivery_method: str, at: datetime, opening_hours: dict[str, Any] | None,
                timezone: str | None, settings: dict[str, Any] | None = None,
                after: datetime | None = None) -> datetime:
    """The promise for a fulfilment order assigned at ``at``. ``after``: the goods reach the location only
    then (ship-to-store: the source's dispatch promise), the transit days are added to it."""
    settings = settings or {}
    if delivery_method in COLLECTED:
        start = at
        if after is not None:
            start = max(at, after + timedelta(days=int(settings.get("transfer_days", DEFAULT_TRANSFER_DAYS))))
        hours = float(settings.get("pickup_promise_hours", DEFAULT_PICKUP_HOURS))
        return add_open_hours(start, hours, opening_hours, timezone)
    return end_of_next_business_day(at, opening_hours, timezone)


def assignment_fields(location, *, delivery_method: str, at: datetime, settings: dict[str, Any] | None = None,
                      after: datetime | None = None) -> dict[str, Any]:
    """The columns every new fulfilment order needs for capacity and the promise clock:
    ``{"assigned_day", "promised_by"}``. ``location``: anything with ``timezone`` and ``opening_hours``
    (a location row, ``sourcing.PlaceLocation``). Whoever inserts a fulfilment order (placement, re-routing)
    sets these, so the order counts against the location's capacity on its local day. A counter sale
    (handed over at the till) is no fulfilment work: no capacity, no clock."""
    if delivery_method not in CLOCKED:
        return {"assigned_day": None, "promised_by": None}
    return {"assigned_day": local_day(location.timezone, at),
            "promised_by": promised_by(delivery_method=delivery_method, at=at, opening_hours=location.opening_hours,
                                       timezone=location.timezone, settings=settings, after=after)}


@dataclass(frozen=True)
class Clock:
    minutes_left: int | None  # negative once late
    level: int  # 0 on time, 1 due soon, 2 late


def clock_of(*, state: str, promised_by: datetime | None, assigned_at: datetime, now: datetime) -> Clock:
    if promised_by is None:
        return Clock(None, 0)
    minutes = int((promised_by - now).total_seconds() // 60)
    if state not in NOT_READY:
        return Clock(minutes, 0)
    if now > promised_by:
        return Clock(minutes, 2)
    window = promised_by - assigned_at
    if window.total_seconds() > 0 and now >= assigned_at + window * DUE_SOON_SHARE:
        return Clock(minutes, 1)
    return Clock(minutes, 0)


# --- the store's queue -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueItem:
    """One live fulfilment order in a store's queue (what the store app shows).

    ``fulfilment_order_id``, ``order_id``, ``order_number``; ``state`` (new, picking, picked, awaiting_transfer,
    ready_for_pickup); ``delivery_method`` (pickup, curbside, ship, pickup_point, ship_to_store — the last is a
    leg this location sends to a pickup store); ``customer_name`` (from the order's contact, "" if none);
    ``lines``: ``[{"order_line_id", "sku", "quantity", "received"}]`` (``received``: units of a ship-to-store
    line already at the store, else None); ``promised_by`` (UTC, None if no promise); ``minutes_left`` (to the
    promise, negative once late; None without a promise); ``late`` (not ready/dispatched past the promise);
    ``due_soon`` (at 75 % of its window, not late yet); ``escalation_level`` (alerts sent: 0, 1 due soon,
    2 late); ``checked_in`` (curbside customer is here) with ``checked_in_at`` and ``check_in`` (bay, car,
    note); ``transfer_id`` (ship-to-store) and ``in_transit`` (units still on the way to this store);
    ``assigned_at`` (when the location got it).
    """

    fulfilment_order_id: int
    order_id: int
    order_number: str
    state: str
    delivery_method: str
    customer_name: str
    lines: list[dict[str, Any]]
    promised_by: datetime | None
    minutes_left: int | None
    late: bool
    due_soon: bool
    escalation_level: int
    checked_in: bool
    checked_in_at: datetime | None
    check_in: dict[str, Any] | None
    transfer_id: int | None
    in_transit: int
    assigned_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)


async def store_queue(session: AsyncSession, location_id: int, *, now: datetime | None = None
                      ) -> list[QueueItem]:
    """The location's live fulfilment orders (open, not handed over or shipped), checked-in curbside
    customers first, then by promise (the most urgent first), then oldest first. One statement."""
    now = now or clock.now()
    rows = (await session.execute(
        select(FULFILMENT, ORDERS.c.number, ORDERS.c.contact)
        .select_from(FULFILMENT.join(ORDERS, ORDERS.c.id == FULFILMENT.c.order_id))
        .where(FULFILMENT.c.location_id == location_id,
               FULFILMENT.c.state.in_([s.value for s in FULFILMENT_OPEN])))).all()
    items = []
    for r in rows:
        m = r._mapping
        tick = clock_of(state=m["state"], promised_by=m["promised_by"], assigned_at=m["created_at"], now=now)
        lines = [{"order_line_id": ln.get("order_line_id"), "sku": ln.get("sku"), "quantity": ln.get("quantity"),
                  "received": ln.get("received")} for ln in m["lines"] or []]
        waiting = sum(ln["quantity"] - (ln["received"] or 0) for ln in lines) \
            if m["state"] == F.AWAITING_TRANSFER else 0
        items.append(QueueItem(
            fulfilment_order_id=m["id"], order_id=m["order_id"], order_number=m["number"], state=m["state"],
            delivery_method=m["delivery_method"], customer_name=(m["contact"] or {}).get("name", ""), lines=lines,
            promised_by=m["promised_by"], minutes_left=tick.minutes_left, late=tick.level == 2,
            due_soon=tick.level == 1, escalation_level=m["escalation_level"] or 0,
            checked_in=m["checked_in_at"] is not None, checked_in_at=m["checked_in_at"], check_in=m["check_in"],
            transfer_id=m["transfer_id"], in_transit=waiting, assigned_at=m["created_at"]))
    far = datetime.max.replace(tzinfo=now.tzinfo)
    items.sort(key=lambda x: (not x.checked_in, x.promised_by or far, x.fulfilment_order_id))
    return items


# --- escalation ------------------------------------------------------------------------------------------

async def escalate_due(session: AsyncSession, *, now: datetime | None = None) -> list[tuple[int, int]]:
    """Raise the escalation of every fulfilment order that reached "due soon" or "late" since the last run;
    returns (fulfilment order id, level) for each alert sent. Idempotent: a level is announced once."""
    now = now or clock.now()
    rows = (await session.execute(
        select(FULFILMENT.c.id, FULFILMENT.c.state, FULFILMENT.c.location_id, FULFILMENT.c.delivery_method,
               FULFILMENT.c.promised_by, FULFILMENT.c.created_at, FULFILMENT.c.escalation_level,
               ORDERS.c.id.label("o_id"), ORDERS.c.number, ORDERS.c.channel_id, ORDERS.c.external_id,
               ORDERS.c.customer_id, ORDERS.c.locale, ORDERS.c.contact)
        .select_from(FULFILMENT.join(ORDERS, ORDERS.c.id == FULFILMENT.c.order_id))
        .where(FULFILMENT.c.state.in_([s.value for s in NOT_READY]), FULFILMENT.c.promised_by.is_not(None),
               FULFILMENT.c.promised_by <= now + HORIZON, FULFILMENT.c.escalation_level < 2)
        .order_by(FULFILMENT.c.promised_by, FULFILMENT.c.id))).all()
    timeline = Timeline(actor=ACTOR, at=now)
    sent = []
    for r in rows:
        level = clock_of(state=r.state, promised_by=r.promised_by, assigned_at=r.created_at, now=now).level
        if level <= (r.escalation_level or 0):
            continue
        raised = (await session.execute(
            update(FULFILMENT).where(FULFILMENT.c.id == r.id, FULFILMENT.c.escalation_level < level,
                                     FULFILMENT.c.state.in_([s.value for s in NOT_READY]))
            .values(escalation_level=level, escalated_at=now).returning(FULFILMENT.c.id))).first()
        if raised is None:  # another worker (or the store) was quicker
            continue
        kind = LEVELS[level]
        ref = OrderRef(r.o_id, r.number, r.channel_id, r.external_id, r.customer_id, r.locale, r.contact or {})
        data = {"location_id": r.location_id, "promised_by": r.promised_by.isoformat(), "state": r.state,
                "minutes_left": int((r.promised_by - now).total_seconds() // 60), "level": level}
        timeline.record(ref, f"fulfilment_order.{kind}", fulfilment_order_id=r.id, data=data)
        timeline.event(STORE_ALERT, {"kind": kind, "order_id": r.o_id, "number": r.number,
                                     "fulfilment_order_id": r.id, "delivery_method": r.delivery_method,
                                     "audience": ALERT_AUDIENCE, **data})
        sent.append((r.id, level))
    await timeline.write(session)
    return sent
