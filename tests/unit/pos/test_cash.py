"""The cash drawer's arithmetic, without a database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from omniretail.pos import cash


def test_expected_cash_is_float_plus_cash_in_minus_cash_out():
    drawer = cash.drawer(20_000, [("sale", 11_000), ("paid_in", 5_000), ("paid_out", -2_000), ("refund", -500)])
    assert (drawer.cash_sales, drawer.paid_in, drawer.paid_out, drawer.cash_refunds) == (11_000, 5_000, 2_000, 500)
    assert drawer.expected == 33_500


def test_movements_carry_the_sign_they_have_for_the_drawer():
    assert cash.signed("sale", 100) == 100 and cash.signed("paid_out", 100) == -100
    with pytest.raises(cash.CashError) as zero:
        cash.signed("paid_in", 0)
    assert zero.value.field == "amount"
    with pytest.raises(cash.CashError):
        cash.signed("tip", 100)


def test_a_count_note_by_note_knows_the_currency_notes_and_coins():
    assert cash.count_denominations({"200": 1, "100": 1, "20": 1, "0.50": 2, "5": 0}, "PLN") == 32_100
    assert cash.count_denominations({"0.25": 3}, "TRY") == 75
    assert cash.count_denominations({"5000": 1, "100": 2}, "ALL") == 520_000
    for bad in ({"3.33": 1}, {"100": -1}, {"abc": 1}, {"0.25": 1}):
        with pytest.raises(cash.CashError) as refused:
            cash.count_denominations(bad, "PLN")
        assert refused.value.field.startswith("denominations.")


def test_change_is_what_was_handed_over_above_the_total():
    assert cash.change_due(11_000, 15_000) == 4_000
    assert cash.change_due(11_000, None) == 0
    with pytest.raises(cash.CashError) as short:
        cash.change_due(11_000, 10_000)
    assert short.value.field == "tendered"


def test_amounts_refuse_more_decimals_than_the_currency_has():
    assert cash.minor(Decimal("12.5"), "PLN", "amount") == 1250
    with pytest.raises(cash.CashError) as refused:
        cash.minor(Decimal("12.505"), "PLN", "amount")
    assert refused.value.field == "amount"
