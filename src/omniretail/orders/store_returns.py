"""A return taken at the store counter, in one step: the customer is there with the goods, so the return is
requested and authorised, received at this store, inspected line by line (restock here, damaged, or kept for
the vendor) and — when asked — refunded, all in one transaction through the returns services
(``returns.request_return`` → ``receive_return`` → ``inspect_return`` → ``refunds.refund_return``). Any
refusal (too many units, a store that does not take returns, a refund above what is owed) rolls the whole
thing back; the caller sees the service's error with its ``field``.

A store associate may take back an order from any channel or store by quoting its number (the receipt):
``returns.quotes_order``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.platform.errors import InvalidInput

from . import refunds, returns
from .returns_schemas import (
    Condition,
    Disposition,
    LineInspection,
    RefundCreate,
    ReturnCreate,
    ReturnInspect,
    ReturnLineCreate,
    ReturnReason,
)


@dataclass(frozen=True)
class CounterLine:
    order_line_id: int
    quantity: int
    reason: ReturnReason
    condition: Condition
    disposition: Disposition
    note: str = ""


async def take_back_at_counter(session: AsyncSession, order_id: int, *, order_number: str | None,
                               location_id: int, lines: list[CounterLine], refund: RefundCreate | None,
                               note: str, principal: Principal, actor: str) -> int:
    """Request, authorise, receive, inspect and (optionally) refund a return at ``location_id``; its id."""
    if not lines:
        raise InvalidInput("choose at least one line and how many units come back", field="lines")
    if len({x.order_line_id for x in lines}) != len(lines):
        raise InvalidInput("each order line once", field="lines")
    return_id = await returns.request_return(session, order_id, principal=principal, actor=actor, data=ReturnCreate(
        lines=[ReturnLineCreate(order_line_id=x.order_line_id, quantity=x.quantity, reason=x.reason, note=x.note)
               for x in lines],
        location_id=location_id, authorise=True, note=note, order_number=order_number))
    await returns.receive_return(session, return_id, location_id=location_id, order_number=order_number,
                                 principal=principal, actor=actor)
    by_order_line = dict((await session.execute(
        select(returns.RLINES.c.order_line_id, returns.RLINES.c.id).where(returns.RLINES.c.return_id == return_id)
    )).all())
    await returns.inspect_return(session, return_id, principal=principal, actor=actor, data=ReturnInspect(lines=[
        LineInspection(return_line_id=by_order_line[x.order_line_id], condition=x.condition,
                       disposition=x.disposition, note=x.note) for x in lines]))
    if refund is not None:
        await refunds.refund_return(session, return_id, data=refund, principal=principal, actor=actor)
    return return_id
