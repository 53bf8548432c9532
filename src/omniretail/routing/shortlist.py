"""Which candidate locations may serve an order, what each may give and what its parcel costs — and, for the
ones left out, why. Both strategies start from this shortlist, so they see the same rules.

In a wave, orders share one :class:`StockPool`: sellable units per (location, variant) and fulfilment orders
left per location, drawn down as orders are planned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .model import Assignment, Candidate, Exclusion, ExclusionReason, OrderLine, RoutingRequest


@dataclass
class StockPool:
    """Stock and capacity shared by the orders of a wave. A location's figures are the lowest any request
    reports for it (requests of one wave are expected to carry the same snapshot)."""

    sellable: dict[tuple[int, int], int]
    capacity: dict[int, int | None]

    @classmethod
    def from_requests(cls, requests: Iterable[RoutingRequest]) -> StockPool:
        sellable: dict[tuple[int, int], int] = {}
        capacity: dict[int, int | None] = {}
        for request in requests:
            variants = {ln.variant_id for ln in request.lines}
            for c in request.candidates:
                for v in variants:
                    key = (c.location_id, v)
                    units = c.sellable(v)
                    sellable[key] = min(units, sellable.get(key, units))
                known = capacity.get(c.location_id, c.capacity_left)
                capacity[c.location_id] = _lowest(known, c.capacity_left)
        return cls(sellable, capacity)

    def take(self, assignments: Iterable[Assignment], lines: Iterable[OrderLine]) -> None:
        """Draw an order's plan from the pool: its units, and one fulfilment order per location used."""
        variant_of = {ln.line_id: ln.variant_id for ln in lines}
        used = set()
        for a in assignments:
            key = (a.location_id, variant_of[a.line_id])
            self.sellable[key] -= a.quantity
            if self.sellable[key] < 0:
                raise ValueError(f"over-allocated variant {key[1]} at location {key[0]}")
            used.add(a.location_id)
        for location_id in used:
            if self.capacity.get(location_id) is not None:
                self.capacity[location_id] -= 1


def _lowest(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


@dataclass(frozen=True)
class Shortlist:
    """The locations that can serve at least one line of ``request``, in the candidates' order, with what each
    may give (``sellable[j][variant]``), its distance, parcel cost and per-unit cost."""

    request: RoutingRequest
    locations: tuple[Candidate, ...]
    sellable: tuple[Mapping[int, int], ...]
    km: tuple[float | None, ...]
    parcel_cost: tuple[float, ...]
    unit_cost: tuple[float, ...]
    capacity: tuple[int | None, ...]
    excluded: tuple[Exclusion, ...]

    @property
    def lines(self) -> tuple[OrderLine, ...]:
        return self.request.lines

    def step(self, line: OrderLine) -> int:
        """Units of a line a location gives at a time: one if lines may split, else the whole line."""
        return 1 if self.request.policy.allow_split else line.quantity


def _serves_a_line(request: RoutingRequest, units: Mapping[int, int]) -> bool:
    split = request.policy.allow_split
    return any(units.get(ln.variant_id, 0) >= (1 if split else ln.quantity) for ln in request.lines)


def _short_of_stock(request: RoutingRequest, c: Candidate, sellable: Mapping[int, int]) -> Exclusion | None:
    if _serves_a_line(request, sellable):
        return None
    if c.store_protection and _serves_a_line(request, c.stock):
        return Exclusion(c.location_id, ExclusionReason.PROTECTED_SHELF_STOCK,
                         f"only the last {c.store_protection} on the shelf")
    what = "any of the items" if request.policy.allow_split else "a whole line"
    return Exclusion(c.location_id, ExclusionReason.NO_STOCK, f"not enough stock for {what}")


def shortlist(request: RoutingRequest, pool: StockPool | None = None) -> Shortlist:
    """Screen every candidate in a fixed order of rules; the first rule that fails is the reason given."""
    variants = {ln.variant_id for ln in request.lines}
    kept: list[tuple[Candidate, dict[int, int], float, float, float, int | None]] = []
    excluded: list[Exclusion] = []
    for c in request.candidates:
        if not c.channel_allowed:
            excluded.append(Exclusion(c.location_id, ExclusionReason.CHANNEL_NOT_ALLOWED,
                                      "this channel may not source from it"))
            continue
        if not c.can_ship:
            excluded.append(Exclusion(c.location_id, ExclusionReason.CANNOT_SHIP,
                                      f"{c.kind} does not ship orders"))
            continue
        km = request.distance_to(c)
        parcel = request.costs.parcel_cost(c, km)
        if parcel is None:
            if request.costs.zone_costs is not None:
                excluded.append(Exclusion(c.location_id, ExclusionReason.NO_SHIPPING_RATE,
                                          f"no rate for zone {c.zone!r}"))
            else:
                excluded.append(Exclusion(c.location_id, ExclusionReason.NO_COORDINATES, "no coordinates"))
            continue
        capacity = c.capacity_left if pool is None else pool.capacity.get(c.location_id, c.capacity_left)
        if capacity is not None and capacity <= 0:
            excluded.append(Exclusion(c.location_id, ExclusionReason.CAPACITY_FULL,
                                      "no fulfilment capacity left today"))
            continue
        if pool is None:
            sellable = {v: c.sellable(v) for v in variants}
        else:
            sellable = {v: pool.sellable.get((c.location_id, v), c.sellable(v)) for v in variants}
        short = _short_of_stock(request, c, sellable)
        if short is not None:
            excluded.append(short)
            continue
        kept.append((c, sellable, km, parcel, request.costs.unit_cost(km), capacity))
    columns = list(zip(*kept)) if kept else [()] * 6
    return Shortlist(request, *(tuple(col) for col in columns), excluded=tuple(excluded))
