"""Re-routing units a location could not pick: the routing engine over the channel's other sources.

The same reads and routing request as placement (``sourcing``, ``routing.solver.solve``), without the location
that failed. Units placed get a reservation and a new fulfilment order per location (with its capacity day and
promise, ``promise.assignment_fields``). For an order the customer collects:

* with ship-to-store on for the channel (the default, ``ship_to_store.applies``) the source sends the units to
  the customer's store: a ``ship_to_store`` leg there, a transfer and the store's ``awaiting_transfer`` order
  (``ship_to_store.link``, as at placement) — the same store, a later date;
* with it off, only stores offering the same collection are asked, and the customer collects there (another
  store).

Units nobody has are backordered or cancelled per the channel's ``unfillable`` setting (``reject`` cannot
refuse an order already placed: it cancels the units).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import case, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.inventory import service as inventory_service
from omniretail.routing.model import OrderLine as RoutingLine
from omniretail.routing.solver import solve

from . import promise, service, ship_to_store, sourcing
from .states import COLLECTED, SHIP_TO_STORE, FulfilmentState

FULFILMENT, LINES = service.FULFILMENT, service.LINES


@dataclass
class LinePlan:
    rerouted: list[dict[str, Any]] = field(default_factory=list)
    backordered: int = 0
    cancelled: int = 0


@dataclass
class Rerouted:
    lines: dict[int, LinePlan]
    fulfilment_orders: list[dict[str, Any]]
    policy: str


def unfillable_policy(channel: sourcing.ChannelContext, order) -> str:
    """The channel's ``unfillable`` setting, as placement reads it (imported orders default to backorder);
    ``reject`` cannot refuse a placed order, so it cancels the units."""
    imported = order["channel_revision"] is not None or channel.kind.startswith("marketplace")
    policy = channel.setting("unfillable") or ("backorder" if imported else "cancel_line")
    return "backorder" if policy == "backorder" else "cancel_line"


async def reroute(session: AsyncSession, *, order, rejecting_location_id: int,
                  missing: list[tuple[int, dict, int]], now: datetime, actor: str) -> Rerouted:
    """``missing``: (order line id, its fulfilment-order line, units) to find elsewhere."""
    method = order["delivery_method"]
    collected = method in COLLECTED
    pickup = order["pickup_location_id"]
    channel = await sourcing.load_channel(session, order["channel_id"], external_id=None,
                                          extra_location_ids=[pickup] if pickup else [], now=now)
    to_store = collected and ship_to_store.applies(channel, method)
    flag = "offers_curbside" if method == "curbside" else "offers_pickup"
    candidates = tuple(c for c in channel.sources if c.id != rejecting_location_id and (
        not collected or to_store or c.id == pickup or getattr(c, flag)))
    positions = {i: m for i, m in enumerate(missing, start=1)}
    plans = {line_id: LinePlan() for line_id, _ln, _q in missing}
    rows: list[dict[str, Any]] = []
    explanation = None
    if candidates:
        stock = await sourcing.load_stock(session, variant_ids=[ln["variant_id"] for _i, ln, _q in missing],
                                          location_ids=[c.id for c in candidates])
        dest = sourcing.destination(channel, address=order["shipping_address"], point_id=pickup,
                                    candidates=candidates)
        request = sourcing.routing_request(
            channel, lines=[RoutingLine(p, ln["variant_id"], q) for p, (_i, ln, q) in positions.items()],
            candidates=candidates, stock=stock, dest=dest, collected=False)
        if collected:  # one source per line: the customer should not collect from several places
            request = replace(request, policy=replace(request.policy, allow_split=False))
        explanation = solve(request, channel.setting("routing_strategy", "greedy"), runner_up=False)
    if explanation is not None and explanation.plan.assignments:
        legs = {a.location_id for a in explanation.plan.assignments if to_store and a.location_id != pickup}
        rows = await _fulfil(session, order=order, channel=channel, positions=positions,
                             assignments=explanation.plan.assignments, legs=legs, now=now)
        pickup_rows = []
        if legs:
            store_plan = ship_to_store.StorePlan(channel.location(pickup), explanation, tuple(sorted(legs)))
            pickup_rows = await ship_to_store.link(session, store_plan, order=dict(order), fulfilment_rows=rows,
                                                   channel=channel, actor=actor, now=now)
        for row in rows:
            waiting = next((x["id"] for x in pickup_rows if x["transfer_id"] == row.get("transfer_id")), None)
            for ln in row["lines"]:
                plans[ln["order_line_id"]].rerouted.append({
                    "location_id": row["location_id"], "fulfilment_order_id": row["id"], "quantity": ln["quantity"],
                    "ship_to_store": row["location_id"] in legs, "transfer_id": row.get("transfer_id"),
                    "pickup_fulfilment_order_id": waiting})
        rows += pickup_rows
    policy = unfillable_policy(channel, order)
    for line_id, _ln, units in missing:
        short = units - sum(x["quantity"] for x in plans[line_id].rerouted)
        if short <= 0:
            continue
        if policy == "backorder":
            plans[line_id].backordered = short
            values = {"quantity_backordered": LINES.c.quantity_backordered + short, "state": "backordered"}
        else:
            plans[line_id].cancelled = short
            values = {"quantity_cancelled": LINES.c.quantity_cancelled + short,
                      "state": case((LINES.c.quantity_cancelled + short >= LINES.c.quantity, "cancelled"),
                                    else_=LINES.c.state)}
        await session.execute(update(LINES).where(LINES.c.id == line_id).values(**values))
    return Rerouted(plans, rows, policy)


async def _fulfil(session: AsyncSession, *, order, channel: sourcing.ChannelContext, positions, assignments,
                  legs: set[int], now: datetime) -> list[dict[str, Any]]:
    """Reserve (inventory's lock order) and write one fulfilment order per location (``legs``: those that
    send the units to the pickup store)."""
    wanted = [{"variant_id": positions[a.line_id][1]["variant_id"], "location_id": a.location_id,
               "quantity": a.quantity, "reference": f"order:{order['id']}/line:{positions[a.line_id][0]}"}
              for a in assignments]
    reserved = await inventory_service.reserve_lines(session, lines=wanted, kind="order_line",
                                                     channel_id=order["channel_id"])
    lock_order = sorted(range(len(wanted)), key=lambda i: (wanted[i]["variant_id"], wanted[i]["location_id"]))
    reservation_of = {i: reserved[k].reservation_id for k, i in enumerate(lock_order)}
    per_location: dict[int, list[dict]] = {}
    for i, a in enumerate(assignments):
        line_id, ln, _q = positions[a.line_id]
        per_location.setdefault(a.location_id, []).append({
            "order_line_id": line_id, "variant_id": ln["variant_id"], "sku": ln["sku"], "quantity": a.quantity,
            "reservation_id": reservation_of[i], "shipped": 0, "rerouted": True})
    rows = []
    for location_id, fo_lines in sorted(per_location.items()):
        method = SHIP_TO_STORE if location_id in legs else order["delivery_method"]
        rows.append({"order_id": order["id"], "location_id": location_id, "delivery_method": method,
                     "state": FulfilmentState.NEW.value, "lines": fo_lines, "pickup_code": None,
                     "checked_in_at": None, "check_in": None, "assigned_to": None, "ready_at": None,
                     "created_at": now, "updated_at": now,
                     **promise.assignment_fields(channel.location(location_id), delivery_method=method, at=now,
                                                 settings=channel.settings)})
    ids = dict((await session.execute(insert(FULFILMENT).returning(FULFILMENT.c.location_id, FULFILMENT.c.id),
                                      rows)).all())
    for row in rows:
        row["id"] = ids[row["location_id"]]
    return rows
