"""Channel availability rules: examples, then properties over random stock and random policies."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omniretail.inventory.availability import (
    InvalidPolicy,
    LocationStock,
    StockPolicy,
    promise,
    promised_quantity,
)


def stock(*available: int) -> list[LocationStock]:
    return [LocationStock(i + 1, on_hand=a, reserved=0, code=f"L{i + 1}") for i, a in enumerate(available)]


def test_location_available_subtracts_reserved_and_safety_stock_and_floors_at_zero():
    assert LocationStock(1, on_hand=10, reserved=3, safety_stock=2).available == 5
    assert LocationStock(1, on_hand=2, reserved=3, safety_stock=0).available == 0


def test_a_short_location_does_not_cancel_another_locations_stock():
    lines = [LocationStock(1, on_hand=1, reserved=4), LocationStock(2, on_hand=5, reserved=0)]
    assert promise(lines).available == 5


def test_half_and_never_the_last_two():
    policy = StockPolicy.from_json({"share_percent": 50, "keep_last": 2})
    assert [promise(stock(n), policy).promised for n in (0, 1, 2, 3, 4, 5, 10, 11)] == [0, 0, 0, 1, 2, 2, 5, 5]


def test_each_rule_on_its_own():
    assert promised_quantity(10, StockPolicy(buffer=3)) == 7
    assert promised_quantity(2, StockPolicy(buffer=3)) == 0
    assert promised_quantity(9, StockPolicy(share_percent=Fraction(50))) == 4
    assert promised_quantity(10, StockPolicy(keep_last=2)) == 8
    assert promised_quantity(500, StockPolicy(cap=100)) == 100
    assert promised_quantity(17, StockPolicy(round_down_to=5)) == 15
    assert promised_quantity(2, StockPolicy(show_zero_below=3)) == 0
    assert promised_quantity(3, StockPolicy(show_zero_below=3)) == 3


def test_explanation_lists_every_location_and_every_step():
    policy = StockPolicy.from_json({"buffer": 1, "share_percent": 50, "cap": 3, "show_zero_below": 2})
    lines = [LocationStock(1, 10, 2, 1, "WH"), LocationStock(2, 1, 3, 0, "ST")]
    result = promise(lines, policy)
    explained = result.explain()
    assert [loc["available"] for loc in explained["locations"]] == [7, 0]
    assert "counted as 0" in explained["locations"][1]["note"]
    assert [(s["rule"], s["before"], s["after"]) for s in explained["steps"]] == [
        ("sum", 0, 7), ("buffer", 7, 6), ("share", 6, 3), ("cap", 3, 3), ("show_zero_below", 3, 3)]
    assert explained["promised"] == result.promised == 3


def test_policy_json_round_trip_and_validation():
    raw = {"buffer": 2, "share_percent": 33.5, "keep_last": 1, "cap": 40, "round_down_to": 2, "show_zero_below": 3}
    assert StockPolicy.from_json(raw).to_json() == raw
    assert StockPolicy.from_json({}).rules == ()
    assert StockPolicy.from_json({"later": "ignored"}) == StockPolicy()
    for bad in ({"buffer": -1}, {"cap": 1.5}, {"share_percent": 120}, {"round_down_to": 0},
                {"share_percent": "lots"}, {"keep_last": True}):
        with pytest.raises(InvalidPolicy):
            StockPolicy.from_json(bad)


# --- properties ---------------------------------------------------------------------------------------

policies = st.builds(
    StockPolicy,
    buffer=st.integers(0, 20),
    share_percent=st.none() | st.fractions(min_value=0, max_value=100, max_denominator=10),
    keep_last=st.integers(0, 20),
    cap=st.none() | st.integers(0, 500),
    round_down_to=st.integers(1, 12),
    show_zero_below=st.integers(0, 30),
)
location_stock = st.builds(
    LocationStock, location_id=st.integers(1, 10_000), on_hand=st.integers(-50, 1_000),
    reserved=st.integers(0, 1_000), safety_stock=st.integers(0, 50),
)


@given(st.lists(location_stock, max_size=20), policies)
def test_promise_is_never_negative_nor_above_what_is_available(lines, policy):
    result = promise(lines, policy)
    assert 0 <= result.promised <= result.available == sum(s.available for s in lines)
    if policy.cap is not None:
        assert result.promised <= policy.cap


@given(st.lists(location_stock, min_size=1, max_size=20), policies, st.integers(0, 20), st.integers(1, 300))
def test_more_stock_never_promises_less(lines, policy, which, extra):
    i = which % len(lines)
    richer = list(lines)
    richer[i] = LocationStock(lines[i].location_id, lines[i].on_hand + extra, lines[i].reserved,
                              lines[i].safety_stock)
    assert promise(richer, policy).promised >= promise(lines, policy).promised


@given(st.integers(0, 5_000), policies)
def test_fast_path_agrees_with_the_explained_one(total, policy):
    assert promised_quantity(total, policy) == promise(stock(total), policy).promised


@given(st.integers(0, 5_000), policies)
def test_steps_only_ever_lower_the_number_and_chain(total, policy):
    steps = promise(stock(total), policy).steps
    before = total
    for step in steps:
        assert step.before == before and 0 <= step.after <= step.before
        before = step.after


@given(st.integers(0, 5_000), st.integers(0, 5_000), policies)
def test_keep_last_and_share_hold_the_promised_line(total, _unused, policy):
    promised = promised_quantity(total, policy)
    if policy.keep_last:
        assert promised <= max(0, total - policy.keep_last)
    if policy.share_percent is not None:
        assert promised <= total * policy.share_percent / 100
    if policy.show_zero_below:
        assert promised == 0 or promised >= policy.show_zero_below
    assert promised % policy.round_down_to == 0
