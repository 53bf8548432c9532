"""Inventory's business errors (each carries its HTTP status, like every ``platform.errors`` class)."""

from __future__ import annotations

from omniretail.platform.errors import Conflict


class InsufficientStock(Conflict):
    """Not enough available stock: the reservation or the decrease was refused, nothing changed."""

    code, title = "insufficient-stock", "Insufficient stock"

    def __init__(self, *, sku: str, location_id: int, requested: int, available: int,
                 detail: str | None = None) -> None:
        super().__init__(
            detail or f"only {available} of {sku} available at location {location_id}, {requested} requested",
            sku=sku, location_id=location_id, requested=requested, available=available,
        )
        self.sku, self.location_id, self.requested, self.available = sku, location_id, requested, available


class ReservationClosed(Conflict):
    """The reservation was already consumed, released or expired."""

    code, title = "reservation-closed", "Reservation is no longer open"


class WrongState(Conflict):
    """A transfer or count sheet is not in a state that allows this step (shipped twice, received twice …)."""

    code, title = "wrong-state", "Not allowed in the current state"
