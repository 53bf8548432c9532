"""Batch waves: route the units that wait (backorders, pre-orders, paid orders whose hold lapsed) together.

One wave, in one transaction:

1. picks the orders that wait (confirmed or in fulfilment, with ``quantity_backordered`` > 0 on a
   ``backordered`` or ``preordered`` line), oldest first, or the orders / lines a manager names, and locks
   them (``FOR UPDATE`` on PostgreSQL; SQLite has one writer), so two waves never route the same units;
2. reads the stock at every candidate location once and plans all of them together with
   ``routing.solver.solve_wave`` (``optimal``: a joint MILP where orders compete for the same units and
   capacity; ``greedy``: first come, first served), the greedy wave's cost alongside as the runner-up;
3. per order reserves the planned units and writes the fulfilment orders (placement's own ``_fulfil``; a
   (line, location) whose stock went meanwhile is dropped, the rest reserved), takes the routed units off
   the lines' backorder (conditional UPDATEs), settles routed pre-orders (``inventory.settle_preorder``) and
   writes the timeline (``wave.routed`` with the plan, fulfilment orders assigned, store alerts).

Units no location can serve keep waiting. The ``orders.route_backorders`` job runs a wave every
``WAVE_EVERY_S`` seconds when goods were received since the last one (a ``receipt`` stock movement, from a
purchase order, a transfer or a manual receipt), and ``POST /orders/route-wave`` runs one on demand.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.inventory import service as inventory_service
from omniretail.platform import clock
from omniretail.platform.db import Database, unit_of_work
from omniretail.platform.errors import InvalidInput
from omniretail.platform.jobs import WorkerContext, every
from omniretail.platform.models import UTCDateTime
from omniretail.routing.model import OrderLine as RoutingLine
from omniretail.routing.model import Plan
from omniretail.routing.solver import STRATEGIES, solve_wave

from . import service, sourcing
from .holds import BACKORDERED, PREORDERED
from .placement import _fulfil  # placement's own reserve-and-assign step: one mechanism for both
from .states import COLLECTED, ORDER_STATES_THAT_FULFIL, FulfilmentState
from .timeline import STORE_ALERT, OrderRef, Timeline

ORDERS, LINES = service.ORDERS, service.LINES
WAITING = (BACKORDERED, PREORDERED)
MAX_ORDERS = 200  # orders per wave; the job runs again for the rest
WAVE_EVERY_S = 300
ACTOR = "system:orders.route_backorders"
_RECEIPTS_SINCE = text("SELECT 1 FROM stock_movement WHERE kind = 'receipt' AND created_at > :since LIMIT 1"
                       ).bindparams(bindparam("since", type_=UTCDateTime()))


@dataclass(frozen=True)
class _WaveLine:
    position: int  # 1-based within the order's waiting lines, as placement's ``_fulfil`` expects
    variant_id: int
    sku: str


@dataclass
class WaveReport:
    strategy: str
    orders: list[dict[str, Any]] = field(default_factory=list)
    units_routed: int = 0
    units_waiting: int = 0
    # what the parcels cost (parcel, distance, split penalty), as an order's routing reads; units left waiting
    # are counted in ``units_waiting``, not priced at the solver's penalty for an unshipped unit
    total_cost: float = 0.0
    runner_up_cost: float | None = None  # the first-come, first-served (greedy) wave on the same stock
    lower_bound: float | None = None  # no plan leaving as many units waiting ships for less
    solve_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "orders": self.orders, "units_routed": self.units_routed,
                "units_waiting": self.units_waiting, "total_cost": round(self.total_cost, 2),
                "runner_up_cost": None if self.runner_up_cost is None else round(self.runner_up_cost, 2),
                "lower_bound": None if self.lower_bound is None else round(self.lower_bound, 2),
                "solve_ms": round(self.solve_ms, 1)}


def _waiting_lines():
    o_states = [s.value for s in ORDER_STATES_THAT_FULFIL]
    return and_(LINES.c.quantity_backordered > 0, LINES.c.state.in_(WAITING), ORDERS.c.state.in_(o_states))


async def waiting_order_ids(session: AsyncSession, *, order_ids: list[int] | None = None,
                            line_ids: list[int] | None = None, limit: int = MAX_ORDERS) -> list[int]:
    stmt = (select(ORDERS.c.id).select_from(LINES.join(ORDERS, ORDERS.c.id == LINES.c.order_id))
            .where(_waiting_lines()).group_by(ORDERS.c.id, ORDERS.c.placed_at)
            .order_by(ORDERS.c.placed_at, ORDERS.c.id).limit(limit))
    if order_ids is not None:
        stmt = stmt.where(ORDERS.c.id.in_(order_ids))
    if line_ids is not None:
        stmt = stmt.where(LINES.c.id.in_(line_ids))
    return list((await session.execute(stmt)).scalars())


async def route_orders(session: AsyncSession, *, order_ids: list[int] | None = None,
                       line_ids: list[int] | None = None, actor: str, strategy: str = "optimal",
                       timeline: Timeline | None = None, limit: int = MAX_ORDERS) -> WaveReport:
    """Run one wave (see the module); ``timeline``: the caller's, written by the caller (else one per wave)."""
    if strategy not in STRATEGIES:
        raise InvalidInput(f"strategy must be one of {', '.join(STRATEGIES)}", field="strategy",
                           allowed=list(STRATEGIES))
    report = WaveReport(strategy)
    ids = await waiting_order_ids(session, order_ids=order_ids, line_ids=line_ids, limit=limit)
    if not ids:
        return report
    if session.bind.dialect.name == "postgresql":  # one wave at a time per order; lock order: by id
        await session.execute(select(ORDERS.c.id).where(ORDERS.c.id.in_(ids)).order_by(ORDERS.c.id)
                              .with_for_update())
    stmt = (select(LINES.c.id, LINES.c.order_id, LINES.c.variant_id, LINES.c.sku, LINES.c.state,
                   LINES.c.quantity_backordered)
            .select_from(LINES.join(ORDERS, ORDERS.c.id == LINES.c.order_id))
            .where(_waiting_lines(), ORDERS.c.id.in_(ids)).order_by(LINES.c.order_id, LINES.c.position))
    if line_ids is not None:
        stmt = stmt.where(LINES.c.id.in_(line_ids))
    order_rows = {r.id: dict(r._mapping) for r in await session.execute(select(ORDERS).where(ORDERS.c.id.in_(ids)))}
    orders: dict[int, dict[str, Any]] = {}
    for r in (await session.execute(stmt)).all():
        orders.setdefault(r.order_id, {"order": order_rows[r.order_id], "lines": []})["lines"].append(r)
    orders = {i: orders[i] for i in ids if i in orders}  # oldest first, as the wave serves them
    requests, contexts = await _requests(session, orders)
    if not requests:
        return report
    now = clock.now()
    wave = solve_wave(requests, strategy)
    first_come = wave if strategy == "greedy" else solve_wave(requests, "greedy")
    report.total_cost, report.solve_ms = wave.shipping_cost, wave.solve_ms
    if wave.lower_bound is not None:  # a bound on shipping + unshipped penalty: take this wave's penalty off
        report.lower_bound = max(0.0, wave.lower_bound - (wave.total_cost - wave.shipping_cost))
    report.runner_up_cost = first_come.shipping_cost
    own = timeline is None
    timeline = timeline or Timeline(actor=actor, at=now)
    for (order_id, wave_lines, line_ids_of, channel), plan in zip(contexts, wave.plans, strict=True):
        report.orders.append(await _apply(session, orders[order_id], wave_lines, line_ids_of, plan, timeline,
                                          now, report, channel=channel))
    for order_id in orders:
        await service.sync_order_state(session, order_id, timeline)
    if own:
        await timeline.write(session)
    return report


