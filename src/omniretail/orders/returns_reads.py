"""Reading returns, and finding an order to take back.

Finding an order to return (``find_returnable_orders``) needs an exact identifier — the order number, the
customer's e-mail or phone, or the channel's own order id — and answers with what a store needs to take the
goods back (lines, delivered, returned and returnable units, the value of a unit) and nothing more: no
address, payment or timeline. That is how a store associate takes back an order sold by another store or
channel without being able to browse other stores' orders: ``GET /orders`` and ``GET /orders/{id}`` stay
scoped to their stores; with the order number they may then return it at their store (``returns.quotes_order``).

A store associate lists the returns at their stores and those of the orders their stores sold or fulfilled;
given an exact ``order_number`` (the customer's receipt) also that order's returns, wherever they were made.
"""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.customers import service as customers_service
from omniretail.platform.errors import InvalidInput
from omniretail.platform.money import from_minor
from omniretail.platform.pagination import SortSpec, paginate

from . import returns, service
from .models import FulfilmentOrder, Order
from .returns_models import Refund, SalesReturn
from .returns_schemas import (
    RefundRead,
    ReturnableLineRead,
    ReturnableOrderRead,
    ReturnLineRead,
    ReturnRead,
    ReturnSummaryRead,
)
from .returns_states import RETURN_VOID, ReturnState, allowed_return_moves

RETURNS, RLINES, REFUNDS, ORDERS = returns.RETURNS, returns.RLINES, Refund.__table__, service.ORDERS
SORTS = SortSpec({"id": SalesReturn.id, "created_at": SalesReturn.created_at}, default="-id")
MAX_FOUND = 20
VOID = {s.value for s in RETURN_VOID}  # rejected or cancelled: never exchanged, nothing owed
SETTLED = {ReturnState.REFUNDED.value, ReturnState.CLOSED.value}


def _m(row):
    return row._mapping if hasattr(row, "_mapping") else row


def summary_fields(ret, *, order_number: str, channel_id: int) -> dict:
    r, c = _m(ret), _m(ret)["currency"]
    return {"id": r["id"], "number": r["number"], "order_id": r["order_id"], "order_number": order_number,
            "channel_id": channel_id, "location_id": r["location_id"], "state": r["state"], "currency": c,
            "amount": from_minor(r["amount_minor"], c), "refunded": from_minor(r["refunded_minor"], c),
            "created_at": r["created_at"]}


def return_read(ret, *, order, lines, refunds, freed: int = 0) -> ReturnRead:
    """``freed``: the credit of replacements cancelled since (in ``ret``'s amount already); of a settled return
    (refunded or closed) only that is still owed — a closed return's unrefunded rest was settled when it closed."""
    r, c = _m(ret), _m(ret)["currency"]
    goods_refunded = r["refunded_minor"] - r["shipping_refunded_minor"]
    owed = freed if r["state"] in SETTLED else max(0, r["amount_minor"] - goods_refunded)
    return ReturnRead(
        **summary_fields(r, order_number=order["number"], channel_id=order["channel_id"]),
        allowed_moves=[str(s) for s in allowed_return_moves(r["state"])],
        shipping_refunded=from_minor(r["shipping_refunded_minor"], c),
        refundable=from_minor(owed, c), note=r["note"],
        outcome=r["outcome"], requested_by=r["requested_by"], updated_at=r["updated_at"],
        authorised_at=r["authorised_at"], received_at=r["received_at"], inspected_at=r["inspected_at"],
        closed_at=r["closed_at"],
        lines=[ReturnLineRead(
            id=x.id, order_line_id=x.order_line_id, sku=x.sku, variant_id=x.variant_id, quantity=x.quantity,
            reason=x.reason_code, note=x.reason_note, value=from_minor(x.value_minor, c),
            tax=from_minor(x.tax_minor, c), condition=x.condition, disposition=x.disposition,
            inspection_note=x.inspection_note, movement_id=x.movement_id, exchange_order_id=x.exchange_order_id,
            exchange_order_line_id=x.exchange_order_line_id,
            exchange_credit=from_minor(x.exchange_credit_minor, c)) for x in lines],
        refunds=[RefundRead(
            id=f.id, amount=from_minor(f.amount_minor, c), shipping=from_minor(f.shipping_minor, c),
            currency=f.currency, method=f.method, location_id=f.location_id, reference=f.reference,
            reason=f.reason, actor=f.actor, created_at=f.created_at) for f in refunds])


