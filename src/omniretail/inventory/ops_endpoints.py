"""``/inventory``: transfers, count sheets, goods on order, pre-order caps and the stock CSV import.

Included by ``endpoints.router``. As everywhere in inventory, a store associate works only with their own
locations (a transfer is theirs when it starts or ends there).
"""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile, status

from omniretail.api.deps import ListParamsDep, SessionDep, SettingsDep, require
from omniretail.api.routing import TransactionalRoute
from omniretail.auth.schemas import Principal
from omniretail.platform.errors import InvalidInput
from omniretail.platform.pagination import Page

from . import counts, csv_import, incoming, transfers
from .schemas import (
    CountEntriesUpdate,
    CountSheetCreate,
    CountSheetRead,
    CountSheetState,
    IncomingState,
    IncomingStockCreate,
    IncomingStockRead,
    IncomingStockReceive,
    PreorderCapRead,
    PreorderCapUpdate,
    StockImportRead,
    TransferCreate,
    TransferRead,
    TransferReceive,
    TransferShip,
    TransferState,
)

router = APIRouter(route_class=TransactionalRoute)

Reader = Annotated[Principal, require("inventory:read")]
Writer = Annotated[Principal, require("inventory:write")]
MAX_ERRORS_IN_RESPONSE = 1000
STATE_CONFLICT = {409: {"description": "Not allowed in the current state (wrong-state), or not enough stock"}}


# --- transfers ---------------------------------------------------------------------------------------------

@router.post("/transfers", status_code=status.HTTP_201_CREATED, tags=["inventory"],
             summary="Request a transfer between two locations")
async def create_transfer(session: SessionDep, principal: Writer, data: TransferCreate) -> TransferRead:
    return await transfers.create_transfer(
        session, source_location_id=data.source_location_id, destination_location_id=data.destination_location_id,
        lines=[(line.sku, line.quantity) for line in data.lines], actor=principal.label,
        order_reference=data.order_reference, note=data.note, scope=principal.location_ids)


@router.get("/transfers", tags=["inventory"], summary="Transfers, newest first")
async def list_transfers(
    session: SessionDep, principal: Reader, params: ListParamsDep, state: TransferState | None = None,
    location_id: Annotated[int | None, Query(description="Either end")] = None, order_reference: str | None = None,
) -> Page[TransferRead]:
    items, next_cursor = await transfers.list_transfers(
        session, state=state.value if state else None, location_id=location_id, order_reference=order_reference,
        scope=principal.location_ids, cursor=params.cursor, limit=params.limit)
    return Page(items=items, next_cursor=next_cursor)


@router.get("/transfers/{transfer_id}", tags=["inventory"], summary="A transfer with its lines")
async def get_transfer(session: SessionDep, principal: Reader, transfer_id: int) -> TransferRead:
    return await transfers.get_transfer(session, transfer_id, scope=principal.location_ids)


@router.post("/transfers/{transfer_id}/ship", tags=["inventory"], responses=STATE_CONFLICT,
             summary="Ship a transfer: the stock leaves the source")
async def ship_transfer(session: SessionDep, principal: Writer, transfer_id: int,
                        data: TransferShip | None = None) -> TransferRead:
    lines = None if data is None or data.lines is None else [(x.sku, x.quantity) for x in data.lines]
    return await transfers.ship_transfer(session, transfer_id, actor=principal.label, lines=lines,
                                         scope=principal.location_ids)


@router.post("/transfers/{transfer_id}/receive", tags=["inventory"], responses=STATE_CONFLICT,
             summary="Receive a transfer (in full, or part of it)")
async def receive_transfer(session: SessionDep, principal: Writer, transfer_id: int, settings: SettingsDep,
                           data: TransferReceive | None = None) -> TransferRead:
    lines = None if data is None or data.lines is None else [(x.sku, x.quantity) for x in data.lines]
    return await transfers.receive_transfer(session, transfer_id, actor=principal.label, lines=lines,
                                            scope=principal.location_ids,
                                            context={"secret_key": settings.resolved_secret_key()})


@router.post("/transfers/{transfer_id}/cancel", tags=["inventory"], responses=STATE_CONFLICT,
             summary="Cancel a transfer that has not shipped")
async def cancel_transfer(session: SessionDep, principal: Writer, transfer_id: int) -> TransferRead:
    return await transfers.cancel_transfer(session, transfer_id, actor=principal.label,
                                           scope=principal.location_ids)


# --- count sheets ------------------------------------------------------------------------------------------

@router.post("/counts", status_code=status.HTTP_201_CREATED, tags=["inventory"],
             summary="Start a count sheet for a location")
async def create_count_sheet(session: SessionDep, principal: Writer, data: CountSheetCreate) -> CountSheetRead:
    return await counts.create_count_sheet(
        session, location_id=data.location_id, actor=principal.label, skus=data.skus,
        variance_threshold=data.variance_threshold, note=data.note, scope=principal.location_ids)


@router.get("/counts", tags=["inventory"], summary="Count sheets, newest first")
async def list_count_sheets(session: SessionDep, principal: Reader, params: ListParamsDep,
                            location_id: int | None = None, state: CountSheetState | None = None,
                            ) -> Page[CountSheetRead]:
    items, next_cursor = await counts.list_count_sheets(
        session, location_id=location_id, state=state.value if state else None, scope=principal.location_ids,
        cursor=params.cursor, limit=params.limit)
    return Page(items=items, next_cursor=next_cursor)


@router.get("/counts/{sheet_id}", tags=["inventory"], summary="A count sheet with its lines")
async def get_count_sheet(session: SessionDep, principal: Reader, sheet_id: int) -> CountSheetRead:
    return await counts.get_count_sheet(session, sheet_id, scope=principal.location_ids)


