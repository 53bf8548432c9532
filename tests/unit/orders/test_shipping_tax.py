"""The shipping is taxed like the goods: at their rate, split over several rates by the lines' taxable bases."""

import random
from decimal import Decimal

import pytest

from omniretail.orders.returns_amounts import shipping_tax_part
from omniretail.orders.totals import (
    charged_shipping,
    line_amounts,
    order_amounts,
    shipping_parts,
    shipping_tax,
    shipping_tax_of,
)

VAT23, VAT8, VAT0 = Decimal("0.23"), Decimal("0.08"), Decimal(0)


def line(price: int, rate: Decimal, *, gross: bool, quantity: int = 1, discount: int = 0):
    return line_amounts(unit_price=price, quantity=quantity, discount=discount, tax_rate=rate,
                        prices_include_tax=gross)


def test_gross_channel_single_rate_shipping_carries_its_tax_inside():
    whole = order_amounts([line(10000, VAT23, gross=True)], shipping=1000, prices_include_tax=True)
    # the line: 100.00 − 100.00/1.23 = 18.70; the shipping: 10.00 − 10.00/1.23 = 1.87
    assert (whole.subtotal, whole.tax, whole.shipping_tax, whole.shipping, whole.total) == (
        10000, 1870 + 187, 187, 1000, 11000)


def test_net_channel_single_rate_shipping_gets_its_tax_on_top():
    whole = order_amounts([line(10000, VAT23, gross=False)], shipping=1000, prices_include_tax=False)
    assert (whole.subtotal, whole.tax, whole.shipping_tax, whole.shipping, whole.total) == (
        10000, 2300 + 230, 230, 1000, 12300 + 1000 + 230)
    # what the lines and the order show add up: subtotal − discount + shipping + tax
    assert whole.subtotal - whole.discount + whole.shipping + whole.tax == whole.total


def test_two_rates_split_in_proportion_to_the_taxable_bases_to_the_cent():
    a, b = line(10000, VAT23, gross=True), line(5000, VAT8, gross=True)
    assert (a.base, b.base) == (8130, 4630)
    # 9.99 × 8130/12760 = 6.3651 and 9.99 × 4630/12760 = 3.6249: 636 + 362 = 998, the cent left to the larger rest
    assert shipping_parts([(VAT23, a.base), (VAT8, b.base)], 999) == [(VAT23, 637), (VAT8, 362)]
    whole = order_amounts([a, b], shipping=999, prices_include_tax=True)
    assert whole.shipping_tax == (637 - 518) + (362 - 335)  # 6.37/1.23 = 5.18, 3.62/1.08 = 3.35
    assert (whole.tax, whole.total) == (a.tax + b.tax + 146, 15000 + 999)
    net = order_amounts([line(8130, VAT23, gross=False), line(4630, VAT8, gross=False)], shipping=999,
                        prices_include_tax=False)
    assert net.shipping_tax == 147 + 29  # 6.37 × 0.23 = 1.4651, 3.62 × 0.08 = 0.2896
    assert net.total == 8130 + 1870 + 4630 + 370 + 999 + 176


def test_lines_at_one_rate_are_one_share_and_the_rates_keep_line_order():
    bases = [(VAT8, 100), (VAT23, 300), (VAT8, 100)]
    assert shipping_parts(bases, 1000) == [(VAT8, 400), (VAT23, 600)]
    # Decimal("0.2300") is the rate 0.23 (as read back from a NUMERIC(5, 4) column)
    assert shipping_parts([(VAT23, 100), (Decimal("0.2300"), 100)], 7) == [(VAT23, 7)]


def test_equal_rests_go_to_the_larger_base_then_the_rate_met_first():
    assert shipping_parts([(VAT8, 100), (VAT23, 100)], 1) == [(VAT8, 1), (VAT23, 0)]
    assert shipping_parts([(VAT23, 100), (VAT8, 100)], 1) == [(VAT23, 1), (VAT8, 0)]
    # 2 × 2/4 = 1 exactly for 23 %; 0.5 rest for 8 % and 0 %, equal bases: the one met first takes it
    assert shipping_parts([(VAT8, 1), (VAT23, 2), (VAT0, 1)], 2) == [(VAT8, 1), (VAT23, 1), (VAT0, 0)]


