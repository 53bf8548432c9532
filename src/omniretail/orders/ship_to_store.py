"""Ship-to-store: a pickup (or curbside) order at a store that lacks an item is picked at another location and
moved to the store with a transfer linked to the order.

The shape, decided at placement (:func:`plan`, then :func:`link`):

* the source location (a warehouse, another store) gets a fulfilment order with delivery method
  ``ship_to_store`` holding the reservations there, and ``transfer_id`` → a transfer (source → pickup store,
  ``order_reference`` "order:{id}") in state requested;
* the pickup store gets a fulfilment order in state ``awaiting_transfer`` for the same lines (no stock held
  yet, ``received`` 0 per line) with the same ``transfer_id``: the store sees it coming in its queue.

Then, in the transfer's own transactions (``inventory.transfers`` runs the hooks registered below):

* shipping the transfer (``POST /inventory/transfers/{id}/ship``; the source's fulfilment order must be
  picked, and the transfer ships whole) moves the source's fulfilment order to ``shipped`` and releases its
  reservations just before the ``transfer_out`` movements take the units out of its stock;
* receiving it at the store (``POST /inventory/transfers/{id}/receive``, in full or in part) lands the units
  and, in the same transaction, holds them for the order (``transfers.reserve_received``): no sale can take them
  in between. A partial receipt leaves the rest in transit (on the transfer, on the order's timeline and as
  ``received`` < ``quantity`` on the pickup lines); the last one makes the pickup fulfilment order ready for
  pickup — a pickup code and the "ready for pickup" message, as when a store picks it itself.

A pick exception on the source's leg before it ships (``pick_exceptions``, :func:`shrink_leg`) takes the units
off the transfer and the pickup store's leg (cancelling them when nothing is left) and re-routes them.

The ship-to-store leg does not count in the order's state (``service.sync_order_state``): the order is
fulfilled when the customer has the goods. Channel settings: ``ship_to_store`` (default true),
``transfer_days`` (transit time in the promise, default 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.inventory import service as inventory_service
from omniretail.inventory import transfers
from omniretail.inventory.schemas import TransferRead
from omniretail.platform.errors import Conflict, InvalidInput
from omniretail.routing.model import Cost, Explanation, Plan
from omniretail.routing.model import OrderLine as RoutingLine
from omniretail.routing.solver import solve

from . import fulfilment, promise, service, sourcing
from .states import COLLECTED, FULFILMENT_OPEN, SHIP_TO_STORE, FulfilmentState
from .timeline import OrderRef, Timeline

F = FulfilmentState
FULFILMENT = service.FULFILMENT
SETTING = "ship_to_store"


@dataclass
class StorePlan:
    """The placement's plan with the ship-to-store legs added: ``explanation`` (the store's own assignments
    and the sources'), ``sources`` (the locations that send goods to ``store``) and the routing summary."""

    store: sourcing.PlaceLocation
    explanation: Explanation
    sources: tuple[int, ...]
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def methods(self) -> dict[int, str]:
        return {location_id: SHIP_TO_STORE for location_id in self.sources}


def applies(channel: sourcing.ChannelContext, delivery_method: str) -> bool:
    return delivery_method in COLLECTED and bool(channel.setting(SETTING, True))


async def plan(session: AsyncSession, channel: sourcing.ChannelContext, *, delivery_method: str,
               store: sourcing.PlaceLocation, lines: list[RoutingLine], explanation: Explanation,
               strategy: str) -> StorePlan | None:
    """When the pickup store cannot fill some lines, route those lines to the channel's other locations
    (one more statement: their stock) to be sent to the store. None when ship-to-store is off for the
    channel, the store is full for today, or nobody else has the goods either."""
    unfilled = explanation.plan.unfilled
    if not unfilled or not applies(channel, delivery_method) or store.capacity_left == 0:
        return None
    sources = tuple(c for c in channel.sources if c.id != store.id and c.ships_orders)
    if not sources:
        return None
    variant_of = {ln.line_id: ln.variant_id for ln in lines}
    wanted = [RoutingLine(line_id, variant_of[line_id], quantity) for line_id, quantity in unfilled.items()]
    stock = await sourcing.load_stock(session, variant_ids=[x.variant_id for x in wanted],
                                      location_ids=[c.id for c in sources])
    dest = sourcing.destination(channel, address=None, point_id=store.id, candidates=sources)
    request = sourcing.routing_request(channel, lines=wanted, candidates=sources, stock=stock, dest=dest,
                                       collected=False)
    found = solve(request, strategy, runner_up=False)
    if not found.plan.assignments:
        return None
    own, legs = explanation.plan, found.plan
    merged = Plan(
        assignments=own.assignments + legs.assignments,
        cost=Cost(parcels=own.cost.parcels + legs.cost.parcels, units=own.cost.units + legs.cost.units,
                  split_penalty=own.cost.split_penalty + legs.cost.split_penalty, unfilled=legs.cost.unfilled),
        unfilled=legs.unfilled)
    combined = Explanation(strategy=explanation.strategy, plan=merged, runner_up=explanation.runner_up,
                           runner_up_rule=explanation.runner_up_rule,
                           excluded=explanation.excluded + found.excluded,
                           solve_ms=explanation.solve_ms + found.solve_ms)
    summary = {"ship_to_store": {
        "store_id": store.id, "sources": list(legs.locations),
        "reason": f"store {store.code} lacks stock for {len(unfilled)} line(s): another location sends them",
        "lines": [{"line": a.line_id, "location_id": a.location_id, "quantity": a.quantity}
                  for a in legs.assignments],
        "cost": round(legs.cost.shipping, 2)}}
    return StorePlan(store, combined, legs.locations, summary)


