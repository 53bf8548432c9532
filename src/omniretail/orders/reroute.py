"""A lost race at placement: another order reserved the stock between our stock read and our reservation.

``inventory.reserve_lines`` tries every planned (line, location) and reports each refused one with the units
left (:class:`~omniretail.inventory.reservations.ReservationShortfall`). Placement then re-routes ONCE
(:func:`after_lost_race`): it gives back what it did reserve, routes the order again on the stock as it is now
(the exhausted levels capped at what was left), re-applies the channel's unfillable policy to what the new plan
cannot serve, rewrites the lines and totals it changed, and reserves again. Should the second attempt lose a
race too, its refused (line, location) assignments are dropped and the policy decides about those units
(backorder, cancel the units, or reject the order); what was reserved in that attempt is taken again — the
levels we touched stay locked by our transaction (PostgreSQL row locks; SQLite's single writer), so that third
pass cannot lose.

Off the common path: only an order whose reservation was refused comes here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.inventory import service as inventory_service
from omniretail.routing.model import Plan, RoutingRequest
from omniretail.routing.solver import solve

from . import holds, sourcing, totals
from .models import Order, OrderLine

ORDERS, LINES = Order.__table__, OrderLine.__table__
Shortfall = inventory_service.ReservationShortfall


async def after_lost_race(
    session: AsyncSession, lost: Shortfall, *, channel: sourcing.ChannelContext, request: RoutingRequest,
    strategy: str, plan, unpaid: bool, policy: str, lines: list, line_rows: list[dict], line_ids: list[int],
    order: dict, now: datetime, allocate: Callable[..., None], fulfil: Callable[..., Awaitable[list[dict]]],
    shelf: bool = False,
) -> tuple[Any, list[dict]]:
    """Re-route the order once after ``lost`` (see the module); returns the plan applied and the fulfilment
    orders written. ``allocate`` and ``fulfil`` are placement's own steps; ``shelf``: a counter sale (its stock
    includes the safety stock)."""
    await _give_back(session, lost)
    request = await _fresh_request(session, request, lost, variant_ids=[x.variant_id for x in lines], shelf=shelf)
    explanation = solve(request, strategy, runner_up=False)
    new_plan = explanation.plan
    if new_plan.unfilled_units or unpaid:
        new_plan = await holds.adjust_plan(session, channel=channel, lines=lines, plan=new_plan, unpaid=unpaid)
    order["routing"] = {**order["routing"], **explanation.summary(),  # the plan applied, no stale runner-up
                        "rerouted": [x.as_dict() for x in lost.shortfalls]}
    await _reallocate(session, new_plan, lines=lines, line_rows=line_rows, order=order, policy=policy,
                      allocate=allocate)
    try:
        return new_plan, await fulfil(session, order=order, lines=lines, line_ids=line_ids, plan=new_plan, now=now)
    except Shortfall as again:  # lost twice: the policy decides about the units still refused
        await _give_back(session, again)
        refused = {s.index for s in again.shortfalls}
        kept = tuple(a for i, a in enumerate(new_plan.assignments) if i not in refused)
        base = new_plan.base if isinstance(new_plan, holds.HeldPlan) else new_plan
        last = Plan(kept, base.cost, {})
        if isinstance(new_plan, holds.HeldPlan):
            last = replace(new_plan, base=last, assignments=kept)
        order["routing"]["locations"] = sorted({a.location_id for a in kept})
        await _reallocate(session, last, lines=lines, line_rows=line_rows, order=order, policy=policy,
                          allocate=allocate)
        return last, await fulfil(session, order=order, lines=lines, line_ids=line_ids, plan=last, now=now)


async def _give_back(session: AsyncSession, lost: Shortfall) -> None:
    ids = [r.reservation_id for r in lost.reserved.values()]
    if ids:
        await inventory_service.release_reservations(session, reservation_ids=ids)


async def _fresh_request(session: AsyncSession, request: RoutingRequest, lost: Shortfall, *,
                         variant_ids: list[int], shelf: bool = False) -> RoutingRequest:
    """The same request on the stock as it is now, each exhausted level capped at what the race left."""
    stock = await sourcing.load_stock(session, variant_ids=variant_ids,
                                      location_ids=[c.location_id for c in request.candidates], shelf=shelf)
    for s in lost.shortfalls:
        at = stock.setdefault(s.location_id, {})
        at[s.variant_id] = min(at.get(s.variant_id, 0), s.available)
    return replace(request, candidates=tuple(replace(c, stock=stock.get(c.location_id, {}))
                                             for c in request.candidates))


async def _reallocate(session: AsyncSession, plan, *, lines: list, line_rows: list[dict], order: dict,
                      policy: str, allocate: Callable[..., None]) -> None:
    """Allocate the lines on ``plan`` (the policy may refuse the order), then rewrite the line rows and the
    order's totals that changed."""
    before = {x.position: (x.backordered, x.cancelled) for x in lines}
    for x in lines:
        x.allocated = x.backordered = x.cancelled = 0
    allocate(lines, plan, policy)
    by_position = {row["position"]: row for row in line_rows}
    amounts = []
    for x in lines:
        line, values = totals.charge(x)
        amounts.append(line)
        if before[x.position] == (x.backordered, x.cancelled):
            continue
        row = by_position[x.position]
        await session.execute(update(LINES).where(LINES.c.id == row["id"]).values(**values))
        row.update(values)
        x.values.update(values)
    whole = totals.order_amounts(amounts, shipping=order["shipping_minor"],
                                 prices_include_tax=order["prices_include_tax"])
    values = {"subtotal_minor": whole.subtotal, "discount_minor": whole.discount, "tax_minor": whole.tax,
              "total_minor": whole.total, "routing": order["routing"]}
    order.update(values)  # the routing summary changed in any case
    await session.execute(update(ORDERS).where(ORDERS.c.id == order["id"]).values(**values))
