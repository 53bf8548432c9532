"""Orders: reading (scoped to the caller), cancelling, payment, and keeping an order's state in step with its
fulfilment orders. Placement is in ``placement``, channel imports in ``imports``, store work in ``fulfilment``.

Who sees what: an integration account the orders of its channels; a store associate the orders fulfilled by or
entered at their stores; everyone else every order. What one may not see is "not found".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.customers import service as customers_service
from omniretail.inventory import service as inventory_service
from omniretail.platform import clock
from omniretail.platform.errors import NotFound
from omniretail.platform.pagination import SortSpec, paginate

from . import holds
from .models import FulfilmentOrder, Order, OrderEvent, OrderLine, Shipment
from .reads import order_read
from .schemas import OrderRead
from .states import (
    FULFILMENT_OPEN,
    SHIP_TO_STORE,
    FulfilmentState,
    IllegalTransition,
    OrderState,
    allowed_order_moves,
    check_payment_move,
    order_move,
    order_path,
    order_state_for,
)
from .timeline import OrderRef, Timeline

ORDERS, LINES, FULFILMENT = Order.__table__, OrderLine.__table__, FulfilmentOrder.__table__
SHIPMENTS, EVENTS = Shipment.__table__, OrderEvent.__table__
SORTS = SortSpec({"id": Order.id, "placed_at": Order.placed_at, "number": Order.number}, default="-id")


# --- visibility -------------------------------------------------------------------------------------------

def sees_order(principal: Principal, order, fulfilment_location_ids) -> bool:
    if principal.channel_ids is not None and order["channel_id"] not in principal.channel_ids:
        return False
    if principal.location_ids is not None:
        return order["origin_location_id"] in principal.location_ids or bool(
            set(fulfilment_location_ids) & principal.location_ids)
    return True


async def order_row(session: AsyncSession, order_id: int, *, lock: bool = False):
    stmt = select(ORDERS).where(ORDERS.c.id == order_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).first()
    return None if row is None else row._mapping


async def fulfilment_rows(session: AsyncSession, order_id: int) -> list:
    rows = await session.execute(select(FULFILMENT).where(FULFILMENT.c.order_id == order_id)
                                 .order_by(FULFILMENT.c.id))
    return [r._mapping for r in rows]


async def visible_order(session: AsyncSession, order_id: int, *, principal: Principal | None, lock: bool = False):
    """The order row and its fulfilment orders, or NotFound for what the principal may not see."""
    order = await order_row(session, order_id, lock=lock)
    if order is None:
        raise NotFound(f"order {order_id} not found")
    fos = await fulfilment_rows(session, order_id)
    if principal is not None and not sees_order(principal, order, [f["location_id"] for f in fos]):
        raise NotFound(f"order {order_id} not found")
    return order, fos


async def get_order(session: AsyncSession, order_id: int, *, principal: Principal | None,
                    timeline: bool = True) -> OrderRead:
    order, fos = await visible_order(session, order_id, principal=principal)
    lines = (await session.execute(select(LINES).where(LINES.c.order_id == order_id))).all()
    shipments = (await session.execute(select(SHIPMENTS).where(SHIPMENTS.c.order_id == order_id)
                                       .order_by(SHIPMENTS.c.id))).all()
    events = []
    if timeline:
        events = (await session.execute(select(EVENTS).where(EVENTS.c.order_id == order_id)
                                        .order_by(EVENTS.c.id))).all()
    return order_read(order, lines=lines, fulfilment_orders=fos, shipments=shipments, events=events)


async def order_by_external_id(session: AsyncSession, channel_id: int, external_id: str, *,
                               principal: Principal) -> OrderRead:
    found = (await session.execute(select(ORDERS.c.id).where(
        ORDERS.c.channel_id == channel_id, ORDERS.c.external_id == external_id))).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no order {external_id!r} from channel {channel_id}", channel_id=channel_id,
                       external_id=external_id)
    return await get_order(session, found, principal=principal)


async def list_orders(
    session: AsyncSession, *, principal: Principal, number: str | None = None, email: str | None = None,
    channel_id: int | None = None, state: str | None = None, customer_id: int | None = None,
    location_id: int | None = None, cursor: str | None = None, limit: int = 50, sort: str | None = None,
    customer_ids: list[int] | None = None, states: list[str] | None = None,
    placed_from: datetime | None = None, placed_before: datetime | None = None,
) -> tuple[list[Order], str | None]:
    """Orders the principal may see, filtered; ``customer_ids`` (any of them), ``states`` (any of them) and
    the ``placed_from`` ≤ placed_at < ``placed_before`` window are for searches such as the back office's."""
    stmt = select(Order)
    at_location = lambda locs: exists().where(FulfilmentOrder.order_id == Order.id,
                                              FulfilmentOrder.location_id.in_(locs))
    if principal.channel_ids is not None:
        stmt = stmt.where(Order.channel_id.in_(principal.channel_ids))
    if principal.location_ids is not None:
        locs = sorted(principal.location_ids)
        stmt = stmt.where(or_(Order.origin_location_id.in_(locs), at_location(locs)))
    if number:
        stmt = stmt.where(Order.number == number.strip().upper())
    if email:
        stmt = stmt.where(Order.customer_id.in_(await customers_service.customer_ids_by_email(session, email)))
    if channel_id is not None:
        stmt = stmt.where(Order.channel_id == channel_id)
    if state:
        stmt = stmt.where(Order.state == state)
    if customer_id is not None:
        stmt = stmt.where(Order.customer_id == customer_id)
    if location_id is not None:
        stmt = stmt.where(or_(Order.origin_location_id == location_id, at_location([location_id])))
    if customer_ids is not None:
        stmt = stmt.where(Order.customer_id.in_(customer_ids or [-1]))
    if states:
        stmt = stmt.where(Order.state.in_(states))
    if placed_from is not None:
        stmt = stmt.where(Order.placed_at >= placed_from)
    if placed_before is not None:
        stmt = stmt.where(Order.placed_at < placed_before)
    return await paginate(session, stmt, id_column=Order.id, sort=SORTS, sort_value=sort, cursor=cursor,
                          limit=limit)


