"""The return (RMA) state machine, and the order state its returns lead to. Pure: no database.

::

    requested ──► authorised ──► received ──► inspected ──► refunded
        │             │                           └───────► closed
        ├──► rejected └──► cancelled
        └──► cancelled

A return is *requested* (by the customer, the channel or staff) and *authorised* by staff (at once for a
return made in a store); the goods are *received* at a location that accepts returns (any store, or the
warehouse by post), *inspected* line by line (condition and disposition: restock, damaged, return to vendor),
then *refunded* (the goods' value paid back, possibly in several partial refunds) or *closed* (exchanged,
refused after inspection, or settled with a partial refund). A move is checked here and applied by the
service as ``UPDATE sales_return … WHERE state = :expected``; an illegal move is a 409 naming the allowed ones.
"""

from __future__ import annotations

from enum import StrEnum

from .states import IllegalTransition, OrderState


class ReturnState(StrEnum):
    REQUESTED = "requested"
    AUTHORISED = "authorised"
    RECEIVED = "received"
    INSPECTED = "inspected"
    REFUNDED = "refunded"
    CLOSED = "closed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


R = ReturnState

RETURN_MOVES: dict[ReturnState, tuple[ReturnState, ...]] = {
    R.REQUESTED: (R.AUTHORISED, R.REJECTED, R.CANCELLED),
    R.AUTHORISED: (R.RECEIVED, R.CANCELLED),
    R.RECEIVED: (R.INSPECTED,),
    R.INSPECTED: (R.REFUNDED, R.CLOSED),
    R.REFUNDED: (),
    R.CLOSED: (),
    R.REJECTED: (),
    R.CANCELLED: (),
}

# Returns whose units no longer count against what may still be returned.
RETURN_VOID = frozenset({R.REJECTED, R.CANCELLED})
# Returns whose goods are back in the retailer's hands (closed is only reached after inspection).
RETURN_GOODS_BACK = frozenset({R.RECEIVED, R.INSPECTED, R.REFUNDED, R.CLOSED})
# Returns that may still be exchanged (the customer is owed goods, not yet settled).
RETURN_EXCHANGEABLE = frozenset({R.AUTHORISED, R.RECEIVED, R.INSPECTED})


def allowed_return_moves(current: str) -> tuple[ReturnState, ...]:
    return RETURN_MOVES[ReturnState(current)]


def return_move(current: str, requested: str, *, return_id: int | None = None) -> ReturnState:
    """Check one return move; returns the new state or raises IllegalTransition."""
    target = ReturnState(requested)
    allowed = allowed_return_moves(current)
    if target not in allowed:
        raise IllegalTransition(entity="return", entity_id=return_id, current=current, requested=target,
                                allowed=allowed)
    return target


def order_state_after_returns(current: str, *, units_back: int, units_delivered: int) -> OrderState:
    """The state a completed order moves to as its goods come back: ``partially_returned`` while some of the
    delivered units are back, ``returned`` when all are. An order that is not completed yet (some lines still
    on their way) keeps its state: its timeline records the return, its fulfilment goes on."""
    current = OrderState(current)
    if current not in (OrderState.COMPLETED, OrderState.PARTIALLY_RETURNED) or units_back <= 0:
        return current
    if units_delivered > 0 and units_back >= units_delivered:
        return OrderState.RETURNED
    return OrderState.PARTIALLY_RETURNED