async def link(session: AsyncSession, store_plan: StorePlan, *, order: dict, fulfilment_rows: list[dict],
               channel: sourcing.ChannelContext, actor: str, now: datetime) -> list[dict]:
    """After placement wrote the fulfilment orders: a transfer per source, linked to the source's fulfilment
    order, and the pickup store's ``awaiting_transfer`` fulfilment order for what it brings (returned, as
    inserted, for the placement's timeline and answer)."""
    store = store_plan.store
    pickup_rows = []
    for source in (fo for fo in fulfilment_rows if fo["location_id"] in store_plan.sources):
        per_sku: dict[str, int] = {}
        for ln in source["lines"]:
            per_sku[ln["sku"]] = per_sku.get(ln["sku"], 0) + ln["quantity"]
        transfer = await transfers.create_transfer(
            session, source_location_id=source["location_id"], destination_location_id=store.id,
            lines=sorted(per_sku.items()), actor=actor, order_reference=f"order:{order['id']}",
            note=f"ship-to-store for order {order['number']}")
        await session.execute(update(FULFILMENT).where(FULFILMENT.c.id == source["id"])
                              .values(transfer_id=transfer.id))
        source["transfer_id"] = transfer.id
        pickup_rows.append({
            "order_id": order["id"], "location_id": store.id, "delivery_method": order["delivery_method"],
            "state": F.AWAITING_TRANSFER.value, "pickup_code": None, "checked_in_at": None, "check_in": None,
            "assigned_to": None, "ready_at": None, "created_at": now, "updated_at": now, "escalation_level": 0,
            "escalated_at": None, "transfer_id": transfer.id,
            "lines": [{**{k: ln[k] for k in ("order_line_id", "variant_id", "sku", "quantity")},
                       "reservation_id": None, "shipped": 0, "received": 0} for ln in source["lines"]],
            **promise.assignment_fields(store, delivery_method=order["delivery_method"], at=now,
                                        settings=channel.settings, after=source.get("promised_by"))})
    if pickup_rows:
        ids = (await session.execute(insert(FULFILMENT).returning(FULFILMENT.c.id, sort_by_parameter_order=True),
                                     pickup_rows)).scalars().all()
        for row, fo_id in zip(pickup_rows, ids, strict=True):
            row["id"] = fo_id
    return pickup_rows


async def shrink_leg(session: AsyncSession, source_fo, order, *, rejected: dict[int, int], timeline: Timeline,
                     actor: str) -> None:
    """A ship-to-store leg lost units before it shipped (a pick exception at its source, whose fulfilment order
    is already shrunk or cancelled, and whose transfer the caller holds: ``transfers.hold_request``): the pickup
    store's leg waits for that much less (cancelled when nothing is left) and the transfer carries that much
    less (cancelled with it). ``rejected``: order line id → units. The caller re-routes the units."""
    pickup = await _leg(session, source_fo["transfer_id"], source=False)
    if pickup is not None and pickup["state"] == F.AWAITING_TRANSFER:
        kept = [{**ln, "quantity": ln["quantity"] - rejected.get(ln["order_line_id"], 0)} for ln in pickup["lines"]]
        kept = [ln for ln in kept if ln["quantity"] > 0]
        if kept:
            await fulfilment._update_lines(session, pickup, order, kept)
        else:
            await fulfilment._move(session, pickup, order, F.CANCELLED, timeline, data={
                "reason": "the goods it was waiting for were not found at the sending location"})
    per_sku: dict[str, int] = {}
    for ln in source_fo["lines"]:
        if ln["order_line_id"] in rejected:
            per_sku[ln["sku"]] = per_sku.get(ln["sku"], 0) + rejected[ln["order_line_id"]]
    await transfers.amend_request(session, source_fo["transfer_id"], remove=sorted(per_sku.items()), actor=actor)


# --- the transfer's hooks ----------------------------------------------------------------------------------

