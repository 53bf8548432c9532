"""``/fulfilment-orders/{id}/reject-lines`` (an associate cannot pick a line) and the customer's signed
``/orders/{id}/lines/{line_id}/decline`` (a refund instead of the changed promise)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from omniretail.api.deps import SessionDep, SettingsDep, require
from omniretail.api.routing import TransactionalRoute
from omniretail.auth.schemas import Principal

from . import decline
from .pick_exceptions import PickRejection, outcome_json, reject_pick

router = APIRouter(tags=["orders"], route_class=TransactionalRoute)
Writer = Annotated[Principal, require("orders:write")]


class RejectedLine(BaseModel):
    order_line_id: int
    quantity: int = Field(ge=1)
    reason: Literal["not_found", "damaged"]
    note: str = Field(default="", max_length=500)


class PickRejectionCreate(BaseModel):
    lines: list[RejectedLine] = Field(min_length=1, max_length=200)


class StockCorrection(BaseModel):
    location_id: int
    movement_kind: Literal["count", "damage"]
    on_hand_before: int
    on_hand_after: int
    removed: int
    unresolved: int = Field(description="Rejected units other orders still hold at the location (not removed)")


class Rerouting(BaseModel):
    location_id: int
    fulfilment_order_id: int
    quantity: int
    ship_to_store: bool = Field(description="Sent to the customer's pickup store with a transfer")
    transfer_id: int | None = None
    pickup_fulfilment_order_id: int | None = Field(default=None, description="The pickup store's waiting order")


class RejectedLineRead(BaseModel):
    order_line_id: int
    sku: str
    quantity: int
    reason: str
    stock: StockCorrection
    rerouted: list[Rerouting]
    backordered: int
    cancelled: int
    customer_told: bool


class PhantomCount(BaseModel):
    sku: str
    location_id: int
    rejections: int
    buffer: int


class PickRejectionRead(BaseModel):
    fulfilment_order_id: int
    order_id: int
    state: str = Field(description="The rejecting fulfilment order's state afterwards (cancelled when emptied)")
    new_fulfilment_order_ids: list[int]
    customer_told: bool
    phantom_stock: list[PhantomCount]
    lines: list[RejectedLineRead]


class DeclineRead(BaseModel):
    order_id: int
    order_line_id: int
    declined: int
    order_state: str
    refund: dict[str, Any] | None = Field(description="The refund recorded (paid orders); none when unpaid")


class DeclineCreate(BaseModel):
    token: str = Field(min_length=3, max_length=200, description="The token of the link in the customer's message")


@router.post("/fulfilment-orders/{fulfilment_order_id}/reject-lines",
             responses={409: {"description": "Someone else picked or rejected it meanwhile, or it is past picking"}},
             summary="Lines (or units) that cannot be picked: not found or damaged; stock corrected and re-routed")
async def reject_lines(session: SessionDep, settings: SettingsDep, principal: Writer, fulfilment_order_id: int,
                       data: PickRejectionCreate) -> PickRejectionRead:
    outcome = await reject_pick(
        session, fulfilment_order_id, principal=principal, actor=principal.label,
        lines=[PickRejection(x.order_line_id, x.quantity, x.reason, x.note) for x in data.lines],
        secret_key=settings.resolved_secret_key())
    return PickRejectionRead.model_validate(outcome_json(outcome))


@router.post("/orders/{order_id}/lines/{line_id}/decline",
             responses={403: {"description": "The link is not valid or has expired"},
                        409: {"description": "Nothing of the line is still to come"}},
             summary="The customer declines a changed line (signed link, no login): cancelled and refunded")
async def decline_line(session: SessionDep, settings: SettingsDep, order_id: int, line_id: int,
                       data: DeclineCreate) -> DeclineRead:
    return DeclineRead.model_validate(await decline.decline_line(session, order_id, line_id, token=data.token,
                                      secret_key=settings.resolved_secret_key()))
