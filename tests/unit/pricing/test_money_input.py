from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from omniretail.platform.money import MoneyError
from omniretail.pricing.rules import check_compare_at, to_minor_units
from omniretail.pricing.schemas import BulkPriceItem, PriceSet, decimal_input


@pytest.mark.parametrize("value, expected", [
    ("19.99", Decimal("19.99")), (" 5 ", Decimal(5)), (20, Decimal(20)), ("0", Decimal(0)),
    (Decimal("1.50"), Decimal("1.50")),
])
def test_decimal_strings_and_integers_are_accepted(value, expected):
    assert decimal_input(value) == expected


@pytest.mark.parametrize("value", [19.99, 20.0, True, None, [], "19,99", "abc", "NaN", "Infinity", ""])
def test_floats_and_non_numbers_are_refused(value):
    with pytest.raises(ValueError):
        decimal_input(value)


def test_a_json_float_is_a_field_error_on_amount():
    with pytest.raises(ValidationError) as exc:
        PriceSet.model_validate({"amount": 19.99})
    [error] = exc.value.errors()
    assert error["loc"] == ("amount",)
    assert "string" in error["msg"]


def test_negative_amounts_unknown_fields_and_inverted_windows_are_refused():
    with pytest.raises(ValidationError):
        PriceSet.model_validate({"amount": "-1"})
    with pytest.raises(ValidationError):
        PriceSet.model_validate({"amount": "1", "price": "2"})
    with pytest.raises(ValidationError):
        PriceSet.model_validate({"amount": "1", "valid_from": "2025-02-01T00:00:00Z",
                                 "valid_to": "2025-01-01T00:00:00Z"})
    with pytest.raises(ValidationError):
        BulkPriceItem.model_validate({"amount": "1"})  # sku missing


def test_naive_datetimes_are_taken_as_utc():
    item = PriceSet.model_validate({"amount": "1", "valid_from": "2025-01-01T10:00:00"})
    assert item.valid_from.utcoffset().total_seconds() == 0 and item.valid_from.hour == 10


def test_compare_at_must_be_above_the_price():
    check_compare_at(Decimal(10), None)
    check_compare_at(Decimal(10), Decimal("12.50"))
    with pytest.raises(ValueError):
        check_compare_at(Decimal(10), Decimal(10))
    with pytest.raises(ValidationError):
        PriceSet.model_validate({"amount": "10", "compare_at": "9.99"})


@pytest.mark.parametrize("amount, currency, minor", [
    ("19.99", "PLN", 1999), ("19.9", "EUR", 1990), ("19.990", "PLN", 1999), ("1500", "JPY", 1500),
    ("1500", "ALL", 150000), ("12.50", "ALL", 1250), ("12.345", "KWD", 12345),
])
def test_minor_units_are_exact(amount, currency, minor):
    assert to_minor_units(Decimal(amount), currency) == minor


@pytest.mark.parametrize("amount, currency", [("19.999", "PLN"), ("100.5", "JPY"), ("0.001", "EUR")])
def test_more_decimals_than_the_currency_has_are_refused(amount, currency):
    with pytest.raises(MoneyError):
        to_minor_units(Decimal(amount), currency)
