"""``orders.vat``: the destination country's rate for the product's own, from the channel's table."""

from decimal import Decimal

from omniretail.orders.vat import line_rate, rate_table

TABLE = rate_table({"DE": {"0.23": "0.19", "0.08": "0.07"}, "cz": {"0.23": "0.21"}})


def test_a_listed_rate_is_replaced_by_the_destination_countrys():
    assert line_rate(Decimal("0.23"), country="DE", table=TABLE) == Decimal("0.19")
    assert line_rate(Decimal("0.2300"), country="de", table=TABLE) == Decimal("0.19")  # as stored: 4 places
    assert line_rate(Decimal("0.23"), country="CZ", table=TABLE) == Decimal("0.21")


def test_an_unlisted_rate_country_or_no_destination_keeps_the_products_rate():
    assert line_rate(Decimal("0.05"), country="DE", table=TABLE) == Decimal("0.05")
    assert line_rate(Decimal("0.23"), country="PL", table=TABLE) == Decimal("0.23")
    assert line_rate(Decimal("0.23"), country=None, table=TABLE) == Decimal("0.23")
    assert line_rate(Decimal("0.23"), country="DE", table={}) == Decimal("0.23")
