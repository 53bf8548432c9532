"""Sourcing on small orders whose best plan can be worked out by hand, for both strategies."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from omniretail.routing.model import (
    Assignment,
    Candidate,
    ExclusionReason,
    OrderLine,
    RoutingPolicy,
    RoutingRequest,
    ShippingCostModel,
    distance_km,
    price_plan,
)
from omniretail.routing.solver import (
    GREEDY_RUNNER_UP,
    OPTIMAL_QUICK_RUNNER_UP,
    OPTIMAL_RUNNER_UP,
    UnknownStrategy,
    solve,
    solve_wave,
)

WARSAW = (52.2297, 21.0122)
# 10 PLN a parcel + 0.10 PLN a km, 5 PLN for each parcel beyond the first
COSTS = ShippingCostModel(parcel_base=10.0, per_km=0.1, per_unit_km=0.0, split_penalty=5.0)
BOTH = pytest.mark.parametrize("strategy", ["greedy", "optimal"])


def at_km(km: float) -> tuple[float, float]:
    """A point ``km`` east of the customer in Warsaw."""
    return WARSAW[0], WARSAW[1] + km / (111.32 * math.cos(math.radians(WARSAW[0])))


def place(location_id: int, km: float, stock: dict[int, int], **fields) -> Candidate:
    lat, lon = at_km(km)
    return Candidate(location_id, lat, lon, stock=stock, **fields)


def order(lines: list[tuple[int, int]], candidates: list[Candidate], *, allow_split: bool = False,
          max_parcels: int | None = None, costs: ShippingCostModel = COSTS,
          customer_km: float = 0) -> RoutingRequest:
    """An order from a customer in Warsaw (or ``customer_km`` east of it)."""
    lat, lon = at_km(customer_km)
    return RoutingRequest(lines=tuple(OrderLine(i + 1, v, q) for i, (v, q) in enumerate(lines)),
                          destination_latitude=lat, destination_longitude=lon,
                          candidates=tuple(candidates), costs=costs,
                          policy=RoutingPolicy(allow_split=allow_split, max_parcels=max_parcels))


def shipped_from(plan) -> dict:
    return {(a.line_id, a.location_id): a.quantity for a in plan.assignments}


def test_positions_are_where_the_tests_think():
    lat, lon = at_km(100)
    assert distance_km(*WARSAW, lat, lon) == pytest.approx(100, rel=2e-3)


@BOTH
def test_the_nearest_store_wins_and_the_next_one_is_the_runner_up(strategy):
    request = order([(7, 1)], [place(1, 80, {7: 5}, kind="store"), place(2, 5, {7: 5}, kind="store")])
    explanation = solve(request, strategy)
    assert shipped_from(explanation.plan) == {(1, 2): 1}
    assert explanation.cost == pytest.approx(10 + 0.1 * 5, rel=1e-3)
    assert explanation.runner_up.locations == (1,)
    assert explanation.runner_up_cost == pytest.approx(10 + 0.1 * 80, rel=1e-3)
    assert explanation.runner_up_rule == (GREEDY_RUNNER_UP if strategy == "greedy" else OPTIMAL_RUNNER_UP)


@BOTH
def test_a_split_is_avoided_when_one_location_can_serve_all(strategy):
    # two near stores would need two parcels (2 × 10.5 + 5 = 26); the warehouse 50 km away ships one for 15
    request = order([(1, 1), (2, 1)], [place(1, 5, {1: 3}), place(2, 5, {2: 3}), place(3, 50, {1: 3, 2: 3})])
    plan = solve(request, strategy).plan
    assert plan.locations == (3,)
    assert plan.cost.total == pytest.approx(15, rel=1e-3)
    assert plan.cost.split_penalty == 0


def test_optimal_is_cheaper_where_greedy_grabs_the_location_with_the_most_units():
    # the far warehouse has all three lines (40 PLN); two near stores cover them for 10.5 + 10.5 + 5 = 26
    request = order([(1, 1), (2, 1), (3, 1)],
                    [place(1, 300, {1: 9, 2: 9, 3: 9}, kind="warehouse"),
                     place(2, 5, {1: 1, 2: 1}, kind="store"), place(3, 5, {3: 1}, kind="store")])
    greedy, optimal = solve(request, "greedy"), solve(request, "optimal")
    assert greedy.plan.locations == (1,)
    assert greedy.cost == pytest.approx(40, rel=2e-3)
    assert optimal.plan.locations == (2, 3)
    assert optimal.cost == pytest.approx(26, rel=1e-3)
    assert optimal.plan.cost.split_penalty == 5
    assert optimal.runner_up.locations != optimal.plan.locations
    assert optimal.runner_up_cost >= optimal.cost
    quick = solve(request, "optimal", runner_up_solve=False)  # order placement's: no second solve
    assert quick.plan.locations == (2, 3) and quick.runner_up_rule == OPTIMAL_QUICK_RUNNER_UP
    assert quick.runner_up.locations == (1,) and quick.runner_up_cost == pytest.approx(40, rel=2e-3)


def test_the_quick_runner_up_is_none_when_greedy_chose_the_same_locations():
    request = order([(7, 1)], [place(1, 5, {7: 5}, kind="store")])  # one location: nothing else to show
    quick = solve(request, "optimal", runner_up_solve=False)
    assert quick.plan.locations == (1,) and quick.runner_up is None


@BOTH
def test_store_protection_keeps_the_last_units_on_the_shelf(strategy):
    request = order([(1, 2)], [place(1, 1, {1: 2}, kind="store", store_protection=1),
                               place(2, 30, {1: 3}, kind="store", store_protection=1)])
    explanation = solve(request, strategy)
    assert shipped_from(explanation.plan) == {(1, 2): 2}  # 3 on the shelf, 1 kept: 2 to give
    assert explanation.reason_for(1) is ExclusionReason.PROTECTED_SHELF_STOCK
    assert explanation.reason_for(2) is None


@BOTH
def test_protected_units_are_not_given_even_to_a_split_line(strategy):
    request = order([(1, 3)], [place(1, 1, {1: 2}, store_protection=1), place(2, 9, {1: 1})],
                    allow_split=True)
    plan = solve(request, strategy).plan
    assert shipped_from(plan) == {(1, 1): 1, (1, 2): 1}
    assert plan.unfilled == {1: 1}


@BOTH
def test_a_location_without_capacity_left_is_passed_over(strategy):
    request = order([(1, 1)], [place(1, 1, {1: 5}, capacity_left=0), place(2, 40, {1: 5}, capacity_left=3)])
    explanation = solve(request, strategy)
    assert explanation.plan.locations == (2,)
    assert explanation.reason_for(1) is ExclusionReason.CAPACITY_FULL


@BOTH
def test_a_line_nobody_can_ship_whole_is_reported_unfilled(strategy):
    request = order([(1, 5), (2, 1)], [place(1, 1, {1: 3, 2: 1}), place(2, 9, {1: 3})])
    plan = solve(request, strategy).plan
    assert shipped_from(plan) == {(2, 1): 1}
    assert plan.unfilled == {1: 5}
    assert plan.cost.unfilled == 5 * COSTS.unfilled_unit


@BOTH
def test_with_splitting_allowed_the_line_is_served_from_two_locations(strategy):
    request = order([(1, 5)], [place(1, 1, {1: 3}), place(2, 9, {1: 3})], allow_split=True)
    plan = solve(request, strategy).plan
    assert plan.shipped(1) == 5 and plan.unfilled == {}
    assert plan.parcels == 2
    assert plan.cost.total == pytest.approx(10.1 + 10.9 + 5, rel=1e-3)


@BOTH
def test_channel_rules_and_shipping_capability_exclude_locations(strategy):
    request = order([(1, 1)], [place(1, 1, {1: 5}, channel_allowed=False),
                               place(2, 2, {1: 5}, can_ship=False), place(3, 3, {}), place(4, 60, {1: 5})])
    explanation = solve(request, strategy)
    assert explanation.plan.locations == (4,)
    assert [(e.location_id, e.reason) for e in explanation.excluded] == [
        (1, ExclusionReason.CHANNEL_NOT_ALLOWED), (2, ExclusionReason.CANNOT_SHIP),
        (3, ExclusionReason.NO_STOCK)]
    assert explanation.runner_up is None


@BOTH
def test_the_parcel_limit_leaves_the_rest_unfilled(strategy):
    request = order([(1, 1), (2, 1)], [place(1, 1, {1: 1}), place(2, 2, {2: 1})], max_parcels=1)
    plan = solve(request, strategy).plan
    assert plan.parcels == 1
    assert plan.unfilled_units == 1


@BOTH
def test_a_zone_table_prices_parcels_and_a_zone_without_a_rate_is_left_out(strategy):
    zones = ShippingCostModel(zone_costs={"local": 9.0, "national": 14.0}, split_penalty=5.0)
    request = order([(1, 1)], [place(1, 1, {1: 1}, zone="abroad"), place(2, 300, {1: 1}, zone="national"),
                               place(3, 30, {1: 1}, zone="local")], costs=zones)
    explanation = solve(request, strategy)
    assert explanation.plan.locations == (3,)
    assert explanation.cost == 9.0
    assert explanation.reason_for(1) is ExclusionReason.NO_SHIPPING_RATE
    assert explanation.excluded[0].detail == "no rate for zone 'abroad'"


@BOTH
def test_a_zone_tables_star_prices_every_zone_it_does_not_list(strategy):
    zones = ShippingCostModel(zone_costs={"local": 9.0, "*": 30.0})
    request = order([(1, 1)], [place(1, 1, {1: 1}, zone="abroad")], costs=zones)
    explanation = solve(request, strategy)
    assert explanation.plan.locations == (1,) and explanation.cost == 30.0 and not explanation.excluded


def test_a_candidate_from_a_location_row():
    row = SimpleNamespace(id=7, code="KRK-1", kind="store", latitude=50.06, longitude=19.94,
                          ships_orders=True, is_active=True, daily_capacity=20)
    candidate = Candidate.of_location(row, stock={1: 4}, fulfilment_orders_today=18, store_protection=1)
    assert (candidate.location_id, candidate.capacity_left, candidate.sellable(1)) == (7, 2, 3)
    assert candidate.can_ship
    warehouse = SimpleNamespace(**{**vars(row), "kind": "warehouse", "daily_capacity": None,
                                   "is_active": False})
    candidate = Candidate.of_location(warehouse, stock={1: 4}, store_protection=1)
    assert (candidate.capacity_left, candidate.sellable(1), candidate.can_ship) == (None, 4, False)


@BOTH
def test_a_location_without_coordinates_cannot_be_priced_by_distance(strategy):
    request = order([(1, 1)], [Candidate(1, None, None, stock={1: 1}), place(2, 50, {1: 1})])
    explanation = solve(request, strategy)
    assert explanation.plan.locations == (2,)
    assert explanation.excluded[0].reason is ExclusionReason.NO_COORDINATES
    assert explanation.excluded[0].detail == "no coordinates"


def test_a_wave_gives_the_last_unit_to_the_order_it_saves_most_for():
    # west → east: warehouse at −20 km, customer A at 0, the store's last unit at +10, customer B at +40
    store, warehouse = place(1, 10, {1: 1}), place(2, -20, {1: 9})
    a = order([(1, 1)], [store, warehouse])
    b = order([(1, 1)], [store, warehouse], customer_km=40)
    first_come = solve_wave([a, b], "greedy")  # A takes the store (11 < 12), B the warehouse (16)
    assert [p.locations for p in first_come.plans] == [(1,), (2,)]
    assert first_come.total_cost == pytest.approx(11 + 16, rel=1e-3)
    best = solve_wave([a, b], "optimal")  # A from the warehouse (12), B from the store (13)
    assert [p.locations for p in best.plans] == [(2,), (1,)]
    assert best.total_cost == pytest.approx(12 + 13, rel=1e-3)
    assert best.lower_bound == pytest.approx(11 + 13, rel=1e-3)  # each alone would take the store
    assert best.replanned == 2


def test_a_wave_respects_a_locations_capacity():
    full_soon = place(1, 1, {1: 9, 2: 9}, capacity_left=1)
    other = place(2, 100, {1: 9, 2: 9})
    requests = [order([(1, 1)], [full_soon, other]), order([(2, 1)], [full_soon, other])]
    for strategy in ("greedy", "optimal"):
        wave = solve_wave(requests, strategy)
        assert sorted(p.locations for p in wave.plans) == [(1,), (2,)]


def test_price_plan_breaks_the_cost_down():
    request = order([(1, 2), (2, 1)], [place(1, 10, {1: 2}), place(2, 20, {2: 1})])
    plan = price_plan(request, [Assignment(1, 1, 2)])
    assert plan.cost.parcels == pytest.approx(11, rel=1e-3)
    assert plan.cost.split_penalty == 0
    assert plan.unfilled == {2: 1}
    assert plan.cost.total == pytest.approx(11 + COSTS.unfilled_unit, abs=0.01)
    two = price_plan(request, [Assignment(1, 1, 2), Assignment(2, 2, 1)])
    assert two.cost.shipping == pytest.approx(11 + 12 + 5, rel=1e-3)


def test_an_empty_order_and_an_unknown_strategy():
    assert solve(order([], [place(1, 1, {1: 1})]), "optimal").plan.assignments == ()
    with pytest.raises(UnknownStrategy):
        solve(order([(1, 1)], []), "cheapest")


@BOTH
def test_the_summary_an_order_reads_prices_the_parcels_not_the_units_left_unshipped(strategy):
    # 2 of 5 units in stock nearby, 1 a long way off: the plan ships 2 and leaves 3 waiting; what a user reads
    # is what the parcel costs (10 + 0.1 × 10 km), never 1000 a unit for the three still waiting
    explanation = solve(order([(1, 5)], [place(1, 10, {1: 2}), place(2, 200, {1: 1})], allow_split=True,
                             max_parcels=1), strategy)
    summary = explanation.summary()
    assert summary["cost"] == pytest.approx(11.0, abs=0.01) and summary["unfilled_units"] == 3
    assert summary["locations"] == [1]
    if strategy == "greedy":  # the runner-up: the far location's one unit, four waiting
        assert summary["runner_up_locations"] == [2] and summary["runner_up_unfilled_units"] == 4
        assert summary["runner_up_cost"] == pytest.approx(30.0, abs=0.05)
    nothing = solve(order([(1, 5)], [place(1, 10, {})]), strategy).summary()
    assert nothing["cost"] == 0 and nothing["unfilled_units"] == 5 and nothing["runner_up_cost"] is None
    assert nothing["excluded"] == [{"location_id": 1, "reason": "no_stock"}]
