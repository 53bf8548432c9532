"""``/inventory/phantom-stock``: rejected picks per store and SKU, with the caution buffer in force, and the
per-location settings of the rule (``inventory.phantom``)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from omniretail.api.deps import SessionDep, require
from omniretail.api.routing import TransactionalRoute
from omniretail.auth.schemas import Principal
from omniretail.platform.errors import NotFound

from .phantom import phantom_stock_report, set_phantom_settings

router = APIRouter(tags=["inventory"], route_class=TransactionalRoute)
Reader = Annotated[Principal, require("inventory:read")]
LocationAdmin = Annotated[Principal, require("locations:write")]


class PhantomStockItem(BaseModel):
    location_id: int
    location_code: str
    variant_id: int
    sku: str
    rejections: int = Field(description="Rejected picks ever")
    units: int = Field(description="Units rejected ever")
    strikes: int = Field(description="Rejections since the location was last trusted with the SKU")
    buffer: int = Field(description="Units channel availability holds back at the location now")
    clean_picks_since: int
    last_rejected_at: datetime | None
    last_reason: str


class PhantomStockReport(BaseModel):
    items: list[PhantomStockItem]


class PhantomSettingsUpdate(BaseModel):
    threshold: int | None = Field(default=None, ge=1, le=1000, description="Rejections before a buffer (2)")
    buffer_step: int | None = Field(default=None, ge=0, le=1000, description="Units per further rejection (1)")
    clean_picks_per_unit: int | None = Field(default=None, ge=1, le=1000,
                                             description="Clean picks that take one unit off (3)")


@router.get("/inventory/phantom-stock", summary="Rejected picks per store and SKU (most first), with the buffer")
async def phantom_stock(session: SessionDep, principal: Reader, location_id: int | None = None,
                        limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> PhantomStockReport:
    rows = await phantom_stock_report(session, location_id=location_id, limit=limit, scope=principal.location_ids)
    return PhantomStockReport(items=[PhantomStockItem(**asdict(r)) for r in rows])


@router.put("/inventory/phantom-stock/settings/{location_id}", status_code=204,
            summary="How cautious a location's availability gets after rejected picks (null: the default)")
async def phantom_settings(session: SessionDep, principal: LocationAdmin, location_id: int,
                           data: PhantomSettingsUpdate) -> None:
    if principal.location_ids is not None and location_id not in principal.location_ids:
        raise NotFound(f"location {location_id} not found", location_id=location_id)
    await set_phantom_settings(session, location_id, threshold=data.threshold, buffer_step=data.buffer_step,
                               clean_picks_per_unit=data.clean_picks_per_unit)
