from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, model_validator

MAX_LINES = 1000
MAX_BULK_SKUS = 10_000
Sku = Field(min_length=1, max_length=64)
# The most units one movement, count or setting may carry: far beyond any shop, far inside a 64-bit column
# (a mistyped figure is refused with its field named, instead of overflowing the ledger).
MAX_UNITS = 1_000_000_000


class MovementKind(StrEnum):
    RECEIPT = "receipt"
    SALE = "sale"
    ADJUSTMENT = "adjustment"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    RETURN_RESTOCK = "return_restock"
    COUNT = "count"
    DAMAGE = "damage"


class AdjustmentKind(StrEnum):
    ADJUSTMENT = "adjustment"
    DAMAGE = "damage"
    RETURN_RESTOCK = "return_restock"


class ReservationKind(StrEnum):
    ORDER_LINE = "order_line"
    CART_HOLD = "cart_hold"


class ReservationState(StrEnum):
    OPEN = "open"
    CONSUMED = "consumed"
    RELEASED = "released"
    EXPIRED = "expired"


class Reference(BaseModel):
    reference_type: str | None = Field(default=None, max_length=40, description="e.g. purchase_order, order")
    reference_id: str | None = Field(default=None, max_length=100)


class ReceiptLine(BaseModel):
    sku: str = Sku
    quantity: int = Field(gt=0, le=MAX_UNITS)


class AdjustmentLine(BaseModel):
    sku: str = Sku
    quantity: int = Field(ge=-MAX_UNITS, le=MAX_UNITS, description="Signed change of on-hand stock")

    @model_validator(mode="after")
    def _not_zero(self) -> AdjustmentLine:
        if self.quantity == 0:
            raise ValueError("quantity must not be 0")
        return self


class CountLine(BaseModel):
    sku: str = Sku
    counted: int = Field(ge=0, le=MAX_UNITS, description="What is physically there")


class StockReceiptCreate(Reference):
    location_id: int
    lines: list[ReceiptLine] = Field(min_length=1, max_length=MAX_LINES)
    reason: str = Field(default="", max_length=500)


class StockAdjustmentCreate(Reference):
    location_id: int
    lines: list[AdjustmentLine] = Field(min_length=1, max_length=MAX_LINES)
    kind: AdjustmentKind = AdjustmentKind.ADJUSTMENT
    reason: str = Field(min_length=1, max_length=500, description="Why the stock changed (required)")


class StockCountCreate(Reference):
    location_id: int
    lines: list[CountLine] = Field(min_length=1, max_length=MAX_LINES)
    reason: str = Field(default="", max_length=500)


class MovementRead(BaseModel):
    id: int
    sku: str
    variant_id: int
    location_id: int
    kind: MovementKind
    quantity: int
    on_hand_after: int
    reference_type: str | None
    reference_id: str | None
    reason: str
    actor: str
    created_at: datetime


class MovementsRead(BaseModel):
    movements: list[MovementRead]


class ReservationCreate(BaseModel):
    sku: str = Sku
    location_id: int
    quantity: int = Field(gt=0, le=MAX_UNITS)
    kind: ReservationKind = ReservationKind.ORDER_LINE
    reference: str = Field(default="", max_length=200, description="e.g. order:1042/line:2 or cart:abc")
    channel_id: int | None = None
    expires_in_s: int | None = Field(default=None, gt=0, le=30 * 24 * 3600,
                                     description="Hold expiry; cart holds default to 15 minutes")


class ReservationRead(BaseModel):
    id: int
    sku: str
    variant_id: int
    location_id: int
    quantity: int
    state: ReservationState
    kind: ReservationKind
    reference: str
    channel_id: int | None
    expires_at: datetime | None
    available_after: int | None = Field(default=None, description="Available at the location after the change")


class ReservationRelease(BaseModel):
    reservation_ids: list[int] = Field(default_factory=list, max_length=MAX_LINES)
    reference: str | None = Field(default=None, max_length=200, description="Release every open one of it")

    @model_validator(mode="after")
    def _one_way(self) -> ReservationRelease:
        if bool(self.reservation_ids) == bool(self.reference):
            raise ValueError("give reservation_ids or reference, not both")
        return self


class ReservationsClosed(BaseModel):
    released: list[int]


class ReservationConsume(Reference):
    reservation_id: int


class StockLevelRead(BaseModel):
    sku: str
    variant_id: int
    location_id: int
    location_code: str
    on_hand: int
    reserved: int
    safety_stock: int
    available: int = Field(description="on_hand − reserved − safety_stock (may be negative; promised as 0)")
    low_stock_threshold: int | None = Field(description="Effective: the level's own or the location default")
    low_stock: bool
    version: int
    updated_at: datetime


class StockLevelUpdate(BaseModel):
    sku: str = Sku
    location_id: int
    safety_stock: int | None = Field(default=None, ge=0, le=MAX_UNITS)
    low_stock_threshold: int | None = Field(default=None, ge=0, le=MAX_UNITS,
                                            description="null: follow the location default")


class LocationStockSettingsRead(BaseModel):
    location_id: int
    default_low_stock_threshold: int | None = None
    allow_negative_stock: bool = False


class LocationStockSettingsUpdate(BaseModel):
    default_low_stock_threshold: int | None = Field(default=None, ge=0, le=MAX_UNITS)
    allow_negative_stock: bool | None = None


