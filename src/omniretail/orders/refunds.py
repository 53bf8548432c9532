"""Refunds of inspected returns: partial or in full, by the original payment, cash, card, store credit or a
voucher; never more than the goods' value (plus the order's shipping when chosen, once per order, as it was
paid: with its tax, which on a net channel came on top of it), and never more than was paid for the order less
what was refunded already (``returns_amounts.plan_refund``). The tax share of the shipping paid back is on the
timeline's ``refund.created`` entry (``shipping_tax``).

Two refunds of one return at once pay once: the order row is locked first (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite has one writer; an exchange locks it too), and the return is updated with ``UPDATE … WHERE
state = 'inspected' AND refunded_minor = :seen AND amount_minor = :seen`` — a refund computed from a stale
figure (an exchange took part of the value meanwhile) changes nothing and is refused. A cancelled
replacement's credit is owed again before the refund is planned (``returns.reclaim_cancelled_exchanges``). The
refund that pays back everything owed moves the return to ``refunded``; the customer is told of every refund (a
``refunded`` message intent with the amount and method in ``data`` and ``data.refund``, sent by
``orders/messages.py`` as the ``refunded`` notification). When everything paid for the order has been paid
back, its payment status becomes ``refunded``. A paid order cancelled before anything went out is paid back
whatever is left of its payment (:func:`refund_rest_of_payment`).

A settled return (refunded, or closed) is refunded again for one thing only: the credit of a replacement cancelled
after it was settled — the customer brought the goods back and has neither the replacement nor the money. It stays
in its state; what a closed return left unrefunded when it closed stays settled.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.channels.schemas import is_marketplace
from omniretail.platform import money, outbox
from omniretail.platform.errors import Conflict, InvalidInput

from . import returns, service, totals
from .returns_amounts import OverRefund, plan_refund, shipping_tax_part
from .returns_models import Refund
from .returns_schemas import RefundCreate, RefundMethod
from .returns_states import IllegalTransition, ReturnState, allowed_return_moves
from .tables import channel_t
from .timeline import OrderRef, Timeline

REFUNDS, RETURNS, ORDERS, LINES = Refund.__table__, returns.RETURNS, service.ORDERS, service.LINES


async def insert_refund(session: AsyncSession, *, order, amount: int, currency: str, method: str, actor: str,
                        at, shipping: int = 0, return_id: int | None = None, location_id: int | None = None,
                        reference: str | None = None, reason: str = "") -> int:
    """The one place a refund row is written (a return's, a declined or dropped line's, cash at a till): what is
    left to refund of an order is its payment less these rows. Returns the row's id.

    Each is announced on the outbox as ``orders.refunded`` (:data:`REFUNDED`), in the same transaction: what an
    ERP books as a credit note, or a payment integration pays back to the card; webhook channels subscribed to
    the topic get it (``channels.sync.tasks``)."""
    refund_id = (await session.execute(insert(REFUNDS).values(
        return_id=return_id, order_id=order["id"], amount_minor=amount, shipping_minor=shipping, currency=currency,
        method=method, location_id=location_id, reference=reference, reason=reason[:500], actor=actor[:300],
        created_at=at).returning(REFUNDS.c.id))).scalar_one()
    await outbox.append_event(session, REFUNDED, {
        "refund_id": refund_id, "order_id": order["id"], "number": order["number"], "channel_id": order["channel_id"],
        "external_id": order["external_id"], "return_id": return_id, "amount": str(money.from_minor(amount, currency)),
        "shipping": str(money.from_minor(shipping, currency)), "currency": currency, "method": method,
        "reference": reference, "location_id": location_id, "reason": reason[:500], "at": at.isoformat()})
    return refund_id


REFUNDED = "orders.refunded"


R = ReturnState
UNPAID = ("pending",)
CREDIT_METHODS = (RefundMethod.STORE_CREDIT, RefundMethod.VOUCHER)
# settled returns: refunded again only for the credit of a replacement cancelled since they were settled
SETTLED = (ReturnState.REFUNDED, ReturnState.CLOSED)


@dataclass(frozen=True, slots=True)
class PaymentSoFar:
    """An order's payment and what its refund rows paid back (minor units)."""

    paid: int  # the order's total, or 0 while unpaid
    refunded: int
    shipping_paid: int  # the shipping as the customer paid it: on a net channel its tax came on top
    shipping_refunded: int
    shipping_tax: int


