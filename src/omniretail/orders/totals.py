"""Line and order totals in integer minor units. Pure; the one place order arithmetic happens.

Gross prices (tax included) carry their tax inside: ``tax = gross − gross / (1 + rate)``. Net prices get it added:
``tax = net × rate``. Rounding is half-even to the currency's minor unit, per line (then summed).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from omniretail.platform.errors import InvalidInput

# A line may come to at most this many minor units (10^14 in major units): 200 lines and the shipping then still
# sum far inside a database's 64-bit integer.
MAX_LINE_MINOR = 10**16


@dataclass(frozen=True, slots=True)
class LineAmounts:
    subtotal: int  # unit price × charged quantity
    discount: int
    tax: int
    total: int  # what the customer pays for the line


@dataclass(frozen=True, slots=True)
class OrderAmounts:
    subtotal: int
    discount: int
    tax: int
    shipping: int
    total: int


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def line_amounts(*, unit_price: int, quantity: int, discount: int, tax_rate: Decimal,
                 prices_include_tax: bool) -> LineAmounts:
    """``discount`` is for the whole line, capped at its subtotal; a zero quantity costs nothing."""
    if quantity <= 0:
        return LineAmounts(0, 0, 0, 0)
    subtotal = unit_price * quantity
    if subtotal >= MAX_LINE_MINOR:
        raise InvalidInput("a line's unit price × quantity is too large", field="lines")
    discount = max(0, min(discount, subtotal))
    base = subtotal - discount
    if prices_include_tax:
        tax = base - _round(Decimal(base) / (1 + tax_rate))
        return LineAmounts(subtotal, discount, tax, base)
    tax = _round(Decimal(base) * tax_rate)
    return LineAmounts(subtotal, discount, tax, base + tax)


def prorated_discount(discount: int, *, quantity: int, charged: int) -> int:
    """The part of a line discount that stays with ``charged`` of ``quantity`` units (half-even)."""
    if quantity <= 0 or charged >= quantity:
        return discount
    return _round(Decimal(discount) * charged / quantity)


def order_amounts(lines: list[LineAmounts], *, shipping: int) -> OrderAmounts:
    subtotal = sum(x.subtotal for x in lines)
    discount = sum(x.discount for x in lines)
    tax = sum(x.tax for x in lines)
    return OrderAmounts(subtotal, discount, tax, shipping, sum(x.total for x in lines) + shipping)


def charge(line) -> tuple[LineAmounts, dict]:
    """What an order line costs as allocated (cancelled units are not charged) and the row values that follow
    from its allocation: ``line`` has quantity, backordered, cancelled, unit_price, discount, tax_rate, gross."""
    charged = line.quantity - line.cancelled
    amounts = line_amounts(unit_price=line.unit_price, quantity=charged, tax_rate=line.tax_rate,
                           discount=prorated_discount(line.discount, quantity=line.quantity, charged=charged),
                           prices_include_tax=line.gross)
    return amounts, {"quantity_backordered": line.backordered, "quantity_cancelled": line.cancelled,
                     "discount_minor": amounts.discount, "tax_minor": amounts.tax, "total_minor": amounts.total,
                     "state": "cancelled" if charged == 0 else "backordered" if line.backordered else "allocated"}