# --- moving an order --------------------------------------------------------------------------------------

async def move_order(session: AsyncSession, order, target: str, timeline: Timeline, *, kind: str | None = None,
                     data: dict[str, Any] | None = None, values: dict[str, Any] | None = None) -> None:
    """One checked, conditional move: ``UPDATE … WHERE id = :id AND state = :expected``."""
    current = order["state"]
    order_move(current, target, order_id=order["id"])
    await _conditional(session, order, current, target, values)
    timeline.transition(OrderRef.of(order), entity="order", from_state=current, to_state=target, kind=kind,
                        data=data)


async def _conditional(session: AsyncSession, order, current: str, target: str, values) -> None:
    moved = (await session.execute(
        update(ORDERS).where(ORDERS.c.id == order["id"], ORDERS.c.state == current)
        .values(state=target, updated_at=clock.now(), **(values or {})).returning(ORDERS.c.id))).first()
    if moved is None:
        now_state = (await session.execute(select(ORDERS.c.state).where(ORDERS.c.id == order["id"]))).scalar_one()
        raise IllegalTransition(entity="order", entity_id=order["id"], current=now_state, requested=target,
                                allowed=allowed_order_moves(now_state),
                                detail=f"order {order['id']} changed meanwhile: it is {now_state} now")


async def state_to_follow(session: AsyncSession, order) -> OrderState:
    """The state ``order`` should be in given its fulfilment orders as they are now (``order_state_for``)."""
    # a ship-to-store leg (source → pickup store) is internal: the customer's fulfilment order decides
    fos = [f for f in await fulfilment_rows(session, order["id"]) if f["delivery_method"] != SHIP_TO_STORE]
    waiting = (await session.execute(select(func.coalesce(func.sum(LINES.c.quantity_backordered), 0))
                                     .where(LINES.c.order_id == order["id"]))).scalar_one()
    partly = any(ln.get("shipped") for f in fos if f["state"] in FULFILMENT_OPEN for ln in f["lines"])
    return order_state_for(order["state"], [f["state"] for f in fos], partly_shipped=partly,
                           waiting_units=bool(waiting))


async def sync_order_state(session: AsyncSession, order_id: int, timeline: Timeline, *,
                           reason: str | None = None) -> str:
    """Bring the order's state in line with its fulfilment orders, one legal step at a time on the timeline
    (one conditional UPDATE for all of them)."""
    order = await order_row(session, order_id)
    target = await state_to_follow(session, order)
    steps = order_path(order["state"], target)
    if not steps:
        return order["state"]
    values = {"cancel_reason": reason} if target == OrderState.CANCELLED else None
    await _conditional(session, order, order["state"], target.value, values)
    ref, previous = OrderRef.of(order), order["state"]
    for step in steps:
        timeline.transition(ref, entity="order", from_state=previous, to_state=step.value,
                            data={"reason": reason} if step == OrderState.CANCELLED else None)
        previous = step.value
    if target == OrderState.CANCELLED:
        timeline.notify(ref, "order_cancelled", data={"reason": reason or ""})
    return target.value


