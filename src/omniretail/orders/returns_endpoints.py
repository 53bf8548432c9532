"""``/returns``: returns anywhere (BORIS), refunds and exchanges; ``/orders/{id}/returns`` opens one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from omniretail.api.deps import ListParamsDep, SessionDep, require
from omniretail.api.routing import TransactionalRoute
from omniretail.auth.schemas import Principal
from omniretail.platform.pagination import Page

from . import refunds, returns, returns_exchange, returns_reads, service
from .returns_schemas import (
    ExchangeCreate,
    ExchangeRead,
    RefundCreate,
    ReturnableOrderRead,
    ReturnClose,
    ReturnCreate,
    ReturnDecision,
    ReturnInspect,
    ReturnRead,
    ReturnReceive,
    ReturnSummaryRead,
)
from .returns_states import ReturnState

router = APIRouter(tags=["returns"], route_class=TransactionalRoute)

Reader = Annotated[Principal, require("orders:read")]
Writer = Annotated[Principal, require("orders:write")]

CONFLICTS = {409: {"description": "Illegal transition (with current_state and the allowed moves), a refund above "
                                  "what may be paid back, or changed meanwhile by someone else"}}
RETURN = "/returns/{return_id}"


@router.post("/orders/{order_id}/returns", status_code=status.HTTP_201_CREATED, responses=CONFLICTS,
             summary="Request a return of delivered units (staff may authorise it at once)")
async def request_return(session: SessionDep, principal: Writer, order_id: int, data: ReturnCreate) -> ReturnRead:
    return_id = await returns.request_return(session, order_id, data=data, principal=principal,
                                             actor=principal.label)
    return await returns_reads.read_return(session, return_id)


@router.get("/returns/orders", summary="Find an order to take back, from any channel or store, by an exact "
                                       "identifier (order number, customer e-mail or phone, channel order id)")
async def find_returnable_orders(
    session: SessionDep, principal: Reader,
    number: Annotated[str | None, Query(description="The order number (receipt, confirmation)")] = None,
    email: Annotated[str | None, Query(description="The customer's e-mail")] = None,
    phone: Annotated[str | None, Query(description="The customer's phone")] = None,
    channel_id: int | None = None,
    external_id: Annotated[str | None, Query(description="The channel's id for the order (with channel_id)")] = None,
) -> list[ReturnableOrderRead]:
    return await returns_reads.find_returnable_orders(session, principal=principal, number=number, email=email,
                                                      phone=phone, channel_id=channel_id, external_id=external_id)


@router.get("/returns", summary="Search returns you may see")
async def list_returns(
    session: SessionDep, principal: Reader, params: ListParamsDep, state: ReturnState | None = None,
    location_id: Annotated[int | None, Query(description="Where it is (to be) received")] = None,
    order_number: str | None = None,
    email: Annotated[str | None, Query(description="The customer's e-mail")] = None,
) -> Page[ReturnSummaryRead]:
    items, next_cursor = await returns_reads.list_returns(
        session, principal=principal, state=state.value if state else None, location_id=location_id,
        order_number=order_number, email=email, cursor=params.cursor, limit=params.limit, sort=params.sort)
    return Page(items=items, next_cursor=next_cursor)


@router.get(RETURN, summary="A return with its lines and refunds")
async def get_return(session: SessionDep, principal: Reader, return_id: int) -> ReturnRead:
    return await returns_reads.get_return(session, return_id, principal=principal)


@router.post(RETURN + "/authorise", responses=CONFLICTS, summary="Authorise (requested → authorised)")
async def authorise(session: SessionDep, principal: Writer, return_id: int) -> ReturnRead:
    await returns.authorise_return(session, return_id, principal=principal, actor=principal.label)
    return await returns_reads.read_return(session, return_id)


@router.post(RETURN + "/reject", responses=CONFLICTS, summary="Reject (requested → rejected)")
async def reject(session: SessionDep, principal: Writer, return_id: int, data: ReturnDecision) -> ReturnRead:
    await returns.end_return(session, return_id, ReturnState.REJECTED, reason=data.reason, principal=principal,
                             actor=principal.label)
    return await returns_reads.read_return(session, return_id)


@router.post(RETURN + "/cancel", responses=CONFLICTS,
             summary="Cancel a return not received yet (requested | authorised → cancelled)")
async def cancel(session: SessionDep, principal: Writer, return_id: int, data: ReturnDecision) -> ReturnRead:
    await returns.end_return(session, return_id, ReturnState.CANCELLED, reason=data.reason, principal=principal,
                             actor=principal.label)
    return await returns_reads.read_return(session, return_id)


@router.post(RETURN + "/receive", responses=CONFLICTS,
             summary="The goods are back at a location that accepts returns (authorised → received)")
async def receive(session: SessionDep, principal: Writer, return_id: int, data: ReturnReceive) -> ReturnRead:
    await returns.receive_return(session, return_id, location_id=data.location_id, order_number=data.order_number,
                                 principal=principal, actor=principal.label)
    return await returns_reads.read_return(session, return_id)


@router.post(RETURN + "/inspect", responses=CONFLICTS,
             summary="Condition and disposition of every line; restocked units go back on hand (received → "
                     "inspected)")
async def inspect(session: SessionDep, principal: Writer, return_id: int, data: ReturnInspect) -> ReturnRead:
    await returns.inspect_return(session, return_id, data=data, principal=principal, actor=principal.label)
    return await returns_reads.read_return(session, return_id)


@router.post(RETURN + "/refund", status_code=status.HTTP_201_CREATED, responses=CONFLICTS,
             summary="Refund all or part of what is owed (inspected → refunded when nothing is left)")
async def refund(session: SessionDep, principal: Writer, return_id: int, data: RefundCreate) -> ReturnRead:
    await refunds.refund_return(session, return_id, data=data, principal=principal, actor=principal.label)
    return await returns_reads.read_return(session, return_id)


@router.post(RETURN + "/close", responses=CONFLICTS, summary="Close without (further) refund (inspected → closed)")
async def close(session: SessionDep, principal: Writer, return_id: int, data: ReturnClose) -> ReturnRead:
    await returns.end_return(session, return_id, ReturnState.CLOSED, reason=data.reason, principal=principal,
                             actor=principal.label)
    return await returns_reads.read_return(session, return_id)


@router.post(RETURN + "/exchange", status_code=status.HTTP_201_CREATED, responses=CONFLICTS,
             summary="Exchange returned lines for other variants: a replacement order, at no charge or for the "
                     "difference")
async def exchange(session: SessionDep, principal: Writer, return_id: int, data: ExchangeCreate) -> ExchangeRead:
    order_id = await returns_exchange.exchange_return(session, return_id, data=data, principal=principal,
                                                      actor=principal.label)
    return ExchangeRead(return_=await returns_reads.read_return(session, return_id),
                        order=await service.get_order(session, order_id, principal=None))
