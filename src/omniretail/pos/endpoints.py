"""``/pos``: register shifts (open, current, close with a count, report, cash in and out) and sales at the till
(counter, home delivery). Store associates act for their own stores."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from omniretail.api.deps import SessionDep, require
from omniretail.api.routing import TransactionalRoute
from omniretail.auth.schemas import Principal

from . import sales, shifts
from .schemas import (
    CashMovementCreate,
    CashMovementRead,
    CounterSaleCreate,
    HomeDeliveryCreate,
    SaleRead,
    ShiftClose,
    ShiftOpen,
    ShiftRead,
    ShiftReportRead,
)

router = APIRouter(prefix="/pos", tags=["pos"], route_class=TransactionalRoute)

Reader = Annotated[Principal, require("orders:read")]
Writer = Annotated[Principal, require("orders:write")]
Register = Annotated[str, Query(min_length=1, max_length=40, description="The till at the store")]

CONFLICTS = {409: {"description": "A shift is already open on the till, no shift is open, not enough stock, or "
                                  "changed meanwhile"}}


@router.post("/shifts", status_code=status.HTTP_201_CREATED, responses=CONFLICTS,
             summary="Open a shift on a store's till with the cash float")
async def open_shift(session: SessionDep, principal: Writer, data: ShiftOpen) -> ShiftRead:
    return await shifts.open_shift(session, data=data, principal=principal, actor=principal.label)


@router.get("/shifts/current", summary="The open shift of a store's till (204 when none is open)",
            responses={204: {"description": "No shift is open"}})
async def current_shift(session: SessionDep, principal: Reader, location_id: int,
                        register_code: Register = shifts.DEFAULT_REGISTER) -> ShiftRead | None:
    shift = await shifts.current_shift(session, location_id=location_id, register_code=register_code,
                                       principal=principal)
    if shift is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return shift


@router.get("/shifts", summary="A store's latest shifts, newest first")
async def list_shifts(session: SessionDep, principal: Reader, location_id: int,
                      limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[ShiftRead]:
    return await shifts.list_shifts(session, location_id=location_id, principal=principal, limit=limit)


@router.get("/shifts/{shift_id}", summary="A shift")
async def get_shift(session: SessionDep, principal: Reader, shift_id: int) -> ShiftRead:
    return await shifts.get_shift(session, shift_id, principal=principal)


@router.get("/shifts/{shift_id}/report",
            summary="A shift's report: the drawer's sums, takings per payment method, every cash movement")
async def shift_report(session: SessionDep, principal: Reader, shift_id: int) -> ShiftReportRead:
    return await shifts.shift_report(session, shift_id, principal=principal)


@router.post("/shifts/{shift_id}/close", responses=CONFLICTS,
             summary="Close a shift with the cash counted (total or note by note); keeps the difference")
async def close_shift(session: SessionDep, principal: Writer, shift_id: int, data: ShiftClose) -> ShiftRead:
    return await shifts.close_shift(session, shift_id, data=data, principal=principal, actor=principal.label)


@router.post("/shifts/{shift_id}/cash-movements", status_code=status.HTTP_201_CREATED,
             responses={**CONFLICTS, 200: {"description": "This reference was recorded before: the first movement"},
                        404: {"description": "No such shift, or order_id names no order the caller may see"},
                        422: {"description": "Bad amount; an order_id in another currency or with less left to "
                                             "refund; the reference used for another movement"}},
             summary="Cash paid in, paid out or refunded from an open shift's drawer (a refund may name its "
                     "order: recorded as the order's cash refund)")
async def add_cash_movement(session: SessionDep, principal: Writer, shift_id: int, data: CashMovementCreate,
                            response: Response) -> CashMovementRead:
    movement = await shifts.record_cash_movement(session, shift_id, data=data, principal=principal,
                                                 actor=principal.label)
    if not movement.created:
        response.status_code = status.HTTP_200_OK
    return movement


@router.post("/sales", status_code=status.HTTP_201_CREATED, responses=CONFLICTS,
             summary="Ring up a counter sale (an order of the store's POS channel, handed over at once)")
async def ring_up(session: SessionDep, principal: Writer, data: CounterSaleCreate, response: Response,
                  register_code: Register = shifts.DEFAULT_REGISTER) -> SaleRead:
    sale = await sales.ring_up(session, data=data, principal=principal, actor=principal.label,
                               register_code=register_code)
    if not sale.created:
        response.status_code = status.HTTP_200_OK
    return sale


@router.post("/home-deliveries", status_code=status.HTTP_201_CREATED, responses=CONFLICTS,
             summary="Sell for home delivery (endless aisle): paid at the till, shipped from another location")
async def home_delivery(session: SessionDep, principal: Writer, data: HomeDeliveryCreate, response: Response,
                        register_code: Register = shifts.DEFAULT_REGISTER) -> SaleRead:
    sale = await sales.take_home_delivery(session, data=data, principal=principal, actor=principal.label,
                                          register_code=register_code)
    if not sale.created:
        response.status_code = status.HTTP_200_OK
    return sale


@router.get("/sales/{order_id}", summary="What the till recorded for an order (payment, cash, change)")
async def get_sale(session: SessionDep, principal: Reader, order_id: int) -> SaleRead:
    return await sales.get_sale(session, order_id, principal=principal)