@router.post("/counts/{sheet_id}/lines", tags=["inventory"], responses=STATE_CONFLICT,
             summary="Enter counted figures")
async def record_counts(session: SessionDep, principal: Writer, sheet_id: int,
                        data: CountEntriesUpdate) -> CountSheetRead:
    return await counts.record_counts(session, sheet_id, lines=[(x.sku, x.counted) for x in data.lines],
                                      actor=principal.label, scope=principal.location_ids)


@router.post("/counts/{sheet_id}/submit", tags=["inventory"], responses=STATE_CONFLICT,
             summary="Hand the counts in (applied at once when every variance is within the threshold)")
async def submit_count_sheet(session: SessionDep, principal: Writer, sheet_id: int) -> CountSheetRead:
    return await counts.submit_count_sheet(session, sheet_id, actor=principal.label, scope=principal.location_ids)


@router.post("/counts/{sheet_id}/approve", tags=["inventory"], responses=STATE_CONFLICT,
             summary="Approve the variances (managers): count movements are written")
async def approve_count_sheet(session: SessionDep, principal: Writer, sheet_id: int) -> CountSheetRead:
    return await counts.approve_count_sheet(session, sheet_id, approver=principal)


@router.post("/counts/{sheet_id}/reject", tags=["inventory"], responses=STATE_CONFLICT,
             summary="Reject the counts (managers): nothing changes")
async def reject_count_sheet(session: SessionDep, principal: Writer, sheet_id: int) -> CountSheetRead:
    return await counts.reject_count_sheet(session, sheet_id, approver=principal)


# --- goods on order and pre-orders -------------------------------------------------------------------------

@router.post("/incoming", status_code=status.HTTP_201_CREATED, tags=["inventory"],
             summary="Record goods on order (a purchase-order line)")
async def add_incoming(session: SessionDep, principal: Writer, data: IncomingStockCreate) -> IncomingStockRead:
    return await incoming.add_incoming_stock(
        session, sku=data.sku, location_id=data.location_id, quantity=data.quantity,
        expected_date=data.expected_date, reference=data.reference, actor=principal.label,
        scope=principal.location_ids)


@router.get("/incoming", tags=["inventory"], summary="Goods on order, newest first")
async def list_incoming(session: SessionDep, principal: Reader, params: ListParamsDep, sku: str | None = None,
                        location_id: int | None = None, state: IncomingState | None = None,
                        ) -> Page[IncomingStockRead]:
    items, next_cursor = await incoming.list_incoming_stock(
        session, sku=sku, location_id=location_id, state=state.value if state else None,
        scope=principal.location_ids, cursor=params.cursor, limit=params.limit)
    return Page(items=items, next_cursor=next_cursor)


@router.post("/incoming/{incoming_id}/receive", tags=["inventory"], responses=STATE_CONFLICT,
             summary="Goods on order arrived: a receipt movement")
async def receive_incoming(session: SessionDep, principal: Writer, incoming_id: int,
                           data: IncomingStockReceive | None = None) -> IncomingStockRead:
    return await incoming.receive_incoming_stock(session, incoming_id, actor=principal.label,
                                                 quantity=data.quantity if data else None,
                                                 scope=principal.location_ids)


@router.post("/incoming/{incoming_id}/cancel", tags=["inventory"], responses=STATE_CONFLICT,
             summary="The rest will not come: stop promising it")
async def cancel_incoming(session: SessionDep, principal: Writer, incoming_id: int) -> IncomingStockRead:
    return await incoming.cancel_incoming_stock(session, incoming_id, scope=principal.location_ids)


@router.put("/preorder-caps", tags=["inventory"], summary="Set how much of a SKU may be sold ahead of arrival")
async def set_preorder_cap(session: SessionDep, principal: Annotated[Principal, require("channels:write")],
                           data: PreorderCapUpdate) -> PreorderCapRead:
    return await incoming.set_preorder_cap(session, sku=data.sku, cap=data.cap)


@router.get("/preorder-caps/{sku:path}", tags=["inventory"], summary="A SKU's pre-order cap and what is sold ahead")
async def get_preorder_cap(session: SessionDep, principal: Reader, sku: str) -> PreorderCapRead:
    return await incoming.preorder_cap(session, sku=sku)


# --- CSV import --------------------------------------------------------------------------------------------

@router.post("/import", tags=["inventory"], summary="Import stock levels from a CSV upload",
             responses={422: {"description": "Errors in the file (row, column, message); nothing was imported"}})
async def import_stock(
    session: SessionDep, principal: Writer,
    file: Annotated[UploadFile, File(description="CSV, UTF-8: location_code, sku, on_hand | delta, reason, "
                                                 "safety_stock, low_stock_threshold")],
    skip_bad_rows: Annotated[bool, Query(description="Import the good rows even if some are bad")] = False,
) -> StockImportRead:
    stream = io.TextIOWrapper(file.file, encoding="utf-8-sig", newline="")
    report = await csv_import.import_stock_csv(session, stream, actor=principal.label, skip_bad_rows=skip_bad_rows,
                                               scope=principal.location_ids, reference=file.filename)
    body = {"summary": report.summary(), "errors": [e.as_dict() for e in report.errors[:MAX_ERRORS_IN_RESPONSE]],
            "errors_truncated": len(report.errors) > MAX_ERRORS_IN_RESPONSE}
    if report.aborted:  # the request's transaction rolls back: nothing was imported
        raise InvalidInput(f"{len(report.errors)} error(s) in the file; nothing was imported", **body)
    return StockImportRead.model_validate(body)