async def _requests(session: AsyncSession, orders: dict[int, dict[str, Any]]):
    """One routing request per order, on one stock read; and per order (id, wave lines, order line ids,
    channel)."""
    channels: dict[int, sourcing.ChannelContext] = {}
    now = clock.now()
    for entry in orders.values():
        o = entry["order"]
        if o["channel_id"] not in channels:
            extra = sorted({e["order"]["pickup_location_id"] for e in orders.values()
                            if e["order"]["channel_id"] == o["channel_id"] and e["order"]["pickup_location_id"]})
            channels[o["channel_id"]] = await sourcing.load_channel(
                session, o["channel_id"], external_id=None, extra_location_ids=extra, now=now)
    candidates_of: dict[int, tuple] = {}
    for order_id, entry in orders.items():
        o, channel = entry["order"], channels[entry["order"]["channel_id"]]
        if o["delivery_method"] in COLLECTED:
            store = channel.location(o["pickup_location_id"])
            candidates_of[order_id] = (store,) if store is not None and store.is_active else ()
        else:
            candidates_of[order_id] = channel.sources
    stock = await sourcing.load_stock(
        session, variant_ids=[ln.variant_id for e in orders.values() for ln in e["lines"]],
        location_ids=sorted({c.id for cands in candidates_of.values() for c in cands}))
    requests, contexts = [], []
    for order_id, entry in orders.items():
        if not candidates_of[order_id]:
            continue
        o, channel = entry["order"], channels[entry["order"]["channel_id"]]
        wave_lines = [_WaveLine(i, ln.variant_id, ln.sku) for i, ln in enumerate(entry["lines"], start=1)]
        collected = o["delivery_method"] in COLLECTED
        dest = sourcing.destination(channel, address=o["shipping_address"], point_id=o["pickup_location_id"],
                                    candidates=candidates_of[order_id])
        request = sourcing.routing_request(
            channel, lines=[RoutingLine(w.position, w.variant_id, ln.quantity_backordered)
                            for w, ln in zip(wave_lines, entry["lines"], strict=True)],
            candidates=candidates_of[order_id], stock=stock, dest=dest, collected=collected)
        requests.append(replace(request, order_id=order_id))
        contexts.append((order_id, wave_lines, [ln.id for ln in entry["lines"]], channel))
    return requests, contexts


