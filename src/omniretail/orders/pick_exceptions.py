"""Pick exceptions: an associate cannot pick (part of) a line — not on the shelf, or damaged.

:func:`reject_pick` does it all in the request's one transaction:

1. claims the fulfilment order (``new`` or ``picking``) with ``UPDATE … WHERE id = :id AND state = :seen AND
   updated_at = :seen_at``, shrinking its lines (cancelling it when nothing is left). Of two associates
   rejecting — or one picking and one rejecting — at once, the second's claim matches no row: 409, nothing
   corrected twice. A retried request replays through its ``Idempotency-Key``;
2. gives the reservation back for the rejected units (``inventory.reduce_reservation``: partial, or release);
3. corrects the stock: *not found* → a ``count`` movement taking on hand to what is really there (on hand −
   rejected), never below what other orders still hold (the gap is reported as ``unresolved``: their picks
   will tell); *damaged* → a ``damage`` movement (reason ``damaged``) moving the units out of sellable stock;
4. feeds the phantom-stock counters (``inventory.phantom``), which may hold availability back at that store;
5. on a ship-to-store leg (goods a source sends to the pickup store, not shipped yet), takes the units off its
   transfer and off the pickup store's waiting fulfilment order (``ship_to_store.shrink_leg``); then
   re-routes the missing units through the routing engine (``routing.solver.solve`` over the channel's other
   sources, as placement does): a new fulfilment order there with its reservation and a store alert — or,
   where nobody has them, backorders or cancels them per the channel's ``unfillable`` setting;
6. tells the customer only when the promise changes: a collected order whose units now come from another store
   or are sent to their store first (later), or units backordered or cancelled. The message carries a signed
   link to refund (decline) that line (``decline``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.inventory import ledger, phantom, transfers
from omniretail.inventory import repository as inventory_repo
from omniretail.inventory import service as inventory_service
from omniretail.platform import clock
from omniretail.platform.errors import Conflict, InvalidInput

from . import decline, fulfilment, rerouting, service, ship_to_store
from .states import (
    COLLECTED,
    ORDER_STATES_THAT_FULFIL,
    SHIP_TO_STORE,
    FulfilmentState,
    IllegalTransition,
    fulfilment_move,
)
from .timeline import STORE_ALERT, OrderRef, Timeline

F = FulfilmentState
FULFILMENT, LINES = service.FULFILMENT, service.LINES
REASONS = ("not_found", "damaged")
REJECTABLE = (F.NEW.value, F.PICKING.value)


@dataclass(frozen=True, slots=True)
class PickRejection:
    order_line_id: int
    quantity: int
    reason: str  # not_found | damaged
    note: str = ""


@dataclass
class LineOutcome:
    order_line_id: int
    sku: str
    quantity: int
    reason: str
    stock: dict[str, Any] = field(default_factory=dict)  # the correction written at the rejecting location
    rerouted: list[dict[str, Any]] = field(default_factory=list)  # [{location_id, fulfilment_order_id, quantity}]
    backordered: int = 0
    cancelled: int = 0
    customer_told: bool = False


@dataclass
class PickRejectionOutcome:
    fulfilment_order_id: int
    order_id: int
    state: str  # of the rejecting fulfilment order afterwards
    lines: list[LineOutcome]
    new_fulfilment_order_ids: list[int]
    customer_told: bool
    phantom: list[dict[str, Any]] = field(default_factory=list)


class NothingToReject(InvalidInput):
    code, title = "nothing-to-reject", "The line cannot be rejected"


# --- checks -----------------------------------------------------------------------------------------------

def _check(fo, order, lines: list[PickRejection]) -> dict[int, dict]:
    """The fulfilment-order lines rejected, by order line id; raises for anything else."""
    if fo["state"] not in REJECTABLE:
        raise IllegalTransition(entity="fulfilment_order", entity_id=fo["id"], current=fo["state"],
                                requested="pick_rejected", allowed=[],
                                detail=f"fulfilment order {fo['id']} is {fo['state']}: only a new order or one "
                                       f"being picked can have lines rejected")
    if order["state"] not in ORDER_STATES_THAT_FULFIL:
        raise Conflict(f"order {order['id']} is {order['state']}: its fulfilment cannot go on",
                       order_state=order["state"])
    if not lines:
        raise InvalidInput("name at least one line", field="lines")
    on_fo = {ln["order_line_id"]: ln for ln in fo["lines"] if not ln.get("shipped")}
    seen: set[int] = set()
    for i, r in enumerate(lines):
        where = f"lines.{i}"
        if r.order_line_id in seen:
            raise InvalidInput(f"line {r.order_line_id} is named twice", field=f"{where}.order_line_id")
        seen.add(r.order_line_id)
        if r.order_line_id not in on_fo:
            raise NothingToReject(f"line {r.order_line_id} is not (or no longer) on fulfilment order {fo['id']}",
                                  field=f"{where}.order_line_id", order_line_id=r.order_line_id)
        if r.reason not in REASONS:
            raise InvalidInput(f"unknown reason {r.reason!r}", field=f"{where}.reason", allowed=list(REASONS))
        if not 1 <= r.quantity <= on_fo[r.order_line_id]["quantity"]:
            raise InvalidInput(f"quantity must be between 1 and {on_fo[r.order_line_id]['quantity']}",
                               field=f"{where}.quantity", on_fulfilment_order=on_fo[r.order_line_id]["quantity"])
        if len(r.note) > 500:
            raise InvalidInput("the note is longer than 500 characters", field=f"{where}.note")
    return {r.order_line_id: on_fo[r.order_line_id] for r in lines}


async def _claim(session: AsyncSession, fo, lines: list[dict], *, cancel: bool, now) -> None:
    """The conditional update that makes this rejection the only one of its kind (see the module docstring)."""
    values: dict[str, Any] = {"lines": lines, "updated_at": now}
    if cancel:
        fulfilment_move(fo["state"], F.CANCELLED, delivery_method=fo["delivery_method"], fulfilment_order_id=fo["id"])
        values["state"] = F.CANCELLED.value
    done = (await session.execute(
        update(FULFILMENT).where(FULFILMENT.c.id == fo["id"], FULFILMENT.c.state == fo["state"],
                                 FULFILMENT.c.updated_at == fo["updated_at"])
        .values(**values).returning(FULFILMENT.c.id))).first()
    if done is None:
        await fulfilment._raise_if_changed(session, fo, F.CANCELLED)
        raise Conflict(f"fulfilment order {fo['id']} changed meanwhile (someone else picked or rejected it); "
                       f"reload it", fulfilment_order_id=fo["id"])


# --- the operation ----------------------------------------------------------------------------------------

async def reject_pick(session: AsyncSession, fulfilment_order_id: int, *, lines: list[PickRejection],
                      principal: Principal | None, actor: str, secret_key: str | None = None,
                      public_url: str | None = None) -> PickRejectionOutcome:
    """Reject (part of) lines of a fulfilment order as not found or damaged; see the module docstring.
    ``principal``: an associate acts only on their stores' fulfilment orders (404 otherwise)."""
    fo, order = await fulfilment.load(session, fulfilment_order_id, principal=principal)
    rejected = _check(fo, order, lines)
    by_line = {r.order_line_id: r for r in lines}
    now = clock.now()
    timeline = Timeline(actor=actor, at=now)
    ref = OrderRef.of(order)
    location_id = fo["location_id"]

    leg = fo["delivery_method"] == SHIP_TO_STORE and fo.get("transfer_id") is not None
    if leg:  # the transfer first, as shipping takes it: ship_to_store.shrink_leg amends it below
        await transfers.hold_request(session, fo["transfer_id"])

    kept = []
    for ln in fo["lines"]:
        r = by_line.get(ln["order_line_id"])
        left = ln["quantity"] - (r.quantity if r and not ln.get("shipped") else 0)
        if left > 0:  # "rejected": this pick of the SKU is no clean pick (``phantom``)
            kept.append({**ln, "quantity": left, **({"rejected": (ln.get("rejected") or 0) + r.quantity} if r else {})})
    cancel = not kept
    await _claim(session, fo, kept, cancel=cancel, now=now)

    # 2. the reservations (reservation rows first, then the levels: inventory's lock order): a whole line's
    # released together, part of one reduced
    whole = [rejected[r.order_line_id]["reservation_id"] for r in lines
             if rejected[r.order_line_id].get("reservation_id") and r.quantity == rejected[r.order_line_id]["quantity"]]
    if whole:
        await inventory_service.release_reservations(session, reservation_ids=whole)
    for r in sorted(lines, key=lambda x: rejected[x.order_line_id].get("reservation_id") or 0):
        rid = rejected[r.order_line_id].get("reservation_id")
        if rid and rid not in whole:
            await inventory_service.reduce_reservation(session, reservation_id=rid, quantity=r.quantity)

    # 3. the stock, in (variant, location) order
    outcomes = {r.order_line_id: LineOutcome(r.order_line_id, rejected[r.order_line_id]["sku"], r.quantity,
                                             r.reason) for r in lines}
    moves = []
    for r in sorted(lines, key=lambda x: rejected[x.order_line_id]["variant_id"]):
        ln = rejected[r.order_line_id]
        current = await inventory_repo.lock_level(session, variant_id=ln["variant_id"], location_id=location_id)
        on_hand, reserved = current or (0, 0)
        removable = max(0, min(r.quantity, on_hand - reserved))
        kind = "count" if r.reason == "not_found" else "damage"
        reason = ("pick rejected: not found" if r.reason == "not_found" else "damaged") + (
            f" — {r.note.strip()}" if r.note.strip() else "")
        moves.append(ledger.Move(ln["sku"], ln["variant_id"], location_id, kind, -removable, reason[:500],
                                 ledger.MovementReference("order", order["number"])))
        outcomes[r.order_line_id].stock = {
            "location_id": location_id, "movement_kind": kind, "on_hand_before": on_hand,
            "on_hand_after": on_hand - removable, "removed": removable,
            "unresolved": r.quantity - removable}  # units other orders still hold that are not there either
    await ledger.apply_moves(session, moves, actor=actor)

    # 4. phantom stock
    phantoms = []
    for r in lines:
        ln = rejected[r.order_line_id]
        state = await phantom.record_rejection(session, variant_id=ln["variant_id"], location_id=location_id,
                                               quantity=r.quantity, reason=r.reason, at=now)
        phantoms.append({"sku": ln["sku"], "location_id": location_id, "rejections": state.rejections,
                         "buffer": state.buffer})

    for r in lines:
        timeline.record(ref, "pick.rejected", fulfilment_order_id=fo["id"], data={
            "order_line_id": r.order_line_id, "sku": rejected[r.order_line_id]["sku"], "quantity": r.quantity,
            "reason": r.reason, "note": r.note, "location_id": location_id,
            "stock": outcomes[r.order_line_id].stock})
    if cancel:
        timeline.transition(ref, entity="fulfilment_order", from_state=fo["state"], to_state=F.CANCELLED.value,
                            fulfilment_order_id=fo["id"], data={"reason": "every line rejected at the shelf"})

    if leg:  # 4b. the pickup store's leg and the transfer carry the rejected units no more
        await ship_to_store.shrink_leg(session, fo, order, rejected={r.order_line_id: r.quantity for r in lines},
                                       timeline=timeline, actor=actor)

    # 5. re-route, 6. tell the customer
    plan = await rerouting.reroute(session, order=order, rejecting_location_id=location_id,
                                   missing=[(r.order_line_id, rejected[r.order_line_id], r.quantity) for r in lines],
                                   now=now, actor=actor)
    new_ids = [x["id"] for x in plan.fulfilment_orders]
    for fo_row in plan.fulfilment_orders:
        timeline.transition(ref, entity="fulfilment_order", from_state=None, to_state=fo_row["state"],
                            fulfilment_order_id=fo_row["id"], kind="fulfilment_order.assigned",
                            data={"location_id": fo_row["location_id"], "rerouted_from": fo["id"],
                                  "transfer_id": fo_row.get("transfer_id")})
        timeline.event(STORE_ALERT, {"kind": "fulfilment_assigned", "location_id": fo_row["location_id"],
                                     "order_id": order["id"], "fulfilment_order_id": fo_row["id"],
                                     "delivery_method": fo_row["delivery_method"], "rerouted_from": fo["id"]})
    collected = order["delivery_method"] in COLLECTED
    for line_id, out in outcomes.items():
        got = plan.lines[line_id]
        out.rerouted, out.backordered, out.cancelled = got.rerouted, got.backordered, got.cancelled
        if got.rerouted:
            timeline.record(ref, "line.rerouted", data={"order_line_id": line_id, "sku": out.sku,
                                                        "from_location_id": location_id, "to": got.rerouted})
        for what, units in (("backordered", got.backordered), ("cancelled", got.cancelled)):
            if units:
                timeline.record(ref, f"line.{what}", data={"order_line_id": line_id, "sku": out.sku,
                                                           "quantity": units, "after": "pick_rejected"})
        data = {"order_line_id": line_id, "sku": out.sku, "quantity": out.quantity}
        link = decline.decline_link(order["id"], line_id, secret_key=secret_key, public_url=public_url)
        if got.cancelled:
            await decline.refund_units(session, order, line_id, got.cancelled, timeline=timeline, actor=actor,
                                       reason="not available after a pick exception")
            timeline.notify(ref, "line_cancelled", data={**data, "quantity": got.cancelled})
            out.customer_told = True
        if got.backordered:
            timeline.notify(ref, "line_backordered", data={**data, "quantity": got.backordered, **link})
            out.customer_told = True
        moved = [x for x in got.rerouted if x["location_id"] != order["pickup_location_id"] or x["ship_to_store"]]
        if collected and moved:
            timeline.notify(ref, "line_rerouted", data={**data, "quantity": sum(x["quantity"] for x in moved),
                                                        "to": moved, **link})
            out.customer_told = True
    told = any(o.customer_told for o in outcomes.values())
    if told:
        timeline.record(ref, "customer.told_of_change", data={"order_line_ids": sorted(
            k for k, o in outcomes.items() if o.customer_told)})

    await service.sync_order_state(session, order["id"], timeline)
    await timeline.write(session)
    return PickRejectionOutcome(fo["id"], order["id"], F.CANCELLED.value if cancel else fo["state"],
                                list(outcomes.values()), new_ids, told, phantoms)


def outcome_json(outcome: PickRejectionOutcome) -> dict[str, Any]:
    return {"fulfilment_order_id": outcome.fulfilment_order_id, "order_id": outcome.order_id,
            "state": outcome.state, "new_fulfilment_order_ids": outcome.new_fulfilment_order_ids,
            "customer_told": outcome.customer_told, "phantom_stock": outcome.phantom,
            "lines": [{"order_line_id": o.order_line_id, "sku": o.sku, "quantity": o.quantity, "reason": o.reason,
                       "stock": o.stock, "rerouted": o.rerouted, "backordered": o.backordered,
                       "cancelled": o.cancelled, "customer_told": o.customer_told} for o in outcome.lines]}

