"""Order payloads. Amounts travel as decimal strings in the order's currency."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from omniretail.catalog.rules import check_vat_rate
from omniretail.customers.schemas import CustomerDetails, ImportedBuyer
from omniretail.pricing.schemas import MAX_AMOUNT, AmountIn, AmountOut, UtcDatetime

MAX_LINES = 200
MAX_BIGINT = 2**63 - 1  # what a database integer column holds


def not_blank(value: str | None) -> str | None:
    """An external id is how a repeat is recognised: a blank one would make every blank-id order the same order."""
    if value is not None and not value.strip():
        raise ValueError("must not be blank")
    return value


class DeliveryMethod(StrEnum):
    SHIP = "ship"
    PICKUP = "pickup"
    CURBSIDE = "curbside"
    PICKUP_POINT = "pickup_point"
    COUNTER = "counter"  # sold at the store's till: the customer leaves with the goods (``orders/counter.py``)


class PaymentStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PAID = "paid"
    PAY_ON_PICKUP = "pay_on_pickup"
    CASH_ON_DELIVERY = "cash_on_delivery"
    REFUNDED = "refunded"


class Address(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(default="", max_length=200)
    street: str = Field(default="", max_length=200)
    postal_code: str = Field(default="", max_length=20)
    city: str = Field(default="", max_length=100)
    country: str = Field(default="PL", min_length=2, max_length=2)
    phone: str | None = Field(default=None, max_length=40)
    latitude: float | None = Field(default=None, ge=-90, le=90, description="Used to route to the nearest stock")
    longitude: float | None = Field(default=None, ge=-180, le=180)

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        """ISO 3166 alpha-2, upper case ("pl" is PL): routing zones and phone numbers read it."""
        if not value.isascii() or not value.isalpha():
            raise ValueError("an ISO 3166 country code such as PL, TR or AL")
        return value.upper()


class Delivery(BaseModel):
    method: DeliveryMethod
    pickup_location_id: int | None = Field(default=None, description="The store (pickup, curbside) or pickup point")
    address: Address | None = Field(default=None, description="Where to ship (ship, pickup_point)")

    @model_validator(mode="after")
    def _complete(self) -> Delivery:
        if self.method in (DeliveryMethod.PICKUP, DeliveryMethod.CURBSIDE, DeliveryMethod.COUNTER) \
                and self.pickup_location_id is None:
            raise ValueError(f"{self.method} needs pickup_location_id (the store)")
        if self.method == DeliveryMethod.SHIP and self.address is None:
            raise ValueError("ship needs an address")
        if self.method == DeliveryMethod.PICKUP_POINT and self.pickup_location_id is None and self.address is None:
            raise ValueError("pickup_point needs pickup_location_id or the point's address")
        return self


class OrderLineCreate(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=10_000)


class OrderCreate(BaseModel):
    """An order from a native channel (webshop, app, POS, phone, endless aisle): prices come from the
    channel's price lists, never from the request."""

    channel_id: int
    external_id: str | None = Field(default=None, min_length=1, max_length=200,
                                    description="The channel's id (cart, receipt); placing it twice gives one order")
    customer: CustomerDetails | None = None
    delivery: Delivery
    lines: list[OrderLineCreate] = Field(min_length=1, max_length=MAX_LINES)
    payment_status: PaymentStatus = PaymentStatus.PENDING
    shipping_amount: AmountIn | None = Field(default=None, description="Defaults to the channel's shipping_fee")
    origin_location_id: int | None = Field(default=None, description="The store where staff entered the order")
    note: str = Field(default="", max_length=1000)

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str | None) -> str | None:
        return not_blank(value)


class ImportedLine(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=10_000)
    unit_price: AmountIn = Field(description="What the channel charged per unit")
    discount: AmountIn = Field(default=Decimal(0), description="Discount on the whole line")
    tax_rate: Decimal | None = Field(
        default=None, description="The VAT rate the channel charged, as a fraction (0.19 for 19 %): a sale to "
        "another country is taxed at that country's rate (EU one-stop shop). Absent: the product's rate")

    @field_validator("tax_rate")
    @classmethod
    def _tax_rate(cls, value: Decimal | None) -> Decimal | None:
        return None if value is None else check_vat_rate(value)  # as a product's vat_rate

    @model_validator(mode="after")
    def _sensible(self) -> ImportedLine:
        subtotal = self.unit_price * self.quantity
        if subtotal >= MAX_AMOUNT:
            raise ValueError(f"unit_price × quantity must be below {MAX_AMOUNT:,}")
        if self.discount > subtotal:
            raise ValueError("discount is for the whole line and cannot exceed unit_price × quantity")
        return self


class ImportStatus(StrEnum):
    PLACED = "placed"
    CANCELLED = "cancelled"


class OrderImport(BaseModel):
    """An order as a marketplace reports it. The same (channel, external_id) is one order however often it
    arrives; a later ``revision`` updates it (cancelled by the buyer, new address), an older one is ignored."""

    channel_id: int
    external_id: str = Field(min_length=1, max_length=200)
    revision: int | None = Field(default=None, ge=0, le=MAX_BIGINT,
                                 description="The channel's revision or event sequence")
    status: ImportStatus = ImportStatus.PLACED
    cancel_reason: str | None = Field(default=None, max_length=500)
    placed_at: UtcDatetime | None = None
    currency: str | None = Field(default=None, description="Must be the channel's currency when given")
    buyer: ImportedBuyer | None = None
    delivery: Delivery
    lines: list[ImportedLine] = Field(min_length=1, max_length=MAX_LINES)
    shipping_amount: AmountIn = Decimal(0)
    payment_status: PaymentStatus = PaymentStatus.PAID
    note: str = Field(default="", max_length=1000)

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str | None) -> str | None:
        return not_blank(value)


