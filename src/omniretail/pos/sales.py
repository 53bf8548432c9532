"""Sales rung up at a till: at the counter, or for home delivery (endless aisle).

A sale is an order (the orders package places it, prices it from the channel, reserves and routes it) plus
what the till knows: the shift, cash or card, what the customer handed over and got back. Cash goes into
the shift's drawer as a movement. The till's ``sale_id`` is the order's external id (``pos:<sale_id>``), so
sending a sale again returns the first one (``created`` false, HTTP 200) and rings nothing up twice; the same
``sale_id`` with another content (other lines or quantities, another store, kind, payment method or cash handed
over) is refused like a reused Idempotency-Key (422 ``sale-id-reused``, field ``sale_id``).

* Counter: an order of the store's POS channel, delivery ``counter``, handed over at once (stock consumed
  at the store).
* Home delivery: an order of the endless-aisle channel (the POS channel's ``endless_aisle_channel`` setting,
  a channel code; otherwise the active webshop in the same currency; otherwise the POS channel itself),
  shipped to the customer from the locations that channel routes to. The store is its origin.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Boolean, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.orders import counter
from omniretail.orders import service as orders_service
from omniretail.orders.placement import Placed, Placement, PlacementLine, place_order
from omniretail.orders.schemas import Delivery, DeliveryMethod
from omniretail.platform import clock, money
from omniretail.platform.errors import IdempotencyKeyReused, InvalidInput, NotFound

from . import cash, shifts
from .schemas import CounterSaleCreate, HomeDeliveryCreate, PaymentMethod, SaleRead

SALES, LINES = shifts.SALES, orders_service.LINES
COUNTER, ENDLESS_AISLE = "counter", "endless_aisle"

_CHANNEL_BY_CODE = text("SELECT id FROM channel WHERE code = :code AND is_active = :yes").bindparams(
    bindparam("yes", True, type_=Boolean))
_WEBSHOP = text("""SELECT id FROM channel WHERE kind = 'webshop' AND currency = :currency AND is_active = :yes
ORDER BY id LIMIT 1""").bindparams(bindparam("yes", True, type_=Boolean))


class SaleIdReused(IdempotencyKeyReused):
    code, title = "sale-id-reused", "This sale_id was used for another sale"


def external_id(sale_id: str) -> str:
    return f"pos:{sale_id}"


async def endless_aisle_channel(session: AsyncSession, where: shifts.Till) -> int:
    code = where.channel_settings.get("endless_aisle_channel")
    if code:
        found = (await session.execute(_CHANNEL_BY_CODE, {"code": code})).scalar_one_or_none()
        if found is None:
            raise InvalidInput(f"the endless-aisle channel {code!r} of {where.channel_code} is not active",
                               field="location_id")
        return found
    found = (await session.execute(_WEBSHOP, {"currency": where.currency})).scalar_one_or_none()
    return found if found is not None else where.channel_id


async def ring_up(session: AsyncSession, *, data: CounterSaleCreate, principal: Principal, actor: str,
                  register_code: str = shifts.DEFAULT_REGISTER) -> SaleRead:
    """A counter sale: the goods leave with the customer, paid in cash or by card."""
    where = await shifts.till(session, data.location_id, principal=principal)
    shift = await shifts.lock_open_shift(session, location_id=where.location_id, register_code=register_code)
    tendered = _tendered(data, where.currency)
    placed = await counter.sell_at_counter(
        session, channel_id=where.channel_id, location_id=where.location_id,
        lines=[(x.sku, x.quantity) for x in data.lines], external_id=external_id(data.sale_id),
        customer=data.customer, principal=principal, actor=actor)
    return await _record(session, placed, shift=shift, kind=COUNTER, location_id=where.location_id,
                         method=data.payment_method, tendered=tendered, actor=actor, data=data)


async def take_home_delivery(session: AsyncSession, *, data: HomeDeliveryCreate, principal: Principal, actor: str,
                             register_code: str = shifts.DEFAULT_REGISTER) -> SaleRead:
    """Endless aisle: paid at the till, shipped to the customer's address from another location."""
    where = await shifts.till(session, data.location_id, principal=principal)
    shift = await shifts.lock_open_shift(session, location_id=where.location_id, register_code=register_code)
    tendered = _tendered(data, where.currency)
    channel_id = await endless_aisle_channel(session, where)
    placed = await place_order(session, placement=Placement(
        channel_id=channel_id, delivery=Delivery(method=DeliveryMethod.SHIP, address=data.address),
        lines=[PlacementLine(x.sku, x.quantity) for x in data.lines], external_id=external_id(data.sale_id),
        customer=data.customer, payment_status="paid", origin_location_id=where.location_id,
        note=f"endless aisle at {where.location_name}"), principal=principal, actor=actor)
    return await _record(session, placed, shift=shift, kind=ENDLESS_AISLE, location_id=where.location_id,
                         method=data.payment_method, tendered=tendered, actor=actor, data=data)