async def read_return(session: AsyncSession, return_id: int) -> ReturnRead:
    ret = (await session.execute(select(RETURNS).where(RETURNS.c.id == return_id))).one()
    order = await service.order_row(session, ret.order_id)
    lines = (await session.execute(select(RLINES).where(RLINES.c.return_id == return_id)
                                   .order_by(RLINES.c.id))).all()
    refunds = (await session.execute(select(REFUNDS).where(REFUNDS.c.return_id == return_id)
                                     .order_by(REFUNDS.c.id))).all()
    freed = 0
    if ret.state not in VOID:
        ret, lines, freed = await _without_cancelled_exchanges(session, ret, lines)
    return return_read(ret, order=order, lines=lines, refunds=refunds, freed=freed)


async def _without_cancelled_exchanges(session: AsyncSession, ret, lines):
    """The return as its next move (or refund) will find it: a replacement cancelled since gives its credit back
    (``returns.reclaim_cancelled_exchanges``); and that credit."""
    freed = {line_id: credit for line_id, credit, *_ in await returns.cancelled_exchanges(session, ret.id)}
    if not freed:
        return ret, lines, 0
    unlinked = {"exchange_order_id": None, "exchange_order_line_id": None, "exchange_credit_minor": 0}
    lines = [SimpleNamespace(**{**x._mapping, **(unlinked if x.id in freed else {})}) for x in lines]
    credit = sum(freed.values())
    return {**ret._mapping, "amount_minor": ret.amount_minor + credit}, lines, credit


async def get_return(session: AsyncSession, return_id: int, *, principal: Principal) -> ReturnRead:
    await returns.load_return(session, return_id, principal=principal)
    return await read_return(session, return_id)


async def _customer_ids(session: AsyncSession, *, email: str | None, phone: str | None) -> list[int] | None:
    if email is None and phone is None:
        return None
    ids: set[int] = set()
    if email is not None:
        ids |= set(await customers_service.customer_ids_by_email(session, email))
    if phone is not None:
        found, _next = await customers_service.list_customers(session, phone=phone, include_merged=True, limit=500)
        ids |= {c.id for c in found}
    return sorted(ids)


async def list_returns(
    session: AsyncSession, *, principal: Principal, state: str | None = None, location_id: int | None = None,
    order_number: str | None = None, email: str | None = None, cursor: str | None = None, limit: int = 50,
    sort: str | None = None,
) -> tuple[list[ReturnSummaryRead], str | None]:
    number = order_number.strip().upper() if order_number else None
    stmt = select(SalesReturn).join(Order, Order.id == SalesReturn.order_id)
    if principal.channel_ids is not None:
        stmt = stmt.where(Order.channel_id.in_(sorted(principal.channel_ids)))
    if principal.location_ids is not None:
        locs = sorted(principal.location_ids)
        visible = or_(SalesReturn.location_id.in_(locs), Order.origin_location_id.in_(locs),
                      exists().where(FulfilmentOrder.order_id == Order.id, FulfilmentOrder.location_id.in_(locs)))
        stmt = stmt.where(or_(visible, Order.number == number) if number else visible)
    if number:
        stmt = stmt.where(Order.number == number)
    if state:
        stmt = stmt.where(SalesReturn.state == state)
    if location_id is not None:
        stmt = stmt.where(SalesReturn.location_id == location_id)
    customers = await _customer_ids(session, email=email, phone=None)
    if customers is not None:
        stmt = stmt.where(Order.customer_id.in_(customers))
    rows, next_cursor = await paginate(session, stmt, id_column=SalesReturn.id, sort=SORTS, sort_value=sort,
                                       cursor=cursor, limit=limit)
    orders, freed = {}, {}
    if rows:
        found = await session.execute(select(ORDERS.c.id, ORDERS.c.number, ORDERS.c.channel_id)
                                      .where(ORDERS.c.id.in_(sorted({r.order_id for r in rows}))))
        orders = {o.id: o for o in found}
        # as on the return's own page: a replacement cancelled since gives its credit back (read_return)
        freed = await returns.cancelled_exchange_credit(session, [r.id for r in rows if r.state not in VOID])
    return [ReturnSummaryRead(**summary_fields(
        {**r.__dict__, "amount_minor": r.amount_minor + freed.get(r.id, 0)},
        order_number=orders[r.order_id].number, channel_id=orders[r.order_id].channel_id))
        for r in rows], next_cursor


