"""Every legal and every illegal move of the return state machine, and the order state returns lead to."""

from __future__ import annotations

import itertools

import pytest

from omniretail.orders.returns_states import (
    RETURN_MOVES,
    IllegalTransition,
    ReturnState,
    allowed_return_moves,
    order_state_after_returns,
    return_move,
)
from omniretail.orders.states import OrderState

R, O = ReturnState, OrderState

LEGAL = {
    (R.REQUESTED, R.AUTHORISED), (R.REQUESTED, R.REJECTED), (R.REQUESTED, R.CANCELLED),
    (R.AUTHORISED, R.RECEIVED), (R.AUTHORISED, R.CANCELLED),
    (R.RECEIVED, R.INSPECTED),
    (R.INSPECTED, R.REFUNDED), (R.INSPECTED, R.CLOSED),
}


def test_table_is_exactly_the_documented_moves():
    assert {(a, b) for a, moves in RETURN_MOVES.items() for b in moves} == LEGAL
    assert set(RETURN_MOVES) == set(R)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(R, R)))
def test_every_return_move(current, target):
    if (current, target) in LEGAL:
        assert return_move(current, target, return_id=5) is target
        return
    with pytest.raises(IllegalTransition) as caught:
        return_move(current, target, return_id=5)
    problem = caught.value.to_problem()
    assert problem["status"] == 409 and problem["type"].endswith(":illegal-transition")
    assert (problem["entity"], problem["entity_id"]) == ("return", 5)
    assert problem["current_state"] == current and problem["requested_state"] == target
    assert problem["allowed"] == [str(s) for s in RETURN_MOVES[current]]


@pytest.mark.parametrize("final", [R.REFUNDED, R.CLOSED, R.REJECTED, R.CANCELLED])
def test_final_states_allow_nothing(final):
    assert allowed_return_moves(final) == ()


def test_no_double_receive_or_refund():
    for state in (R.RECEIVED, R.INSPECTED, R.REFUNDED, R.CLOSED):
        with pytest.raises(IllegalTransition):
            return_move(state, R.RECEIVED)
    with pytest.raises(IllegalTransition):
        return_move(R.REFUNDED, R.REFUNDED)


@pytest.mark.parametrize(("current", "back", "delivered", "expected"), [
    ("completed", 0, 3, O.COMPLETED),
    ("completed", 1, 3, O.PARTIALLY_RETURNED),
    ("completed", 3, 3, O.RETURNED),
    ("partially_returned", 2, 3, O.PARTIALLY_RETURNED),
    ("partially_returned", 3, 3, O.RETURNED),
    ("returned", 3, 3, O.RETURNED),
    # not completed yet (a line still on its way): the order keeps following its fulfilment
    ("partially_fulfilled", 1, 1, O.PARTIALLY_FULFILLED),
    ("fulfilled", 2, 2, O.FULFILLED),
])
def test_order_state_after_returns(current, back, delivered, expected):
    target = order_state_after_returns(current, units_back=back, units_delivered=delivered)
    assert target is expected
    if target != current:  # always a legal order move
        from omniretail.orders.states import order_move
        assert order_move(current, target) is target
