from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from omniretail.api.deps import ListParamsDep, SessionDep, require
from omniretail.api.routing import TransactionalRoute
from omniretail.auth.schemas import Principal
from omniretail.platform.pagination import Page

from . import service
from .schemas import LocationCreate, LocationKind, LocationRead, LocationUpdate

router = APIRouter(prefix="/locations", tags=["locations"], route_class=TransactionalRoute)

Reader = Annotated[Principal, require("locations:read")]
Writer = Annotated[Principal, require("locations:write")]


@router.get("", summary="List locations you may see")
async def list_locations(
    session: SessionDep, principal: Reader, params: ListParamsDep,
    kind: LocationKind | None = None,
    q: Annotated[str | None, Query(description="Search name, city or code")] = None,
    capability: Annotated[str | None, Query(description="e.g. offers_pickup")] = None,
) -> Page[LocationRead]:
    rows, next_cursor = await service.list_locations(
        session, principal=principal, kind=kind, q=q, capability=capability, cursor=params.cursor,
        limit=params.limit, sort=params.sort,
    )
    return Page(items=await service.to_read(session, rows), next_cursor=next_cursor)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a location")
async def create_location(session: SessionDep, principal: Writer, data: LocationCreate) -> LocationRead:
    loc = await service.create_location(session, data=data)
    return (await service.to_read(session, [loc]))[0]


@router.get("/by-ref/{source}/{reference}", summary="Fetch a location by an external system's reference")
async def location_by_reference(session: SessionDep, principal: Reader, source: str, reference: str) -> LocationRead:
    loc = await service.location_by_reference(session, source=source, reference=reference, principal=principal)
    return (await service.to_read(session, [loc]))[0]


@router.get("/{location_id}", summary="Fetch a location")
async def get_location(session: SessionDep, principal: Reader, location_id: int) -> LocationRead:
    loc = await service.get_location(session, location_id, principal=principal)
    return (await service.to_read(session, [loc]))[0]


@router.patch("/{location_id}", summary="Update a location")
async def update_location(
    session: SessionDep, principal: Writer, location_id: int, data: LocationUpdate
) -> LocationRead:
    loc = await service.update_location(session, location_id, data=data, principal=principal)
    return (await service.to_read(session, [loc]))[0]