# --- cancelling and payment ------------------------------------------------------------------------------

async def cancel_order(session: AsyncSession, order_id: int, *, reason: str, actor: str,
                       principal: Principal | None) -> None:
    """Cancel an order that has not shipped or been handed over: its open fulfilment orders are cancelled and
    their reservations released (the stock is available again), the customer is told why. Of an order that has
    partly gone out (``partially_fulfilled``) the rest is cancelled: ``remainder.cancel_remainder``."""
    order, _fos = await visible_order(session, order_id, principal=principal, lock=True)
    if order["state"] == OrderState.PARTIALLY_FULFILLED:
        from .remainder import cancel_remainder  # it builds on this module

        await cancel_remainder(session, order, _fos, reason=reason, actor=actor)
        return
    timeline = Timeline(actor=actor)
    await move_order(session, order, OrderState.CANCELLED.value, timeline, data={"reason": reason},
                     values={"cancel_reason": reason})
    cancelled = (await session.execute(
        update(FULFILMENT).where(FULFILMENT.c.order_id == order_id,
                                 FULFILMENT.c.state.in_([s.value for s in FULFILMENT_OPEN]))
        .values(state=FulfilmentState.CANCELLED.value, updated_at=clock.now())
        .returning(FULFILMENT.c.id, FULFILMENT.c.state, FULFILMENT.c.lines))).all()
    await release_lines(session, [ln for f in cancelled for ln in f.lines])
    ref = OrderRef.of(order)
    for f in _fos:
        if any(c.id == f["id"] for c in cancelled):
            timeline.transition(ref, entity="fulfilment_order", from_state=f["state"],
                                to_state=FulfilmentState.CANCELLED.value, fulfilment_order_id=f["id"],
                                data={"reason": reason})
    await holds.settle_preorders(session, order_id)  # units sold ahead are free for others again
    await session.execute(update(LINES).where(LINES.c.order_id == order_id).values(
        state="cancelled", quantity_cancelled=LINES.c.quantity, quantity_backordered=0))
    timeline.notify(ref, "order_cancelled", data={"reason": reason})
    from .refunds import refund_rest_of_payment  # it builds on this module

    await refund_rest_of_payment(session, order, timeline=timeline, actor=actor, reason=reason)
    await timeline.write(session)


async def release_lines(session: AsyncSession, lines: list[dict]) -> list[int]:
    """Give back the stock held for fulfilment-order lines that were not handed over or shipped."""
    ids = [ln["reservation_id"] for ln in lines if ln.get("reservation_id") and not ln.get("shipped")]
    if not ids:
        return []
    return await inventory_service.release_reservations(session, reservation_ids=ids)


async def record_payment(session: AsyncSession, order_id: int, *, payment_status: str, actor: str,
                         principal: Principal | None) -> None:
    """The payment provider (or the till) reports: a paid or authorised order is confirmed. Only the moves in
    ``states.PAYMENT_MOVES`` (409 otherwise, with the allowed ones); the same status again changes nothing."""
    order, _fos = await visible_order(session, order_id, principal=principal, lock=True)  # one report at a time
    check_payment_move(order_id, order["payment_status"], payment_status)
    if payment_status == order["payment_status"]:
        return  # reported again (a retried webhook): nothing changes
    timeline = Timeline(actor=actor)
    if order["state"] == OrderState.PENDING_PAYMENT and payment_status not in ("pending", "refunded"):
        await move_order(session, order, OrderState.CONFIRMED.value, timeline,
                         values={"payment_status": payment_status}, data={"payment_status": payment_status})
        timeline.notify(OrderRef.of(order), "order_confirmed")
        await holds.on_paid(session, order, timeline)  # holds stop expiring; unheld units are routed
    else:
        await session.execute(update(ORDERS).where(ORDERS.c.id == order_id).values(
            payment_status=payment_status, updated_at=clock.now()))
        timeline.record(OrderRef.of(order), "payment", data={"payment_status": payment_status})
    await timeline.write(session)