def test_parts_always_sum_to_the_shipping_exactly():
    rng = random.Random(20240613)
    rates = [VAT23, VAT8, Decimal("0.05"), VAT0, Decimal("0.20"), Decimal("0.10")]
    for _ in range(2000):
        bases = [(rng.choice(rates), rng.randint(0, 10**7)) for _ in range(rng.randint(1, 8))]
        shipping = rng.randint(0, 10**5)
        parts = shipping_parts(bases, shipping)
        assert sum(p for _r, p in parts) == (shipping if parts else 0)
        assert all(p >= 0 for _r, p in parts)
        whole = sum(max(0, b) for _r, b in bases)
        for rate, part in parts:  # each part within one minor unit of its exact share
            if whole:
                exact = Decimal(shipping) * sum(b for r, b in bases if r == rate) / whole
                assert abs(part - exact) < 1


def test_zero_rated_lines_take_their_share_untaxed():
    a, zero = line(10000, VAT23, gross=False), line(10000, VAT0, gross=False)
    assert shipping_parts([(VAT23, a.base), (VAT0, zero.base)], 1000) == [(VAT23, 500), (VAT0, 500)]
    whole = order_amounts([a, zero], shipping=1000, prices_include_tax=False)
    assert (whole.shipping_tax, whole.tax, whole.total) == (115, 2300 + 115, 12300 + 10000 + 1000 + 115)
    only_zero = order_amounts([line(5000, VAT0, gross=True)], shipping=1500, prices_include_tax=True)
    assert (only_zero.shipping_tax, only_zero.tax, only_zero.total) == (0, 0, 6500)


def test_no_shipping_no_shipping_tax():
    lines = [line(10000, VAT23, gross=True), line(5000, VAT8, gross=True)]
    whole = order_amounts(lines, shipping=0, prices_include_tax=True)
    assert (whole.shipping_tax, whole.tax, whole.total) == (0, lines[0].tax + lines[1].tax, 15000)
    assert shipping_parts([(VAT23, 100)], 0) == [] and shipping_tax([], 500, prices_include_tax=True) == 0


def test_no_charged_line_puts_the_shipping_at_the_first_lines_rate():
    cancelled = [line(10000, VAT8, gross=True, quantity=0), line(10000, VAT23, gross=True, quantity=0)]
    whole = order_amounts(cancelled, shipping=1000, prices_include_tax=True)
    assert (whole.subtotal, whole.shipping_tax, whole.tax, whole.total) == (0, 74, 74, 1000)  # 10.00/1.08 = 9.26
    free = order_amounts([line(500, VAT23, gross=False, discount=500)], shipping=1000, prices_include_tax=False)
    assert (free.shipping_tax, free.total) == (230, 1230)
    # a cancelled line at another rate takes no share while another line carries value
    mixed = order_amounts([line(10000, VAT8, gross=True, quantity=0), line(10000, VAT23, gross=True)],
                          shipping=1000, prices_include_tax=True)
    assert mixed.shipping_tax == 187


def test_the_lines_convention_is_used_when_the_orders_is_not_given():
    assert order_amounts([line(10000, VAT23, gross=False)], shipping=1000).total == 13530
    assert order_amounts([line(10000, VAT23, gross=True)], shipping=1000).total == 11000


@pytest.mark.parametrize("gross", [True, False])
def test_the_shipping_tax_is_derived_back_from_what_is_stored(gross):
    lines = [line(1999, VAT23, gross=gross, quantity=3), line(450, VAT8, gross=gross)]
    whole = order_amounts(lines, shipping=1490, prices_include_tax=gross)
    assert shipping_tax_of(whole.tax, [x.tax for x in lines]) == whole.shipping_tax > 0
    paid = charged_shipping(whole.shipping, whole.shipping_tax, prices_include_tax=gross)
    assert paid == 1490 + (0 if gross else whole.shipping_tax)
    assert whole.total == sum(x.total for x in lines) + paid


def test_refunding_the_shipping_in_parts_gives_back_exactly_its_tax():
    paid, tax = 1230, 230
    parts = [shipping_tax_part(tax, paid=paid, refunded=r, refunding=k) for r, k in ((0, 400), (400, 400),
                                                                                     (800, 430))]
    assert sum(parts) == tax and parts == [75, 75, 80]
    assert shipping_tax_part(tax, paid=paid, refunded=0, refunding=0) == 0
    assert shipping_tax_part(tax, paid=paid, refunded=0, refunding=paid) == tax
    assert shipping_tax_part(0, paid=0, refunded=0, refunding=0) == 0
