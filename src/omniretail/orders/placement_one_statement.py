"""Placing an order on PostgreSQL in the common case: a paid (or held) order whose plan the stock covers is
written by ONE statement (``placement_pg.write``, or with the orders ready meanwhile ``placement_batch``), and
``placement.place_order`` takes its general, statement-by-statement path only when this returns None."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth import service as auth_service
from omniretail.customers import service as customers_service
from omniretail.platform import outbox
from omniretail.platform.db import driver_connection
from omniretail.platform.errors import Conflict

from . import placement_pg, placement_rows, sourcing
from .placement_batch import writer_for
from .placement_rows import Placed
from .states import OrderState

if TYPE_CHECKING:
    from .placement import _Line


async def place_in_one_statement(session: AsyncSession, *, order: dict, lines: list[_Line], plan, match,
                                  read: placement_pg.Read, channel: sourcing.ChannelContext, state: OrderState,
                                  imported: bool, actor: str, now: datetime, shelf: bool = False
                                  ) -> Placed | None:
    """A paid (or held) order whose plan the stock covers, on PostgreSQL: the order, lines, reservations,
    fulfilment orders, timeline, outbox, a new buyer's identity and profile and the request's audit entry in
    ONE statement (``placement_pg``), which commits on its own unless the request's transaction has begun.
    Returns None when nothing was written (another order took planned stock since it was read, or the same
    new buyer's identity was made meanwhile): the caller takes the general path, which reserves line by line,
    routes again and matches the buyer again."""
    conn = await driver_connection(session, begin=False)
    locations = sorted({a.location_id for a in plan.assignments})
    entry_count = 1 + sum(1 for x in lines if x.backordered or x.cancelled) + len(locations)
    ids = read.ids
    if len(plan.assignments) > len(ids.reservations) or len(locations) > len(ids.fulfilment_orders) \
            or entry_count > len(ids.entries):  # a line split between locations: more ids
        ids = await placement_pg.allocate_ids(conn, lines=len(lines), reservations=len(plan.assignments),
                                              fulfilment_orders=len(locations), entries=entry_count)
    customer, identity = customers_service.new_rows(match, channel_id=channel.id, customer_id=read.customer_ids[0],
                                                    identity_id=read.customer_ids[1], at=now)
    if (customer and customer["id"] is None) or (identity and identity["id"] is None):
        return None  # the read and the match disagree (cannot happen): the general path decides
    before = order["customer_id"], order["customer_identity_id"]
    if identity is not None:
        match = replace(match, customer_id=identity["customer_id"], identity_id=identity["id"])
        order["customer_id"], order["customer_identity_id"] = match.customer_id, match.identity_id
    audit = auth_service.pending_audit(session)
    order["id"] = ids.order
    line_rows = [{**x.values, "order_id": ids.order, "id": ids.lines[x.position - 1]} for x in lines]
    reservations = [{"r_id": ids.reservations[i], "variant_id": line_rows[a.line_id - 1]["variant_id"],
                     "location_id": a.location_id, "quantity": a.quantity,
                     "reference": f"order:{ids.order}/line:{ids.lines[a.line_id - 1]}"}
                    for i, a in enumerate(plan.assignments)]
    fulfilment = placement_rows.fulfilment_rows(order, lines=lines, line_ids=ids.lines, plan=plan,
                                                reservation_of={i: r["r_id"] for i, r in enumerate(reservations)},
                                                channel=channel, methods=None, now=now)
    for row, fo_id in zip(fulfilment, ids.fulfilment_orders, strict=False):  # both in location order
        row["id"] = fo_id
    for _attempt in range(3):
        order["number"] = placement_rows.order_number(now)
        timeline = placement_rows.timeline(order, lines=lines, line_ids=ids.lines, fulfilment=fulfilment,
                                           match=match, channel=channel, state=state, imported=imported,
                                           actor=actor, now=now)
        entry_ids = ids.entries[:len(timeline.entries)]
        entries = [{**e, "id": i} for e, i in zip(timeline.entries, entry_ids, strict=True)]
        rows = placement_pg.OrderRows(
            order=order, lines=line_rows, reservations=reservations, fulfilment=fulfilment, entries=entries,
            events=timeline.events, reservation_kind="order_line", now=now, customer=customer, identity=identity,
            shelf=shelf, audit=audit.row(entity_id=ids.order) if audit is not None else None)
        if conn.is_in_transaction():  # the request's transaction has begun: the write joins it
            written = await placement_pg.write(conn, rows)
        else:  # commits on its own, together with the orders ready meanwhile (placement_batch)
            written = await writer_for(session.bind).write(conn, rows)
        if written.placed:
            if audit is not None:
                audit.taken()
            outbox.appended_through_driver(session)
            return placement_rows.placed(order, line_rows=line_rows, fulfilment=fulfilment, timeline=timeline,
                                         entry_ids=entry_ids)
        if written.short or written.identity_taken:
            break
        if order["external_id"] is not None:  # the same order, placed meanwhile by a concurrent import
            if written.identity_written and customer is not None:  # the profile made for it is not needed
                await customers_service.discard_new_customer(session, customer["id"])
            break
        # else: the random order number clashed; draw another
    else:
        raise Conflict("could not allocate an order number; retry")
    order.pop("id")
    order["customer_id"], order["customer_identity_id"] = before
    return None
