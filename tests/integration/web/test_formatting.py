"""Locale-aware filters of the page templates (no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from omniretail.web.i18n import translations_for
from omniretail.web.templating import build_templates

ENV = build_templates().env


def render(source: str, locale: str, **values) -> str:
    return ENV.from_string(source).render(locale=locale, translations=translations_for(locale), **values)


@pytest.mark.parametrize(("locale", "expected"), [
    ("en", "PLN\xa01,234.50"), ("pl", "1\xa0234,50\xa0zł"), ("tr", "PLN\xa01.234,50"), ("sq", "1\xa0234,50\xa0PLN"),
])
def test_money_follows_the_locale(locale, expected):
    assert render("{{ amount | money('PLN') }}", locale, amount=Decimal("1234.50")) == expected


def test_money_from_minor_units_and_percent():
    assert render("{{ 1999 | money_minor('EUR') }}", "pl") == "19,99\xa0€"
    assert render("{{ rate | percent }}", "tr", rate=Decimal("0.23")) == "%23"


def test_dates_weekdays_countries_and_languages_are_localised():
    at = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)
    assert render("{{ at | when('Europe/Warsaw') }}", "pl", at=at) == "23 lis 2026, 13:30"
    assert render("{{ 'mon' | weekday }} {{ 'PL' | country }} {{ 'sq' | language }}", "pl") == \
        "poniedziałek Polska Albański"
    assert render("{{ 'sun' | weekday }}", "sq") == "e diel"


def test_plurals_use_each_language_rules():
    source = "{% trans count=c, n=c %}{{ n }} product{% pluralize %}{{ n }} products{% endtrans %}"
    assert [render(source, "pl", c=n) for n in (1, 3, 5, 22)] == \
        ["1 produkt", "3 produkty", "5 produktów", "22 produkty"]
    assert render(source, "sq", c=2) == "2 produkte"


def test_trans_output_is_escaped():
    assert render("{% trans v=value %}Search {{ v }}{% endtrans %}", "en", value="<b>") == "Search &lt;b&gt;"
