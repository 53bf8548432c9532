"""``/inventory``: the ledger, levels, reservations and availability over HTTP.

A store associate works only with their own locations: another location is "not found" everywhere (writes,
levels, history, availability lines); an integration account sees only its channels.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, status

from omniretail.api.deps import ListParamsDep, SessionDep, require
from omniretail.api.routing import READ_ONLY, TransactionalRoute
from omniretail.auth.schemas import Principal
from omniretail.platform import clock
from omniretail.platform.errors import NotFound
from omniretail.platform.pagination import Page

from . import ops_endpoints, service
from .schemas import (
    AvailabilityRead,
    BulkAvailabilityCreate,
    BulkAvailabilityRead,
    LocationStockSettingsRead,
    LocationStockSettingsUpdate,
    MovementKind,
    MovementRead,
    MovementsRead,
    ReservationConsume,
    ReservationCreate,
    ReservationRead,
    ReservationRelease,
    ReservationsClosed,
    ReservationState,
    StockAdjustmentCreate,
    StockCountCreate,
    StockLevelRead,
    StockLevelUpdate,
    StockReceiptCreate,
)

router = APIRouter(prefix="/inventory", tags=["inventory"], route_class=TransactionalRoute)

Reader = Annotated[Principal, require("inventory:read")]
Writer = Annotated[Principal, require("inventory:write")]
LocationAdmin = Annotated[Principal, require("locations:write")]

CONFLICTS = {409: {"description": "Insufficient stock (with sku, location_id, requested and available) or "
                                  "the reservation is closed"}}


def _own_location(principal: Principal, location_id: int) -> int:
    if not principal.sees_location(location_id):
        raise NotFound(f"location {location_id} not found", location_id=location_id)
    return location_id


def _reference(data) -> service.MovementReference:
    return service.MovementReference(data.reference_type, data.reference_id)


@router.post("/receive", status_code=status.HTTP_201_CREATED, summary="Receive goods at a location")
async def receive(session: SessionDep, principal: Writer, data: StockReceiptCreate) -> MovementsRead:
    movements = await service.receive_stock(
        session, location_id=_own_location(principal, data.location_id),
        lines=[(line.sku, line.quantity) for line in data.lines], actor=principal.label, reason=data.reason,
        reference=_reference(data))
    return MovementsRead(movements=movements)


@router.post("/adjust", status_code=status.HTTP_201_CREATED, responses=CONFLICTS,
             summary="Correct stock (signed quantities, a reason is required)")
async def adjust(session: SessionDep, principal: Writer, data: StockAdjustmentCreate) -> MovementsRead:
    movements = await service.adjust_stock(
        session, location_id=_own_location(principal, data.location_id),
        lines=[(line.sku, line.quantity) for line in data.lines], reason=data.reason, kind=data.kind.value,
        actor=principal.label, reference=_reference(data))
    return MovementsRead(movements=movements)


@router.post("/count", status_code=status.HTTP_201_CREATED, responses=CONFLICTS,
             summary="Record a stock count: on-hand becomes the counted figure")
async def count(session: SessionDep, principal: Writer, data: StockCountCreate) -> MovementsRead:
    movements = await service.count_stock(
        session, location_id=_own_location(principal, data.location_id),
        lines=[(line.sku, line.counted) for line in data.lines], actor=principal.label, reason=data.reason,
        reference=_reference(data))
    return MovementsRead(movements=movements)


@router.post("/reserve", status_code=status.HTTP_201_CREATED, responses=CONFLICTS,
             summary="Hold stock for an order line or a cart (never more than is available)")
async def reserve(session: SessionDep, principal: Writer, data: ReservationCreate) -> ReservationRead:
    expires_at = clock.now() + timedelta(seconds=data.expires_in_s) if data.expires_in_s else None
    held = await service.reserve_stock(
        session, sku=data.sku, location_id=_own_location(principal, data.location_id), quantity=data.quantity,
        kind=data.kind.value, reference=data.reference, channel_id=data.channel_id, expires_at=expires_at)
    return ReservationRead(
        id=held.reservation_id, sku=data.sku, variant_id=held.variant_id, location_id=held.location_id,
        quantity=held.quantity, state=ReservationState.OPEN, kind=data.kind, reference=data.reference,
        channel_id=data.channel_id, expires_at=held.expires_at, available_after=held.available_after)


@router.post("/release", summary="Release reservations (by id, or every open one of a reference)")
async def release(session: SessionDep, principal: Writer, data: ReservationRelease) -> ReservationsClosed:
    released = await service.release_reservations(
        session, reservation_ids=data.reservation_ids or None, reference=data.reference,
        scope=principal.location_ids)
    return ReservationsClosed(released=released)


@router.post("/consume", responses=CONFLICTS, summary="Fulfil a reservation: the goods leave the location")
async def consume(session: SessionDep, principal: Writer, data: ReservationConsume) -> StockLevelRead:
    level = await service.consume_reservation(
        session, reservation_id=data.reservation_id, actor=principal.label, reference_type=data.reference_type,
        reference_id=data.reference_id, scope=principal.location_ids)
    items, _ = await service.list_levels(session, variant_id=level.variant_id, location_id=level.location_id)
    return items[0]


@router.get("/levels", summary="Stock levels by variant and location")
async def levels(
    session: SessionDep, principal: Reader, params: ListParamsDep,
    sku: str | None = None, location_id: int | None = None,
    low_only: Annotated[bool, Query(description="Only levels below their low-stock threshold")] = False,
) -> Page[StockLevelRead]:
    items, next_cursor = await service.list_levels(
        session, sku=sku, location_id=location_id, low_only=low_only, scope=principal.location_ids,
        cursor=params.cursor, limit=params.limit)
    return Page(items=items, next_cursor=next_cursor)


@router.patch("/levels", summary="Set a level's safety stock or low-stock threshold")
async def update_level(session: SessionDep, principal: Writer, data: StockLevelUpdate) -> StockLevelRead:
    given = data.model_fields_set
    return await service.update_level_settings(
        session, sku=data.sku, location_id=_own_location(principal, data.location_id),
        safety_stock=data.safety_stock if "safety_stock" in given and data.safety_stock is not None
        else service.UNSET,
        low_stock_threshold=data.low_stock_threshold if "low_stock_threshold" in given else service.UNSET)


@router.get("/availability/{sku:path}", summary="What a channel may promise of one SKU, and why")
async def availability(
    session: SessionDep, principal: Reader, sku: str,
    channel: Annotated[str | None, Query(description="Channel code; none: every location you may see")] = None,
    explain: Annotated[bool, Query(description="Show location by location how the number was reached")] = False,
) -> AvailabilityRead:
    return await service.availability(session, sku=sku, channel=channel, explain=explain,
                                      scope=principal.location_ids, channel_scope=principal.channel_ids)


@router.post("/availability/bulk", summary="Availability of up to 10,000 SKUs in one call",
             responses={413: {"description": "More than 10,000 SKUs"}}, openapi_extra=READ_ONLY)
async def bulk_availability(session: SessionDep, principal: Reader,
                            data: BulkAvailabilityCreate) -> BulkAvailabilityRead:
    return await service.bulk_availability(session, skus=data.skus, channel=data.channel,
                                           scope=principal.location_ids, channel_scope=principal.channel_ids)


@router.get("/movements", summary="The stock ledger, newest first")
async def movements(
    session: SessionDep, principal: Reader, params: ListParamsDep,
    sku: str | None = None, location_id: int | None = None, kind: MovementKind | None = None,
    since: Annotated[datetime | None, Query(description="Only movements at or after this time")] = None,
    reference_type: str | None = None, reference_id: str | None = None,
) -> Page[MovementRead]:
    items, next_cursor = await service.list_movements(
        session, sku=sku, location_id=location_id, kind=kind, since=since, reference_type=reference_type,
        reference_id=reference_id, scope=principal.location_ids, cursor=params.cursor, limit=params.limit)
    return Page(items=items, next_cursor=next_cursor)


@router.get("/locations/{location_id}/settings", summary="A location's low-stock default and negative-stock rule")
async def location_settings(session: SessionDep, principal: Reader, location_id: int) -> LocationStockSettingsRead:
    return await service.location_settings(session, _own_location(principal, location_id))


@router.patch("/locations/{location_id}/settings", summary="Change a location's stock settings")
async def update_location_settings(session: SessionDep, principal: LocationAdmin, location_id: int,
                                   data: LocationStockSettingsUpdate) -> LocationStockSettingsRead:
    given = data.model_fields_set
    return await service.update_location_settings(
        session, _own_location(principal, location_id),
        default_low_stock_threshold=data.default_low_stock_threshold
        if "default_low_stock_threshold" in given else service.UNSET,
        allow_negative_stock=data.allow_negative_stock)



router.include_router(ops_endpoints.router)
