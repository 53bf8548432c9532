"""Cancelling the rest of an order that has partly gone out (``partially_fulfilled``).

What was shipped or handed over stays with the customer; everything still to come is cancelled: the open
fulfilment orders (their reservations released; an emptied ship-to-store transfer is withdrawn by
``ship_to_store_tasks``), the backordered and pre-ordered units. Each line with units taken off is charged less
or, when the order was paid, refunded for them (``decline.refund_units``), and the customer gets one
``items_removed`` message per line. The order then follows its fulfilment orders (``fulfilled`` or
``completed``). Staff do this when a customer gives up waiting for a backorder, as the delay message invites.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform.errors import Conflict

from . import decline, holds, service
from .states import FULFILMENT_OPEN, SHIP_TO_STORE, FulfilmentState
from .timeline import OrderRef, Timeline

FULFILMENT, LINES = service.FULFILMENT, service.LINES


class NothingLeftToCancel(Conflict):
    code, title = "nothing-left-to-cancel", "Nothing of the order is still to come"


def units_to_come(fos: list[Any], lines: list[Any]) -> dict[int, int]:
    """Order line id → units not shipped or handed over yet: the unshipped entries of the customer's open
    fulfilment orders (a ship-to-store leg carries the same units as the store's order: not counted twice) and
    the units waiting without a fulfilment order (backordered, pre-ordered)."""
    units: dict[int, int] = {}
    for fo in fos:
        if fo["state"] not in FULFILMENT_OPEN or fo["delivery_method"] == SHIP_TO_STORE:
            continue
        for entry in fo["lines"]:
            if not entry.get("shipped"):
                units[entry["order_line_id"]] = units.get(entry["order_line_id"], 0) + entry["quantity"]
    for line in lines:
        if line["quantity_backordered"]:
            units[line["id"]] = units.get(line["id"], 0) + line["quantity_backordered"]
    return units


async def cancel_remainder(session: AsyncSession, order, fos: list[Any], *, reason: str, actor: str) -> None:
    """``order`` locked by the caller (``visible_order(lock=True)``); ``fos`` its fulfilment orders."""
    ref = OrderRef.of(order)
    timeline = Timeline(actor=actor)
    lines = [r._mapping for r in (await session.execute(
        select(LINES).where(LINES.c.order_id == order["id"]).order_by(LINES.c.id))).all()]
    units = units_to_come(fos, lines)
    if not units:
        raise NothingLeftToCancel(f"everything of order {order['id']} has been shipped or handed over",
                                  order_id=order["id"])
    await holds.settle_preorders(session, order["id"])  # units sold ahead are free for others again
    open_ids = [f["id"] for f in fos if f["state"] in FULFILMENT_OPEN]
    cancelled = (await session.execute(
        update(FULFILMENT).where(FULFILMENT.c.id.in_(open_ids), FULFILMENT.c.state.in_([s.value for s in FULFILMENT_OPEN]))
        .values(state=FulfilmentState.CANCELLED.value, updated_at=timeline.at)
        .returning(FULFILMENT.c.id, FULFILMENT.c.lines))).all() if open_ids else []
    if len(cancelled) != len(open_ids):
        raise Conflict(f"a fulfilment order of order {order['id']} changed meanwhile; try again",
                       order_id=order["id"])
    await service.release_lines(session, [entry for f in cancelled for entry in f.lines])
    for fo in fos:
        if fo["id"] in open_ids:
            timeline.transition(ref, entity="fulfilment_order", from_state=fo["state"],
                                to_state=FulfilmentState.CANCELLED.value, fulfilment_order_id=fo["id"],
                                data={"reason": reason})
    by_id = {line["id"]: line for line in lines}
    timeline.record(ref, "order.remainder_cancelled", data={"reason": reason, "lines": [
        {"order_line_id": line_id, "sku": by_id[line_id]["sku"], "quantity": n} for line_id, n in sorted(units.items())]})
    await take_off(session, order, units, by_id, timeline=timeline, actor=actor, reason=reason, backordered=True)
    await service.sync_order_state(session, order["id"], timeline, reason=reason)
    await timeline.write(session)


async def take_off(session: AsyncSession, order, units: dict[int, int], lines_by_id: dict[int, Any], *,
                   timeline: Timeline, actor: str, reason: str, backordered: bool = False) -> None:
    """Units of lines (order line id → units) the customer will no longer get, while the order goes on: each
    line counts them cancelled (``backordered``: its waiting units are among them), is refunded for them (a
    paid order) or charged less (``decline.refund_units``), and the customer gets one ``line_cancelled``
    message per line."""
    ref = OrderRef.of(order)
    for line_id, n in sorted(units.items()):
        values: dict[str, Any] = {"quantity_backordered": 0} if backordered else {}
        await session.execute(update(LINES).where(LINES.c.id == line_id).values(
            quantity_cancelled=LINES.c.quantity_cancelled + n, **values,
            state=case((LINES.c.quantity_cancelled + n >= LINES.c.quantity, "cancelled"), else_=LINES.c.state)))
        await decline.refund_units(session, order, line_id, n, timeline=timeline, actor=actor, reason=reason)
        timeline.notify(ref, "line_cancelled", data={"order_line_id": line_id, "sku": lines_by_id[line_id]["sku"],
                                                     "quantity": n})
