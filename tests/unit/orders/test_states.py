"""Every legal and every illegal move of the order and fulfilment-order state machines."""

from __future__ import annotations

import itertools

import pytest

from omniretail.orders.states import (
    FULFILMENT_MOVES,
    ORDER_MOVES,
    FulfilmentState,
    IllegalTransition,
    OrderState,
    allowed_fulfilment_moves,
    fulfilment_move,
    order_move,
    order_path,
    order_state_for,
)

O, F = OrderState, FulfilmentState

LEGAL_ORDER = {
    (O.PENDING_PAYMENT, O.CONFIRMED), (O.PENDING_PAYMENT, O.CANCELLED),
    (O.CONFIRMED, O.IN_FULFILMENT), (O.CONFIRMED, O.CANCELLED),
    (O.IN_FULFILMENT, O.PARTIALLY_FULFILLED), (O.IN_FULFILMENT, O.FULFILLED), (O.IN_FULFILMENT, O.CANCELLED),
    (O.PARTIALLY_FULFILLED, O.FULFILLED), (O.FULFILLED, O.COMPLETED),
    (O.COMPLETED, O.PARTIALLY_RETURNED), (O.COMPLETED, O.RETURNED), (O.PARTIALLY_RETURNED, O.RETURNED),
}
LEGAL_FULFILMENT = {
    (F.NEW, F.PICKING), (F.NEW, F.CANCELLED), (F.PICKING, F.PICKED), (F.PICKING, F.CANCELLED),
    (F.PICKED, F.READY_FOR_PICKUP), (F.PICKED, F.SHIPPED), (F.PICKED, F.CANCELLED),
    (F.READY_FOR_PICKUP, F.HANDED_OVER), (F.READY_FOR_PICKUP, F.CANCELLED), (F.SHIPPED, F.DELIVERED),
    (F.AWAITING_TRANSFER, F.READY_FOR_PICKUP), (F.AWAITING_TRANSFER, F.CANCELLED),  # ship-to-store
}


def test_tables_are_exactly_the_documented_moves():
    assert {(a, b) for a, moves in ORDER_MOVES.items() for b in moves} == LEGAL_ORDER
    assert {(a, b) for a, moves in FULFILMENT_MOVES.items() for b in moves} == LEGAL_FULFILMENT


@pytest.mark.parametrize(("current", "target"), list(itertools.product(O, O)))
def test_every_order_move(current, target):
    if (current, target) in LEGAL_ORDER:
        assert order_move(current, target, order_id=7) is target
        return
    with pytest.raises(IllegalTransition) as caught:
        order_move(current, target, order_id=7)
    problem = caught.value.to_problem()
    assert problem["status"] == 409 and problem["type"].endswith(":illegal-transition")
    assert problem["current_state"] == current and problem["requested_state"] == target
    assert problem["allowed"] == [str(s) for s in ORDER_MOVES[current]]


@pytest.mark.parametrize(("current", "target"), list(itertools.product(F, F)))
def test_every_fulfilment_move(current, target):
    if (current, target) in LEGAL_FULFILMENT:
        assert fulfilment_move(current, target) is target
        return
    with pytest.raises(IllegalTransition) as caught:
        fulfilment_move(current, target, fulfilment_order_id=3)
    assert caught.value.extensions["allowed"] == [str(s) for s in FULFILMENT_MOVES[current]]


@pytest.mark.parametrize("method", ["pickup", "curbside"])
def test_pickups_are_made_ready_and_handed_over_never_shipped(method):
    assert allowed_fulfilment_moves("picked", method) == (F.READY_FOR_PICKUP, F.CANCELLED)
    with pytest.raises(IllegalTransition) as caught:
        fulfilment_move("picked", "shipped", delivery_method=method)
    assert caught.value.extensions["allowed"] == ["ready_for_pickup", "cancelled"]


@pytest.mark.parametrize("method", ["ship", "pickup_point"])
def test_parcels_ship_and_are_delivered_never_handed_over(method):
    assert allowed_fulfilment_moves("picked", method) == (F.SHIPPED, F.CANCELLED)
    assert allowed_fulfilment_moves("shipped", method) == (F.DELIVERED,)
    with pytest.raises(IllegalTransition):
        fulfilment_move("picked", "ready_for_pickup", delivery_method=method)


@pytest.mark.parametrize(("current", "fos", "extra", "expected"), [
    ("confirmed", ["new"], {}, O.CONFIRMED),
    ("confirmed", ["picking", "new"], {}, O.IN_FULFILMENT),
    ("in_fulfilment", ["picked", "ready_for_pickup"], {}, O.IN_FULFILMENT),
    ("in_fulfilment", ["shipped", "picked"], {}, O.PARTIALLY_FULFILLED),
    ("in_fulfilment", ["picked"], {"partly_shipped": True}, O.PARTIALLY_FULFILLED),
    ("in_fulfilment", ["shipped", "cancelled"], {}, O.FULFILLED),
    ("partially_fulfilled", ["shipped", "delivered"], {}, O.FULFILLED),
    ("fulfilled", ["delivered", "handed_over"], {}, O.COMPLETED),
    ("in_fulfilment", ["handed_over"], {}, O.COMPLETED),
    ("in_fulfilment", ["handed_over"], {"waiting_units": True}, O.PARTIALLY_FULFILLED),
    ("confirmed", ["cancelled"], {}, O.CANCELLED),
    ("confirmed", [], {"waiting_units": True}, O.CONFIRMED),
    ("pending_payment", ["new"], {}, O.PENDING_PAYMENT),
    ("cancelled", ["shipped"], {}, O.CANCELLED),
    ("partially_returned", ["delivered"], {}, O.PARTIALLY_RETURNED),
    ("returned", ["handed_over"], {}, O.RETURNED),
])
def test_order_state_follows_its_fulfilment_orders(current, fos, extra, expected):
    assert order_state_for(current, fos, **extra) is expected


def test_order_path_walks_legal_steps_only():
    assert order_path("confirmed", "completed") == [O.IN_FULFILMENT, O.FULFILLED, O.COMPLETED]
    assert order_path("in_fulfilment", "partially_fulfilled") == [O.PARTIALLY_FULFILLED]
    assert order_path("fulfilled", "fulfilled") == []
    assert order_path("completed", "returned") == [O.RETURNED]
    assert order_path("fulfilled", "partially_returned") == [O.COMPLETED, O.PARTIALLY_RETURNED]
    for start, goal in (("completed", "cancelled"), ("partially_fulfilled", "cancelled"),
                        ("returned", "completed"), ("partially_returned", "completed")):
        with pytest.raises(IllegalTransition):
            order_path(start, goal)
    for start, goal in itertools.product(O, O):
        try:
            steps = order_path(start, goal)
        except IllegalTransition:
            continue
        previous = start
        for step in steps:
            assert step in ORDER_MOVES[previous]
            previous = step
