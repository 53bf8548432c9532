"""Ship-to-store housekeeping: a transfer requested for an order whose fulfilment orders were all cancelled
(the order was cancelled before the source shipped) is cancelled too, so nobody ships goods for nothing.

Consumer of ``orders.status_changed`` (idempotent: only a transfer still ``requested`` is cancelled, once).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.inventory import transfers
from omniretail.inventory.errors import WrongState
from omniretail.platform.jobs import Event, handles

from .service import FULFILMENT
from .states import FulfilmentState
from .timeline import STATUS_CHANGED

ACTOR = "system:orders.ship_to_store"


@handles(STATUS_CHANGED)
async def cancel_unneeded_transfer(session: AsyncSession, event: Event) -> None:
    p = event.payload
    if p.get("entity") != "fulfilment_order" or p.get("to_state") != FulfilmentState.CANCELLED:
        return
    transfer_id = (await session.execute(select(FULFILMENT.c.transfer_id).where(
        FULFILMENT.c.id == p.get("fulfilment_order_id")))).scalar_one_or_none()
    if transfer_id is None:
        return
    states = (await session.execute(select(FULFILMENT.c.state).where(
        FULFILMENT.c.transfer_id == transfer_id))).scalars().all()
    if any(s != FulfilmentState.CANCELLED for s in states):
        return
    transfer = await transfers.get_transfer(session, transfer_id)
    if transfer.state.value != "requested":
        return
    try:
        await transfers.cancel_transfer(session, transfer_id, actor=ACTOR)
    except WrongState:  # shipped or cancelled meanwhile
        return
