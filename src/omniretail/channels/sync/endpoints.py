"""Channel sync over HTTP: listings and their state, retrying a parked one, the sync and delivery logs,
on-demand reconciliation, and a channel's sync status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from omniretail.api.deps import ListParamsDep, SessionDep, require
from omniretail.api.routing import TransactionalRoute
from omniretail.auth.schemas import Principal
from omniretail.platform.pagination import Page

from . import metrics as _metrics  # noqa: F401 - registers the queue-depth refresher of /metrics
from . import service
from .schemas import (
    DeliveryRead,
    ListingLinkRequest,
    ListingLinkResult,
    ListingRead,
    ListingState,
    ReconcileAccepted,
    SyncLogRead,
    SyncStatusRead,
)

router = APIRouter(prefix="/channels", tags=["channel sync"], route_class=TransactionalRoute)

Reader = Annotated[Principal, require("channels:read")]
Writer = Annotated[Principal, require("channels:write")]


@router.get("/{channel_id}/listings", summary="A channel's listings: desired vs acknowledged state")
async def list_listings(
    session: SessionDep, principal: Reader, params: ListParamsDep, channel_id: int,
    state: Annotated[ListingState | None, Query(description="synced | due | error | parked")] = None,
    sku: str | None = None,
) -> Page[ListingRead]:
    items, next_cursor = await service.list_listings(session, channel_id, principal=principal, state=state, sku=sku,
                                                     cursor=params.cursor, limit=params.limit, sort=params.sort)
    return Page(items=items, next_cursor=next_cursor)


@router.put("/{channel_id}/listings", summary="Link SKUs to the channel's listings (offer ids, inventory items)")
async def link_listings(session: SessionDep, principal: Writer, channel_id: int,
                        data: ListingLinkRequest) -> ListingLinkResult:
    return await service.link_listings(session, channel_id, items=data.items, principal=principal)


@router.post("/{channel_id}/listings/{listing_id}/retry", summary="Retry a parked or backing-off listing now")
async def retry_listing(session: SessionDep, principal: Writer, channel_id: int, listing_id: int) -> ListingRead:
    return await service.retry_listing(session, channel_id, listing_id, principal=principal)


@router.get("/{channel_id}/listings/{listing_id}/log", summary="What was sent for a listing, and the answers")
async def listing_log(session: SessionDep, principal: Reader, channel_id: int, listing_id: int,
                      limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[SyncLogRead]:
    return await service.listing_log(session, channel_id, listing_id, principal=principal, limit=limit)


@router.post("/{channel_id}/reconcile", status_code=status.HTTP_202_ACCEPTED,
             summary="Read the channel back and repair drift (runs in the worker within seconds)")
async def reconcile(session: SessionDep, principal: Writer, channel_id: int) -> ReconcileAccepted:
    at = await service.request_reconcile(session, channel_id, principal=principal)
    return ReconcileAccepted(channel_id=channel_id, requested_at=at)


@router.get("/{channel_id}/sync-status", summary="Queue depth, parked listings, lag, errors, cursors")
async def sync_status(session: SessionDep, principal: Reader, channel_id: int) -> SyncStatusRead:
    return await service.sync_status(session, channel_id, principal=principal)


@router.get("/{channel_id}/deliveries", summary="Webhooks and fulfilment updates owed to the channel")
async def list_deliveries(session: SessionDep, principal: Reader, params: ListParamsDep, channel_id: int,
                          state: Annotated[str | None, Query(pattern="^(pending|delivered|parked)$")] = None,
                          ) -> Page[DeliveryRead]:
    items, next_cursor = await service.list_deliveries(session, channel_id, principal=principal, state=state,
                                                       cursor=params.cursor, limit=params.limit)
    return Page(items=items, next_cursor=next_cursor)