async def payment_so_far(session: AsyncSession, order) -> PaymentSoFar:
    lines_tax = select(func.coalesce(func.sum(LINES.c.tax_minor), 0)).where(LINES.c.order_id == order["id"])
    refunded, shipping_refunded, lines_tax = (await session.execute(
        select(func.coalesce(func.sum(REFUNDS.c.amount_minor), 0), func.coalesce(func.sum(REFUNDS.c.shipping_minor), 0),
               lines_tax.scalar_subquery())
        .where(REFUNDS.c.order_id == order["id"]))).one()
    shipping_tax = max(0, totals.shipping_tax_of(order["tax_minor"], [int(lines_tax)]))  # numeric on PG
    return PaymentSoFar(
        paid=0 if order["payment_status"] in UNPAID else order["total_minor"], refunded=int(refunded),
        shipping_paid=totals.charged_shipping(order["shipping_minor"], shipping_tax,
                                              prices_include_tax=order["prices_include_tax"]),
        shipping_refunded=int(shipping_refunded), shipping_tax=shipping_tax)


async def payment_refund_method(session: AsyncSession, order) -> str:
    """How the hub pays back a payment it did not take at a till: through the marketplace an order came from
    (the marketplace took the payment and returns it through its own payment system, which tells the buyer),
    else the way it was paid."""
    kind = (await session.execute(select(channel_t.c.kind).where(channel_t.c.id == order["channel_id"]))).scalar()
    return (RefundMethod.MARKETPLACE if is_marketplace(kind) else RefundMethod.ORIGINAL_PAYMENT).value


async def refund_rest_of_payment(session: AsyncSession, order, *, timeline: Timeline, actor: str,
                                 reason: str) -> int | None:
    """A paid order cancelled before anything went out: what was paid and not refunded yet (goods and shipping)
    goes back the way it was paid (:func:`payment_refund_method`), the payment status becomes ``refunded`` and
    the customer is told (a ``refunded`` message). ``order``: the row, locked by the caller. Returns the
    refund's id, or None when nothing is owed (unpaid, or refunded already)."""
    if order["payment_status"] in UNPAID or order["payment_status"] == "refunded":
        return None
    so_far = await payment_so_far(session, order)
    amount = so_far.paid - so_far.refunded
    if amount <= 0:
        return None
    shipping = min(amount, max(0, so_far.shipping_paid - so_far.shipping_refunded))
    currency = order["currency"]
    method = await payment_refund_method(session, order)
    refund_id = await insert_refund(session, order=order, amount=amount, shipping=shipping, currency=currency,
                                    method=method, reason=reason, actor=actor, at=timeline.at)
    await session.execute(update(ORDERS).where(ORDERS.c.id == order["id"]).values(payment_status="refunded"))
    ref = OrderRef.of(order)
    details = {"refund_id": refund_id, "amount": str(money.from_minor(amount, currency)), "method": method,
               "shipping": str(money.from_minor(shipping, currency))}
    timeline.record(ref, "refund.created", data=details)
    timeline.record(ref, "payment", data={"payment_status": "refunded"})
    timeline.notify(ref, "refunded", data={**details, "refund": {"amount": details["amount"], "method": method}})
    return refund_id


def _voucher_code() -> str:
    return "V-" + base64.b32encode(secrets.token_bytes(10)).decode().rstrip("=")


