"""Line and order totals in integer minor units. Pure; the one place order arithmetic happens.

Gross prices (tax included) carry their tax inside: ``tax = gross − gross / (1 + rate)``. Net prices get it added:
``tax = net × rate``. Rounding is half-even to the currency's minor unit, per line (then summed).

Shipping is taxed like the goods it delivers (EU VAT: delivery charged with the goods follows them; Turkey's KDV
and Albania's TVSH the same way): it is split over the goods' tax rates in proportion to the lines' taxable bases
(``total − tax``: their value without tax; a 0 % line takes its share too, at 0 %), the split in whole minor units
by the largest remainder (ties: the larger base, then the rate met first in line order), so the parts always
sum to the shipping exactly. Each part is taxed as a line is, in the channel's convention: on a channel whose
prices include tax the shipping charged carries its tax inside (the shipping and the total do not change), on
a net channel the tax is added on top (the order's total grows by it). When no line carries value (every unit
cancelled, or everything free) the whole shipping goes to the first line's rate.

An order's ``tax`` is its lines' tax plus the shipping's; the shipping's share is not stored apart: it is the
order's tax less its lines' (:func:`shipping_tax_of`). What the customer pays for the delivery is
:func:`charged_shipping`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from omniretail.platform.errors import InvalidInput

# A line may come to at most this many minor units (10^14 in major units): 200 lines and the shipping then still
# sum far inside a database's 64-bit integer.
MAX_LINE_MINOR = 10**16
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class LineAmounts:
    subtotal: int  # unit price × charged quantity
    discount: int
    tax: int
    total: int  # what the customer pays for the line
    tax_rate: Decimal = ZERO  # the line's rate: its share of the shipping is taxed at it
    gross: bool = True  # its price includes tax

    @property
    def base(self) -> int:
        """The line's taxable base: its value without tax (what the shipping is split by)."""
        return self.total - self.tax


@dataclass(frozen=True, slots=True)
class OrderAmounts:
    subtotal: int
    discount: int
    tax: int  # the lines' tax and the shipping's
    shipping: int  # as charged: gross on a channel whose prices include tax, else net
    total: int
    shipping_tax: int = 0  # the part of ``tax`` on the shipping


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _tax(amount: int, rate: Decimal, gross: bool) -> int:
    if not amount or not rate:
        return 0
    if gross:
        return amount - _round(Decimal(amount) / (1 + rate))
    return _round(Decimal(amount) * rate)


def line_amounts(*, unit_price: int, quantity: int, discount: int, tax_rate: Decimal,
                 prices_include_tax: bool) -> LineAmounts:
    """``discount`` is for the whole line, capped at its subtotal; a zero quantity costs nothing."""
    if quantity <= 0:
        return LineAmounts(0, 0, 0, 0, tax_rate, prices_include_tax)
    subtotal = unit_price * quantity
    if subtotal >= MAX_LINE_MINOR:
        raise InvalidInput("a line's unit price × quantity is too large", field="lines")
    discount = max(0, min(discount, subtotal))
    base = subtotal - discount
    tax = _tax(base, tax_rate, prices_include_tax)
    return LineAmounts(subtotal, discount, tax, base if prices_include_tax else base + tax, tax_rate,
                       prices_include_tax)


def prorated_discount(discount: int, *, quantity: int, charged: int) -> int:
    """The part of a line discount that stays with ``charged`` of ``quantity`` units (half-even)."""
    if quantity <= 0 or charged >= quantity:
        return discount
    return _round(Decimal(discount) * charged / quantity)


def shipping_parts(bases: Iterable[tuple[Decimal, int]], shipping: int) -> list[tuple[Decimal, int]]:
    """``shipping`` split over the rates of ``bases`` (each line's ``(tax_rate, taxable base)``, in line order)
    in proportion to the bases per rate: ``[(rate, part)]`` in the order the rates first appear, the parts
    summing to ``shipping`` exactly (largest remainder; ties to the larger base, then the earlier rate). No
    lines or no shipping: ``[]``; no line with value: all of it at the first line's rate."""
    per_rate: dict[Decimal, int] = {}
    for rate, base in bases:
        per_rate[rate] = per_rate.get(rate, 0) + max(0, base)
    if shipping <= 0 or not per_rate:
        return []
    whole = sum(per_rate.values())
    if len(per_rate) == 1 or whole == 0:
        return [(next(iter(per_rate)), shipping)]
    rates = list(per_rate.items())
    parts, remainders = [], []
    for i, (_rate, base) in enumerate(rates):
        part, remainder = divmod(shipping * base, whole)
        parts.append(part)
        remainders.append((-remainder, -base, i))
    for _r, _b, i in sorted(remainders)[:shipping - sum(parts)]:
        parts[i] += 1
    return [(rate, part) for (rate, _base), part in zip(rates, parts, strict=True)]


def shipping_tax(bases: Iterable[tuple[Decimal, int]], shipping: int, *, prices_include_tax: bool) -> int:
    """The tax on ``shipping`` (charged in the channel's convention): each rate's part taxed as a line is."""
    return sum(_tax(part, rate, prices_include_tax) for rate, part in shipping_parts(bases, shipping))


def order_amounts(lines: list[LineAmounts], *, shipping: int, prices_include_tax: bool | None = None
                  ) -> OrderAmounts:
    """The order's amounts: its lines' and the shipping with its tax. ``prices_include_tax`` is the order's
    (the channel's) convention, which the shipping is charged in; None: as the lines' prices (the first's)."""
    gross = prices_include_tax if prices_include_tax is not None else (lines[0].gross if lines else True)
    subtotal = discount = tax = total = 0
    for x in lines:
        subtotal += x.subtotal
        discount += x.discount
        tax += x.tax
        total += x.total
    on_shipping = shipping_tax(((x.tax_rate, x.base) for x in lines), shipping, prices_include_tax=gross) \
        if shipping > 0 else 0
    return OrderAmounts(subtotal, discount, tax + on_shipping, shipping,
                        total + shipping + (0 if gross else on_shipping), on_shipping)


def shipping_tax_of(order_tax: int, line_taxes: Iterable[int]) -> int:
    """The tax on an order's shipping, from what is stored: the order's tax less its lines'."""
    return order_tax - sum(line_taxes)


def charged_shipping(shipping: int, shipping_tax: int, *, prices_include_tax: bool) -> int:
    """What the customer pays for the delivery: the shipping, and its tax when prices are net."""
    return shipping if prices_include_tax else shipping + shipping_tax


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
