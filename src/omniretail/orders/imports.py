"""Orders imported from a channel (marketplace), idempotently, and the channel's later updates.

The same (channel, external id) is one order however often and however concurrently it arrives: placement
claims the row with ``INSERT … ON CONFLICT DO NOTHING`` and a loser reads the winner's order. An update is a
newer snapshot of the order (a higher ``revision``): it is applied with ``UPDATE … WHERE channel_revision <
:revision``, so repeated or out-of-order snapshots change the order once, and never back to an older one.
"""

from __future__ import annotations

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.platform import clock

from . import service
from .placement import Placement, place_order
from .schemas import ImportStatus, OrderImport, OrderImportRead
from .states import OrderState, allowed_order_moves
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
    applied = await apply_revision(session, placed.order_id, data=data, actor=actor)
    return OrderImportRead(created=False, revision_applied=applied,
                           order=await service.get_order(session, placed.order_id, principal=None))


async def apply_revision(session: AsyncSession, order_id: int, *, data: OrderImport, actor: str) -> bool:
    """Apply a newer snapshot of an imported order: the address, and a cancellation by the buyer. An
    update without a revision, or with one not newer than the order's, changes nothing."""
    if data.revision is None:
        return False
    order = await service.order_row(session, order_id)
    address = data.delivery.address.model_dump(exclude_none=True) if data.delivery.address else None
    ORDERS = service.ORDERS
    moved = (await session.execute(
        update(ORDERS).where(ORDERS.c.id == order_id, or_(ORDERS.c.channel_revision.is_(None),
                                                          ORDERS.c.channel_revision < data.revision))
        .values(channel_revision=data.revision, shipping_address=address, updated_at=clock.now())
        .returning(ORDERS.c.id))).first()
    if moved is None:
        return False
    timeline = Timeline(actor=actor)
    ref = OrderRef.of(order)
    timeline.record(ref, "channel.revision", data={"revision": data.revision,
                                                   "previous": order["channel_revision"]})
    if address != order["shipping_address"]:
        timeline.transition(ref, entity="order", from_state=order["state"], to_state=order["state"],
                            kind="order.address_changed", data={"address": address})
    await timeline.write(session)
    if data.status == ImportStatus.CANCELLED and order["state"] != OrderState.CANCELLED:
        reason = data.cancel_reason or BUYER_CANCELLED
        if OrderState.CANCELLED in allowed_order_moves(order["state"]):
            await service.cancel_order(session, order_id, reason=reason, actor=actor, principal=None)
        else:  # already shipped or handed over: staff must handle it (a return), the channel is told
            refusal = Timeline(actor=actor)
            refusal.transition(ref, entity="order", from_state=order["state"], to_state=order["state"],
                               kind="order.cancel_refused", data={"reason": reason})
            await refusal.write(session)
    return True

