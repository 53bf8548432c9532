"""Exact money: Decimal amounts with an ISO 4217 currency, stored as integer minor units.

Rounding rules live here and nowhere else: half-even ("banker's") to the currency's minor unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision, list_currencies

# Currencies our users work in first; any ISO 4217 code Babel knows is accepted.
PRIMARY_CURRENCIES = ("PLN", "EUR", "TRY", "ALL", "USD", "GBP")


class MoneyError(ValueError):
    pass


@lru_cache(maxsize=None)
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


# ISO 4217 minor units where CLDR (Babel) differs: CLDR gives the lek 0 digits because prices are quoted in
# whole lekë, but ISO 4217 (and marketplaces, banks) define 2; we store and accept the ISO exponent.
ISO_MINOR_UNITS = {"ALL": 2}


@lru_cache(maxsize=None)
def minor_digits(currency: str) -> int:
    return ISO_MINOR_UNITS.get(currency, get_currency_precision(currency))


def validate_currency(code: str) -> str:
    code = (code or "").strip().upper()
    if len(code) != 3 or code not in _known_currencies():
        raise MoneyError(f"unknown ISO 4217 currency code {code!r}")
    return code


def parse_amount(value: str | int | Decimal, currency: str) -> Decimal:
    """Parse an amount, refusing more decimals than the currency has (no silent rounding of input)."""
    if isinstance(value, float):
        raise MoneyError("amounts must not be floats; send a string such as \"19.99\"")
    try:
        amount = Decimal(str(value).strip().replace(" ", ""))
    except InvalidOperation as exc:
        raise MoneyError(f"not a decimal amount: {value!r}") from exc
    if not amount.is_finite():
        raise MoneyError(f"not a finite amount: {value!r}")
    digits = minor_digits(currency)
    if amount != amount.quantize(Decimal(1).scaleb(-digits)) and -amount.as_tuple().exponent > digits:
        raise MoneyError(f"{currency} has {digits} decimal places; got {value!r}")
    return amount


def quantize(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-minor_digits(currency)), rounding=ROUND_HALF_EVEN)


def to_minor(amount: Decimal, currency: str) -> int:
    return int(quantize(amount, currency).scaleb(minor_digits(currency)))


def from_minor(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-minor_digits(currency))


# CLDR's currency spacing, which Babel leaves out: a symbol that is letters (an ISO code, "zł" written as code)
# next to a digit gets a no-break space between them — "PLN 1,200.50", not "PLN1,200.50"
_LETTER_THEN_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")


def format_money(amount: Decimal, currency: str, locale: str) -> str:
    """Locale formatting; shows the ISO decimals where CLDR would round them away (12.50 ALL), and keeps a
    currency code apart from the number (CLDR's currency spacing)."""
    cldr_digits = currency not in ISO_MINOR_UNITS or amount == amount.to_integral_value()
    return _LETTER_THEN_DIGIT.sub("\u00a0", format_currency(amount, currency, locale=locale,
                                                             currency_digits=cldr_digits))


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    @classmethod
    def of(cls, value: str | int | Decimal, currency: str) -> Money:
        currency = validate_currency(currency)
        return cls(quantize(parse_amount(value, currency), currency), currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        return cls(from_minor(minor, currency), currency)

    @property
    def minor(self) -> int:
        return to_minor(self.amount, self.currency)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        return Money(quantize(self.amount * Decimal(factor), self.currency), self.currency)

    def net_from_gross(self, vat_rate: Decimal) -> Money:
        return Money(quantize(self.amount / (1 + vat_rate), self.currency), self.currency)

    def gross_from_net(self, vat_rate: Decimal) -> Money:
        return Money(quantize(self.amount * (1 + vat_rate), self.currency), self.currency)

    def format(self, locale: str = "en") -> str:
        return format_money(self.amount, self.currency, locale)

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise MoneyError(f"cannot mix {self.currency} and {other.currency}")

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
