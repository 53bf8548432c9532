"""Counter sales: an order of a store's POS channel, paid at the till, the goods in the customer's hands.

A counter sale is placed like any order (``placement.place_order``, delivery method ``counter`` at the store:
priced by the channel, the store's stock reserved) and completed in the same transaction: its fulfilment
order goes from new straight to handed over (``UPDATE … WHERE state = 'new'``), the reservations are consumed
(on hand falls, a ``sale`` movement is written) and the order follows to completed, every step on the
timeline. Nothing is picked, made ready or collected later, so no pickup code and no store alert for it.
The till's own id for the sale is the order's external id: sending the same sale twice gives one order.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.customers.schemas import CustomerDetails
from omniretail.inventory import service as inventory_service
from omniretail.platform import clock
from omniretail.platform.errors import Conflict, InvalidInput

from . import service
from .placement import Placed, Placement, PlacementLine, place_order
from .schemas import Delivery, DeliveryMethod
from .states import FulfilmentState
from .timeline import OrderRef, Timeline

FULFILMENT = service.FULFILMENT
COUNTER = DeliveryMethod.COUNTER.value


async def sell_at_counter(session: AsyncSession, *, channel_id: int, location_id: int,
                          lines: list[tuple[str, int]], external_id: str, payment_status: str = "paid",
                          customer: CustomerDetails | None = None, principal: Principal, actor: str,
                          note: str = "") -> Placed:
    """Place and complete a counter sale; a repeat of ``external_id`` returns the first sale (not created)."""
    if payment_status not in ("paid", "authorized"):
        raise InvalidInput("a counter sale is paid at the till", field="payment_status")
    placed = await place_order(session, placement=Placement(
        channel_id=channel_id, delivery=Delivery(method=DeliveryMethod.COUNTER, pickup_location_id=location_id),
        lines=[PlacementLine(sku, quantity) for sku, quantity in lines], external_id=external_id,
        customer=customer, payment_status=payment_status, origin_location_id=location_id, note=note),
        principal=principal, actor=actor)
    if placed.created:
        await hand_over_at_counter(session, placed.order_id, actor=actor)
    return placed


async def hand_over_at_counter(session: AsyncSession, order_id: int, *, actor: str) -> None:
    """The counter sale's fulfilment orders handed over and their stock consumed; the order completed."""
    order = await service.order_row(session, order_id)
    timeline = Timeline(actor=actor)
    ref = OrderRef.of(order)
    for fo in await service.fulfilment_rows(session, order_id):
        if fo["delivery_method"] != COUNTER:
            raise InvalidInput(f"order {order['number']} is not a counter sale", field="delivery_method")
        lines = [{**ln, "shipped": ln["quantity"]} for ln in fo["lines"]]
        moved = (await session.execute(
            update(FULFILMENT).where(FULFILMENT.c.id == fo["id"], FULFILMENT.c.state == FulfilmentState.NEW.value)
            .values(state=FulfilmentState.HANDED_OVER.value, lines=lines, assigned_to=actor,
                    updated_at=clock.now()).returning(FULFILMENT.c.id))).first()
        if moved is None:
            raise Conflict(f"fulfilment order {fo['id']} changed meanwhile")
        for ln in sorted(fo["lines"], key=lambda x: x["reservation_id"] or 0):
            if ln.get("reservation_id"):
                await inventory_service.consume_reservation(
                    session, reservation_id=ln["reservation_id"], actor=actor, reference_type="order",
                    reference_id=order["number"])
        timeline.transition(ref, entity="fulfilment_order", from_state=fo["state"],
                            to_state=FulfilmentState.HANDED_OVER.value, fulfilment_order_id=fo["id"],
                            kind="fulfilment_order.sold_at_counter", data={"location_id": fo["location_id"]})
    await service.sync_order_state(session, order_id, timeline)
    await timeline.write(session)
