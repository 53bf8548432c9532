"""The dashboard's figures, each one aggregate query (no rows walked in Python but the few listed).

Money is never added across currencies: every sum is grouped by currency. "Today" and the days of the
series are days in the display time zone asked for (the instance's ``timezone`` setting on the page): the
orders' ``placed_at`` is stored in UTC, so each local day's UTC bounds are computed here and passed as
parameters (no database time-zone functions: the same SQL on SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.channels import service as channels_service
from omniretail.channels.models import Channel
from omniretail.channels.sync import service as sync_service
from omniretail.inventory import service as inventory_service
from omniretail.locations.models import Location
from omniretail.orders import pickup_deadline
from omniretail.orders.models import FulfilmentOrder, Order
from omniretail.orders.promise import NOT_READY
from omniretail.orders.states import OrderState
from omniretail.platform import clock
from omniretail.platform.errors import DomainError
from omniretail.platform.i18n import zone_info
from omniretail.platform.money import from_minor

WAITING_STATES = (OrderState.PENDING_PAYMENT, OrderState.CONFIRMED, OrderState.IN_FULFILMENT,
                  OrderState.PARTIALLY_FULFILLED, OrderState.FULFILLED)
NOT_REVENUE = (OrderState.CANCELLED.value,)
SERIES_DAYS = 14
EXPIRING_WITHIN = timedelta(hours=24)
MAX_SYNC_CHANNELS = 50


@dataclass(frozen=True)
class ChannelDay:
    channel_id: int
    channel: str
    currency: str
    orders: int
    revenue_minor: int


@dataclass(frozen=True)
class DayPoint:
    day: date
    currency: str
    orders: int
    revenue_minor: int


@dataclass(frozen=True)
class ExpiringPickup:
    order_id: int
    number: str
    location: str
    ready_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class LateOrder:
    order_id: int
    number: str
    fulfilment_order_id: int
    state: str
    delivery_method: str
    promised_by: datetime
    minutes_late: int


@dataclass
class LateStore:
    """One store's fulfilment orders past their promise and not ready (dispatched) yet, the longest overdue first."""

    location_id: int
    location: str
    orders: list[LateOrder] = field(default_factory=list)


@dataclass
class SyncHealth:
    channel_id: int
    channel: str
    connector: str | None
    queue_depth: int = 0
    parked: int = 0
    errors_last_hour: int = 0
    lag_p50_s: float | None = None
    oldest_unacknowledged_at: datetime | None = None
    healthy: bool = True


@dataclass
class Dashboard:
    today: date
    by_channel: list[ChannelDay] = field(default_factory=list)
    totals: dict[str, dict[str, int]] = field(default_factory=dict)  # currency → {orders, revenue_minor}
    waiting: dict[str, int] = field(default_factory=dict)  # state → orders
    expiring: list[ExpiringPickup] = field(default_factory=list)
    late: list[LateStore] = field(default_factory=list)  # "Late at stores", the store with most first
    low_stock_alerts: int = 0
    sync: list[SyncHealth] = field(default_factory=list)
    series: list[DayPoint] = field(default_factory=list)
    series_days: list[date] = field(default_factory=list)

    @property
    def late_orders(self) -> int:
        return sum(len(store.orders) for store in self.late)

    @property
    def currencies(self) -> list[str]:
        return sorted({p.currency for p in self.series} | set(self.totals))

    def series_for(self, currency: str, metric: str) -> list[int]:
        """One value per day of ``series_days`` (0 for days without orders)."""
        values = {p.day: getattr(p, metric) for p in self.series if p.currency == currency}
        return [values.get(day, 0) for day in self.series_days]


def _day_start(day: date, zone: tzinfo = UTC) -> datetime:
    """The moment (UTC) ``day`` begins in ``zone``."""
    return datetime.combine(day, time.min, zone).astimezone(UTC)


def _channel_filter(visible: frozenset[int] | None):
    return True if visible is None else Order.channel_id.in_(sorted(visible) or [-1])


