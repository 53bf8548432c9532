"""Sync operations for the API and the back office: link listings, list them by state, retry a parked one,
read the sync log and delivery log, ask for a reconciliation, summarise a channel's sync status."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.catalog.models import Variant
from omniretail.channels import service as channels_service
from omniretail.platform import clock
from omniretail.platform.errors import NotFound
from omniretail.platform.pagination import SortSpec, paginate

from ..connectors import connector_name
from . import desired, orders_in
from .models import (
    DUE,
    ChannelDelivery,
    ChannelListing,
    ChannelSyncCursor,
    ChannelSyncLog,
    ChannelSyncPending,
)
from .schemas import (
    DeliveryRead,
    ListingLink,
    ListingLinkResult,
    ListingRead,
    ListingState,
    SyncLogRead,
    SyncStatusRead,
)

L = ChannelListing.__table__
LISTING_SORTS = SortSpec({"id": ChannelListing.id, "desired_at": ChannelListing.desired_at})
DELIVERY_SORTS = SortSpec({"id": ChannelDelivery.id}, default="-id")


def state_of(row: Any) -> ListingState:
    if row.parked:
        return ListingState.PARKED
    if row.desired_version == 0:  # linked, its desired state not computed yet
        return ListingState.DUE
    if row.desired_version <= row.acked_version:
        return ListingState.SYNCED
    return ListingState.ERROR if row.last_error else ListingState.DUE


def _state_filter(state: ListingState):
    due = ChannelListing.desired_version > ChannelListing.acked_version
    return {
        ListingState.PARKED: ChannelListing.parked.is_(True),
        ListingState.SYNCED: and_(ChannelListing.desired_version <= ChannelListing.acked_version,
                                  ChannelListing.desired_version > 0, ChannelListing.parked.is_(False)),
        ListingState.DUE: and_(or_(due, ChannelListing.desired_version == 0), ChannelListing.parked.is_(False)),
        ListingState.ERROR: and_(due, ChannelListing.parked.is_(False), ChannelListing.last_error.is_not(None)),
    }[state]


async def _reads(session: AsyncSession, rows: list[ChannelListing]) -> list[ListingRead]:
    skus = {}
    if rows:
        found = await session.execute(select(Variant.id, Variant.sku).where(Variant.id.in_({r.variant_id
                                                                                          for r in rows})))
        skus = dict(found.all())
    return [ListingRead.model_validate({**{c.key: getattr(r, c.key) for c in L.columns},
                                        "sku": skus.get(r.variant_id, ""), "state": state_of(r)}) for r in rows]


async def list_listings(session: AsyncSession, channel_id: int, *, principal: Principal,
                        state: ListingState | None = None, sku: str | None = None, cursor: str | None = None,
                        limit: int = 50, sort: str | None = None) -> tuple[list[ListingRead], str | None]:
    await channels_service.get_channel(session, channel_id, principal=principal)
    stmt = select(ChannelListing).where(ChannelListing.channel_id == channel_id)
    if state is not None:
        stmt = stmt.where(_state_filter(state))
    if sku:
        stmt = stmt.join(Variant, Variant.id == ChannelListing.variant_id).where(Variant.sku == sku)
    rows, next_cursor = await paginate(session, stmt, id_column=ChannelListing.id, sort=LISTING_SORTS,
                                       sort_value=sort, cursor=cursor, limit=limit)
    return await _reads(session, rows), next_cursor


async def get_listing(session: AsyncSession, channel_id: int, listing_id: int, *, principal: Principal
                      ) -> ChannelListing:
    await channels_service.get_channel(session, channel_id, principal=principal)
    row = await session.get(ChannelListing, listing_id)
    if row is None or row.channel_id != channel_id:
        raise NotFound(f"listing {listing_id} not found on channel {channel_id}")
    return row


async def listing_read(session: AsyncSession, channel_id: int, listing_id: int, *, principal: Principal
                       ) -> ListingRead:
    """One listing with its SKU and state (the back office's listing page)."""
    row = await get_listing(session, channel_id, listing_id, principal=principal)
    return (await _reads(session, [row]))[0]


async def link_listings(session: AsyncSession, channel_id: int, *, items: list[ListingLink],
                        principal: Principal) -> ListingLinkResult:
    """Create or update the listings of these SKUs on the channel (their external ids); their desired state is
    computed by the engine within seconds."""
    await channels_service.get_channel(session, channel_id, principal=principal)
    wanted = {item.sku: item.external for item in items}
    variants = dict((await session.execute(select(Variant.sku, Variant.id).where(Variant.sku.in_(wanted)))).all())
    existing = {r.variant_id: r for r in (await session.scalars(select(ChannelListing).where(
        ChannelListing.channel_id == channel_id, ChannelListing.variant_id.in_(variants.values())))).all()}
    now = clock.now()
    created = updated = 0
    for sku, variant_id in variants.items():
        row = existing.get(variant_id)
        if row is None:
            session.add(ChannelListing(channel_id=channel_id, variant_id=variant_id, external=wanted[sku],
                                       created_at=now, updated_at=now))
            created += 1
        elif row.external != wanted[sku]:
            row.external, row.updated_at = wanted[sku], now
            updated += 1
    await session.flush()
    await desired.mark_variants(session, variants.values(), at=now, reason="linked")
    return ListingLinkResult(created=created, updated=updated, unknown_skus=sorted(set(wanted) - set(variants)))


async def retry_listing(session: AsyncSession, channel_id: int, listing_id: int, *, principal: Principal
                        ) -> ListingRead:
    """Unpark (or cut the back-off of) a listing: it is due again now, with a fresh set of attempts. The version
    moves on too, so the channel gets a new request (a new command id, a new idempotency key) rather than the
    answer it gave the failed one."""
    row = await get_listing(session, channel_id, listing_id, principal=principal)
    await session.execute(update(L).where(L.c.id == row.id).values(
        parked=False, attempts=0, next_attempt_at=None, desired_version=L.c.desired_version + 1,
        updated_at=clock.now()))
    await session.refresh(row)
    return (await _reads(session, [row]))[0]


async def listing_log(session: AsyncSession, channel_id: int, listing_id: int, *, principal: Principal,
                      limit: int = 50) -> list[SyncLogRead]:
    await get_listing(session, channel_id, listing_id, principal=principal)
    rows = await session.scalars(select(ChannelSyncLog).where(ChannelSyncLog.listing_id == listing_id)
                                 .order_by(ChannelSyncLog.id.desc()).limit(limit))
    return [SyncLogRead.model_validate(r) for r in rows]


async def request_reconcile(session: AsyncSession, channel_id: int, *, principal: Principal) -> datetime:
    await channels_service.get_channel(session, channel_id, principal=principal)
    now = clock.now()
    await orders_in.write_cursor(session, channel_id, "reconcile_requested", now.isoformat())
    return now


def _percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round((len(ordered) - 1) * pct / 100))], 3)


