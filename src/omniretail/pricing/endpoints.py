from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from omniretail.api.deps import ListParamsDep, SessionDep, require
from omniretail.api.routing import TransactionalRoute
from omniretail.auth.schemas import Principal
from omniretail.platform import clock
from omniretail.platform.pagination import Page

from . import prices, service
from .schemas import (
    BulkPriceRequest,
    BulkPriceResponse,
    BulkStatus,
    PriceListCreate,
    PriceListRead,
    PriceListUpdate,
    PriceRead,
    PriceResolutionRead,
    PriceSet,
    as_utc,
)

router = APIRouter(tags=["pricing"], route_class=TransactionalRoute)

Reader = Annotated[Principal, require("prices:read")]
Writer = Annotated[Principal, require("prices:write")]


@router.get("/price-lists", summary="List price lists you may see")
async def list_price_lists(
    session: SessionDep, principal: Reader, params: ListParamsDep,
    channel_id: int | None = None, currency: str | None = None,
) -> Page[PriceListRead]:
    rows, next_cursor = await service.list_price_lists(
        session, principal=principal, channel_id=channel_id, currency=currency, cursor=params.cursor,
        limit=params.limit, sort=params.sort,
    )
    return Page(items=await service.to_read(session, rows), next_cursor=next_cursor)


@router.post("/price-lists", status_code=status.HTTP_201_CREATED, summary="Create a price list")
async def create_price_list(session: SessionDep, principal: Writer, data: PriceListCreate) -> PriceListRead:
    price_list = await service.create_price_list(session, data=data, principal=principal)
    return (await service.to_read(session, [price_list]))[0]


@router.get("/price-lists/{price_list_id}", summary="Fetch a price list")
async def get_price_list(session: SessionDep, principal: Reader, price_list_id: int) -> PriceListRead:
    price_list = await service.get_price_list(session, price_list_id, principal=principal)
    return (await service.to_read(session, [price_list]))[0]


@router.patch("/price-lists/{price_list_id}", summary="Update a price list")
async def update_price_list(
    session: SessionDep, principal: Writer, price_list_id: int, data: PriceListUpdate
) -> PriceListRead:
    price_list = await service.update_price_list(session, price_list_id, data=data, principal=principal)
    return (await service.to_read(session, [price_list]))[0]


@router.get("/price-lists/{price_list_id}/prices", summary="List the prices of a price list")
async def list_prices(
    session: SessionDep, principal: Reader, params: ListParamsDep, price_list_id: int,
    sku: str | None = None,
) -> Page[PriceRead]:
    price_list, rows, next_cursor = await prices.list_prices(
        session, price_list_id, principal=principal, sku=sku, cursor=params.cursor, limit=params.limit,
        sort=params.sort,
    )
    return Page(items=await prices.price_reads(session, price_list, rows), next_cursor=next_cursor)


@router.post("/price-lists/{price_list_id}/prices/bulk", summary="Set many prices (up to 1,000)",
             description="Each item gets a result (created, updated, unchanged or error); one bad item never "
                         "fails the batch.")
async def bulk_set_prices(
    session: SessionDep, principal: Writer, price_list_id: int, data: BulkPriceRequest
) -> BulkPriceResponse:
    return await prices.bulk_set_prices(session, price_list_id, items=data.items, principal=principal)


@router.put("/price-lists/{price_list_id}/prices/{sku}", summary="Set the price of one SKU",
            description="201 when the SKU had no price in this list, 200 otherwise.")
async def set_price(
    session: SessionDep, principal: Writer, response: Response, price_list_id: int, sku: str, data: PriceSet
) -> PriceRead:
    price_list, row, outcome = await prices.set_price(session, price_list_id, sku, data=data,
                                                      principal=principal)
    if outcome is BulkStatus.CREATED:
        response.status_code = status.HTTP_201_CREATED
    return (await prices.price_reads(session, price_list, [row]))[0]


@router.delete("/price-lists/{price_list_id}/prices/{sku}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Remove the price of one SKU from a price list")
async def delete_price(session: SessionDep, principal: Writer, price_list_id: int, sku: str) -> Response:
    await prices.delete_price(session, price_list_id, sku, principal=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/channels/{channel_id}/prices/{sku}", summary="The effective price of a SKU on a channel",
            description="Considers the channel's price lists and the shared lists in its currency that are "
                        "active at `at`, highest priority first; explains which list and row won and why the "
                        "others lost. 404 (with the candidates) when nothing prices the SKU.")
async def resolve_channel_price(
    session: SessionDep, principal: Reader, channel_id: int, sku: str,
    at: Annotated[datetime | None, Query(description="Moment to price at (ISO 8601); default now")] = None,
) -> PriceResolutionRead:
    return await service.resolve_channel_price(session, channel_id, sku, at=as_utc(at) or clock.now(),
                                               principal=principal)
