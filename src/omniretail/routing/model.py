"""Sourcing, in the retailer's words: order lines, candidate locations, what shipping costs, plans and why.

Pure data and arithmetic, no I/O. The service layer builds a :class:`RoutingRequest` from the order, the
locations and their stock levels; :mod:`omniretail.routing.solver` turns it into an :class:`Explanation`.

Every plan, whichever strategy made it, is priced by one function, :func:`price_plan`, so the greedy and the
optimal strategy are compared on exactly the same terms. Costs are estimates in the channel's currency used to
rank plans, not booked money, hence floats.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Any

LineId = int | str
EARTH_RADIUS_KM = 6371.0088


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance between two points, in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class OrderLine:
    line_id: LineId
    variant_id: int
    quantity: int


@dataclass(frozen=True)
class Candidate:
    """A location that might fulfil the order, as the order sees it today.

    ``stock`` is what is available per variant, already net of reservations and safety stock.
    ``store_protection`` units of each variant stay on the shelf for walk-in customers (0 for warehouses).
    ``capacity_left`` is how many more fulfilment orders the location can take today (None: no limit).
    ``zone`` is the carrier zone from this location to the order's destination, used with a zone table.
    Without coordinates a location can only be priced by zone.
    """

    location_id: int
    latitude: float | None
    longitude: float | None
    kind: str = "warehouse"  # warehouse | store | pickup_point
    can_ship: bool = True
    capacity_left: int | None = None
    stock: Mapping[int, int] = field(default_factory=dict)
    store_protection: int = 0
    channel_allowed: bool = True
    zone: str | None = None
    code: str = ""

    def sellable(self, variant_id: int) -> int:
        """Units of a variant this location may give to an order: its stock less the protected shelf units."""
        return max(0, self.stock.get(variant_id, 0) - self.store_protection)

    @classmethod
    def of_location(cls, location: Any, *, stock: Mapping[int, int], fulfilment_orders_today: int = 0,
                    store_protection: int = 0, channel_allowed: bool = True,
                    zone: str | None = None) -> Candidate:
        """A candidate from a ``locations`` row (anything with its attributes) and today's figures: it ships
        if it is active and ships orders; its capacity is the daily capacity less today's fulfilment orders;
        shelf protection applies to stores only."""
        daily = location.daily_capacity
        return cls(location_id=location.id, latitude=location.latitude, longitude=location.longitude,
                   kind=location.kind, can_ship=bool(location.ships_orders and location.is_active),
                   capacity_left=None if daily is None else max(0, daily - fulfilment_orders_today),
                   stock=stock, store_protection=store_protection if location.kind == "store" else 0,
                   channel_allowed=channel_allowed, zone=zone, code=location.code)


ANY_ZONE = "*"  # in ``zone_costs``: the price of a zone not listed


@dataclass(frozen=True)
class ShippingCostModel:
    """What a parcel costs: a base price plus a price per km from the location to the customer (or a flat
    price per carrier zone when ``zone_costs`` is given, ``"*"`` for any zone not listed), a price per unit and
    km (weight travels too), and a penalty for each parcel beyond the first (the customer gets the order in
    pieces). ``unfilled_unit`` is the price of not shipping a unit at all; it must dwarf the others so a plan
    never leaves stock behind to save postage."""

    parcel_base: float = 12.0
    per_km: float = 0.02
    per_unit_km: float = 0.0
    zone_costs: Mapping[str, float] | None = None
    split_penalty: float = 5.0
    unfilled_unit: float = 1_000.0

    def parcel_cost(self, candidate: Candidate, km: float | None) -> float | None:
        """Cost of one parcel from ``candidate``; None when it cannot be priced (no rate for its zone, or no
        coordinates to measure the distance)."""
        if self.zone_costs is not None:
            if candidate.zone is None:
                return None
            return self.zone_costs.get(candidate.zone, self.zone_costs.get(ANY_ZONE))
        return None if km is None else self.parcel_base + self.per_km * km

    def unit_cost(self, km: float | None) -> float:
        return 0.0 if km is None else self.per_unit_km * km


@dataclass(frozen=True)
class RoutingPolicy:
    """``allow_split``: a line's units may come from more than one location (otherwise a line ships whole
    from one location or is reported unfilled). ``max_parcels``: at most this many locations per order."""

    allow_split: bool = False
    max_parcels: int | None = None


@dataclass(frozen=True)
class RoutingRequest:
    lines: tuple[OrderLine, ...]
    destination_latitude: float
    destination_longitude: float
    candidates: tuple[Candidate, ...]
    costs: ShippingCostModel = ShippingCostModel()
    policy: RoutingPolicy = RoutingPolicy()
    order_id: int | str | None = None

    def distance_to(self, candidate: Candidate) -> float | None:
        if candidate.latitude is None or candidate.longitude is None:
            return None
        key = (candidate.latitude, candidate.longitude)
        km = self._distances.get(key)
        if km is None:
            km = self._distances[key] = distance_km(candidate.latitude, candidate.longitude,
                                                    self.destination_latitude, self.destination_longitude)
        return km

    @cached_property
    def _distances(self) -> dict[tuple[float, float], float]:
        """Distances already measured (the plans of one order price the same locations again and again)."""
        return {}

    @cached_property
    def candidates_by_id(self) -> dict[int, Candidate]:
        return {c.location_id: c for c in self.candidates}


@dataclass(frozen=True)
class Assignment:
    line_id: LineId
    location_id: int
    quantity: int


@dataclass(frozen=True)
class Cost:
    parcels: float = 0.0  # Σ parcel cost over the locations used
    units: float = 0.0  # Σ per-unit distance cost
    split_penalty: float = 0.0  # penalty × (parcels − 1)
    unfilled: float = 0.0  # penalty × units not shipped

    @property
    def shipping(self) -> float:
        """What the shipment itself costs: parcels, distance and the split penalty."""
        return self.parcels + self.units + self.split_penalty

    @property
    def total(self) -> float:
        return self.shipping + self.unfilled


@dataclass(frozen=True)
class Plan:
    assignments: tuple[Assignment, ...]
    cost: Cost
    unfilled: Mapping[LineId, int]  # line → units no location can ship

    @property
    def locations(self) -> tuple[int, ...]:
        return tuple(sorted({a.location_id for a in self.assignments}))

    @property
    def parcels(self) -> int:
        return len(self.locations)

    @property
    def unfilled_units(self) -> int:
        return sum(self.unfilled.values())

    def shipped(self, line_id: LineId) -> int:
        return sum(a.quantity for a in self.assignments if a.line_id == line_id)


class ExclusionReason(str, Enum):
    CHANNEL_NOT_ALLOWED = "channel_not_allowed"
    CANNOT_SHIP = "cannot_ship"
    NO_COORDINATES = "no_coordinates"  # a parcel priced by distance, from a location with no coordinates
    NO_SHIPPING_RATE = "no_shipping_rate"  # a parcel priced by zone, from a location whose lane has no rate
    CAPACITY_FULL = "capacity_full"
    NO_STOCK = "no_stock"
    PROTECTED_SHELF_STOCK = "protected_shelf_stock"


@dataclass(frozen=True)
class Exclusion:
    location_id: int
    reason: ExclusionReason
    detail: str = ""


@dataclass(frozen=True)
class Explanation:
    """The chosen plan and its cost, the runner-up and its cost, and why other locations were left out.

    ``runner_up_rule`` says how the runner-up was found: for the optimal strategy the best plan that does not
    use exactly the chosen set of locations (one more solve); for greedy the greedy plan that opens with the
    second-ranked location instead of the first (or the third … until it uses other locations).
    """

    strategy: str
    plan: Plan
    runner_up: Plan | None
    runner_up_rule: str
    excluded: tuple[Exclusion, ...]
    solve_ms: float = 0.0

    @property
    def cost(self) -> float:
        return self.plan.cost.total

    @property
    def runner_up_cost(self) -> float | None:
        return None if self.runner_up is None else self.runner_up.cost.total

    def summary(self) -> dict[str, Any]:
        """What an order's routing reads: the plan's and the runner-up's shipping cost (parcels, distance,
        split penalty) and units each leaves unshipped, never the solver's penalty for an unshipped unit (an
        order backordered in full would read 1000 per unit), and why locations were left out."""
        second = self.runner_up
        return {"strategy": self.strategy, "cost": round(self.plan.cost.shipping, 2),
                "locations": list(self.plan.locations), "unfilled_units": self.plan.unfilled_units,
                "runner_up_cost": None if second is None else round(second.cost.shipping, 2),
                "runner_up_locations": None if second is None else list(second.locations),
                "runner_up_unfilled_units": None if second is None else second.unfilled_units,
                "excluded": [{"location_id": e.location_id, "reason": e.reason.value} for e in self.excluded]}

    def reason_for(self, location_id: int) -> ExclusionReason | None:
        return next((e.reason for e in self.excluded if e.location_id == location_id), None)


@dataclass(frozen=True)
class WavePlan:
    """Plans for a wave of orders that competed for the same stock and capacity, in request order.

    ``lower_bound`` (optimal strategy): the sum of each order's optimum as if it were alone; no plan for the
    wave can cost less, so ``total_cost − lower_bound`` bounds what competition for stock cost.
    ``replanned`` counts the orders that had to be planned jointly because they wanted the same units.
    """

    strategy: str
    plans: tuple[Plan, ...]
    solve_ms: float = 0.0
    lower_bound: float | None = None
    replanned: int = 0

    @property
    def total_cost(self) -> float:
        return sum(p.cost.total for p in self.plans)

    @property
    def shipping_cost(self) -> float:
        return sum(p.cost.shipping for p in self.plans)

    @property
    def parcels(self) -> int:
        return sum(p.parcels for p in self.plans)

    @property
    def unfilled_units(self) -> int:
        return sum(p.unfilled_units for p in self.plans)


def price_plan(request: RoutingRequest, assignments: Iterable[Assignment]) -> Plan:
    """Price a set of assignments for ``request`` and list what stays unfilled: the one cost function."""
    assignments = tuple(a for a in assignments if a.quantity > 0)
    by_id = request.candidates_by_id
    costs = request.costs
    used: dict[int, float | None] = {}
    unit_cost = 0.0
    for a in assignments:
        candidate = by_id[a.location_id]
        km = used[a.location_id] = request.distance_to(candidate)
        unit_cost += costs.unit_cost(km) * a.quantity
    parcel_cost = 0.0
    for location_id, km in used.items():
        price = costs.parcel_cost(by_id[location_id], km)
        if price is None:
            raise ValueError(f"location {location_id} cannot be priced (no zone rate or no coordinates)")
        parcel_cost += price
    shipped: dict[LineId, int] = {}
    for a in assignments:
        shipped[a.line_id] = shipped.get(a.line_id, 0) + a.quantity
    unfilled = {ln.line_id: ln.quantity - shipped.get(ln.line_id, 0)
                for ln in request.lines if shipped.get(ln.line_id, 0) < ln.quantity}
    cost = Cost(parcels=parcel_cost, units=unit_cost,
                split_penalty=costs.split_penalty * max(0, len(used) - 1),
                unfilled=costs.unfilled_unit * sum(unfilled.values()))
    return Plan(assignments=assignments, cost=cost, unfilled=unfilled)