async def sync_status(session: AsyncSession, channel_id: int, *, principal: Principal) -> SyncStatusRead:
    channel = await channels_service.get_channel(session, channel_id, principal=principal)
    now = clock.now()
    mine = L.c.channel_id == channel_id
    due = and_(L.c.desired_version > L.c.acked_version, L.c.parked.is_(False))
    counts = (await session.execute(select(
        func.count(), func.sum(case((due, 1), else_=0)),
        func.sum(case((and_(due, L.c.next_attempt_at > now), 1), else_=0)),
        func.sum(case((L.c.parked.is_(True), 1), else_=0)), func.max(L.c.acked_at),
    ).where(mine))).one()
    oldest = await session.scalar(select(func.min(L.c.desired_at)).where(mine, text(DUE)))
    log = ChannelSyncLog.__table__
    lags = (await session.scalars(select(log.c.lag_ms).where(log.c.channel_id == channel_id,
                                                             log.c.lag_ms.is_not(None))
                                  .order_by(log.c.id.desc()).limit(1000))).all()
    errors = await session.scalar(select(func.count()).where(log.c.channel_id == channel_id,
                                                             log.c.status.in_(("error", "parked")),
                                                             log.c.at > now - timedelta(hours=1)))
    pending = await session.scalar(select(func.count()).select_from(ChannelSyncPending).where(exists().where(
        L.c.variant_id == ChannelSyncPending.variant_id, mine)))
    d = ChannelDelivery.__table__
    deliveries = dict((await session.execute(select(d.c.state, func.count()).where(
        d.c.channel_id == channel_id, d.c.state.in_(("pending", "parked"))).group_by(d.c.state))).all())
    cursors = dict((await session.execute(select(ChannelSyncCursor.name, ChannelSyncCursor.value).where(
        ChannelSyncCursor.channel_id == channel_id))).all())
    last = await session.scalar(select(ChannelSyncLog).where(
        ChannelSyncLog.channel_id == channel_id, ChannelSyncLog.operation == "reconcile",
        ChannelSyncLog.status == "ok").order_by(ChannelSyncLog.id.desc()).limit(1))
    seconds = [ms / 1000 for ms in lags]
    return SyncStatusRead(
        channel_id=channel_id, connector=connector_name(channel.kind, channel.settings), listings=counts[0] or 0,
        queue_depth=int(counts[1] or 0), backing_off=int(counts[2] or 0), parked=int(counts[3] or 0),
        oldest_unacknowledged_at=oldest, last_ack_at=counts[4], lag_p50_s=_percentile(seconds, 50),
        lag_p99_s=_percentile(seconds, 99), errors_last_hour=errors or 0, pending_recomputes=pending or 0,
        deliveries_pending=deliveries.get("pending", 0), deliveries_parked=deliveries.get("parked", 0),
        cursors=cursors, last_reconcile=SyncLogRead.model_validate(last) if last else None)


async def list_deliveries(session: AsyncSession, channel_id: int, *, principal: Principal, state: str | None,
                          cursor: str | None, limit: int) -> tuple[list[DeliveryRead], str | None]:
    await channels_service.get_channel(session, channel_id, principal=principal)
    stmt = select(ChannelDelivery).where(ChannelDelivery.channel_id == channel_id)
    if state:
        stmt = stmt.where(ChannelDelivery.state == state)
    rows, next_cursor = await paginate(session, stmt, id_column=ChannelDelivery.id, sort=DELIVERY_SORTS,
                                       sort_value=None, cursor=cursor, limit=limit)
    return [DeliveryRead.model_validate(r) for r in rows], next_cursor
