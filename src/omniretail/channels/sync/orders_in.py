"""Orders in: read a channel's orders from its cursor and import them through ``orders.imports`` (idempotent by
(channel, external id), newer revisions applied once and in order).

A page is imported in one transaction that also moves the cursor (``channel_sync_cursor``, name ``orders``), so
a crash imports the page again from the old cursor: harmless, the import is idempotent. Each order runs in a
savepoint: one that cannot be imported (an unknown SKU, a line the hub refuses) is rolled back alone, written to
the sync log with the reason and announced as ``channels.sync.order_failed``; the others go in. A marketplace
order first seen unpaid (Allegro BOUGHT / FILLED_IN) holds stock as a pending order; the snapshot that says it
is paid (READY_FOR_PROCESSING) records the payment (``orders.service.record_payment``) — when it is newer than
the order's revision, as every other change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.catalog.models import Variant
from omniretail.orders import imports as order_imports
from omniretail.orders import service as orders_service
from omniretail.orders.schemas import OrderImport
from omniretail.platform import clock
from omniretail.platform.db import Database, unit_of_work
from omniretail.platform.errors import DomainError
from omniretail.platform.outbox import append_event

from ..connectors.base import ChannelOrder
from .claims import write_log
from .connections import ChannelHandle
from .models import ChannelListing, ChannelSyncCursor

log = logging.getLogger("omniretail.sync")
L = ChannelListing.__table__
CURSORS = ChannelSyncCursor.__table__
ORDER_FAILED = "channels.sync.order_failed"
PAID = ("paid", "authorized", "cash_on_delivery")


@dataclass
class ImportReport:
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


async def read_cursor(session: AsyncSession, channel_id: int, name: str) -> str | None:
    return await session.scalar(select(CURSORS.c.value).where(CURSORS.c.channel_id == channel_id,
                                                               CURSORS.c.name == name))


async def write_cursor(session: AsyncSession, channel_id: int, name: str, value: str | None) -> None:
    dialect = session.bind.dialect.name
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(CURSORS).values(
        channel_id=channel_id, name=name, value=value, updated_at=clock.now())
    await session.execute(stmt.on_conflict_do_update(index_elements=["channel_id", "name"],
                                                     set_={"value": value, "updated_at": clock.now()}))


async def _skus_by_offer(session: AsyncSession, channel_id: int, key: str, refs: set[str]) -> dict[str, str]:
    if not refs:
        return {}
    ref = L.c.external[key].as_string()
    rows = await session.execute(select(ref, Variant.sku).join(Variant, Variant.id == L.c.variant_id)
                                 .where(L.c.channel_id == channel_id, ref.in_(sorted(refs))))
    return {str(r[0]): r[1] for r in rows}


async def _import_one(session: AsyncSession, handle: ChannelHandle, order: ChannelOrder,
                      by_offer: dict[str, str], report: ImportReport) -> None:
    data = dict(order.data or {})
    lines = []
    for line in data.get("lines") or []:
        line = dict(line)
        offer = line.pop("offer_id", None)
        line["sku"] = by_offer.get(str(offer)) if offer is not None and str(offer) in by_offer else line.get("sku")
        lines.append(line)
    data["lines"] = lines
    if any(not ln.get("sku") for ln in lines):
        raise _Refused("a line names neither a SKU nor an offer linked to a listing")
    payload = OrderImport.model_validate(data)
    actor = f"channel {handle.code}"
    principal = Principal.system(f"sync:{handle.code}")
    result = await order_imports.import_order(session, data=payload, principal=principal, actor=actor)
    if result.created:
        report.created += 1
        return
    # A snapshot with a revision had its payment applied by ``apply_revision`` (when newer than the order's):
    # an older one (a late event read from a lagging replica) must not record a payment after, say, the buyer's
    # cancellation. Only a channel without revisions reports the payment here.
    if payload.revision is None and payload.payment_status.value in PAID \
            and result.order.payment_status.value == "pending":
        await orders_service.record_payment(session, result.order.id, payment_status=payload.payment_status.value,
                                            actor=actor, principal=principal)
        report.updated += 1
    elif result.revision_applied:
        report.updated += 1
    else:
        report.unchanged += 1


class _Refused(Exception):
    pass


async def import_orders(db: Database, handle: ChannelHandle, *, max_pages: int = 20,
                        worker: str = "") -> ImportReport:
    """Fetch and import pages until the channel has no more (or ``max_pages``); the cursor moves per page."""
    report = ImportReport()
    key = getattr(handle.connector, "external_key", None) or "offer_id"
    async with unit_of_work(db, readonly=True) as session:
        cursor = await read_cursor(session, handle.id, "orders")
    for _ in range(max_pages):
        page = await handle.connector.fetch_orders(cursor)
        report.fetched += len(page.orders)
        async with unit_of_work(db) as session:
            offers = {str(ln["offer_id"]) for o in page.orders for ln in (o.data or {}).get("lines", [])
                      if ln.get("offer_id") is not None}
            by_offer = await _skus_by_offer(session, handle.id, key, offers)
            entries = []
            for order in page.orders:
                error = order.error
                if error is None:
                    try:
                        async with session.begin_nested():
                            await _import_one(session, handle, order, by_offer, report)
                    except (DomainError, ValidationError, _Refused) as exc:
                        error = f"{type(exc).__name__}: {exc}"[:2000]
                if error is not None:
                    report.failed += 1
                    report.errors.append({"external_id": order.external_id, "error": error})
                    entries.append({"channel_id": handle.id, "listing_id": None, "variant_id": None,
                                    "operation": "order", "version": None, "status": "error",
                                    "sent": {"external_id": order.external_id}, "answer": None, "error": error,
                                    "duration_ms": None, "lag_ms": None, "worker": worker, "at": clock.now()})
                    await append_event(session, ORDER_FAILED, {"channel_id": handle.id,
                                                               "external_id": order.external_id, "error": error})
            await write_log(session, entries)
            await write_cursor(session, handle.id, "orders", page.cursor)
        cursor = page.cursor
        if not page.more:
            break
    return report
