"""The order and fulfilment-order state machines. Pure: no database.

A move is legal when the table below lists it; :func:`order_move` and :func:`fulfilment_move` check one and
raise :class:`IllegalTransition` (a 409 naming the allowed moves) otherwise. The service applies a legal move
as a conditional ``UPDATE … WHERE state = :expected``, so of two people making the same move only one wins.

An order's state follows its fulfilment orders (:func:`order_state_for`); :func:`order_path` gives the legal
steps from the current state to that one, each of which is written to the timeline. After it is completed it
follows its returns (``returns_states.order_state_after_returns``): partially_returned, then returned.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from enum import StrEnum

from omniretail.platform.errors import Conflict


class OrderState(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"
    IN_FULFILMENT = "in_fulfilment"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    FULFILLED = "fulfilled"
    COMPLETED = "completed"
    PARTIALLY_RETURNED = "partially_returned"
    RETURNED = "returned"
    CANCELLED = "cancelled"


class FulfilmentState(StrEnum):
    NEW = "new"
    PICKING = "picking"
    PICKED = "picked"
    READY_FOR_PICKUP = "ready_for_pickup"
    SHIPPED = "shipped"
    HANDED_OVER = "handed_over"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    AWAITING_TRANSFER = "awaiting_transfer"  # ship-to-store: the goods are on their way to the pickup store


O, F = OrderState, FulfilmentState

ORDER_MOVES: dict[OrderState, tuple[OrderState, ...]] = {
    O.PENDING_PAYMENT: (O.CONFIRMED, O.CANCELLED),
    O.CONFIRMED: (O.IN_FULFILMENT, O.CANCELLED),
    O.IN_FULFILMENT: (O.PARTIALLY_FULFILLED, O.FULFILLED, O.CANCELLED),
    O.PARTIALLY_FULFILLED: (O.FULFILLED,),
    O.FULFILLED: (O.COMPLETED,),
    O.COMPLETED: (O.PARTIALLY_RETURNED, O.RETURNED),
    O.PARTIALLY_RETURNED: (O.RETURNED,),
    O.RETURNED: (),
    O.CANCELLED: (),
}

FULFILMENT_MOVES: dict[FulfilmentState, tuple[FulfilmentState, ...]] = {
    F.NEW: (F.PICKING, F.CANCELLED),
    F.PICKING: (F.PICKED, F.CANCELLED),
    F.PICKED: (F.READY_FOR_PICKUP, F.SHIPPED, F.CANCELLED),
    F.READY_FOR_PICKUP: (F.HANDED_OVER, F.CANCELLED),
    F.SHIPPED: (F.DELIVERED,),
    F.HANDED_OVER: (),
    F.DELIVERED: (),
    F.CANCELLED: (),
    F.AWAITING_TRANSFER: (F.READY_FOR_PICKUP, F.CANCELLED),
}

# Which delivery methods a fulfilment-order move needs: pickups are made ready and handed over, parcels ship.
COLLECTED = frozenset({"pickup", "curbside"})
# Taken by the customer at one store: collected later, or sold at the counter (handed over at once).
AT_ONE_STORE = COLLECTED | {"counter"}
# A ship-to-store leg (``ship_to_store``) ships as its transfer ships and is never delivered to a customer.
SHIP_TO_STORE = "ship_to_store"
MOVE_NEEDS = {F.READY_FOR_PICKUP: COLLECTED, F.HANDED_OVER: COLLECTED,
              F.SHIPPED: frozenset({"ship", "pickup_point", SHIP_TO_STORE}),
              F.DELIVERED: frozenset({"ship", "pickup_point"})}

# Completed orders whose goods (some or all) came back: fulfilment no longer moves them.
ORDER_STATES_AFTER_COMPLETION = frozenset({O.COMPLETED, O.PARTIALLY_RETURNED, O.RETURNED})

# The orders whose fulfilment may go on (a pending payment or a cancelled order is not picked).
ORDER_STATES_THAT_FULFIL = frozenset({O.CONFIRMED, O.IN_FULFILMENT, O.PARTIALLY_FULFILLED, O.FULFILLED})
FULFILMENT_OPEN = frozenset({F.NEW, F.PICKING, F.PICKED, F.READY_FOR_PICKUP, F.AWAITING_TRANSFER})
FULFILMENT_DONE = frozenset({F.SHIPPED, F.HANDED_OVER, F.DELIVERED})
FULFILMENT_WITH_CUSTOMER = frozenset({F.HANDED_OVER, F.DELIVERED})


class IllegalTransition(Conflict):
    code, title = "illegal-transition", "This move is not allowed in the current state"

    def __init__(self, *, entity: str, entity_id: int | None, current: str, requested: str,
                 allowed: Iterable[str], detail: str | None = None) -> None:
        allowed = [str(a) for a in allowed]
        super().__init__(
            detail or f"{entity} {entity_id if entity_id is not None else ''} is {current}; it cannot become "
                      f"{requested} (allowed: {', '.join(allowed) or 'none'})".replace("  ", " "),
            entity=entity, entity_id=entity_id, current_state=str(current), requested_state=str(requested),
            allowed=allowed)


# What a payment provider, a till or staff may report next. The same status again changes nothing; a refund made
# here (``orders/refunds.py``) sets ``refunded`` itself.
PAYMENT_MOVES: dict[str, tuple[str, ...]] = {
    "pending": ("authorized", "paid", "pay_on_pickup", "cash_on_delivery"),
    "authorized": ("paid", "pending"),  # captured, or the authorisation was voided or lapsed
    "pay_on_pickup": ("paid", "pending"),
    "cash_on_delivery": ("paid", "pending"),
    "paid": ("refunded",),
    "refunded": (),
}


def check_payment_move(order_id: int, current: str, requested: str) -> None:
    """``IllegalTransition`` (409 with the allowed statuses) unless ``requested`` may follow ``current``."""
    if requested != current and requested not in PAYMENT_MOVES.get(current, ()):
        raise IllegalTransition(entity="payment", entity_id=order_id, current=current, requested=requested,
                                allowed=PAYMENT_MOVES.get(current, ()),
                                detail=f"the payment of order {order_id} is {current}; it cannot become {requested} "
                                       f"(allowed: {', '.join(PAYMENT_MOVES.get(current, ())) or 'none'})")


def allowed_order_moves(current: str) -> tuple[OrderState, ...]:
    return ORDER_MOVES[OrderState(current)]


def allowed_fulfilment_moves(current: str, delivery_method: str | None = None) -> tuple[FulfilmentState, ...]:
    moves = FULFILMENT_MOVES[FulfilmentState(current)]
    if delivery_method is None:
        return moves
    return tuple(m for m in moves if delivery_method in MOVE_NEEDS.get(m, frozenset({delivery_method})))


def actionable_fulfilment_moves(current: str, delivery_method: str, order_state: str | None = None
                                ) -> tuple[FulfilmentState, ...]:
    """The moves a client may ask for now (what the read model lists as ``allowed_moves``): a ship-to-store leg
    ships with its transfer, not on its own; an order that may not be fulfilled (payment pending) only lets its
    fulfilment orders be cancelled."""
    moves = allowed_fulfilment_moves(current, delivery_method)
    if delivery_method == SHIP_TO_STORE:
        moves = tuple(m for m in moves if m != F.SHIPPED)
    if order_state is not None and order_state not in ORDER_STATES_THAT_FULFIL:
        moves = tuple(m for m in moves if m == F.CANCELLED)
    return moves


def order_move(current: str, requested: str, *, order_id: int | None = None) -> OrderState:
    """Check one order move; returns the new state or raises IllegalTransition."""
    target = OrderState(requested)
    allowed = allowed_order_moves(current)
    if target not in allowed:
        raise IllegalTransition(entity="order", entity_id=order_id, current=current, requested=target,
                                allowed=allowed)
    return target


def fulfilment_move(current: str, requested: str, *, delivery_method: str | None = None,
                    fulfilment_order_id: int | None = None) -> FulfilmentState:
    """Check one fulfilment-order move (for its delivery method); returns the new state or raises."""
    target = FulfilmentState(requested)
    allowed = allowed_fulfilment_moves(current, delivery_method)
    if target not in allowed:
        raise IllegalTransition(entity="fulfilment_order", entity_id=fulfilment_order_id, current=current,
                                requested=target, allowed=allowed)
    return target


def order_state_for(current: str, fulfilment_states: Iterable[str], *, partly_shipped: bool = False,
                    waiting_units: bool = False) -> OrderState:
    """The state an order should be in given its fulfilment orders.

    ``partly_shipped``: some fulfilment order has shipped part of its lines. ``waiting_units``: some units
    have no fulfilment order yet (backordered), so the order cannot be fulfilled in full.
    """
    current = OrderState(current)
    if current == O.CANCELLED or current in ORDER_STATES_AFTER_COMPLETION:
        return current
    active = [FulfilmentState(s) for s in fulfilment_states if s != F.CANCELLED]
    if not active:  # an unpaid order too: nothing is left to pay for
        return current if waiting_units else O.CANCELLED
    if current == O.PENDING_PAYMENT:
        return current
    done = [s for s in active if s in FULFILMENT_DONE]
    if len(done) == len(active) and not waiting_units:
        return O.COMPLETED if all(s in FULFILMENT_WITH_CUSTOMER for s in active) else O.FULFILLED
    if done or partly_shipped:
        return O.PARTIALLY_FULFILLED
    if any(s != F.NEW for s in active):
        return O.IN_FULFILMENT
    return O.CONFIRMED if current == O.CONFIRMED else current


def order_path(current: str, target: str) -> list[OrderState]:
    """The legal steps from ``current`` to ``target`` (shortest), excluding ``current``; [] if equal.
    Raises IllegalTransition when ``target`` cannot be reached."""
    start, goal = OrderState(current), OrderState(target)
    if start == goal:
        return []
    previous: dict[OrderState, OrderState | None] = {start: None}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        for nxt in ORDER_MOVES[state]:
            if nxt not in previous:
                previous[nxt] = state
                queue.append(nxt)
    if goal not in previous:
        raise IllegalTransition(entity="order", entity_id=None, current=start, requested=goal,
                                allowed=ORDER_MOVES[start])
    path = [goal]
    while previous[path[-1]] != start:
        path.append(previous[path[-1]])
    return path[::-1]
