from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omniretail.platform.money import Money, MoneyError, from_minor, parse_amount, to_minor, validate_currency


@pytest.mark.parametrize("currency", ["PLN", "EUR", "TRY", "ALL", "usd"])
def test_known_currencies_are_accepted(currency):
    assert validate_currency(currency) == currency.upper()


@pytest.mark.parametrize("currency", ["XXQ", "", "PL", "ZŁ"])
def test_unknown_currencies_are_refused(currency):
    with pytest.raises(MoneyError):
        validate_currency(currency)


def test_floats_are_refused():
    with pytest.raises(MoneyError):
        parse_amount(19.99, "PLN")  # type: ignore[arg-type]


def test_more_decimals_than_the_currency_has_are_refused_not_rounded():
    with pytest.raises(MoneyError):
        parse_amount("19.999", "PLN")
    assert parse_amount("19.990", "PLN") == Decimal("19.990")


def test_rounding_is_half_even_in_one_place():
    assert Money.of("10.00", "PLN") * Decimal("0.125") == Money(Decimal("1.25"), "PLN")
    assert Money(Decimal("100.00"), "PLN").net_from_gross(Decimal("0.23")).amount == Decimal("81.30")


def test_mixing_currencies_is_an_error():
    with pytest.raises(MoneyError):
        Money.of("1", "PLN") + Money.of("1", "EUR")


def test_locale_formatting():
    assert "zł" in Money.of("1234.5", "PLN").format("pl")
    assert "€" in Money.of("10", "EUR").format("en")


@given(st.integers(min_value=-10**12, max_value=10**12), st.sampled_from(["PLN", "EUR", "TRY", "ALL"]))
def test_minor_units_round_trip(minor, currency):
    assert to_minor(from_minor(minor, currency), currency) == minor


@pytest.mark.parametrize(("amount", "currency", "locale", "shown"), [
    ("1200.50", "PLN", "en", "PLN\xa01,200.50"), ("-5", "TRY", "en", "-TRY\xa05.00"),
    ("1200.50", "PLN", "tr", "PLN\xa01.200,50"), ("1200.50", "TRY", "tr", "₺1.200,50"),
    ("1200.50", "PLN", "pl", "1\xa0200,50\xa0zł"), ("1200", "ALL", "sq", "1\xa0200\xa0Lekë"),
    ("1200.50", "EUR", "en", "€1,200.50"),
])
def test_a_currency_code_stands_apart_from_the_number(amount, currency, locale, shown):
    """CLDR's currency spacing (Babel leaves it out): letters next to digits get a no-break space."""
    from omniretail.platform.money import format_money

    assert format_money(Decimal(amount), currency, locale) == shown