async def _leg(session: AsyncSession, transfer_id: int, *, source: bool):
    """The source's (``source``) or the pickup store's fulfilment order moved by a transfer, locked."""
    method = FULFILMENT.c.delivery_method
    stmt = select(FULFILMENT).where(FULFILMENT.c.transfer_id == transfer_id,
                                    method == SHIP_TO_STORE if source else method != SHIP_TO_STORE)
    if session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt.order_by(FULFILMENT.c.id))).first()
    return None if row is None else row._mapping


async def _before_ship(session: AsyncSession, transfer: TransferRead, quantities: dict[str, int], actor: str,
                       **_context) -> None:
    """The source's fulfilment order ships with the transfer; what it held is released so the transfer's
    ``transfer_out`` movements can take the units (same transaction)."""
    fo = await _leg(session, transfer.id, source=True)
    if fo is None:
        return
    short = {line.sku: line.quantity_requested for line in transfer.lines
             if quantities.get(line.sku, 0) != line.quantity_requested}
    if short:
        raise InvalidInput(f"transfer {transfer.id} carries order goods: it ships whole", field="lines",
                           expected=short)
    order = await service.order_row(session, fo["order_id"])
    timeline = Timeline(actor=actor)
    shipped = [{**ln, "shipped": ln["quantity"]} for ln in fo["lines"]]
    await fulfilment._move(session, fo, order, F.SHIPPED, timeline, values={"lines": shipped},
                           data={"transfer_id": transfer.id})
    await service.release_lines(session, list(fo["lines"]))
    timeline.record(OrderRef.of(order), "transfer.shipped", fulfilment_order_id=fo["id"], data={
        "transfer_id": transfer.id, "from_location_id": transfer.source_location_id,
        "to_location_id": transfer.destination_location_id, "lines": quantities})
    await service.sync_order_state(session, order["id"], timeline)
    await timeline.write(session)


async def _before_receive(session: AsyncSession, transfer: TransferRead, _quantities: dict[str, int], actor: str,
                          **_context) -> None:
    """Lock the pickup fulfilment order before the units land: the same order (fulfilment order, then
    reservations and levels) as cancelling or handing it over, so a receipt and a cancellation never deadlock."""
    await _leg(session, transfer.id, source=False)


async def _after_receive(session: AsyncSession, transfer: TransferRead, quantities: dict[str, int], actor: str,
                         secret_key: str | None = None, **_context) -> None:
    """The units just landed at the pickup store: hold them for the order at once; the last ones make the
    order ready for pickup (``secret_key``: the instance's, for the pickup code). A cancelled order's units
    simply stay in the store's stock."""
    fo = await _leg(session, transfer.id, source=False)
    if fo is None or fo["state"] != F.AWAITING_TRANSFER:
        return
    order = await service.order_row(session, fo["order_id"])
    lines = [dict(ln) for ln in fo["lines"]]
    left, changed = dict(quantities), []
    for ln in lines:
        take = min(left.get(ln["sku"], 0), ln["quantity"] - (ln.get("received") or 0))
        if take > 0:
            left[ln["sku"]] -= take
            ln["received"] = (ln.get("received") or 0) + take
            changed.append(ln)
    if not changed:
        return
    old = [ln["reservation_id"] for ln in changed if ln.get("reservation_id")]
    if old:  # one reservation per line: the units received so far, held again as one
        await inventory_service.release_reservations(session, reservation_ids=old)
    for ln in changed:
        ln["reservation_id"] = await transfers.reserve_received(
            session, variant_id=ln["variant_id"], location_id=fo["location_id"], quantity=ln["received"],
            reference=f"order:{order['id']}/line:{ln['order_line_id']}", channel_id=order["channel_id"])
    await fulfilment._update_lines(session, fo, order, lines)
    complete = all((ln.get("received") or 0) >= ln["quantity"] for ln in lines)
    timeline = Timeline(actor=actor)
    timeline.record(OrderRef.of(order), "transfer.received", fulfilment_order_id=fo["id"], data={
        "transfer_id": transfer.id, "received": quantities, "complete": complete,
        "in_transit": {line.sku: line.quantity_in_transit for line in transfer.lines if line.quantity_in_transit}})
    await timeline.write(session)
    if complete:
        await fulfilment.mark_ready(session, fo["id"], principal=None, actor=actor, secret_key=secret_key)


async def _before_cancel(session: AsyncSession, transfer: TransferRead, _quantities: dict[str, int], actor: str,
                         **_context) -> None:
    rows = (await session.execute(select(FULFILMENT.c.id, FULFILMENT.c.state).where(
        FULFILMENT.c.transfer_id == transfer.id))).all()
    live = [r.id for r in rows if r.state in {s.value for s in FULFILMENT_OPEN}]
    if live:
        raise Conflict(f"transfer {transfer.id} moves goods of a live order: cancel its fulfilment orders first",
                       fulfilment_order_ids=live)


transfers.link_documents("order", transfers.LinkedHooks(
    before_ship=_before_ship, before_receive=_before_receive, after_receive=_after_receive,
    before_cancel=_before_cancel))
