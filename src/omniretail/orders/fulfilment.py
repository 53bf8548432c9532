"""Store and warehouse work on a fulfilment order: pick, picked, ready for pickup (with a pickup code),
hand over (code checked), ship (partial shipments, tracking for the channel), deliver, curbside check-in.

Each move is checked against the state machine and written as ``UPDATE fulfilment_order … WHERE id = :id AND
state = :expected``: of two associates making the same move at once, one gets a 409. Handing over or shipping
consumes the reservations (on hand and reserved both fall); cancelling releases them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.inventory import phantom
from omniretail.inventory import service as inventory_service
from omniretail.platform import clock
from omniretail.platform.config import get_settings
from omniretail.platform.errors import Conflict, InvalidInput, NotFound

from . import pickup_codes, pickup_deadline, service
from .reads import fulfilment_read
from .schemas import CheckIn, FulfilmentOrderRead, ShipmentCreate
from .states import (
    FULFILMENT_OPEN,
    ORDER_STATES_THAT_FULFIL,
    SHIP_TO_STORE,
    FulfilmentState,
    IllegalTransition,
    OrderState,
    allowed_fulfilment_moves,
    fulfilment_move,
)
from .tables import channel_t
from .timeline import STORE_ALERT, TRACKING, OrderRef, Timeline

F = FulfilmentState
FULFILMENT, SHIPMENTS = service.FULFILMENT, service.SHIPMENTS
DEFAULT_PICKUP_DAYS = pickup_deadline.DEFAULT_DAYS


class PickupCodeMismatch(InvalidInput):
    code, title = "pickup-code-mismatch", "The pickup code does not match"


async def load(session: AsyncSession, fo_id: int, *, principal: Principal | None, lock: bool = False):
    """A fulfilment order and its order, or NotFound for what the principal may not act on."""
    stmt = select(FULFILMENT).where(FULFILMENT.c.id == fo_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).first()
    fo = None if row is None else row._mapping
    order = None if fo is None else await service.order_row(session, fo["order_id"])
    if fo is None or (principal is not None and (
            (principal.location_ids is not None and fo["location_id"] not in principal.location_ids)
            or (principal.channel_ids is not None and order["channel_id"] not in principal.channel_ids))):
        raise NotFound(f"fulfilment order {fo_id} not found")
    return fo, order


async def read(session: AsyncSession, fo_id: int) -> FulfilmentOrderRead:
    fo = (await session.execute(select(FULFILMENT).where(FULFILMENT.c.id == fo_id))).first()
    shipments = (await session.execute(select(SHIPMENTS).where(SHIPMENTS.c.fulfilment_order_id == fo_id)
                                       .order_by(SHIPMENTS.c.id))).all()
    order_state = (await session.execute(select(service.ORDERS.c.state).where(
        service.ORDERS.c.id == fo.order_id))).scalar_one()
    return fulfilment_read(fo, shipments, order_state)


async def _move(session: AsyncSession, fo, order, target: F, timeline: Timeline, *,
                values: dict[str, Any] | None = None, data: dict[str, Any] | None = None) -> None:
    fulfilment_move(fo["state"], target, delivery_method=fo["delivery_method"], fulfilment_order_id=fo["id"])
    if target != F.CANCELLED and order["state"] not in ORDER_STATES_THAT_FULFIL:
        # Read after a concurrent move finished the order: report the fulfilment order's own change first,
        # so the loser of a race always learns the state it lost to.
        await _raise_if_changed(session, fo, target)
        raise Conflict(f"order {order['id']} is {order['state']}: its fulfilment cannot go on",
                       order_state=order["state"])
    moved = (await session.execute(
        update(FULFILMENT).where(FULFILMENT.c.id == fo["id"], FULFILMENT.c.state == fo["state"])
        .values(state=target.value, updated_at=clock.now(), **(values or {})).returning(FULFILMENT.c.id))).first()
    if moved is None:
        await _raise_if_changed(session, fo, target)
        raise Conflict(f"fulfilment order {fo['id']} changed meanwhile")
    timeline.transition(OrderRef.of(order), entity="fulfilment_order", from_state=fo["state"],
                        to_state=target.value, fulfilment_order_id=fo["id"], data=data)


async def _raise_if_changed(session: AsyncSession, fo, target: F) -> None:
    now_state = (await session.execute(select(FULFILMENT.c.state).where(FULFILMENT.c.id == fo["id"]))
                 ).scalar_one()
    if now_state != fo["state"]:
        raise IllegalTransition(
            entity="fulfilment_order", entity_id=fo["id"], current=now_state, requested=target,
            allowed=allowed_fulfilment_moves(now_state, fo["delivery_method"]),
            detail=f"fulfilment order {fo['id']} changed meanwhile: it is {now_state} now")


async def _finish(session: AsyncSession, order, timeline: Timeline, fo_id: int, *,
                  reason: str | None = None) -> FulfilmentOrderRead:
    await service.sync_order_state(session, order["id"], timeline, reason=reason)
    await timeline.write(session)
    return await read(session, fo_id)


async def _consume(session: AsyncSession, order, lines: list[dict], actor: str) -> None:
    for ln in sorted(lines, key=lambda x: x["reservation_id"] or 0):
        if ln.get("reservation_id"):
            await inventory_service.consume_reservation(
                session, reservation_id=ln["reservation_id"], actor=actor, reference_type="order",
                reference_id=order["number"])


# --- the moves ---------------------------------------------------------------------------------------------

async def start_picking(session: AsyncSession, fo_id: int, *, principal: Principal, actor: str
                        ) -> FulfilmentOrderRead:
    fo, order = await load(session, fo_id, principal=principal)
    timeline = Timeline(actor=actor)
    await _move(session, fo, order, F.PICKING, timeline, values={"assigned_to": actor})
    return await _finish(session, order, timeline, fo_id)


async def mark_picked(session: AsyncSession, fo_id: int, *, principal: Principal, actor: str
                      ) -> FulfilmentOrderRead:
    fo, order = await load(session, fo_id, principal=principal)
    timeline = Timeline(actor=actor)
    await _move(session, fo, order, F.PICKED, timeline)
    await phantom.record_clean_picks(session, location_id=fo["location_id"],  # phantom stock decays
                                     variant_ids=[ln["variant_id"] for ln in fo["lines"] if not ln.get("rejected")])
    return await _finish(session, order, timeline, fo_id)


async def mark_ready(session: AsyncSession, fo_id: int, *, principal: Principal, actor: str,
                     pickup_days: int | None = None, secret_key: str | None = None) -> FulfilmentOrderRead:
    """Ready for pickup: a fresh six-digit code goes to the customer (only), with the time to collect by (the
    store's closing time ``pickup_days`` later, ``pickup_deadline``: what the expiry job applies); the
    fulfilment order keeps its HMAC (``pickup_codes``). ``secret_key``: the instance secret (the app's
    settings; the process settings when not given)."""
    fo, order = await load(session, fo_id, principal=principal)
    if fo["state"] == F.AWAITING_TRANSFER and any((ln.get("received") or 0) < ln["quantity"] for ln in fo["lines"]):
        raise Conflict(f"fulfilment order {fo_id} waits for transfer {fo['transfer_id']}: receive it first",
                       transfer_id=fo["transfer_id"])  # the receipt makes it ready (orders/ship_to_store.py)
    timeline = Timeline(actor=actor)
    code = pickup_codes.new_code()
    days = pickup_days or await _pickup_days(session, order["channel_id"])
    await _move(session, fo, order, F.READY_FOR_PICKUP, timeline,
                values={"pickup_code": pickup_codes.code_hash(_secret(secret_key), code), "ready_at": timeline.at})
    hours, timezone = await pickup_deadline.location_clock(session, fo["location_id"])
    deadline = pickup_deadline.collect_by(timeline.at, days=days, opening_hours=hours, timezone=timezone)
    timeline.notify(OrderRef.of(order), "ready_for_pickup", fulfilment_order_id=fo_id, data={
        "pickup_code": code, "location_id": fo["location_id"], "delivery_method": fo["delivery_method"],
        "collect_by": deadline.isoformat()})
    return await _finish(session, order, timeline, fo_id)


async def hand_over(session: AsyncSession, fo_id: int, *, pickup_code: str, principal: Principal, actor: str,
                    secret_key: str | None = None) -> FulfilmentOrderRead:
    fo, order = await load(session, fo_id, principal=principal)
    if fo["state"] == F.READY_FOR_PICKUP and not pickup_codes.matches(_secret(secret_key), fo["pickup_code"],
                                                                      pickup_code):
        raise PickupCodeMismatch("the pickup code does not match", field="pickup_code")
    timeline = Timeline(actor=actor)
    lines = [{**ln, "shipped": ln["quantity"]} for ln in fo["lines"]]
    await _move(session, fo, order, F.HANDED_OVER, timeline, values={"lines": lines})
    await _consume(session, order, fo["lines"], actor)
    timeline.notify(OrderRef.of(order), "order_collected", fulfilment_order_id=fo_id)
    return await _finish(session, order, timeline, fo_id)


def _secret(secret_key: str | None) -> str:
    return secret_key or get_settings().resolved_secret_key()


async def ship(session: AsyncSession, fo_id: int, *, data: ShipmentCreate, principal: Principal, actor: str
               ) -> FulfilmentOrderRead:
    """Ship some or all of a picked fulfilment order's lines in one shipment; the order is shipped when the
    last line is. The tracking goes to the channel (``orders.tracking``) and the customer."""
    fo, order = await load(session, fo_id, principal=principal, lock=True)
    if fo["delivery_method"] == SHIP_TO_STORE:  # it leaves as its transfer ships (orders/ship_to_store.py)
        raise Conflict(f"fulfilment order {fo_id} goes to the pickup store: ship transfer {fo['transfer_id']}",
                       transfer_id=fo["transfer_id"])
    fulfilment_move(fo["state"], F.SHIPPED, delivery_method=fo["delivery_method"], fulfilment_order_id=fo_id)
    pending = [ln for ln in fo["lines"] if not ln.get("shipped")]
    wanted = set(data.order_line_ids) if data.order_line_ids is not None else {ln["order_line_id"] for ln in pending}
    unknown = wanted - {ln["order_line_id"] for ln in pending}
    if unknown or not wanted:
        raise InvalidInput("order_line_ids must name lines of this fulfilment order not shipped yet",
                           field="order_line_ids", unknown=sorted(unknown))
    going = [ln for ln in pending if ln["order_line_id"] in wanted]
    lines = [{**ln, "shipped": ln["quantity"]} if ln["order_line_id"] in wanted else ln for ln in fo["lines"]]
    complete = all(ln.get("shipped") for ln in lines)
    timeline = Timeline(actor=actor)
    ref = OrderRef.of(order)
    if complete:
        await _move(session, fo, order, F.SHIPPED, timeline, values={"lines": lines})
    else:
        await _update_lines(session, fo, order, lines)
    shipment_lines = [{"order_line_id": ln["order_line_id"], "sku": ln["sku"], "quantity": ln["quantity"]}
                      for ln in going]
    shipment_id = (await session.execute(insert(SHIPMENTS).values(
        fulfilment_order_id=fo_id, order_id=order["id"], carrier=data.carrier, tracking_number=data.tracking_number,
        tracking_url=data.tracking_url, parcels=data.parcels, lines=shipment_lines, state="shipped",
        shipped_at=timeline.at, delivered_at=None).returning(SHIPMENTS.c.id))).scalar_one()
    await _consume(session, order, going, actor)
    tracking = {"carrier": data.carrier, "tracking_number": data.tracking_number, "tracking_url": data.tracking_url,
                "shipment_id": shipment_id, "lines": shipment_lines, "complete": complete}
    timeline.record(ref, "shipment.created", fulfilment_order_id=fo_id, data=tracking)
    timeline.event(TRACKING, {"order_id": order["id"], "channel_id": order["channel_id"],
                              "external_id": order["external_id"], "fulfilment_order_id": fo_id, **tracking})
    timeline.notify(ref, "order_shipped", fulfilment_order_id=fo_id, data=tracking)
    return await _finish(session, order, timeline, fo_id)


async def _update_lines(session: AsyncSession, fo, order, lines: list[dict]) -> None:
    done = (await session.execute(update(FULFILMENT).where(FULFILMENT.c.id == fo["id"],
                                                           FULFILMENT.c.state == fo["state"])
                                  .values(lines=lines, updated_at=clock.now()).returning(FULFILMENT.c.id))).first()
    if done is None:
        raise Conflict(f"fulfilment order {fo['id']} changed meanwhile; reload it")


async def deliver(session: AsyncSession, fo_id: int, *, shipment_id: int | None, principal: Principal,
                  actor: str) -> FulfilmentOrderRead:
    """The carrier confirmed delivery of one shipment (or all): the fulfilment order is delivered when every
    shipment is."""
    fo, order = await load(session, fo_id, principal=principal)
    fulfilment_move(fo["state"], F.DELIVERED, delivery_method=fo["delivery_method"], fulfilment_order_id=fo_id)
    timeline = Timeline(actor=actor)
    which = SHIPMENTS.c.fulfilment_order_id == fo_id
    if shipment_id is not None:
        which = which & (SHIPMENTS.c.id == shipment_id)
    marked = (await session.execute(update(SHIPMENTS).where(which, SHIPMENTS.c.state == "shipped")
                                    .values(state="delivered", delivered_at=timeline.at).returning(SHIPMENTS.c.id))
              ).scalars().all()
    if shipment_id is not None and not marked:
        raise NotFound(f"no undelivered shipment {shipment_id} in fulfilment order {fo_id}")
    left = (await session.execute(select(SHIPMENTS.c.id).where(
        SHIPMENTS.c.fulfilment_order_id == fo_id, SHIPMENTS.c.state == "shipped"))).first()
    for sid in marked:
        timeline.record(OrderRef.of(order), "shipment.delivered", fulfilment_order_id=fo_id,
                        data={"shipment_id": sid})
    if left is None:
        await _move(session, fo, order, F.DELIVERED, timeline)
        timeline.notify(OrderRef.of(order), "order_delivered", fulfilment_order_id=fo_id)
    return await _finish(session, order, timeline, fo_id)


async def check_in(session: AsyncSession, fo_id: int, *, data: CheckIn, principal: Principal, actor: str
                   ) -> FulfilmentOrderRead:
    """Curbside "I'm here": the store is alerted with the bay and the car."""
    fo, order = await load(session, fo_id, principal=principal)
    if fo["delivery_method"] != "curbside":
        raise InvalidInput("only curbside orders check in", field="delivery_method")
    if fo["state"] not in (F.NEW, F.PICKING, F.PICKED, F.READY_FOR_PICKUP):
        raise IllegalTransition(entity="fulfilment_order", entity_id=fo_id, current=fo["state"],
                                requested="checked_in", allowed=allowed_fulfilment_moves(fo["state"], "curbside"),
                                detail=f"fulfilment order {fo_id} is {fo['state']}: nothing to collect")
    timeline = Timeline(actor=actor)
    note = data.model_dump()
    await session.execute(update(FULFILMENT).where(FULFILMENT.c.id == fo_id).values(
        checked_in_at=timeline.at, check_in=note, updated_at=timeline.at))
    timeline.record(OrderRef.of(order), "curbside.checked_in", fulfilment_order_id=fo_id, data=note)
    timeline.event(STORE_ALERT, {"kind": "curbside_arrival", "location_id": fo["location_id"],
                                 "order_id": order["id"], "fulfilment_order_id": fo_id, **note})
    await timeline.write(session)
    return await read(session, fo_id)


async def cancel_fulfilment(session: AsyncSession, fo_id: int, *, reason: str, actor: str,
                            principal: Principal | None, template: str | None = None) -> FulfilmentOrderRead:
    """Cancel one fulfilment order and give its stock back. A ship-to-store order goes with its other half
    (the source's leg and the pickup store's order carry the same units: neither goes on alone).

    When nothing of the order is left to come, the order is cancelled with its lines and the customer gets
    ``template`` (such as ``pickup_expired``) and ``order_cancelled``. Otherwise the order goes on: the units
    that no longer come are taken off their lines and refunded or no longer charged, and the customer is told
    of each line (``remainder.take_off``), not that the order was cancelled."""
    from .remainder import take_off  # it builds on service, as this module does

    fo, order = await load(session, fo_id, principal=principal)
    order = await service.order_row(session, order["id"], lock=True)  # one refund of an order at a time
    timeline = Timeline(actor=actor)
    await _move(session, fo, order, F.CANCELLED, timeline, data={"reason": reason})
    gone = [fo]
    if fo["transfer_id"] is not None:
        for other in await service.fulfilment_rows(session, order["id"]):
            if other["id"] != fo_id and other["transfer_id"] == fo["transfer_id"] and other["state"] in FULFILMENT_OPEN:
                await _move(session, other, order, F.CANCELLED, timeline, data={"reason": reason})
                gone.append(other)
    await service.release_lines(session, [ln for f in gone for ln in f["lines"]])
    ref = OrderRef.of(order)
    if await service.state_to_follow(session, order) == OrderState.CANCELLED:
        await session.execute(update(service.LINES).where(service.LINES.c.order_id == order["id"]).values(
            state="cancelled", quantity_cancelled=service.LINES.c.quantity, quantity_backordered=0))
        if template and template != "order_cancelled":  # the order's cancellation (``_finish``) says that
            timeline.notify(ref, template, fulfilment_order_id=fo_id, data={"reason": reason})
        from .refunds import refund_rest_of_payment  # it builds on service, as this module does

        await service.sync_order_state(session, order["id"], timeline, reason=reason)  # told of it first
        await refund_rest_of_payment(session, order, timeline=timeline, actor=actor, reason=reason)
        await timeline.write(session)
        return await read(session, fo_id)
    units: dict[int, int] = {}
    for f in gone:
        if f["delivery_method"] == SHIP_TO_STORE:  # the customer's own fulfilment order counts the units
            continue
        for ln in f["lines"]:
            if not ln.get("shipped"):
                units[ln["order_line_id"]] = units.get(ln["order_line_id"], 0) + ln["quantity"]
    if units:
        lines = {r.id: r._mapping for r in (await session.execute(
            select(service.LINES).where(service.LINES.c.id.in_(sorted(units))))).all()}
        timeline.record(ref, "order.lines_cancelled", fulfilment_order_id=fo_id, data={"reason": reason, "lines": [
            {"order_line_id": line_id, "sku": lines[line_id]["sku"], "quantity": n}
            for line_id, n in sorted(units.items())]})
        await take_off(session, order, units, lines, timeline=timeline, actor=actor, reason=reason)
    return await _finish(session, order, timeline, fo_id, reason=reason)


async def _pickup_days(session: AsyncSession, channel_id: int) -> int:
    settings = (await session.execute(select(channel_t.c.settings).where(channel_t.c.id == channel_id))
                ).scalar_one_or_none() or {}
    return pickup_deadline.expiry_days(settings)