async def refund_return(session: AsyncSession, return_id: int, *, data: RefundCreate, principal: Principal,
                        actor: str) -> int:
    """Pay back (part of) what an inspected return is owed; returns the refund's id."""
    ret, _order = await returns.load_return(session, return_id, principal=principal)
    timeline = Timeline(actor=actor)
    order = await service.order_row(session, ret["order_id"], lock=True)  # one refund of an order at a time
    freed = 0
    if ret["state"] in (R.INSPECTED, *SETTLED):  # a cancelled replacement's credit is owed again
        freed = await returns.reclaim_cancelled_exchanges(session, ret, order, timeline)
    ret = (await session.execute(select(RETURNS).where(RETURNS.c.id == return_id))).first()._mapping
    if ret["state"] != R.INSPECTED and not (ret["state"] in SETTLED and freed):
        raise IllegalTransition(entity="return", entity_id=return_id, current=ret["state"], requested=R.REFUNDED,
                                allowed=allowed_return_moves(ret["state"]),
                                detail=f"return {return_id} is {ret['state']}: only an inspected return is refunded "
                                       "(or a settled one whose replacement was cancelled since)")
    location_id = data.location_id if data.location_id is not None else ret["location_id"]
    if location_id is not None and (data.location_id is not None or principal.location_ids is not None):
        await returns.returns_location(session, location_id, principal=principal)  # an associate: their store
    currency = order["currency"]
    requested = None
    if data.amount is not None:
        try:
            requested = money.to_minor(money.parse_amount(data.amount, currency), currency)
        except money.MoneyError as exc:
            raise InvalidInput(str(exc), field="amount") from None
    so_far = await payment_so_far(session, order)
    paid, refunded_order, shipping_refunded_order = so_far.paid, so_far.refunded, so_far.shipping_refunded
    shipping_tax, shipping_paid = so_far.shipping_tax, so_far.shipping_paid
    settled = ret["state"] in SETTLED  # then only the credit a cancelled replacement gave back is owed
    try:
        plan = plan_refund(goods_due=freed if settled else ret["amount_minor"],
                           goods_refunded=0 if settled else ret["refunded_minor"] - ret["shipping_refunded_minor"],
                           shipping_left=0 if settled else max(0, shipping_paid - shipping_refunded_order),
                           paid_left=paid - refunded_order, requested=requested,
                           include_shipping=data.include_shipping and not settled)
    except OverRefund as exc:
        limit = exc.extensions.get("refundable", 0)
        raise OverRefund(f"at most {money.from_minor(limit, currency)} {currency} may be refunded on return "
                         f"{ret['number']} now", requested=str(data.amount),
                         refundable=str(money.from_minor(limit, currency)), currency=currency) from None
    target = R(ret["state"]) if settled else R.REFUNDED if plan.settles else R.INSPECTED
    moved = (await session.execute(
        update(RETURNS).where(RETURNS.c.id == return_id, RETURNS.c.state == ret["state"],
                              RETURNS.c.refunded_minor == ret["refunded_minor"],
                              RETURNS.c.amount_minor == ret["amount_minor"])  # no exchange took it meanwhile
        .values(refunded_minor=RETURNS.c.refunded_minor + plan.amount,
                shipping_refunded_minor=RETURNS.c.shipping_refunded_minor + plan.shipping,
                state=target.value, updated_at=timeline.at,
                **({"closed_at": timeline.at} if plan.settles and not settled else {}))
        .returning(RETURNS.c.id))).first()
    if moved is None:
        raise Conflict(f"return {return_id} was refunded meanwhile; reload it", return_id=return_id)
    reference = data.reference or (_voucher_code() if data.method in CREDIT_METHODS else None)
    method = data.method.value  # the original payment of a marketplace order goes back through the marketplace
    if data.method is RefundMethod.ORIGINAL_PAYMENT:
        method = await payment_refund_method(session, order)
    refund_id = await insert_refund(session, order=order, amount=plan.amount, shipping=plan.shipping,
                                    currency=currency, method=method, return_id=return_id,
                                    location_id=location_id, reference=reference, reason=data.reason, actor=actor,
                                    at=timeline.at)
    amount = str(money.from_minor(plan.amount, currency))
    details = {"refund_id": refund_id, "amount": amount, "shipping": str(money.from_minor(plan.shipping, currency)),
               "method": method, "reference": reference, "location_id": location_id}
    ref = OrderRef.of(order)
    tax_back = shipping_tax_part(shipping_tax, paid=shipping_paid, refunded=shipping_refunded_order,
                                 refunding=plan.shipping)
    timeline.record(ref, "refund.created", data={"return_id": return_id, "return_number": ret["number"], **details,
                                                 "shipping_tax": str(money.from_minor(tax_back, currency))})
    if plan.settles and not settled:
        timeline.transition(ref, entity="return", from_state=R.INSPECTED.value, to_state=R.REFUNDED.value,
                            kind="return.refunded", data={"return_id": return_id, "return_number": ret["number"],
                                                          "refunded": str(money.from_minor(
                                                              ret["refunded_minor"] + plan.amount, currency))})
    timeline.notify(ref, "refunded", data=returns.notify_data(order, ret, **details, refund={
        "amount": amount, "method": method, "reason": data.reason or None,
        **({"reference": reference} if data.method in CREDIT_METHODS else {})}))  # the voucher's code
    if refunded_order + plan.amount >= paid > 0 and order["payment_status"] != "refunded":
        await session.execute(update(ORDERS).where(ORDERS.c.id == order["id"]).values(payment_status="refunded"))
        timeline.record(ref, "payment", data={"payment_status": "refunded"})
    await timeline.write(session)
    return refund_id
