"""Exchanges: returned lines swapped for replacement variants through the usual order path.

The replacement is a new order placed by ``placement.place_order`` (routing, reservation, fulfilment, outbox:
everything an order gets), on the original order's channel unless told otherwise, priced by that channel's
price lists today. The returned goods' value is credited as a line discount: ``difference`` — the customer
pays what the replacement costs above it (and a cheaper replacement leaves the rest refundable on the return);
``none`` — the replacement costs nothing. Each return line is exchanged once (``UPDATE … WHERE
exchange_order_id IS NULL``); the credit used comes off what the return may still refund. A replacement line
cancelled before it reached the customer (its order cancelled, or an unpaid one expired) gives the credit back
and frees the return line (``returns.reclaim_cancelled_exchanges``). The order's external id (``exchange:<return
number>:<return line ids>``, then ``:2``, ``:3`` … after a cancelled one) makes a repeated request one order.
The original order is locked first, as a refund does, so a refund and an exchange of one return never both
spend the same value.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.customers.schemas import CustomerDetails
from omniretail.platform import clock, money
from omniretail.platform.errors import Conflict, InvalidInput, NotFound

from . import returns, service, sourcing, totals
from .placement import Placement, PlacementLine, place_order
from .returns_schemas import ExchangeCharge, ExchangeCreate
from .returns_states import RETURN_EXCHANGEABLE, IllegalTransition, allowed_return_moves
from .schemas import Delivery, DeliveryMethod
from .timeline import OrderRef, Timeline

RETURNS, RLINES, LINES, ORDERS = returns.RETURNS, returns.RLINES, returns.LINES, service.ORDERS


async def exchange_return(session: AsyncSession, return_id: int, *, data: ExchangeCreate, principal: Principal,
                          actor: str) -> int:
    """Place the replacement order for some lines of a return; returns its id."""
    ret, order = await returns.load_return(session, return_id, principal=principal)
    order = await service.order_row(session, ret["order_id"], lock=True)  # with its refunds: one at a time
    now = clock.now()
    timeline = Timeline(actor=actor, at=now)
    await returns.reclaim_cancelled_exchanges(session, ret, order, timeline)  # a cancelled replacement: again
    ret = (await session.execute(select(RETURNS).where(RETURNS.c.id == return_id))).first()._mapping
    if ret["state"] not in RETURN_EXCHANGEABLE:
        raise IllegalTransition(entity="return", entity_id=return_id, current=ret["state"], requested="exchanged",
                                allowed=allowed_return_moves(ret["state"]),
                                detail=f"return {return_id} is {ret['state']}: it can no longer be exchanged")
    lines = {r.id: r for r in (await session.execute(select(RLINES).where(RLINES.c.return_id == return_id))).all()}
    wanted = [x.return_line_id for x in data.lines]
    if len(set(wanted)) != len(wanted) or not set(wanted) <= set(lines):
        raise InvalidInput("name lines of this return, each once", field="lines", return_line_ids=sorted(lines))
    done = sorted(i for i in wanted if lines[i].exchange_order_id is not None)
    if done:
        raise Conflict("these lines were exchanged already", return_line_ids=done)
    channel_id = data.channel_id or order["channel_id"]
    channel = await sourcing.load_channel(session, channel_id, external_id=None, extra_location_ids=[],
                                          now=now)
    if channel is None or not principal.sees_channel(channel_id):
        raise NotFound(f"channel {channel_id} not found")
    if channel.currency != order["currency"]:
        raise InvalidInput(f"channel {channel.code} sells in {channel.currency}, the order was in {order['currency']}",
                           field="channel_id")
    variants = await sourcing.load_variants(session, channel=channel, skus=[x.sku for x in data.lines], at=now,
                                            with_prices=True)
    placement_lines, credits, to_pay = [], [], 0
    for i, x in enumerate(data.lines):
        v = variants.get(x.sku)
        if v is None or v.price_minor is None:
            raise InvalidInput(f"SKU {x.sku} has no price on channel {channel.code}", field=f"lines.{i}.sku")
        quantity = x.quantity or lines[x.return_line_id].quantity
        subtotal = v.price_minor * quantity
        credit = subtotal if data.charge == ExchangeCharge.NONE else min(lines[x.return_line_id].value_minor, subtotal)
        to_pay += totals.line_amounts(unit_price=v.price_minor, quantity=quantity, discount=credit,
                                      tax_rate=v.tax_rate, prices_include_tax=v.prices_include_tax).total
        credits.append(credit)
        placement_lines.append(PlacementLine(x.sku, quantity, discount=money.from_minor(credit, channel.currency)))
    delivery = data.delivery
    if delivery is None:
        if ret["location_id"] is None:
            raise InvalidInput("say how the customer gets the replacement", field="delivery")
        delivery = Delivery(method=DeliveryMethod.PICKUP, pickup_location_id=ret["location_id"])
    contact = order["contact"] or {}
    payment = data.payment_status.value if data.payment_status else ("paid" if to_pay == 0 else "pending")
    external_id = f"exchange:{ret['number']}:{'-'.join(str(i) for i in sorted(wanted))}"
    earlier = (await session.execute(select(func.count()).select_from(ORDERS).where(
        ORDERS.c.channel_id == channel_id, or_(ORDERS.c.external_id == external_id,
                                               ORDERS.c.external_id.like(f"{external_id}:%"))))).scalar_one()
    if earlier:  # these lines were exchanged before and that replacement was cancelled: this is another one
        external_id = f"{external_id}:{earlier + 1}"
    placed = await place_order(session, placement=Placement(
        channel_id=channel_id, delivery=delivery, lines=placement_lines, external_id=external_id,
        customer=CustomerDetails(name=contact.get("name", ""), email=contact.get("email"), phone=contact.get("phone")),
        payment_status=payment, shipping_amount=Decimal(0), origin_location_id=ret["location_id"],
        note=f"exchange for return {ret['number']} of order {order['number']}"), principal=principal, actor=actor)
    if not placed.created:
        raise Conflict("this exchange was placed already", order_id=placed.order_id)
    new_lines = dict((await session.execute(select(LINES.c.position, LINES.c.id)
                                            .where(LINES.c.order_id == placed.order_id))).all())
    taken = 0
    for position, (x, credit) in enumerate(zip(data.lines, credits, strict=True), start=1):
        linked = (await session.execute(
            update(RLINES).where(RLINES.c.id == x.return_line_id, RLINES.c.exchange_order_id.is_(None))
            .values(exchange_order_id=placed.order_id, exchange_order_line_id=new_lines[position],
                    exchange_credit_minor=credit).returning(RLINES.c.id))).first()
        if linked is None:
            raise Conflict("these lines were exchanged meanwhile", return_line_ids=[x.return_line_id])
        taken += min(lines[x.return_line_id].value_minor, credit)
    goods_refunded = RETURNS.c.refunded_minor - RETURNS.c.shipping_refunded_minor
    kept = (await session.execute(
        update(RETURNS).where(RETURNS.c.id == return_id, RETURNS.c.amount_minor - taken >= goods_refunded)
        .values(amount_minor=RETURNS.c.amount_minor - taken, updated_at=timeline.at).returning(RETURNS.c.id))).first()
    if kept is None:
        raise Conflict(f"return {ret['number']} was refunded already: refund less or exchange less")
    timeline.record(OrderRef.of(order), "return.exchanged", data={
        "return_id": return_id, "return_number": ret["number"], "exchange_order_id": placed.order_id,
        "credit": str(money.from_minor(taken, order["currency"])), "to_pay": str(money.from_minor(to_pay, channel.currency)),
        "lines": [{"return_line_id": x.return_line_id, "sku": x.sku} for x in data.lines]})
    await timeline.write(session)
    return placed.order_id
