"""Refund arithmetic: the value of returned units (discounts included, exact over partial returns), partial
refunds, shipping once, and no refund above what may be paid back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omniretail.orders import totals
from omniretail.orders.returns_amounts import (
    NothingToRefund,
    OverRefund,
    plan_refund,
    returnable_units,
    share,
    units_value,
)


def test_a_discounted_line_refunds_what_was_paid_not_the_list_price():
    # 3 × 100.00 with 30.00 off the line: the customer paid 270.00, so one unit refunds 90.00
    line = totals.line_amounts(unit_price=10000, quantity=3, discount=3000, tax_rate=Decimal("0.23"),
                               prices_include_tax=True)
    assert line.total == 27000
    one = units_value(total=line.total, tax=line.tax, charged=3, already_returned=0, quantity=1)
    assert one.amount == 9000
    assert one.tax == share(line.tax, charged=3, units=1)


def test_units_returned_in_pieces_add_up_to_the_line_total_exactly():
    # 100.00 for 3 units does not divide: 33.33 + 33.34 + 33.33 = 100.00
    parts = [units_value(total=10000, tax=1870, charged=3, already_returned=r, quantity=1) for r in range(3)]
    assert [p.amount for p in parts] == [3333, 3334, 3333]
    assert sum(p.amount for p in parts) == 10000 and sum(p.tax for p in parts) == 1870
    two_then_one = [units_value(total=10000, tax=1870, charged=3, already_returned=0, quantity=2),
                    units_value(total=10000, tax=1870, charged=3, already_returned=2, quantity=1)]
    assert sum(p.amount for p in two_then_one) == 10000


def test_cancelled_units_are_not_charged_so_not_refunded():
    # 5 ordered, 2 cancelled: the total is for the 3 charged units
    assert units_value(total=6000, tax=0, charged=3, already_returned=0, quantity=3).amount == 6000
    with pytest.raises(ValueError):
        units_value(total=6000, tax=0, charged=3, already_returned=1, quantity=3)


@given(st.integers(0, 10**9), st.integers(1, 50), st.lists(st.integers(1, 5), min_size=1, max_size=20))
def test_any_split_of_a_line_never_refunds_more_than_its_total(total, charged, pieces):
    returned, paid = 0, 0
    for q in pieces:
        if returned + q > charged:
            break
        paid += units_value(total=total, tax=0, charged=charged, already_returned=returned, quantity=q).amount
        returned += q
    assert 0 <= paid <= total
    if returned == charged:
        assert paid == total


def test_returnable_units():
    assert returnable_units(delivered=3, returned=1) == 2
    assert returnable_units(delivered=0, returned=0) == 0
    assert returnable_units(delivered=2, returned=5) == 0


def _plan(**kw):
    args = {"goods_due": 10000, "goods_refunded": 0, "shipping_left": 1500, "paid_left": 11500, "requested": None,
            "include_shipping": False}
    return plan_refund(**{**args, **kw})


def test_default_refund_is_everything_owed_for_the_goods():
    plan = _plan()
    assert (plan.amount, plan.goods, plan.shipping, plan.settles) == (10000, 10000, 0, True)


def test_shipping_is_refunded_by_choice_after_the_goods():
    plan = _plan(include_shipping=True)
    assert (plan.amount, plan.goods, plan.shipping, plan.settles) == (11500, 10000, 1500, True)
    partial = _plan(include_shipping=True, requested=10500)
    assert (partial.goods, partial.shipping, partial.settles) == (10000, 500, False)


def test_partial_refund_then_the_rest():
    first = _plan(requested=4000)
    assert (first.amount, first.goods, first.settles) == (4000, 4000, False)
    rest = _plan(goods_refunded=4000, paid_left=7500)
    assert (rest.amount, rest.settles) == (6000, True)
    with pytest.raises(NothingToRefund):
        _plan(goods_refunded=10000, paid_left=1500)


def test_over_refund_is_refused():
    with pytest.raises(OverRefund) as caught:
        _plan(requested=10001)
    assert caught.value.status == 409 and caught.value.extensions["refundable"] == 10000
    with pytest.raises(OverRefund):
        _plan(goods_refunded=4000, paid_left=7500, requested=6001)
    with pytest.raises(OverRefund):
        _plan(requested=0)


def test_never_more_than_was_paid_for_the_order():
    # other returns of the order took most of the payment: only 2500 is left to pay back
    plan = _plan(paid_left=2500)
    assert (plan.amount, plan.settles) == (2500, True)
    with pytest.raises(OverRefund):
        _plan(paid_left=2500, requested=2501)
    with pytest.raises(NothingToRefund):
        _plan(paid_left=0)  # nothing was paid (or all of it was refunded)