async def find_returnable_orders(
    session: AsyncSession, *, principal: Principal, number: str | None = None, email: str | None = None,
    phone: str | None = None, channel_id: int | None = None, external_id: str | None = None,
) -> list[ReturnableOrderRead]:
    """Orders matching an exact identifier, from any channel and store, with what may still come back."""
    if external_id is not None and channel_id is None:
        raise InvalidInput("a channel's order id needs the channel_id", field="channel_id")
    if not (number or email or phone or external_id):
        raise InvalidInput("give the order number, the customer's e-mail or phone, or the channel's order id",
                           field="number")
    stmt = select(ORDERS).order_by(ORDERS.c.placed_at.desc(), ORDERS.c.id.desc()).limit(MAX_FOUND)
    if number:
        stmt = stmt.where(ORDERS.c.number == number.strip().upper())
    if external_id is not None:
        stmt = stmt.where(ORDERS.c.channel_id == channel_id, ORDERS.c.external_id == external_id)
    customers = await _customer_ids(session, email=email, phone=phone)
    if customers is not None:
        stmt = stmt.where(ORDERS.c.customer_id.in_(customers))
    if principal.channel_ids is not None:
        stmt = stmt.where(ORDERS.c.channel_id.in_(sorted(principal.channel_ids)))
    out = []
    for order in (await session.execute(stmt)).all():
        out.append(await returnable_order(session, order._mapping))
    return out


async def returnable_order(session: AsyncSession, order) -> ReturnableOrderRead:
    fos = await service.fulfilment_rows(session, order["id"])
    delivered = await returns.delivered_units(session, order["id"], fos)
    returned = await returns.returned_units(session, order["id"])
    lines = (await session.execute(select(service.LINES).where(service.LINES.c.order_id == order["id"])
                                   .order_by(service.LINES.c.position))).all()
    currency = order["currency"]
    out = []
    for ln in lines:
        charged = ln.quantity - ln.quantity_cancelled
        done, given = returned.get(ln.id, 0), delivered.get(ln.id, 0)
        unit = returns.line_units_value(ln, prices_include_tax=order["prices_include_tax"],
                                        already_returned=min(done, charged - 1), quantity=1
                                        ).amount if charged > 0 else 0
        out.append(ReturnableLineRead(order_line_id=ln.id, sku=ln.sku, quantity=ln.quantity, delivered=given,
                                      returned=done, returnable=max(0, given - done),
                                      value_per_unit=from_minor(unit, currency)))
    return ReturnableOrderRead(order_id=order["id"], number=order["number"], channel_id=order["channel_id"],
                               external_id=order["external_id"], currency=currency, state=order["state"],
                               placed_at=order["placed_at"], customer_name=(order["contact"] or {}).get("name", ""),
                               lines=out)