async def _apply(session: AsyncSession, entry: dict[str, Any], wave_lines: list[_WaveLine], line_ids: list[int],
                 plan: Plan, timeline: Timeline, now: datetime, report: WaveReport, *,
                 channel: sourcing.ChannelContext) -> dict[str, Any]:
    order = entry["order"]
    try:
        fos = await _fulfil(session, order=order, lines=wave_lines, line_ids=line_ids, plan=plan, now=now,
                            channel=channel)
    except inventory_service.ReservationShortfall as lost:  # stock went meanwhile: keep what could be held
        ids = [r.reservation_id for r in lost.reserved.values()]
        if ids:
            await inventory_service.release_reservations(session, reservation_ids=ids)
        refused = {s.index for s in lost.shortfalls}
        plan = Plan(tuple(a for i, a in enumerate(plan.assignments) if i not in refused), plan.cost, {})
        fos = await _fulfil(session, order=order, lines=wave_lines, line_ids=line_ids, plan=plan, now=now,
                            channel=channel)
    ref = OrderRef.of(order)
    routed = []
    for w, ln in zip(wave_lines, entry["lines"], strict=True):
        units = plan.shipped(w.position)
        waiting = ln.quantity_backordered - units
        report.units_waiting += waiting
        if not units:
            continue
        done = (await session.execute(update(LINES).where(
            LINES.c.id == ln.id, LINES.c.quantity_backordered >= units).values(
            quantity_backordered=LINES.c.quantity_backordered - units,
            state=ln.state if waiting else "allocated")
            .returning(LINES.c.id))).first()
        if done is None:  # cannot happen while the order is locked; refuse rather than route twice
            raise InvalidInput(f"order line {ln.id} changed during the wave; run it again")
        if ln.state == PREORDERED:
            await inventory_service.settle_preorder(session, variant_id=ln.variant_id, quantity=units)
        report.units_routed += units
        routed.append({"order_line_id": ln.id, "sku": ln.sku, "units": units, "still_waiting": waiting})
    assignments = [{"order_line_id": line_ids[a.line_id - 1], "sku": wave_lines[a.line_id - 1].sku,
                    "location_id": a.location_id, "quantity": a.quantity} for a in plan.assignments]
    explanation = {"cost": round(plan.cost.shipping, 2), "locations": list(plan.locations),
                   "assignments": assignments, "lines": routed, "fulfilment_order_ids": [f["id"] for f in fos]}
    if routed:
        timeline.record(ref, "wave.routed", data={"strategy": report.strategy, **explanation})
    for fo in fos:
        timeline.transition(ref, entity="fulfilment_order", from_state=None, to_state=FulfilmentState.NEW.value,
                            fulfilment_order_id=fo["id"], kind="fulfilment_order.assigned",
                            data={"location_id": fo["location_id"], "wave": True})
        timeline.event(STORE_ALERT, {"kind": "fulfilment_assigned", "location_id": fo["location_id"],
                                     "order_id": order["id"], "fulfilment_order_id": fo["id"],
                                     "delivery_method": fo["delivery_method"]})
    return {"order_id": order["id"], "number": order["number"], **explanation}


# --- the scheduled wave -------------------------------------------------------------------------------------

async def goods_received_since(session: AsyncSession, since: datetime | None) -> bool:
    if since is None:
        return True
    return (await session.execute(_RECEIPTS_SINCE, {"since": since})).first() is not None


async def route_backorders_job(db: Database, *, since: datetime | None = None, strategy: str = "optimal"
                               ) -> WaveReport | None:
    """``orders.route_backorders``: a wave over the waiting orders when goods were received since ``since``
    (always when None)."""
    async with unit_of_work(db, readonly=True) as session:
        if not await goods_received_since(session, since):
            return None
        any_waiting = bool(await waiting_order_ids(session, limit=1))
    if not any_waiting:
        return None
    async with unit_of_work(db) as session:
        return await route_orders(session, actor=ACTOR, strategy=strategy)


_last_run: dict[str, datetime] = {}


@every(WAVE_EVERY_S, "orders.route_backorders")
async def route_backorders_periodically(context: WorkerContext) -> None:
    started = clock.now()
    await route_backorders_job(context.db, since=_last_run.get("at"))
    _last_run["at"] = started

