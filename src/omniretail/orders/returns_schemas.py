"""Return, refund and exchange payloads. Amounts travel as decimal strings in the order's currency."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from omniretail.pricing.schemas import AmountIn, AmountOut

from .schemas import Delivery, OrderRead, PaymentStatus

MAX_RETURN_LINES = 200


class ReturnReason(StrEnum):
    DAMAGED = "damaged"
    DEFECTIVE = "defective"
    WRONG_ITEM = "wrong_item"
    WRONG_SIZE = "wrong_size"
    NOT_AS_DESCRIBED = "not_as_described"
    CHANGED_MIND = "changed_mind"
    ARRIVED_LATE = "arrived_late"
    OTHER = "other"


class Condition(StrEnum):
    NEW = "new"
    OPENED = "opened"
    USED = "used"
    DAMAGED = "damaged"


class Disposition(StrEnum):
    RESTOCK = "restock"  # back on the shelf at the receiving location (a return_restock movement)
    DAMAGED = "damaged"  # written off: not restocked, recorded as damaged
    RETURN_TO_VENDOR = "return_to_vendor"  # kept aside for the supplier: not restocked


class RefundMethod(StrEnum):
    ORIGINAL_PAYMENT = "original_payment"
    CASH = "cash"
    CARD = "card"
    STORE_CREDIT = "store_credit"
    VOUCHER = "voucher"
    MARKETPLACE = "marketplace"  # the marketplace the order came from pays it back through its own payments


class ExchangeCharge(StrEnum):
    DIFFERENCE = "difference"  # the returned goods' value is credited; the customer pays any difference
    NONE = "none"  # the replacement costs nothing


def _upper(value: str | None) -> str | None:
    return value.strip().upper() if value else None


class ReturnLineCreate(BaseModel):
    order_line_id: int
    quantity: int = Field(ge=1, le=10_000)
    reason: ReturnReason
    note: str = Field(default="", max_length=500)


class ReturnCreate(BaseModel):
    lines: list[ReturnLineCreate] = Field(min_length=1, max_length=MAX_RETURN_LINES)
    location_id: int | None = Field(default=None, description="Where the goods will come back: a store that "
                                    "accepts returns, or the warehouse for a return by post")
    authorise: bool = Field(default=False, description="Staff taking a return in store authorise it at once")
    note: str = Field(default="", max_length=1000)
    order_number: str | None = Field(default=None, max_length=40, description=(
        "The order number from the customer's receipt or confirmation. A store associate returning an order "
        "their store neither sold nor fulfilled must quote it"))

    @field_validator("order_number")
    @classmethod
    def _number(cls, value: str | None) -> str | None:
        return _upper(value)


class ReturnDecision(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class ReturnClose(BaseModel):
    reason: str = Field(default="", max_length=500)


class ReturnReceive(BaseModel):
    location_id: int | None = Field(default=None, description="Where it was received; default: where expected")
    order_number: str | None = Field(default=None, max_length=40, description=(
        "A store associate receiving a return expected elsewhere quotes the order number (the customer's receipt)"))

    @field_validator("order_number")
    @classmethod
    def _number(cls, value: str | None) -> str | None:
        return _upper(value)


class LineInspection(BaseModel):
    return_line_id: int
    condition: Condition
    disposition: Disposition
    note: str = Field(default="", max_length=500)


class ReturnInspect(BaseModel):
    lines: list[LineInspection] = Field(min_length=1, max_length=MAX_RETURN_LINES,
                                        description="One entry for every line of the return")


class RefundCreate(BaseModel):
    amount: Annotated[AmountIn, Field(gt=0)] | None = Field(
        default=None, description="More than zero; default: everything still owed on the return")
    method: RefundMethod = RefundMethod.ORIGINAL_PAYMENT
    include_shipping: bool = Field(default=False, description="Also pay back the order's shipping (once per order)")
    location_id: int | None = Field(default=None, description="The store paying out (cash); default: the return's")
    reference: str | None = Field(default=None, max_length=200, description="The payment provider's refund id")
    reason: str = Field(default="", max_length=500)


class ExchangeLineCreate(BaseModel):
    return_line_id: int
    sku: str = Field(min_length=1, max_length=64, description="The replacement variant")
    quantity: int | None = Field(default=None, ge=1, le=10_000, description="Default: the returned quantity")


class ExchangeCreate(BaseModel):
    lines: list[ExchangeLineCreate] = Field(min_length=1, max_length=MAX_RETURN_LINES)
    charge: ExchangeCharge = ExchangeCharge.DIFFERENCE
    delivery: Delivery | None = Field(default=None, description="Default: pick up at the return's location")
    channel_id: int | None = Field(default=None, description="Default: the original order's channel")
    payment_status: PaymentStatus | None = Field(
        default=None, description="Default: paid when nothing is left to pay, otherwise pending")


class ReturnLineRead(BaseModel):
    id: int
    order_line_id: int
    sku: str
    variant_id: int
    quantity: int
    reason: str
    note: str
    value: AmountOut
    tax: AmountOut
    condition: str | None
    disposition: str | None
    inspection_note: str
    movement_id: int | None
    exchange_order_id: int | None
    exchange_order_line_id: int | None
    exchange_credit: AmountOut


class RefundRead(BaseModel):
    id: int
    amount: AmountOut
    shipping: AmountOut
    currency: str
    method: str
    location_id: int | None
    reference: str | None
    reason: str
    actor: str
    created_at: datetime


class ReturnSummaryRead(BaseModel):
    id: int
    number: str
    order_id: int
    order_number: str
    channel_id: int
    location_id: int | None
    state: str
    currency: str
    amount: AmountOut = Field(description="The returned goods' value to be paid back (less exchange credit)")
    refunded: AmountOut
    created_at: datetime


class ReturnRead(ReturnSummaryRead):
    allowed_moves: list[str]
    shipping_refunded: AmountOut
    refundable: AmountOut = Field(description="Goods' value still owed (shipping comes on top when chosen)")
    note: str
    outcome: str | None
    requested_by: str
    updated_at: datetime
    authorised_at: datetime | None
    received_at: datetime | None
    inspected_at: datetime | None
    closed_at: datetime | None
    lines: list[ReturnLineRead]
    refunds: list[RefundRead] = Field(default_factory=list)


class ReturnableLineRead(BaseModel):
    order_line_id: int
    sku: str
    quantity: int
    delivered: int = Field(description="Units handed over or delivered to the customer")
    returned: int = Field(description="Units in returns so far (not rejected or cancelled)")
    returnable: int
    value_per_unit: AmountOut = Field(description="About what one more unit refunds (discounts included)")


class ReturnableOrderRead(BaseModel):
    """What a store needs to take an order back, and no more (no address, payment or timeline)."""

    order_id: int
    number: str
    channel_id: int
    external_id: str | None
    currency: str
    state: str
    placed_at: datetime
    customer_name: str
    lines: list[ReturnableLineRead]


class ExchangeRead(BaseModel):
    return_: ReturnRead = Field(alias="return", serialization_alias="return")
    order: OrderRead = Field(description="The replacement order, placed through the usual order path")

    model_config = {"populate_by_name": True}
