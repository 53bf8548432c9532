"""``/orders``, ``/fulfilment-orders`` and the channel's view of its orders."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field

from omniretail.api.deps import ListParamsDep, SessionDep, SettingsDep, require
from omniretail.api.direct import DirectEndpoint
from omniretail.api.routing import TransactionalRoute
from omniretail.auth.schemas import Principal
from omniretail.platform.errors import PermissionDenied
from omniretail.platform.pagination import Page

from . import fulfilment, imports, service, waves
from .placement import Placement, place_order
from .reads import summary_read
from .schemas import (
    CheckIn,
    FulfilmentOrderRead,
    HandOver,
    OrderCancel,
    OrderCreate,
    OrderImport,
    OrderImportRead,
    OrderRead,
    OrderSummaryRead,
    PaymentUpdate,
    ShipmentCreate,
)
from .states import OrderState
from .waves import MAX_ORDERS

router = APIRouter(tags=["orders"], route_class=TransactionalRoute)

Reader = Annotated[Principal, require("orders:read")]
Writer = Annotated[Principal, require("orders:write")]

CONFLICTS = {409: {"description": "Illegal transition (with current_state and the allowed moves), not enough "
                                  "stock, or changed meanwhile by someone else"}}


@router.post("/orders", status_code=status.HTTP_201_CREATED, responses=CONFLICTS,
             summary="Place an order (webshop, app, POS, phone, endless aisle)")
async def place(session: SessionDep, principal: Writer, data: OrderCreate) -> OrderRead:
    placed = await place_order(session, placement=Placement.from_create(data), principal=principal,
                               actor=principal.label)
    if not placed.created:  # the same external id again: the order it made
        existing = await service.get_order(session, placed.order_id, principal=principal)
        return Response(ORDER_JSON(existing), status_code=status.HTTP_200_OK, media_type="application/json")
    # serialised once, straight from the model built from what was written (FastAPI would validate it again)
    return Response(ORDER_JSON(placed.read), status_code=status.HTTP_201_CREATED, media_type="application/json")


# the request every channel sends: dispatched past FastAPI's router and dependency solving (api/direct.py)
DIRECT = (DirectEndpoint(router, "POST", "/orders"),)

ORDER_JSON = OrderRead.__pydantic_serializer__.to_json


@router.post("/orders/import", responses=CONFLICTS,
             summary="Import an order from a marketplace (idempotent; newer revisions update it)")
async def import_order(session: SessionDep, principal: Writer, data: OrderImport,
                       response: Response) -> OrderImportRead:
    result = await imports.import_order(session, data=data, principal=principal, actor=principal.label)
    response.status_code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    return result


@router.get("/orders", summary="Search orders you may see")
async def list_orders(
    session: SessionDep, principal: Reader, params: ListParamsDep,
    number: Annotated[str | None, Query(description="The order number")] = None,
    email: Annotated[str | None, Query(description="The customer's e-mail")] = None,
    channel_id: int | None = None, state: OrderState | None = None, customer_id: int | None = None,
    location_id: Annotated[int | None, Query(description="Entered at or fulfilled by this location")] = None,
) -> Page[OrderSummaryRead]:
    rows, next_cursor = await service.list_orders(
        session, principal=principal, number=number, email=email, channel_id=channel_id,
        state=state.value if state else None, customer_id=customer_id, location_id=location_id,
        cursor=params.cursor, limit=params.limit, sort=params.sort)
    return Page(items=[summary_read(r.__dict__) for r in rows], next_cursor=next_cursor)


@router.get("/orders/{order_id}", summary="An order with its lines, fulfilment orders, shipments and timeline")
async def get_order(session: SessionDep, principal: Reader, order_id: int) -> OrderRead:
    return await service.get_order(session, order_id, principal=principal)


@router.get("/channels/{channel_id}/orders/by-external-id/{external_id}",
            summary="An order by the channel's own id for it")
async def order_by_external_id(session: SessionDep, principal: Reader, channel_id: int,
                               external_id: str) -> OrderRead:
    return await service.order_by_external_id(session, channel_id, external_id, principal=principal)


@router.post("/orders/{order_id}/cancel", responses=CONFLICTS,
             summary="Cancel an order (releases its stock; the customer is told the reason)")
async def cancel_order(session: SessionDep, principal: Writer, order_id: int, data: OrderCancel) -> OrderRead:
    await service.cancel_order(session, order_id, reason=data.reason, actor=principal.label, principal=principal)
    return await service.get_order(session, order_id, principal=principal)


@router.post("/orders/{order_id}/payment", responses=CONFLICTS,
             summary="Record the payment status (a paid order awaiting payment is confirmed)")
async def record_payment(session: SessionDep, principal: Writer, order_id: int, data: PaymentUpdate) -> OrderRead:
    await service.record_payment(session, order_id, payment_status=data.payment_status.value,
                                 actor=principal.label, principal=principal)
    return await service.get_order(session, order_id, principal=principal)


# --- fulfilment orders -----------------------------------------------------------------------------------

FO = "/fulfilment-orders/{fulfilment_order_id}"


@router.get(FO, summary="A fulfilment order")
async def get_fulfilment_order(session: SessionDep, principal: Reader, fulfilment_order_id: int
                               ) -> FulfilmentOrderRead:
    await fulfilment.load(session, fulfilment_order_id, principal=principal)
    return await fulfilment.read(session, fulfilment_order_id)


@router.post(FO + "/pick", responses=CONFLICTS, summary="Start picking (new → picking)")
async def pick(session: SessionDep, principal: Writer, fulfilment_order_id: int) -> FulfilmentOrderRead:
    return await fulfilment.start_picking(session, fulfilment_order_id, principal=principal, actor=principal.label)


@router.post(FO + "/picked", responses=CONFLICTS, summary="Picking done (picking → picked)")
async def picked(session: SessionDep, principal: Writer, fulfilment_order_id: int) -> FulfilmentOrderRead:
    return await fulfilment.mark_picked(session, fulfilment_order_id, principal=principal, actor=principal.label)


@router.post(FO + "/ready", responses=CONFLICTS,
             summary="Ready for pickup (picked → ready_for_pickup; the customer gets a pickup code)")
async def ready(session: SessionDep, principal: Writer, fulfilment_order_id: int,
                settings: SettingsDep) -> FulfilmentOrderRead:
    return await fulfilment.mark_ready(session, fulfilment_order_id, principal=principal, actor=principal.label,
                                      secret_key=settings.resolved_secret_key())


@router.post(FO + "/hand-over", responses=CONFLICTS,
             summary="Hand over to the customer, pickup code checked (ready_for_pickup → handed_over)")
async def hand_over(session: SessionDep, principal: Writer, fulfilment_order_id: int,
                    data: HandOver, settings: SettingsDep) -> FulfilmentOrderRead:
    return await fulfilment.hand_over(session, fulfilment_order_id, pickup_code=data.pickup_code,
                                      principal=principal, actor=principal.label,
                                      secret_key=settings.resolved_secret_key())


@router.post(FO + "/ship", responses=CONFLICTS,
             summary="Ship some or all lines (picked → shipped when the last line leaves)")
async def ship(session: SessionDep, principal: Writer, fulfilment_order_id: int,
               data: ShipmentCreate) -> FulfilmentOrderRead:
    return await fulfilment.ship(session, fulfilment_order_id, data=data, principal=principal,
                                 actor=principal.label)


@router.post(FO + "/deliver", responses=CONFLICTS, summary="Delivery confirmed (shipped → delivered)")
async def deliver(session: SessionDep, principal: Writer, fulfilment_order_id: int,
                  shipment_id: int | None = None) -> FulfilmentOrderRead:
    return await fulfilment.deliver(session, fulfilment_order_id, shipment_id=shipment_id, principal=principal,
                                    actor=principal.label)


@router.post(FO + "/check-in", responses=CONFLICTS, summary="Curbside: the customer has arrived")
async def check_in(session: SessionDep, principal: Writer, fulfilment_order_id: int,
                   data: CheckIn) -> FulfilmentOrderRead:
    return await fulfilment.check_in(session, fulfilment_order_id, data=data, principal=principal,
                                     actor=principal.label)


@router.post(FO + "/cancel", responses=CONFLICTS, summary="Cancel one fulfilment order (releases its stock)")
async def cancel_fulfilment(session: SessionDep, principal: Writer, fulfilment_order_id: int,
                            data: OrderCancel) -> FulfilmentOrderRead:
    return await fulfilment.cancel_fulfilment(session, fulfilment_order_id, reason=data.reason,
                                              actor=principal.label, principal=principal,
                                              template="order_cancelled")


# --- batch waves ---------------------------------------------------------------------------------------------

class WaveRequest(BaseModel):
    order_ids: list[int] | None = Field(default=None, max_length=MAX_ORDERS,
                                        description="Route these orders' waiting units (default: the oldest)")
    order_line_ids: list[int] | None = Field(default=None, max_length=5000,
                                             description="Only these backordered / pre-ordered lines")
    strategy: Literal["optimal", "greedy"] = "optimal"


class WaveOrderRead(BaseModel):
    order_id: int
    number: str
    cost: float
    locations: list[int]
    assignments: list[dict[str, Any]] = Field(description="order_line_id, sku, location_id, quantity")
    lines: list[dict[str, Any]] = Field(description="Per line: units routed now and still waiting")
    fulfilment_order_ids: list[int]


class WaveRead(BaseModel):
    strategy: str
    orders: list[WaveOrderRead]
    units_routed: int
    units_waiting: int
    total_cost: float
    runner_up_cost: float | None = Field(description="The first-come, first-served (greedy) wave's cost")
    lower_bound: float | None
    solve_ms: float


def _wave_manager(principal: Annotated[Principal, require("orders:write")]) -> Principal:
    if not principal.can("locations:write") or principal.location_ids is not None:
        raise PermissionDenied("a wave draws on every location's stock: managers run it",
                               permission="locations:write")
    return principal


@router.post("/orders/route-wave", responses=CONFLICTS,
             summary="Route waiting units (backorders, pre-orders) of many orders together on current stock")
async def route_wave(session: SessionDep, principal: Annotated[Principal, Depends(_wave_manager)],
                     data: WaveRequest) -> WaveRead:
    report = await waves.route_orders(session, order_ids=data.order_ids, line_ids=data.order_line_ids,
                                      strategy=data.strategy, actor=principal.label)
    return WaveRead.model_validate(report.as_dict())