def _tendered(data: CounterSaleCreate, currency: str) -> int | None:
    if data.tendered is None:
        return None
    if data.payment_method != PaymentMethod.CASH:
        raise InvalidInput("cash handed over goes with a cash payment", field="tendered")
    try:
        return cash.minor(data.tendered, currency, "tendered")
    except cash.CashError as exc:
        raise InvalidInput(str(exc), field=exc.field, **exc.extensions) from None


async def _same_sale(session: AsyncSession, order_id: int, *, data: CounterSaleCreate, kind: str, location_id: int,
                     tendered: int | None) -> None:
    """A retried sale must be the one rung up under its ``sale_id``: else SaleIdReused."""
    sale = (await session.execute(select(SALES).where(SALES.c.order_id == order_id))).first()
    rows = (await session.execute(select(LINES.c.sku, LINES.c.quantity).where(LINES.c.order_id == order_id))).all()
    wanted, had = Counter(), Counter()
    for line in data.lines:
        wanted[line.sku] += line.quantity
    for row in rows:
        had[row.sku] += row.quantity
    differs = [name for name, same in (
        ("lines", wanted == had), ("kind", sale is None or sale.kind == kind),
        ("location_id", sale is None or sale.location_id == location_id),
        ("payment_method", sale is None or sale.payment_method == data.payment_method.value),
        ("tendered", sale is None or sale.tendered_minor == tendered)) if not same]
    if differs:
        raise SaleIdReused(f"sale {data.sale_id} was rung up before with other {', '.join(differs)}: send a new "
                           "sale_id for another sale", field="sale_id", sale_id=data.sale_id, order_id=order_id,
                           differs=differs)


async def _record(session: AsyncSession, placed: Placed, *, shift, kind: str, location_id: int,
                  method: PaymentMethod, tendered: int | None, actor: str, data: CounterSaleCreate) -> SaleRead:
    if not placed.created:
        await _same_sale(session, placed.order_id, data=data, kind=kind, location_id=location_id, tendered=tendered)
        return await get_sale(session, placed.order_id, created=False)
    order = await orders_service.order_row(session, placed.order_id)
    if order["currency"] != shift.currency:
        raise InvalidInput(f"the order is in {order['currency']}, the till in {shift.currency}", field="location_id")
    total = order["total_minor"]
    try:
        change = cash.change_due(total, tendered) if method == PaymentMethod.CASH else None
    except cash.CashError as exc:
        raise InvalidInput(str(exc), field=exc.field, total=str(money.from_minor(total, shift.currency))) from None
    now = clock.now()
    await session.execute(SALES.insert().values(
        order_id=placed.order_id, shift_id=shift.id, location_id=location_id, kind=kind,
        payment_method=method.value, total_minor=total, tendered_minor=tendered if change is not None else None,
        change_minor=change, currency=shift.currency, sold_by=actor, sold_at=now))
    if method == PaymentMethod.CASH and total > 0:
        await shifts.add_cash(session, shift, kind="sale", amount_minor=total, actor=actor, order_id=placed.order_id,
                              reference=f"sale:{placed.order_id}")
    return await get_sale(session, placed.order_id)


async def get_sale(session: AsyncSession, order_id: int, *, principal: Principal | None = None,
                   created: bool = True) -> SaleRead:
    """What the till recorded for an order (for a receipt), or not found."""
    row = (await session.execute(select(SALES).where(SALES.c.order_id == order_id))).first()
    if row is None or (principal is not None and not principal.sees_location(row.location_id)):
        raise NotFound(f"no sale for order {order_id}", order_id=order_id)
    number = (await orders_service.order_row(session, order_id))["number"]
    c = row.currency
    return SaleRead(order_id=order_id, order_number=number, kind=row.kind, location_id=row.location_id,
                    shift_id=row.shift_id, payment_method=row.payment_method, currency=c,
                    total=money.from_minor(row.total_minor, c),
                    tendered=None if row.tendered_minor is None else money.from_minor(row.tendered_minor, c),
                    change=None if row.change_minor is None else money.from_minor(row.change_minor, c),
                    sold_by=row.sold_by, sold_at=row.sold_at, created=created)