class AvailabilityRead(BaseModel):
    sku: str
    variant_id: int
    channel: str | None
    available: int = Field(description="Σ available over the locations considered")
    promised: int = Field(description="What the channel may show after its stock policy")
    limited_to_your_locations: bool = False
    promised_incoming: int = Field(default=0, description="Of ``promised``: goods on order sold ahead")
    expected_date: date | None = Field(default=None, description="When goods sold ahead are expected")
    explanation: dict[str, Any] | None = None


class BulkAvailabilityCreate(BaseModel):
    skus: list[str] = Field(min_length=1)
    channel: str | None = Field(default=None, description="Channel code; none: every location you may see")


class BulkAvailabilityItem(BaseModel):
    sku: str
    available: int
    promised: int
    promised_incoming: int = 0


class BulkAvailabilityRead(BaseModel):
    channel: str | None
    items: list[BulkAvailabilityItem]
    unknown_skus: list[str]
    limited_to_your_locations: bool = False


# --- transfers ---------------------------------------------------------------------------------------------

class TransferState(StrEnum):
    REQUESTED = "requested"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    CANCELLED = "cancelled"


class TransferCreate(BaseModel):
    source_location_id: int
    destination_location_id: int
    lines: list[ReceiptLine] = Field(min_length=1, max_length=MAX_LINES)
    order_reference: str | None = Field(default=None, max_length=100,
                                        description="The order a ship-to-store transfer serves, e.g. order:1042")
    note: str = Field(default="", max_length=500)


class TransferLineQuantity(BaseModel):
    sku: str = Sku
    quantity: int = Field(ge=0, le=MAX_UNITS)


class TransferShip(BaseModel):
    lines: list[TransferLineQuantity] | None = Field(
        default=None, max_length=MAX_LINES, description="Shipped per SKU (at most requested); none: all requested")


class TransferReceive(BaseModel):
    lines: list[TransferLineQuantity] | None = Field(
        default=None, max_length=MAX_LINES, description="Received per SKU; none: everything still in transit")


class TransferLineRead(BaseModel):
    sku: str
    variant_id: int
    quantity_requested: int
    quantity_shipped: int
    quantity_received: int
    quantity_in_transit: int


class TransferRead(BaseModel):
    id: int
    source_location_id: int
    source_location_code: str
    destination_location_id: int
    destination_location_code: str
    state: TransferState
    order_reference: str | None
    note: str
    requested_by: str
    shipped_by: str
    received_by: str
    created_at: datetime
    shipped_at: datetime | None
    received_at: datetime | None
    cancelled_at: datetime | None
    lines: list[TransferLineRead] = Field(default_factory=list)


# --- count sheets ------------------------------------------------------------------------------------------

class CountSheetState(StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


DEFAULT_VARIANCE_THRESHOLD = 2


class CountSheetCreate(BaseModel):
    location_id: int
    skus: list[str] | None = Field(default=None, max_length=MAX_BULK_SKUS,
                                   description="The SKUs to count; none: every SKU stocked at the location")
    variance_threshold: int = Field(default=DEFAULT_VARIANCE_THRESHOLD, ge=0, le=MAX_UNITS,
                                    description="A line whose |counted − expected| is above this needs a manager")
    note: str = Field(default="", max_length=500)


class CountEntriesUpdate(BaseModel):
    lines: list[CountLine] = Field(min_length=1, max_length=MAX_BULK_SKUS)


class CountSheetLineRead(BaseModel):
    sku: str
    variant_id: int
    expected: int
    counted: int | None
    variance: int | None
    above_threshold: bool
    counted_by: str
    counted_at: datetime | None


class CountSheetRead(BaseModel):
    id: int
    location_id: int
    location_code: str
    state: CountSheetState
    variance_threshold: int
    needs_approval: bool
    note: str
    created_by: str
    submitted_by: str
    decided_by: str
    created_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    total_lines: int = 0
    counted_lines: int = 0
    lines: list[CountSheetLineRead] = Field(default_factory=list)


# --- incoming purchase orders and pre-orders ---------------------------------------------------------------

class IncomingState(StrEnum):
    OPEN = "open"
    RECEIVED = "received"
    CANCELLED = "cancelled"


class IncomingStockCreate(BaseModel):
    sku: str = Sku
    location_id: int
    quantity: int = Field(gt=0, le=MAX_UNITS)
    expected_date: date
    reference: str = Field(default="", max_length=100, description="The purchase order, e.g. PO-2026-0142")


class IncomingStockReceive(BaseModel):
    quantity: int | None = Field(default=None, gt=0, le=MAX_UNITS, description="None: everything still to arrive")


class IncomingStockRead(BaseModel):
    id: int
    sku: str
    variant_id: int
    location_id: int
    location_code: str
    quantity: int
    received_quantity: int
    outstanding: int
    expected_date: date
    reference: str
    state: IncomingState
    created_by: str
    created_at: datetime


class PreorderCapUpdate(BaseModel):
    sku: str = Sku
    cap: int | None = Field(ge=0, description="Units that may be sold ahead of arrival; null: no cap")


class PreorderCapRead(BaseModel):
    sku: str
    variant_id: int
    cap: int | None
    preordered: int


# --- stock CSV import --------------------------------------------------------------------------------------

class StockImportError(BaseModel):
    row: int
    column: str
    message: str


class StockImportRead(BaseModel):
    summary: dict[str, Any]
    errors: list[StockImportError]
    errors_truncated: bool = False
