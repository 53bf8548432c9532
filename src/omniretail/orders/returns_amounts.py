"""What a return is worth and how much of it may be refunded. Pure; integer minor units of the order's currency.

A line's ``total`` is what the customer paid for its charged units (``quantity − quantity_cancelled``; on a paid
order units dropped later keep their part of it and are refunded, :func:`line_basis`), its line discount already
taken off (a discount given on the whole line is spread over its units by this
arithmetic). The value of ``k`` units returned after ``r`` earlier ones is ``share(r + k) − share(r)``, with
``share(n) = total × n / charged`` rounded half-even: returning every unit, in any number of returns, gives
back exactly the line total — never a minor unit more. Tax is shared out the same way.

A refund pays back the goods' value still owed on a return and, when chosen, the order's shipping (once per
order) as the customer paid it — its tax included, which on a net channel came on top of ``shipping``
(``totals.charged_shipping``) — never more than was paid for the order minus what was refunded already. The
shipping's tax goes back in proportion to the shipping paid back, shared out like a line's so that refunding
all of it, in any number of refunds, gives back exactly the shipping's tax (:func:`shipping_tax_part`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from omniretail.platform.errors import Conflict


class OverRefund(Conflict):
    code, title = "over-refund", "The refund is more than may be paid back"


class NothingToRefund(Conflict):
    code, title = "nothing-to-refund", "Nothing is left to refund on this return"


@dataclass(frozen=True, slots=True)
class UnitsValue:
    amount: int  # what the units cost the customer, tax included
    tax: int


def share(total: int, *, charged: int, units: int) -> int:
    """The part of ``total`` that ``units`` of ``charged`` units carry (half-even; all units: all of it)."""
    if charged <= 0 or units <= 0:
        return 0
    if units >= charged:
        return total
    return int((Decimal(total) * units / charged).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def line_basis(*, total: int, discount: int, tax: int, unit_price: int, quantity: int, cancelled: int,
               prices_include_tax: bool) -> tuple[int, int]:
    """(units the line's ``total`` is for, how many of them were paid back already as cancelled).

    An unpaid order's line dropping units is charged less (its total is for ``quantity − cancelled``); a paid
    order's keeps its total and the dropped units are refunded (``decline.refund_units``), so its total still
    covers them: a return values its units against what the total was charged for, after those refunded ones."""
    subtotal = total + discount - (0 if prices_include_tax else tax)
    live = max(0, quantity - cancelled)
    charged = max(1, subtotal // unit_price) if unit_price > 0 and subtotal > 0 else max(1, quantity)
    charged = max(charged, live)
    return charged, charged - live


def units_value(*, total: int, tax: int, charged: int, already_returned: int, quantity: int) -> UnitsValue:
    """The value of ``quantity`` more units of a line of which ``already_returned`` went back before."""
    if quantity < 0 or already_returned < 0 or already_returned + quantity > charged:
        raise ValueError(f"cannot value {quantity} more units after {already_returned} of {charged}")
    end = already_returned + quantity

    def part(x: int) -> int:
        return share(x, charged=charged, units=end) - share(x, charged=charged, units=already_returned)

    return UnitsValue(part(total), part(tax))


def shipping_tax_part(shipping_tax: int, *, paid: int, refunded: int, refunding: int) -> int:
    """The tax in ``refunding`` more of the shipping the customer ``paid`` (its tax ``shipping_tax`` included)
    after ``refunded`` went back before."""
    if refunding <= 0 or paid <= 0:
        return 0
    return share(shipping_tax, charged=paid, units=min(paid, refunded + refunding)) - \
        share(shipping_tax, charged=paid, units=min(paid, refunded))


def returnable_units(*, delivered: int, returned: int) -> int:
    """Units of a line that may still be returned: those with the customer, less those already returned."""
    return max(0, delivered - returned)


@dataclass(frozen=True, slots=True)
class RefundPlan:
    amount: int  # the refund
    goods: int  # the part of it for the returned goods
    shipping: int  # the part of it for the order's shipping
    settles: bool  # after it, nothing is owed on the return: it is refunded


def plan_refund(*, goods_due: int, goods_refunded: int, shipping_left: int, paid_left: int,
                requested: int | None, include_shipping: bool) -> RefundPlan:
    """Check and split one refund of a return.

    ``goods_due``: the value of the return's goods (less what an exchange took); ``goods_refunded``: paid back on
    them so far; ``shipping_left``: the order's shipping as paid (its tax included) not refunded yet;
    ``paid_left``: what was paid for the order less every refund of it. ``requested`` None: everything still owed. The goods are paid back first,
    shipping (when included) after them. Raises :class:`OverRefund` above the limit, :class:`NothingToRefund`
    when nothing is owed.
    """
    goods_left = max(0, goods_due - goods_refunded)
    shipping_part = shipping_left if include_shipping else 0
    limit = max(0, min(goods_left + shipping_part, paid_left))
    if limit == 0:
        raise NothingToRefund("nothing is left to refund on this return", goods_left=goods_left,
                              paid_left=max(0, paid_left))
    amount = limit if requested is None else requested
    if amount <= 0:
        raise OverRefund("a refund must be more than zero", requested=amount, refundable=limit)
    if amount > limit:
        raise OverRefund(f"at most {limit} (minor units) may be refunded now", requested=amount, refundable=limit)
    goods = min(amount, goods_left)
    shipping = amount - goods
    settles = amount == paid_left or (goods == goods_left and shipping == shipping_part)
    return RefundPlan(amount, goods, shipping, settles)
