"""Price list and price payloads. Amounts travel as decimal strings ("19.99"), never as JSON floats."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from omniretail.platform.money import validate_currency

from . import rules

MAX_BULK_ITEMS = 1000
MAX_AMOUNT = Decimal(10) ** 13
_DECIMAL_TEXT = re.compile(r"^[+-]?\d+(\.\d+)?$")


def decimal_input(value: Any) -> Decimal:
    """Accept a decimal string or an integer; refuse floats, which cannot carry money exactly.

    Pydantic turns only ``ValueError`` into a field error, hence no ``TypeError`` here.
    """
    if isinstance(value, bool):
        raise ValueError("amount must be a decimal string such as \"19.99\"")
    if isinstance(value, float):
        raise ValueError(
            "amounts must be strings such as \"19.99\", not JSON numbers with a decimal point"
        )
    if isinstance(value, Decimal | int):
        amount = Decimal(value)
    elif isinstance(value, str):
        if not _DECIMAL_TEXT.match(value.strip()):  # no exponents ("1e3"), NaN or Infinity: what the schema says
            raise ValueError(f"not a decimal amount such as \"19.99\": {value!r}")
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a decimal amount: {value!r}") from None
    else:
        raise ValueError("amount must be a decimal string such as \"19.99\"")
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    return amount


def as_utc(value: datetime | None) -> datetime | None:
    """Datetimes without a zone are taken as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


AmountIn = Annotated[
    Decimal, BeforeValidator(decimal_input), Field(ge=0, lt=MAX_AMOUNT),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d+)?$", "examples": ["19.99"]}),
]
AmountOut = Annotated[Decimal, WithJsonSchema({"type": "string", "examples": ["19.99"]})]
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
Currency = Annotated[str, AfterValidator(validate_currency)]


class PriceListCreate(BaseModel):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=200)
    channel_id: int | None = Field(
        default=None, description="The channel it prices; none = shared by every channel in its currency"
    )
    currency: Currency | None = Field(default=None, description="Defaults to the channel's currency")
    prices_include_tax: bool | None = Field(default=None, description="Defaults to the channel's setting")
    priority: int = Field(default=0, ge=-1_000_000, le=1_000_000, description="Higher wins")
    valid_from: UtcDatetime | None = None
    valid_to: UtcDatetime | None = None
    is_active: bool = True
    external_refs: dict[str, str] = Field(default_factory=dict, description="source -> reference")

    @model_validator(mode="after")
    def _window(self) -> PriceListCreate:
        rules.check_window(self.valid_from, self.valid_to)
        return self


class PriceListUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    prices_include_tax: bool | None = None
    priority: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    valid_from: UtcDatetime | None = None
    valid_to: UtcDatetime | None = None
    is_active: bool | None = None
    external_refs: dict[str, str | None] | None = Field(default=None, description="null detaches a reference")


class PriceListRead(BaseModel):
    id: int
    code: str
    name: str
    channel_id: int | None
    currency: str
    prices_include_tax: bool
    priority: int
    valid_from: datetime | None
    valid_to: datetime | None
    is_active: bool
    external_refs: dict[str, str]
    created_at: datetime
    updated_at: datetime


class PriceSet(BaseModel):
    """A price for one variant in one list. Decimals beyond the list currency's minor unit are refused."""

    model_config = ConfigDict(extra="forbid")

    amount: AmountIn
    compare_at: AmountIn | None = Field(default=None, description="Struck-through price; above amount")
    valid_from: UtcDatetime | None = None
    valid_to: UtcDatetime | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PriceSet:
        rules.check_window(self.valid_from, self.valid_to)
        rules.check_compare_at(self.amount, self.compare_at)
        return self


class BulkPriceItem(PriceSet):
    sku: str = Field(min_length=1, max_length=64)


class BulkPriceRequest(BaseModel):
    # Items are validated one by one in the service, so one bad item never fails the batch.
    items: Annotated[
        list[Any],
        WithJsonSchema({"type": "array", "maxItems": MAX_BULK_ITEMS,
                        "items": BulkPriceItem.model_json_schema()}),
    ] = Field(description=f"Up to {MAX_BULK_ITEMS} items "
                          "{sku, amount, compare_at?, valid_from?, valid_to?}")


class BulkStatus(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    ERROR = "error"


class FieldError(BaseModel):
    field: str
    message: str


class BulkPriceResult(BaseModel):
    index: int
    sku: str | None
    status: BulkStatus
    price_id: int | None = None
    errors: list[FieldError] = Field(default_factory=list)


class BulkPriceResponse(BaseModel):
    results: list[BulkPriceResult]
    created: int
    updated: int
    unchanged: int
    errors: int


class PriceRead(BaseModel):
    id: int
    price_list_id: int
    variant_id: int
    sku: str
    currency: str
    amount: AmountOut
    compare_at: AmountOut | None
    valid_from: datetime | None
    valid_to: datetime | None
    updated_at: datetime


class PriceCandidateRead(BaseModel):
    price_list_id: int
    price_list_code: str
    scope: str = Field(description="channel (the channel's own list) or shared")
    priority: int
    currency: str
    list_valid_from: datetime | None
    list_valid_to: datetime | None
    price_id: int | None
    amount: AmountOut | None
    price_valid_from: datetime | None
    price_valid_to: datetime | None
    verdict: rules.Verdict


class PriceResolutionRead(BaseModel):
    channel_id: int
    sku: str
    variant_id: int
    at: datetime
    currency: str
    amount: AmountOut
    compare_at: AmountOut | None
    prices_include_tax: bool
    price_list_id: int
    price_list_code: str
    price_id: int
    candidates: list[PriceCandidateRead] = Field(
        description="Every list considered, best first, with its verdict"
    )
