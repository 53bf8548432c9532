"""Declining a changed line: the customer would rather have their money back than wait or go elsewhere.

A pick exception that changes the promise (another pickup store, ship-to-store, backorder) sends the customer
a link signed with the instance secret (HMAC-SHA256 over order, line and expiry — no login) to a page
(``GET /orders/{id}/lines/{line_id}/decline?token=…``, ``web/decline_pages``). Its refund form (or an
integrator's ``POST /api/v1/orders/{id}/lines/{line_id}/decline``) cancels what is still to come of that line —
the re-routed units not yet handed over or shipped and the backordered ones — gives their stock back, and
records the refund (a ``refund`` row with no return, as ``orders.refunds`` keeps them; an unpaid order is
simply charged less). Declining twice finds nothing left: 409.
"""

from __future__ import annotations

import hmac
import time
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.inventory import service as inventory_service
from omniretail.platform import crypto, money
from omniretail.platform.config import get_settings
from omniretail.platform.errors import Conflict, NotFound, PermissionDenied

from . import refunds, service, totals
from .returns_amounts import line_basis
from .states import FULFILMENT_OPEN, FulfilmentState
from .timeline import OrderRef, Timeline

FULFILMENT, LINES, ORDERS, REFUNDS = service.FULFILMENT, service.LINES, service.ORDERS, refunds.REFUNDS
LINK_DAYS = 30
ACTOR = "customer:decline-link"  # who declines, on the order's timeline
PAID = ("paid", "authorized")
DECLINABLE = tuple(s.value for s in FULFILMENT_OPEN)
# a re-routed leg not on its way yet (a shipped transfer's units land in the store's stock as they are)
UNPICKED_OR_PICKED = (FulfilmentState.NEW.value, FulfilmentState.PICKING.value, FulfilmentState.PICKED.value)


class InvalidLink(PermissionDenied):
    code, title = "invalid-decline-link", "This link is not valid"


class NothingToDecline(Conflict):
    code, title = "nothing-to-decline", "Nothing of this line can be declined any more"


def _secret(secret_key: str | None) -> str:
    return secret_key or get_settings().resolved_secret_key()


def make_token(order_id: int, line_id: int, *, secret_key: str | None = None, days: int = LINK_DAYS,
               now: float | None = None) -> str:
    expires = int((now or time.time()) + days * 86400)
    signature = crypto.sign(_secret(secret_key), f"decline:{order_id}:{line_id}:{expires}".encode())
    return f"{expires}.{signature}"


def check_token(order_id: int, line_id: int, token: str, *, secret_key: str | None = None,
                now: float | None = None) -> None:
    expires, _, signature = (token or "").strip().partition(".")
    if not expires.isdigit() or not signature:
        raise InvalidLink("this decline link is malformed", field="token")
    wanted = crypto.sign(_secret(secret_key), f"decline:{order_id}:{line_id}:{expires}".encode())
    if not hmac.compare_digest(wanted, signature):
        raise InvalidLink("this decline link is not valid for this order line", field="token")
    if int(expires) < (now or time.time()):
        raise InvalidLink("this decline link has expired; contact the shop", field="token", expired=True)


def absolute_url(url: str, public_url: str | None = None) -> str:
    """``url`` as a link a customer can follow: a path is put on ``public_url`` (a channel's own address), else
    on the instance's ``public_url`` setting; an absolute link stays as it is."""
    if not url.startswith("/"):
        return url
    base = (public_url or "").strip() or get_settings().public_url
    return f"{base.rstrip('/')}{url}"


def decline_link(order_id: int, line_id: int, *, secret_key: str | None = None,
                 public_url: str | None = None) -> dict[str, str]:
    """What a message needs to offer the refund: the token and the customer's page (``web/decline_pages``: the
    choice, then a form that posts the token). Integrators post the token to ``/api/v1`` + the same path.

    ``decline_url`` is always absolute: on ``public_url`` when given, else on the instance's ``public_url``
    setting. ``decline_path`` is the same link without the address, for a message to put on its channel's own
    address (``orders.messages``)."""
    token = make_token(order_id, line_id, secret_key=secret_key)
    path = f"/orders/{order_id}/lines/{line_id}/decline?token={token}"
    return {"decline_token": token, "decline_path": path, "decline_url": absolute_url(path, public_url)}


