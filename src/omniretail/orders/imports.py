"""Orders imported from a channel (marketplace), idempotently, and the channel's later updates.

The same (channel, external id) is one order however often and however concurrently it arrives: placement
claims the row with ``INSERT … ON CONFLICT DO NOTHING`` and a loser reads the winner's order. An update is a
newer snapshot of the order (a higher ``revision``): it is applied with ``UPDATE … WHERE channel_revision <
:revision``, so repeated or out-of-order snapshots change the order once, and never back to an older one.
"""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.platform import clock

from . import service
from .placement import Placement, place_order
from .schemas import ImportStatus, OrderImport, OrderImportRead
from .states import PAYMENT_MOVES, OrderState, allowed_order_moves
from .timeline import OrderRef, Timeline

BUYER_CANCELLED = "cancelled by the buyer on the channel"


async def import_order(session: AsyncSession, *, data: OrderImport, principal: Principal, actor: str
                       ) -> OrderImportRead:
    placed = await place_order(session, placement=Placement.from_import(data), principal=principal, actor=actor)
    if placed.created:
        if data.status == ImportStatus.CANCELLED:
            await service.cancel_order(session, placed.order_id, reason=data.cancel_reason or BUYER_CANCELLED,
                                       actor=actor, principal=None)
            return OrderImportRead(created=True, revision_applied=True,
                                   order=await service.get_order(session, placed.order_id, principal=None))
        return OrderImportRead(created=True, revision_applied=True, order=placed.read)
    applied, not_applied = await apply_revision(session, placed.order_id, data=data, actor=actor)
    return OrderImportRead(created=False, revision_applied=applied, not_applied=not_applied,
                           order=await service.get_order(session, placed.order_id, principal=None))


# Before anything has left, the delivery address may still change; after, the parcel is on its way.
ADDRESS_CHANGEABLE = frozenset({OrderState.PENDING_PAYMENT, OrderState.CONFIRMED, OrderState.IN_FULFILMENT})


async def apply_revision(session: AsyncSession, order_id: int, *, data: OrderImport, actor: str
                         ) -> tuple[bool, list[str]]:
    """Apply a newer snapshot of an imported order: the address (until something has shipped), the payment
    status (as ``service.record_payment`` takes it: a pending order paid is confirmed), and a cancellation by the
    buyer (of what has not gone out yet). Returns whether it was applied and what it changed that the order does
    not take (``lines``: the lines of a placed order are not re-imported; ``address`` after shipping; ``payment``
    a status that may not follow the order's (``states.PAYMENT_MOVES``); ``cancel`` once everything went out) —
    each also an alert on the order's timeline for staff.
    An update without a revision, or with one not newer than the order's, changes nothing."""
    if data.revision is None:
        return False, []
    # Locked before it is read: revisions of one order arriving at once are applied one after the other, each
    # deciding from the order as the one before left it (read unlocked, a newer revision would act on the state
    # an older one had just changed — cancel an order cancelled meanwhile: a 409, and the newest revision lost).
    order = await service.order_row(session, order_id, lock=True)
    if order["channel_revision"] is not None and order["channel_revision"] >= data.revision:
        return False, []
    address = data.delivery.address.model_dump(exclude_none=True) if data.delivery.address else None
    address_changes = address != order["shipping_address"]
    address_allowed = order["state"] in ADDRESS_CHANGEABLE
    ORDERS = service.ORDERS
    values = {"channel_revision": data.revision, "updated_at": clock.now()}
    if address_changes and address_allowed:
        values["shipping_address"] = address
    moved = (await session.execute(
        update(ORDERS).where(ORDERS.c.id == order_id, or_(ORDERS.c.channel_revision.is_(None),
                                                          ORDERS.c.channel_revision < data.revision))
        .values(**values).returning(ORDERS.c.id))).first()
    if moved is None:
        return False, []
    timeline = Timeline(actor=actor)
    ref = OrderRef.of(order)
    not_applied: list[str] = []
    timeline.record(ref, "channel.revision", data={"revision": data.revision,
                                                   "previous": order["channel_revision"]})
    if address_changes and address_allowed:
        timeline.transition(ref, entity="order", from_state=order["state"], to_state=order["state"],
                            kind="order.address_changed", data={"address": address})
    elif address_changes:
        not_applied.append("address")
        timeline.transition(ref, entity="order", from_state=order["state"], to_state=order["state"],
                            kind="order.address_change_refused", data={"address": address, "revision": data.revision})
    wanted = sorted((x.sku, x.quantity) for x in data.lines)
    placed = sorted((x.sku, x.quantity) for x in (await session.execute(
        select(service.LINES.c.sku, service.LINES.c.quantity).where(service.LINES.c.order_id == order_id))).all())
    if wanted != placed:
        not_applied.append("lines")
        timeline.transition(ref, entity="order", from_state=order["state"], to_state=order["state"],
                            kind="order.lines_change_refused",
                            data={"revision": data.revision, "lines": [{"sku": s, "quantity": q} for s, q in wanted]})
    payment = data.payment_status.value
    if payment != order["payment_status"] and payment not in PAYMENT_MOVES.get(order["payment_status"], ()):
        not_applied.append("payment")
        timeline.transition(ref, entity="order", from_state=order["state"], to_state=order["state"],
                            kind="order.payment_change_refused", data={
                                "payment_status": payment, "current": order["payment_status"],
                                "revision": data.revision})
    await timeline.write(session)
    if payment != order["payment_status"] and "payment" not in not_applied:
        # the channel took the payment (or voided it): as a payment report would say (a pending order is confirmed)
        await service.record_payment(session, order_id, payment_status=payment, actor=actor, principal=None)
    if data.status == ImportStatus.CANCELLED and order["state"] != OrderState.CANCELLED:
        reason = data.cancel_reason or BUYER_CANCELLED
        if OrderState.CANCELLED in allowed_order_moves(order["state"]) \
                or order["state"] == OrderState.PARTIALLY_FULFILLED:  # the rest: orders/remainder.py
            await service.cancel_order(session, order_id, reason=reason, actor=actor, principal=None)
        else:  # already shipped or handed over: staff must handle it (a return), the channel is told
            not_applied.append("cancel")
            refusal = Timeline(actor=actor)
            refusal.transition(ref, entity="order", from_state=order["state"], to_state=order["state"],
                               kind="order.cancel_refused", data={"reason": reason})
            await refusal.write(session)
    return True, not_applied

