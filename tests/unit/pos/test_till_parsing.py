"""The till reads amounts as the rest of the hub does (no exponents), says when there are too many decimals, and
its receipt's "Change given" (money handed back) is not the stock pages' "Change" (a quantity's)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from omniretail.pos import cash
from omniretail.web.i18n import translations_for
from omniretail.web.pos_pages import form_amount


def test_a_count_refuses_faces_in_exponent_notation():
    assert cash.count_denominations({"100": 1, "100.00": 1}, "PLN") == 20_000
    for face in ("1e2", "1E+2", "NaN", "Infinity"):
        with pytest.raises(cash.CashError) as refused:
            cash.count_denominations({face: 1}, "PLN")
        assert refused.value.field == f"denominations.{face}"


def test_too_many_decimals_say_how_many_the_currency_has():
    assert cash.minor(Decimal("500.00"), "PLN", "tendered") == 50_000
    with pytest.raises(cash.CashError) as refused:
        cash.minor(Decimal("500.005"), "PLN", "tendered")
    assert refused.value.field == "tendered" and refused.value.extensions == {"decimal_places": 2}


def test_the_till_forms_read_amounts_without_exponents():
    assert form_amount("50") == Decimal("50") and form_amount("1 234,50") == Decimal("1234.50")
    assert form_amount("1\xa0000,00") == Decimal("1000.00")
    for raw in ("", "1e4", "1E2", "NaN", "inf", "-5", "lots", "5,0,0"):
        assert form_amount(raw) is None, raw


@pytest.mark.parametrize(("locale", "change_given", "change"), [
    ("pl", "Reszta", "Zmiana"), ("tr", "Para üstü", "Değişim"), ("sq", "Kusuri", "Ndryshimi"),
    ("en", "Change given", "Change")])
def test_change_given_is_money_handed_back(locale, change_given, change):
    catalogue = translations_for(locale)
    assert catalogue.gettext("Change given") == change_given
    assert catalogue.gettext("Change") == change  # the stock movements' column keeps its meaning
