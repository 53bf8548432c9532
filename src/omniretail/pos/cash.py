"""The cash drawer's arithmetic, pure: what a shift should hold, a count note by note, change for a customer.

Amounts are integer minor units of one currency. A shift's drawer starts with the opening float; cash sales
and paid-in add to it, cash refunds and paid-out take from it (their movements carry the sign). At closing
the counted cash is compared with that: difference = counted − expected (negative: cash is missing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from omniretail.platform import money
from omniretail.pricing.schemas import decimal_input

# Cash movement kinds and the sign they carry into the drawer.
INTO_DRAWER = {"sale": 1, "paid_in": 1, "refund": -1, "paid_out": -1}
MANUAL_KINDS = ("paid_in", "paid_out", "refund")
MAX_PIECES = 100_000


class CashError(ValueError):
    """A count or a payment that does not add up; ``field`` names the input at fault, ``extensions`` say more
    (``decimal_places``: too many decimals for the currency)."""

    def __init__(self, message: str, *, field: str, **extensions: object) -> None:
        super().__init__(message)
        self.field = field
        self.extensions = extensions


@dataclass(frozen=True)
class Drawer:
    opening_float: int
    cash_sales: int
    cash_refunds: int  # as a positive amount taken out
    paid_in: int
    paid_out: int  # as a positive amount taken out

    @property
    def expected(self) -> int:
        return self.opening_float + self.cash_sales - self.cash_refunds + self.paid_in - self.paid_out


def drawer(opening_float: int, movements: Iterable[tuple[str, int]]) -> Drawer:
    """The drawer from the float and the shift's (kind, signed amount) movements."""
    totals = dict.fromkeys(INTO_DRAWER, 0)
    for kind, amount in movements:
        totals[kind] += abs(amount)
    return Drawer(opening_float, totals["sale"], totals["refund"], totals["paid_in"], totals["paid_out"])


def signed(kind: str, amount: int) -> int:
    """A movement's amount with the sign it has for the drawer."""
    if kind not in INTO_DRAWER:
        raise CashError(f"unknown cash movement {kind!r}", field="kind")
    if amount <= 0:
        raise CashError("the amount must be more than zero", field="amount")
    return INTO_DRAWER[kind] * amount


def count_denominations(pieces: Mapping[str, int], currency: str) -> int:
    """The total of a count note by note: {"100.00": 3, "0.50": 4} → minor units. A face is written as amounts
    are everywhere (``pricing.schemas.decimal_input``): no exponent ("1e2"), NaN or infinity."""
    total = 0
    for face, number in pieces.items():
        try:
            value = money.to_minor(money.parse_amount(decimal_input(face), currency), currency)
        except (ValueError, InvalidOperation):  # MoneyError is a ValueError
            raise CashError(f"{face!r} is not a {currency} note or coin", field=f"denominations.{face}") from None
        known = DENOMINATIONS.get(currency)
        if value <= 0 or (known and Decimal(face) not in {Decimal(x) for x in known}):
            raise CashError(f"{face!r} is not a {currency} note or coin", field=f"denominations.{face}")
        if not isinstance(number, int) or not 0 <= number <= MAX_PIECES:
            raise CashError(f"count 0 to {MAX_PIECES} pieces of {face}", field=f"denominations.{face}")
        total += value * number
    return total


def change_due(total: int, tendered: int | None) -> int:
    """What the customer gets back for paying ``total`` in cash with ``tendered`` (None: the exact amount)."""
    if tendered is None:
        return 0
    if tendered < total:
        raise CashError("the cash handed over is less than the total", field="tendered")
    return tendered - total


def minor(amount: Decimal, currency: str, field: str) -> int:
    """An amount of the shift's currency in minor units; more decimals than the currency has are refused
    (``decimal_places`` on the error says how many it has)."""
    try:
        return money.to_minor(money.parse_amount(amount, currency), currency)
    except money.MoneyError as exc:
        extra = {"decimal_places": money.minor_digits(currency)} if _finite(amount) else {}
        raise CashError(str(exc), field=field, **extra) from None


def _finite(amount) -> bool:
    try:
        return not isinstance(amount, float) and Decimal(str(amount).strip()).is_finite()
    except InvalidOperation:
        return False


# Notes and coins in circulation, largest first: the rows of the count form at closing.
DENOMINATIONS = {
    "PLN": ("500", "200", "100", "50", "20", "10", "5", "2", "1", "0.50", "0.20", "0.10", "0.05", "0.02", "0.01"),
    "EUR": ("500", "200", "100", "50", "20", "10", "5", "2", "1", "0.50", "0.20", "0.10", "0.05", "0.02", "0.01"),
    "TRY": ("200", "100", "50", "20", "10", "5", "1", "0.50", "0.25", "0.10", "0.05"),
    "ALL": ("10000", "5000", "2000", "1000", "500", "200", "100", "50", "20", "10", "5", "1"),
}