async def orders_today_by_channel(session: AsyncSession, *, today: date, visible: frozenset[int] | None,
                                  zone: tzinfo = UTC) -> list[ChannelDay]:
    revenue = func.sum(case((Order.state.in_(NOT_REVENUE), 0), else_=Order.total_minor))
    stmt = (select(Order.channel_id, Channel.name, Order.currency, func.count(), func.coalesce(revenue, 0))
            .join(Channel, Channel.id == Order.channel_id)
            .where(Order.placed_at >= _day_start(today, zone),
                   Order.placed_at < _day_start(today + timedelta(days=1), zone), _channel_filter(visible))
            .group_by(Order.channel_id, Channel.name, Order.currency).order_by(Channel.name, Order.currency))
    return [ChannelDay(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in (await session.execute(stmt)).all()]


async def orders_waiting_by_state(session: AsyncSession, *, visible: frozenset[int] | None) -> dict[str, int]:
    stmt = (select(Order.state, func.count()).where(Order.state.in_([s.value for s in WAITING_STATES]),
                                                    _channel_filter(visible)).group_by(Order.state))
    found = {state: int(n) for state, n in (await session.execute(stmt)).all()}
    return {s.value: found.get(s.value, 0) for s in WAITING_STATES}


async def pickups_about_to_expire(session: AsyncSession, *, now: datetime, visible: frozenset[int] | None,
                                  within: timedelta = EXPIRING_WITHIN, limit: int = 20) -> list[ExpiringPickup]:
    """Pickups ready and not collected whose collect-by deadline (the one the customer was told and the expiry
    job applies: ``orders.pickup_deadline``) falls within ``within``."""
    # candidates: the deadline always comes after the order became ready
    stmt = (select(FulfilmentOrder.order_id, Order.number, Location.name, FulfilmentOrder.ready_at,
                   Channel.settings, Location.opening_hours, Location.timezone)
            .join(Order, Order.id == FulfilmentOrder.order_id).join(Channel, Channel.id == Order.channel_id)
            .join(Location, Location.id == FulfilmentOrder.location_id)
            .where(FulfilmentOrder.state == "ready_for_pickup",
                   FulfilmentOrder.ready_at <= now + within, _channel_filter(visible))
            .order_by(FulfilmentOrder.ready_at).limit(500))
    out = []
    for order_id, number, location, ready_at, settings, hours, timezone in (await session.execute(stmt)).all():
        expires_at = pickup_deadline.collect_by(ready_at, days=pickup_deadline.expiry_days(settings),
                                                opening_hours=hours, timezone=timezone)
        if expires_at <= now + within:
            out.append(ExpiringPickup(order_id, number, location, ready_at, expires_at))
    out.sort(key=lambda p: p.expires_at)
    return out[:limit]


async def late_at_stores(session: AsyncSession, *, now: datetime, visible: frozenset[int] | None,
                         scope: frozenset[int] | None, limit: int = 100) -> list[LateStore]:
    """Fulfilment orders past ``promised_by`` and not ready (dispatched) yet, per location (the promise clock,
    ``orders/promise.py``); at most ``limit`` orders, the longest overdue first."""
    stmt = (select(FulfilmentOrder.id, FulfilmentOrder.order_id, FulfilmentOrder.state,
                   FulfilmentOrder.delivery_method, FulfilmentOrder.promised_by, FulfilmentOrder.location_id,
                   Order.number, Location.name)
            .join(Order, Order.id == FulfilmentOrder.order_id)
            .join(Location, Location.id == FulfilmentOrder.location_id)
            .where(FulfilmentOrder.state.in_([s.value for s in NOT_READY]), FulfilmentOrder.promised_by < now,
                   _channel_filter(visible))
            .order_by(FulfilmentOrder.promised_by, FulfilmentOrder.id).limit(limit))
    if scope is not None:
        stmt = stmt.where(FulfilmentOrder.location_id.in_(sorted(scope) or [-1]))
    stores: dict[int, LateStore] = {}
    for r in (await session.execute(stmt)).all():
        store = stores.setdefault(r.location_id, LateStore(r.location_id, r.name))
        minutes = int((now - r.promised_by).total_seconds() // 60)
        store.orders.append(LateOrder(r.order_id, r.number, r.id, r.state, r.delivery_method, r.promised_by,
                                      minutes))
    return sorted(stores.values(), key=lambda s: (-len(s.orders), s.location, s.location_id))


async def sales_series(session: AsyncSession, *, today: date, visible: frozenset[int] | None,
                       days: int = SERIES_DAYS, zone: tzinfo = UTC) -> list[DayPoint]:
    """Orders and revenue per local day of ``zone`` over the ``days`` days up to ``today``: each order falls in
    the day whose UTC bounds (parameters) hold its ``placed_at``."""
    series = [today - timedelta(days=days - 1 - i) for i in range(days)]
    starts = [_day_start(day, zone) for day in series] + [_day_start(today + timedelta(days=1), zone)]
    bucket = case(*[(Order.placed_at < starts[i + 1], literal_column(str(i))) for i in range(days)])
    revenue = case((Order.state.in_(NOT_REVENUE), 0), else_=Order.total_minor)
    # grouped outside: PostgreSQL would not see the CASE's parameters in SELECT and GROUP BY as one expression
    rows = (select(bucket.label("day"), Order.currency.label("currency"), revenue.label("revenue"))
            .where(Order.placed_at >= starts[0], Order.placed_at < starts[-1], _channel_filter(visible))
            .subquery())
    stmt = (select(rows.c.day, rows.c.currency, func.count(), func.coalesce(func.sum(rows.c.revenue), 0))
            .group_by(rows.c.day, rows.c.currency).order_by(rows.c.day, rows.c.currency))
    return [DayPoint(series[int(index)], currency, int(n), int(minor))
            for index, currency, n, minor in (await session.execute(stmt)).all()]


async def sync_health(session: AsyncSession, *, principal: Principal) -> list[SyncHealth]:
    channels, _ = await channels_service.list_channels(session, principal=principal, limit=MAX_SYNC_CHANNELS,
                                                       sort="name")
    out = []
    for channel in channels:
        if not channel.is_active:
            continue
        try:
            status = await sync_service.sync_status(session, channel.id, principal=principal)
        except DomainError:
            continue
        if status.connector is None and not status.listings:
            continue  # nothing to sync (a store, a feed-only channel)
        out.append(SyncHealth(channel.id, channel.name, status.connector, status.queue_depth, status.parked,
                              status.errors_last_hour, status.lag_p50_s, status.oldest_unacknowledged_at,
                              healthy=not status.parked and not status.errors_last_hour))
    return out


async def dashboard(session: AsyncSession, *, principal: Principal, now: datetime | None = None,
                    zone: str | tzinfo | None = None) -> Dashboard:
    """The figures, "today" and the series' days being days in ``zone`` (an IANA name; None: UTC)."""
    now = now or clock.now()
    tz = zone_info(zone)
    today = now.astimezone(tz).date()
    visible = await channels_service.visible_channel_ids(session, principal)
    board = Dashboard(today=today)
    board.by_channel = await orders_today_by_channel(session, today=today, visible=visible, zone=tz)
    for row in board.by_channel:
        total = board.totals.setdefault(row.currency, {"orders": 0, "revenue_minor": 0})
        total["orders"] += row.orders
        total["revenue_minor"] += row.revenue_minor
    board.waiting = await orders_waiting_by_state(session, visible=visible)
    board.expiring = await pickups_about_to_expire(session, now=now, visible=visible)
    board.late = await late_at_stores(session, now=now, visible=visible, scope=principal.location_ids)
    board.low_stock_alerts = await inventory_service.count_low_stock_alerts(session, scope=principal.location_ids)
    board.sync = await sync_health(session, principal=principal)
    board.series = await sales_series(session, today=today, visible=visible, zone=tz)
    board.series_days = [today - timedelta(days=SERIES_DAYS - 1 - i) for i in range(SERIES_DAYS)]
    return board


def chart_data(board: Dashboard, labels: dict[str, str],
               day_label: Callable[[date], str] = date.isoformat) -> dict[str, Any]:
    """What ``static/charts.js`` draws (JSON in the page): labels already in the reader's language."""
    return {
        "currencies": board.currencies,
        "by_channel": [{"channel": r.channel, "currency": r.currency, "orders": r.orders,
                        "revenue": float(from_minor(r.revenue_minor, r.currency))} for r in board.by_channel],
        "days": [day_label(d) for d in board.series_days],
        "series": {c: {"orders": board.series_for(c, "orders"),
                       "revenue": [float(from_minor(v, c)) for v in board.series_for(c, "revenue_minor")]}
                   for c in board.currencies},
        "waiting": [{"state": s, "label": labels.get(s, s), "orders": n} for s, n in board.waiting.items()],
    }
