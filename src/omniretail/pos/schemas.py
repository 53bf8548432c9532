"""Point-of-sale payloads. Amounts travel as decimal strings in the shift's currency."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, model_validator

from omniretail.customers.schemas import CustomerDetails
from omniretail.orders.schemas import Address, OrderLineCreate
from omniretail.pricing.schemas import AmountIn, AmountOut


class ShiftState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class PaymentMethod(StrEnum):
    CASH = "cash"
    CARD = "card"


class CashMovementKind(StrEnum):
    PAID_IN = "paid_in"
    PAID_OUT = "paid_out"
    REFUND = "refund"


class ShiftOpen(BaseModel):
    location_id: int
    register_code: str = Field(default="1", min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$",
                               description="The till at the store; created on its first shift")
    opening_float: AmountIn = Field(description="Cash in the drawer at opening")


class ShiftClose(BaseModel):
    counted_cash: AmountIn | None = Field(default=None, description="The drawer's total, counted")
    denominations: dict[str, int] | None = Field(
        default=None, description='Or counted note by note: {"100": 3, "0.50": 4}')
    note: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _one_count(self) -> ShiftClose:
        if (self.counted_cash is None) == (self.denominations is None):
            raise ValueError("give counted_cash or denominations (one of them)")
        return self


class CashMovementCreate(BaseModel):
    kind: CashMovementKind
    amount: AmountIn
    reason: str = Field(default="", max_length=500)
    order_id: int | None = Field(
        default=None, description="The order a cash refund is for (refunds only): one the caller may see, in the "
                                  "shift's currency, with at least the amount left to refund (paid less every "
                                  "refund recorded for it); the refund is recorded on the order too. An order paid "
                                  "by card or online may be refunded in cash up to the same limit")
    reference: str | None = Field(default=None, max_length=200,
                                  description="Your id for it: the same reference is recorded once per shift (sent "
                                              "again: the first movement, 200; with another content: 422)")


class CashMovementRead(BaseModel):
    id: int
    kind: str
    amount: AmountOut = Field(description="Into the drawer (+) or out of it (−)")
    order_id: int | None
    reference: str | None
    reason: str
    actor: str
    at: datetime
    created: bool = Field(default=True, description="False when this reference was recorded before (a retry)")
    refund_id: int | None = Field(default=None, description="A cash refund for an order: the order's refund record")
    order_payment: str | None = Field(
        default=None, description="A cash refund for an order: how the order was paid — cash or card (a sale at a "
                                  "till) or other (e.g. online)")
    notice: str | None = Field(default=None, description="Set when a card or other payment was refunded in cash")


class ShiftRead(BaseModel):
    id: int
    register_id: int
    register_code: str
    location_id: int
    channel_id: int
    currency: str
    state: ShiftState
    opened_by: str
    opened_at: datetime
    opening_float: AmountOut
    expected_cash: AmountOut = Field(description="Float + cash sales − cash refunds + paid in − paid out")
    closed_by: str | None
    closed_at: datetime | None
    counted_cash: AmountOut | None
    difference: AmountOut | None = Field(description="Counted − expected: negative when cash is missing")
    count_detail: dict
    note: str


class PaymentTotals(BaseModel):
    method: PaymentMethod
    sales: int
    total: AmountOut


class ShiftReportRead(BaseModel):
    shift: ShiftRead
    cash_sales: AmountOut
    cash_refunds: AmountOut
    paid_in: AmountOut
    paid_out: AmountOut
    payments: list[PaymentTotals]
    movements: list[CashMovementRead]


class CounterSaleCreate(BaseModel):
    location_id: int
    sale_id: str = Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_-]+$",
                         description="The till's id for this sale: sending it again gives the same sale (200); "
                                     "with other lines, payment or cash handed over it is refused (422)")
    lines: list[OrderLineCreate] = Field(min_length=1, max_length=200)
    payment_method: PaymentMethod
    tendered: AmountIn | None = Field(default=None, description="Cash handed over (cash only); change is given back")
    customer: CustomerDetails | None = None


class HomeDeliveryCreate(CounterSaleCreate):
    """Endless aisle: sold at the till, shipped to the customer from wherever the routing engine picks."""

    customer: CustomerDetails
    address: Address


class SaleRead(BaseModel):
    order_id: int
    order_number: str
    kind: str
    location_id: int
    shift_id: int
    payment_method: PaymentMethod
    currency: str
    total: AmountOut
    tendered: AmountOut | None
    change: AmountOut | None
    sold_by: str
    sold_at: datetime
    created: bool = Field(default=True, description="False when this sale_id was rung up before")