class OrderCancel(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class PaymentUpdate(BaseModel):
    payment_status: PaymentStatus


class ShipmentCreate(BaseModel):
    carrier: str = Field(min_length=1, max_length=60)
    tracking_number: str = Field(min_length=1, max_length=100)
    tracking_url: str | None = Field(default=None, max_length=500)
    parcels: list[dict[str, Any]] = Field(default_factory=list, description="Weights, sizes, labels per parcel")
    order_line_ids: list[int] | None = Field(default=None,
                                             description="Lines in this shipment; default: every line not yet shipped")


class HandOver(BaseModel):
    pickup_code: str = Field(min_length=1, max_length=12)


class CheckIn(BaseModel):
    bay: str = Field(default="", max_length=40)
    car: str = Field(default="", max_length=200, description="Car make, colour, plate")
    note: str = Field(default="", max_length=500)


class OrderLineRead(BaseModel):
    id: int
    position: int
    sku: str
    variant_id: int
    quantity: int
    quantity_backordered: int
    quantity_cancelled: int
    unit_price: AmountOut
    discount: AmountOut
    tax_rate: AmountOut
    tax: AmountOut
    total: AmountOut
    price_source: str
    state: str


class FulfilmentLineRead(BaseModel):
    order_line_id: int
    sku: str
    quantity: int
    reservation_id: int | None
    shipped: int = 0
    received: int | None = Field(default=None, description="Ship-to-store: units already at the pickup store "
                                                           "(the rest is in transit)")


# How a fulfilment order reaches the customer: the order's delivery methods, and ``ship_to_store`` for the leg a
# location sends to the pickup store (``orders/ship_to_store.py``).
FulfilmentMethod = StrEnum("FulfilmentMethod", {**{m.name: m.value for m in DeliveryMethod},
                                                "SHIP_TO_STORE": "ship_to_store"})


class ShipmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    fulfilment_order_id: int
    carrier: str
    tracking_number: str
    tracking_url: str | None
    parcels: list[dict[str, Any]]
    lines: list[dict[str, Any]]
    state: str
    shipped_at: datetime
    delivered_at: datetime | None


class FulfilmentOrderRead(BaseModel):
    id: int
    order_id: int
    location_id: int
    delivery_method: FulfilmentMethod
    state: str
    allowed_moves: list[str]
    lines: list[FulfilmentLineRead]
    has_pickup_code: bool = Field(description="The code itself goes only to the customer")
    checked_in_at: datetime | None = None
    check_in: dict[str, Any] | None = None
    assigned_to: str | None = None
    ready_at: datetime | None = None
    created_at: datetime
    promised_by: datetime | None = Field(default=None, description="Ready for pickup (collected) or dispatched "
                                                                   "(shipped) by then")
    escalation_level: int = Field(default=0, description="Alerts sent: 1 due soon, 2 late")
    transfer_id: int | None = Field(default=None, description="Ship-to-store: the transfer moving the goods")
    shipments: list[ShipmentRead] = Field(default_factory=list)


class OrderEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    kind: str
    fulfilment_order_id: int | None
    from_state: str | None
    to_state: str | None
    data: dict[str, Any]


class OrderSummaryRead(BaseModel):
    id: int
    number: str
    channel_id: int
    external_id: str | None
    customer_id: int | None
    contact: dict[str, Any]
    currency: str
    state: str
    payment_status: PaymentStatus
    delivery_method: DeliveryMethod
    pickup_location_id: int | None
    origin_location_id: int | None
    total: AmountOut
    placed_at: datetime


class OrderRead(OrderSummaryRead):
    allowed_moves: list[str]
    shipping_address: dict[str, Any] | None
    subtotal: AmountOut
    discount: AmountOut
    tax: AmountOut = Field(description="The lines' tax and the shipping's (shipping_tax)")
    shipping: AmountOut = Field(description="As charged: gross when prices_include_tax, else net")
    shipping_tax: AmountOut = Field(description="The part of tax on the shipping: taxed like the goods, split "
                                                "over their rates by the lines' taxable bases; included in "
                                                "shipping when prices_include_tax, else added to the total")
    prices_include_tax: bool
    channel_revision: int | None
    note: str
    cancel_reason: str | None
    routing: dict[str, Any]
    updated_at: datetime
    lines: list[OrderLineRead]
    fulfilment_orders: list[FulfilmentOrderRead]
    timeline: list[OrderEventRead] = Field(default_factory=list)


class OrderImportRead(BaseModel):
    created: bool = Field(description="False when the order was already imported")
    revision_applied: bool = Field(description="Whether this revision changed the order")
    not_applied: list[Literal["address", "lines", "payment", "cancel"]] = Field(
        default_factory=list, description="What the revision changed that the order did not take: `lines` (a placed "
        "order's lines are not re-imported), `address` (something has shipped), `payment` (a payment status that "
        "may not follow the order's, such as paid → pending), `cancel` (everything went out); each is an alert on "
        "the order's timeline for staff")
    order: OrderRead
