from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, model_validator

MAX_LINES = 1000
MAX_BULK_SKUS = 10_000
Sku = Field(min_length=1, max_length=64)


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
    quantity: int = Field(gt=0)


class AdjustmentLine(BaseModel):
    sku: str = Sku
    quantity: int = Field(description="Signed change of on-hand stock")

    @model_validator(mode="after")
    def _not_zero(self) -> AdjustmentLine:
        if self.quantity == 0:
            raise ValueError("quantity must not be 0")
        return self


class CountLine(BaseModel):
    sku: str = Sku
    counted: int = Field(ge=0, description="What is physically there")


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
    quantity: int = Field(gt=0)
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
    safety_stock: int | None = Field(default=None, ge=0)
    low_stock_threshold: int | None = Field(default=None, ge=0, description="null: follow the location default")


class LocationStockSettingsRead(BaseModel):
    location_id: int
    default_low_stock_threshold: int | None = None
    allow_negative_stock: bool = False


class LocationStockSettingsUpdate(BaseModel):
    default_low_stock_threshold: int | None = Field(default=None, ge=0)
    allow_negative_stock: bool | None = None


class AvailabilityRead(BaseModel):
    sku: str
    variant_id: int
    channel: str | None
    available: int = Field(description="Σ available over the locations considered")
    promised: int = Field(description="What the channel may show after its stock policy")
    limited_to_your_locations: bool = False
    explanation: dict[str, Any] | None = None


class BulkAvailabilityCreate(BaseModel):
    skus: list[str] = Field(min_length=1)
    channel: str | None = Field(default=None, description="Channel code; none: every location you may see")


class BulkAvailabilityItem(BaseModel):
    sku: str
    available: int
    promised: int


class BulkAvailabilityRead(BaseModel):
    channel: str | None
    items: list[BulkAvailabilityItem]
    unknown_skus: list[str]
    limited_to_your_locations: bool = False
