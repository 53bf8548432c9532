from decimal import Decimal

from omniretail.orders.totals import line_amounts, order_amounts, prorated_discount


def test_gross_prices_carry_their_tax():
    x = line_amounts(unit_price=10000, quantity=2, discount=0, tax_rate=Decimal("0.23"), prices_include_tax=True)
    assert (x.subtotal, x.discount, x.tax, x.total) == (20000, 0, 3740, 20000)


def test_net_prices_get_tax_added_half_even():
    x = line_amounts(unit_price=1999, quantity=1, discount=0, tax_rate=Decimal("0.23"), prices_include_tax=False)
    assert (x.tax, x.total) == (460, 2459)  # 459.77 -> 460


def test_discount_is_capped_and_prorated():
    x = line_amounts(unit_price=500, quantity=2, discount=5000, tax_rate=Decimal("0.08"), prices_include_tax=True)
    assert (x.discount, x.total, x.tax) == (1000, 0, 0)
    assert prorated_discount(300, quantity=3, charged=1) == 100
    assert prorated_discount(300, quantity=3, charged=3) == 300
    assert line_amounts(unit_price=500, quantity=0, discount=1, tax_rate=Decimal(0), prices_include_tax=True).total == 0


def test_order_total_adds_shipping():
    lines = [line_amounts(unit_price=1000, quantity=1, discount=100, tax_rate=Decimal("0.23"),
                          prices_include_tax=True)] * 2
    total = order_amounts(lines, shipping=999)
    assert (total.subtotal, total.discount, total.total) == (2000, 200, 2799)
