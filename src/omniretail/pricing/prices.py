"""Price rows: list, set one, set many (per-item results), delete. Every change appends an outbox event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.catalog.models import Variant
from omniretail.platform import clock, money
from omniretail.platform.errors import InvalidInput, NotFound, TooManyItems
from omniretail.platform.outbox import append_events
from omniretail.platform.pagination import SortSpec, paginate

from . import rules
from .models import Price, PriceList
from .schemas import (
    MAX_BULK_ITEMS,
    BulkPriceItem,
    BulkPriceResponse,
    BulkPriceResult,
    BulkStatus,
    FieldError,
    PriceRead,
    PriceSet,
)
from .service import (
    PRICE_CHANGED,
    get_price_list,
    require_variant_id,
    variant_ids_by_sku,
    writable_price_list,
)

SORTS = SortSpec({"id": Price.id, "updated_at": Price.updated_at})


class _ItemInvalid(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass
class _Change:
    index: int
    sku: str
    variant_id: int
    values: dict[str, Any]


def _values(item: PriceSet, currency: str) -> dict[str, Any]:
    """Column values for a validated item, refusing more decimals than the currency has."""
    values: dict[str, Any] = {"valid_from": item.valid_from, "valid_to": item.valid_to}
    errors = []
    for name, column in (("amount", "amount_minor"), ("compare_at", "compare_at_minor")):
        amount = getattr(item, name)
        try:
            values[column] = None if amount is None else rules.to_minor_units(amount, currency)
        except money.MoneyError as exc:
            errors.append(FieldError(field=name, message=str(exc)))
    if errors:
        raise _ItemInvalid(errors)
    return values


def _event(price_list: PriceList, row: Price | None, *, variant_id: int, sku: str, change: str) -> dict:
    currency = price_list.currency
    payload = {
        "scope": "price", "change": change, "price_list_id": price_list.id,
        "price_list_code": price_list.code,
        "channel_id": price_list.channel_id, "variant_id": variant_id, "sku": sku, "currency": currency,
        "price_id": row.id if row else None,
        "amount": str(money.from_minor(row.amount_minor, currency)) if row else None,
        "compare_at": (str(money.from_minor(row.compare_at_minor, currency))
                       if row and row.compare_at_minor is not None else None),
        "valid_from": row.valid_from.isoformat() if row and row.valid_from else None,
        "valid_to": row.valid_to.isoformat() if row and row.valid_to else None,
    }
    scope = f"channel:{price_list.channel_id}" if price_list.channel_id else f"price_list:{price_list.id}"
    return {"topic": PRICE_CHANGED, "payload": payload, "coalesce_key": f"variant:{variant_id}:{scope}"}


async def _apply(
    session: AsyncSession, price_list: PriceList, changes: list[_Change]
) -> list[tuple[BulkStatus, Price]]:
    """Insert or update one row per change (one variant at most once) and append the events."""
    existing = {}
    if changes:
        rows = await session.scalars(select(Price).where(
            Price.price_list_id == price_list.id, Price.variant_id.in_([c.variant_id for c in changes])
        ))
        existing = {row.variant_id: row for row in rows}
    now = clock.now()
    out: list[tuple[BulkStatus, Price]] = []
    for change in changes:
        row = existing.get(change.variant_id)
        if row is None:
            row = Price(price_list_id=price_list.id, variant_id=change.variant_id, updated_at=now,
                        **change.values)
            session.add(row)
            status = BulkStatus.CREATED
        elif all(getattr(row, name) == value for name, value in change.values.items()):
            status = BulkStatus.UNCHANGED
        else:
            for name, value in change.values.items():
                setattr(row, name, value)
            row.updated_at = now
            status = BulkStatus.UPDATED
        out.append((status, row))
    await session.flush()
    await append_events(session, [
        _event(price_list, row, variant_id=change.variant_id, sku=change.sku, change=status.value)
        for change, (status, row) in zip(changes, out, strict=True) if status is not BulkStatus.UNCHANGED
    ])
    return out


async def set_price(
    session: AsyncSession, price_list_id: int, sku: str, *, data: PriceSet, principal: Principal
) -> tuple[PriceList, Price, BulkStatus]:
    price_list = await writable_price_list(session, price_list_id, principal=principal)
    variant_id = await require_variant_id(session, sku)
    try:
        values = _values(data, price_list.currency)
    except _ItemInvalid as exc:
        first = exc.errors[0]
        raise InvalidInput(first.message, field=first.field,
                           errors=[e.model_dump() for e in exc.errors]) from None
    [(status, row)] = await _apply(session, price_list, [_Change(0, sku, variant_id, values)])
    return price_list, row, status


async def delete_price(session: AsyncSession, price_list_id: int, sku: str, *, principal: Principal) -> None:
    price_list = await writable_price_list(session, price_list_id, principal=principal)
    variant_id = await require_variant_id(session, sku)
    result = await session.execute(delete(Price).where(Price.price_list_id == price_list.id,
                                                       Price.variant_id == variant_id))
    if result.rowcount == 0:
        raise NotFound(f"no price for SKU {sku!r} in price list {price_list.code}", sku=sku)
    await append_events(session, [_event(price_list, None, variant_id=variant_id, sku=sku, change="deleted")])


def _pydantic_errors(exc: ValidationError) -> list[FieldError]:
    return [
        FieldError(field=".".join(str(p) for p in err["loc"]) or "item",
                   message=err["msg"].removeprefix("Value error, "))
        for err in exc.errors()
    ]


def _failed(index: int, sku: str | None, errors: list[FieldError]) -> BulkPriceResult:
    return BulkPriceResult(index=index, sku=sku, status=BulkStatus.ERROR, errors=errors)


async def bulk_set_prices(
    session: AsyncSession, price_list_id: int, *, items: list[Any], principal: Principal
) -> BulkPriceResponse:
    """Set up to 1,000 prices; each item gets its own result and one bad item never fails the batch."""
    if len(items) > MAX_BULK_ITEMS:
        raise TooManyItems(f"at most {MAX_BULK_ITEMS} items per request; got {len(items)}",
                           limit=MAX_BULK_ITEMS)
    price_list = await writable_price_list(session, price_list_id, principal=principal)
    results: dict[int, BulkPriceResult] = {}
    valid: list[tuple[int, BulkPriceItem, dict[str, Any]]] = []
    first_index: dict[str, int] = {}
    for index, raw in enumerate(items):
        sku = raw.get("sku") if isinstance(raw, dict) and isinstance(raw.get("sku"), str) else None
        try:
            item = BulkPriceItem.model_validate(raw)
            values = _values(item, price_list.currency)
        except ValidationError as exc:
            results[index] = _failed(index, sku, _pydantic_errors(exc))
        except _ItemInvalid as exc:
            results[index] = _failed(index, sku, exc.errors)
        else:
            if item.sku in first_index:
                message = f"SKU already appears at index {first_index[item.sku]} of this batch"
                results[index] = _failed(index, sku, [FieldError(field="sku", message=message)])
            else:
                first_index[item.sku] = index
                valid.append((index, item, values))
    variant_ids = await variant_ids_by_sku(session, {item.sku for _i, item, _v in valid})
    changes = []
    for index, item, values in valid:
        if item.sku in variant_ids:
            changes.append(_Change(index, item.sku, variant_ids[item.sku], values))
        else:
            message = f"no variant with SKU {item.sku!r}"
            results[index] = _failed(index, item.sku, [FieldError(field="sku", message=message)])
    for change, (status, row) in zip(changes, await _apply(session, price_list, changes), strict=True):
        results[change.index] = BulkPriceResult(index=change.index, sku=change.sku, status=status,
                                                price_id=row.id)
    ordered = [results[i] for i in range(len(items))]
    counts = {s: sum(1 for r in ordered if r.status is s) for s in BulkStatus}
    return BulkPriceResponse(results=ordered, created=counts[BulkStatus.CREATED],
                             updated=counts[BulkStatus.UPDATED], unchanged=counts[BulkStatus.UNCHANGED],
                             errors=counts[BulkStatus.ERROR])


# --- reading -------------------------------------------------------------------------------------------

async def list_prices(
    session: AsyncSession, price_list_id: int, *, principal: Principal, sku: str | None = None,
    cursor: str | None = None, limit: int = 50, sort: str | None = None,
) -> tuple[PriceList, list[Price], str | None]:
    price_list = await get_price_list(session, price_list_id, principal=principal)
    stmt = select(Price).where(Price.price_list_id == price_list.id)
    if sku:
        stmt = stmt.join(Variant, Variant.id == Price.variant_id).where(Variant.sku == sku)
    rows, next_cursor = await paginate(session, stmt, id_column=Price.id, sort=SORTS, sort_value=sort,
                                       cursor=cursor, limit=limit)
    return price_list, rows, next_cursor


async def price_reads(session: AsyncSession, price_list: PriceList, rows: list[Price]) -> list[PriceRead]:
    skus = {}
    if rows:
        found = await session.execute(select(Variant.id, Variant.sku).where(
            Variant.id.in_({r.variant_id for r in rows})))
        skus = dict(found.all())
    currency = price_list.currency
    return [
        PriceRead(
            id=r.id, price_list_id=r.price_list_id, variant_id=r.variant_id, sku=skus.get(r.variant_id, ""),
            currency=currency, amount=money.from_minor(r.amount_minor, currency),
            compare_at=None if r.compare_at_minor is None else money.from_minor(r.compare_at_minor, currency),
            valid_from=r.valid_from, valid_to=r.valid_to, updated_at=r.updated_at,
        )
        for r in rows
    ]
