"""``sourcing.within_promise``: an order's routing stock bounded by what the channel's stock policy shows."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from omniretail.inventory.availability import NO_POLICY, StockPolicy, promised_quantity
from omniretail.orders.sourcing import within_promise

LOCATIONS = [1, 2, 3]


def test_without_a_policy_the_stock_is_the_same_object():
    stock = {1: {7: 5}}
    assert within_promise(stock, {7: 99}, NO_POLICY, LOCATIONS) is stock


def test_an_order_within_the_promise_leaves_the_stock_as_it_is():
    stock = {1: {7: 5}, 2: {7: 5}}
    assert within_promise(stock, {7: 8}, StockPolicy(buffer=2), LOCATIONS) is stock


def test_an_order_beyond_it_keeps_the_promise_in_location_order():
    stock = {1: {7: 5, 8: 1}, 2: {7: 5}, 3: {7: 4}}
    capped = within_promise(stock, {7: 20}, StockPolicy(cap=6), LOCATIONS)
    assert capped == {1: {7: 5, 8: 1}, 2: {7: 1}, 3: {7: 0}}
    assert stock == {1: {7: 5, 8: 1}, 2: {7: 5}, 3: {7: 4}}  # the caller's snapshot is not changed


levels = st.dictionaries(st.sampled_from(LOCATIONS), st.dictionaries(st.integers(1, 3), st.integers(0, 20)),
                         max_size=3)
policies = st.builds(StockPolicy, buffer=st.integers(0, 5), keep_last=st.integers(0, 5),
                     cap=st.none() | st.integers(0, 30), round_down_to=st.integers(1, 4))


@given(levels, st.dictionaries(st.integers(1, 3), st.integers(1, 40), min_size=1), policies)
def test_no_location_gains_and_no_order_can_take_more_than_is_shown(stock, asked, policy):
    capped = within_promise(stock, asked, policy, LOCATIONS)
    for location_id, units in stock.items():
        assert capped[location_id].keys() == units.keys()
        assert all(0 <= capped[location_id][v] <= n for v, n in units.items())
    for variant_id, n in asked.items():
        total = sum(at.get(variant_id, 0) for at in stock.values())
        shown = promised_quantity(total, policy)
        left = sum(at.get(variant_id, 0) for at in capped.values())
        assert min(n, left) <= shown  # what routing may take of it
        if n > shown:
            assert left == shown  # exactly what the channel shows, nothing of it lost