# --- money --------------------------------------------------------------------------------------------------

def _units_charged_at_placement(line) -> int:
    return line_basis(total=line["total_minor"], discount=line["discount_minor"], tax=line["tax_minor"],
                      unit_price=line["unit_price_minor"], quantity=line["quantity"],
                      cancelled=line["quantity_cancelled"], prices_include_tax=line["_gross"])[0]


async def refund_units(session: AsyncSession, order, line_id: int, units: int, *, timeline: Timeline, actor: str,
                       reason: str) -> dict[str, Any] | None:
    """Units of a line the customer will not get: a refund row when the order was paid, else the order is
    charged less (the line and order amounts recomputed, the shipping's tax with them: ``totals``). Returns the
    refund's details, if any."""
    row = (await session.execute(select(LINES).where(LINES.c.id == line_id))).first()._mapping
    line = {**row, "_gross": order["prices_include_tax"]}
    ref = OrderRef.of(order)
    currency = order["currency"]
    if order["payment_status"] in PAID:
        share = Decimal(line["total_minor"]) * units / _units_charged_at_placement(line)
        amount = int(share.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
        if amount <= 0:
            return None
        method = await refunds.payment_refund_method(session, order)  # paid back the way it was paid
        refund_id = await refunds.insert_refund(session, order=order, amount=amount, currency=currency,
                                                method=method, reason=reason, actor=actor, at=timeline.at)
        details = {"refund_id": refund_id, "amount": str(money.from_minor(amount, currency)), "method": method,
                   "order_line_id": line_id, "sku": line["sku"], "quantity": units}
        timeline.record(ref, "refund.created", data=details)
        # no reason in the customer's message: ``reason`` is the hub's own words (English), kept on the refund
        # row; the message of the change (items_removed) or the customer's own decline says why
        timeline.notify(ref, "refunded", data={**details, "refund": {"amount": details["amount"],
                                                                    "method": method}})
        return details
    charged = max(0, line["quantity"] - line["quantity_cancelled"])  # already counts the units dropped
    amounts = totals.line_amounts(unit_price=line["unit_price_minor"], quantity=charged,
                                  discount=totals.prorated_discount(line["discount_minor"], quantity=charged + units,
                                                                    charged=charged),
                                  tax_rate=Decimal(line["tax_rate"]), prices_include_tax=line["_gross"])
    d_sub = amounts.subtotal - line["unit_price_minor"] * (charged + units)
    d_disc = amounts.discount - line["discount_minor"]
    await session.execute(update(LINES).where(LINES.c.id == line_id).values(
        discount_minor=amounts.discount, tax_minor=amounts.tax, total_minor=amounts.total))
    # the tax and total follow from every line as it now stands: the shipping's tax is shared out again over
    # the lines' values (dropping the only line at a rate moves its share of the shipping to the other rates)
    stored = (await session.execute(select(LINES.c.tax_rate, LINES.c.tax_minor, LINES.c.total_minor)
                                    .where(LINES.c.order_id == order["id"]).order_by(LINES.c.position))).all()
    whole = totals.order_amounts([totals.LineAmounts(0, 0, x.tax_minor, x.total_minor, Decimal(x.tax_rate))
                                  for x in stored], shipping=order["shipping_minor"],
                                 prices_include_tax=order["prices_include_tax"])
    await session.execute(update(ORDERS).where(ORDERS.c.id == order["id"]).values(
        subtotal_minor=ORDERS.c.subtotal_minor + d_sub, discount_minor=ORDERS.c.discount_minor + d_disc,
        tax_minor=whole.tax, total_minor=whole.total))
    timeline.record(ref, "line.repriced", data={"order_line_id": line_id, "units_dropped": units,
                                                "total": str(money.from_minor(amounts.total, currency))})
    return None


async def _drop(session: AsyncSession, fo, lines: list[dict], timeline: Timeline, ref: OrderRef) -> bool:
    """Take ``lines`` off a fulfilment order (conditionally); cancel it when nothing is left. True if cancelled."""
    if not lines:
        return False
    rest = [ln for ln in fo["lines"] if ln not in lines]
    values: dict[str, Any] = {"lines": rest, "updated_at": timeline.at}
    if not rest:
        values["state"] = FulfilmentState.CANCELLED.value
    done = (await session.execute(update(FULFILMENT).where(
        FULFILMENT.c.id == fo["id"], FULFILMENT.c.state == fo["state"], FULFILMENT.c.updated_at == fo["updated_at"])
        .values(**values).returning(FULFILMENT.c.id))).first()
    if done is None:
        raise Conflict(f"fulfilment order {fo['id']} changed meanwhile; try again", fulfilment_order_id=fo["id"])
    if not rest:
        timeline.transition(ref, entity="fulfilment_order", from_state=fo["state"],
                            to_state=FulfilmentState.CANCELLED.value, fulfilment_order_id=fo["id"],
                            data={"reason": "the customer declined the changed line"})
    return not rest


# --- the customer's decision ----------------------------------------------------------------------------------

def declinable_legs(fo, line_id: int) -> list[dict]:
    """The entries of an open fulfilment order that declining ``line_id`` takes off it: its re-routed units
    not handed over or shipped, while the leg is not on its way yet."""
    if fo["state"] not in UNPICKED_OR_PICKED:
        return []
    return [ln for ln in fo["lines"] if ln["order_line_id"] == line_id and ln.get("rerouted")
            and not ln.get("shipped")]


async def decline_line(session: AsyncSession, order_id: int, line_id: int, *, token: str,
                       secret_key: str | None = None) -> dict[str, Any]:
    """Cancel what is still to come of a changed line and refund it (see the module docstring)."""
    check_token(order_id, line_id, token, secret_key=secret_key)
    order = await service.order_row(session, order_id, lock=True)  # one decision per order at a time
    line = (await session.execute(select(LINES).where(LINES.c.id == line_id, LINES.c.order_id == order_id))
            ).first()
    if order is None or line is None:
        raise NotFound(f"order line {line_id} not found")
    actor = ACTOR
    timeline = Timeline(actor=actor)
    ref = OrderRef.of(order)
    fos = [f._mapping for f in (await session.execute(select(FULFILMENT).where(
        FULFILMENT.c.order_id == order_id, FULFILMENT.c.state.in_(DECLINABLE)).order_by(FULFILMENT.c.id))).all()]
    released, units, transfers_done = [], 0, []
    for fo in fos:
        ours = declinable_legs(fo, line_id)
        if not ours:
            continue
        emptied = await _drop(session, fo, ours, timeline, ref)
        released += ours
        units += sum(ln["quantity"] for ln in ours)
        if fo["transfer_id"] is None:
            continue
        # ship-to-store: the pickup store no longer waits for these units; an emptied leg withdraws its transfer
        for waiting in fos:
            if waiting["transfer_id"] == fo["transfer_id"] and waiting["id"] != fo["id"]:
                await _drop(session, waiting, [ln for ln in waiting["lines"] if ln["order_line_id"] == line_id],
                            timeline, ref)
        if emptied:
            transfers_done.append(fo["transfer_id"])
    units += line.quantity_backordered
    if units == 0:
        raise NothingToDecline(f"nothing of line {line_id} is still to come: it was declined, picked or shipped",
                               order_line_id=line_id)
    await service.release_lines(session, released)
    for transfer_id in transfers_done:
        await inventory_service.cancel_transfer(session, transfer_id, actor=actor)
    await session.execute(update(LINES).where(LINES.c.id == line_id).values(
        quantity_cancelled=LINES.c.quantity_cancelled + units, quantity_backordered=0,
        state=case((LINES.c.quantity_cancelled + units >= LINES.c.quantity, "cancelled"), else_="allocated")))
    timeline.record(ref, "line.declined", data={"order_line_id": line_id, "sku": line.sku, "quantity": units})
    refund = await refund_units(session, order, line_id, units, timeline=timeline, actor=actor,
                                reason="declined by the customer after a pick exception")
    state = await service.sync_order_state(session, order_id, timeline, reason="declined by the customer")
    await timeline.write(session)
    return {"order_id": order_id, "order_line_id": line_id, "declined": units, "order_state": state,
            "refund": refund}
