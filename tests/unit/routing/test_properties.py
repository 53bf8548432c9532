"""Properties over random orders and locations: every plan keeps to the rules, the MILP is exact (checked by
brute force on small orders) and never dearer than greedy, and a wave never hands out the same unit twice."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omniretail.routing.model import (
    Assignment,
    Candidate,
    OrderLine,
    RoutingPolicy,
    RoutingRequest,
    ShippingCostModel,
    price_plan,
)
from omniretail.routing.shortlist import shortlist
from omniretail.routing.solver import solve, solve_wave

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VARIANTS = (1, 2, 3)
HALF_A_GROSZ = 0.005  # HiGHS may stop at a plan dearer by a fraction of a grosz (its tolerances), never more


@st.composite
def locations(draw, most: int = 6) -> tuple[Candidate, ...]:
    count = draw(st.integers(1, most))
    return tuple(Candidate(
        location_id=j + 1,
        latitude=draw(st.integers(4950, 5450)) / 100, longitude=draw(st.integers(1450, 2350)) / 100,
        kind=draw(st.sampled_from(("warehouse", "store"))),
        can_ship=draw(st.sampled_from((True, True, True, False))),
        capacity_left=draw(st.sampled_from((None, None, 0, 1, 2))),
        stock={v: draw(st.integers(0, 4)) for v in VARIANTS},
        store_protection=draw(st.sampled_from((0, 0, 1))),
        channel_allowed=draw(st.sampled_from((True, True, True, False))),
    ) for j in range(count))


@st.composite
def requests(draw, places: tuple[Candidate, ...] | None = None, most_lines: int = 5, most_locations: int = 6,
             most_quantity: int = 3) -> RoutingRequest:
    places = draw(locations(most_locations)) if places is None else tuple(
        replace(c, channel_allowed=draw(st.sampled_from((True, True, True, False)))) for c in places)
    lines = tuple(OrderLine(i + 1, draw(st.sampled_from(VARIANTS)), draw(st.integers(1, most_quantity)))
                  for i in range(draw(st.integers(0, most_lines))))
    costs = ShippingCostModel(parcel_base=draw(st.integers(5, 15)), per_km=draw(st.integers(0, 5)) / 100,
                              per_unit_km=draw(st.integers(0, 10)) / 1000,
                              split_penalty=draw(st.integers(0, 10)))
    policy = RoutingPolicy(allow_split=draw(st.booleans()),
                           max_parcels=draw(st.sampled_from((None, None, 1, 2))))
    return RoutingRequest(lines=lines, destination_latitude=draw(st.integers(4950, 5450)) / 100,
                          destination_longitude=draw(st.integers(1450, 2350)) / 100, candidates=places,
                          costs=costs, policy=policy)


def assert_keeps_to_the_rules(request: RoutingRequest, plan) -> None:
    by_id = {c.location_id: c for c in request.candidates}
    variant_of = {ln.line_id: ln.variant_id for ln in request.lines}
    taken: Counter = Counter()
    for a in plan.assignments:
        c = by_id[a.location_id]
        assert a.quantity > 0
        assert c.channel_allowed and c.can_ship and (c.capacity_left is None or c.capacity_left >= 1)
        taken[a.location_id, variant_of[a.line_id]] += a.quantity
    for (location_id, variant), units in taken.items():
        assert units <= by_id[location_id].sellable(variant), "stock or shelf protection broken"
    for line in request.lines:
        sources = [a for a in plan.assignments if a.line_id == line.line_id]
        assert plan.shipped(line.line_id) + plan.unfilled.get(line.line_id, 0) == line.quantity
        if not request.policy.allow_split:
            assert len(sources) <= 1 and plan.shipped(line.line_id) in (0, line.quantity)
    if request.policy.max_parcels is not None:
        assert plan.parcels <= request.policy.max_parcels
    assert plan.cost == price_plan(request, plan.assignments).cost


def every_plan(request: RoutingRequest):
    """All plans for a small order, by brute force over each line's split among the shortlisted locations."""
    sl = shortlist(request)
    ids = [c.location_id for c in sl.locations]
    per_line = []
    for line in request.lines:
        if request.policy.allow_split:
            options = [parts for parts in itertools.product(range(line.quantity + 1), repeat=len(ids))
                       if sum(parts) <= line.quantity]
        else:
            options = [tuple(line.quantity if k == j else 0 for k in range(len(ids)))
                       for j in range(len(ids))]
            options.append((0,) * len(ids))
        per_line.append(options)
    for choice in itertools.product(*per_line):
        assignments = [Assignment(line.line_id, ids[j], parts[j])
                       for line, parts in zip(request.lines, choice) for j in range(len(ids)) if parts[j]]
        plan = price_plan(request, assignments)
        variant_of = {ln.line_id: ln.variant_id for ln in request.lines}
        taken: Counter = Counter()
        for a in assignments:
            taken[a.location_id, variant_of[a.line_id]] += a.quantity
        sellable = {(c.location_id, v): units
                    for c, s in zip(sl.locations, sl.sellable) for v, units in s.items()}
        if all(units <= sellable[key] for key, units in taken.items()) and (
                request.policy.max_parcels is None or plan.parcels <= request.policy.max_parcels):
            yield plan


@SETTINGS
@given(request_=requests())
@pytest.mark.parametrize("strategy", ["greedy", "optimal"])
def test_every_plan_keeps_to_stock_capacity_protection_and_quantities(strategy, request_):
    explanation = solve(request_, strategy)
    assert_keeps_to_the_rules(request_, explanation.plan)
    if explanation.runner_up is not None:
        assert_keeps_to_the_rules(request_, explanation.runner_up)
        assert explanation.runner_up.locations != explanation.plan.locations


@SETTINGS
@given(request_=requests())
def test_optimal_is_never_dearer_than_greedy(request_):
    greedy, optimal = solve(request_, "greedy"), solve(request_, "optimal")
    assert optimal.cost <= greedy.cost + 1e-6


@SETTINGS
@given(request_=requests(most_lines=3, most_locations=3, most_quantity=2))
def test_optimal_and_its_runner_up_match_brute_force(request_):
    plans = list(every_plan(request_))
    explanation = solve(request_, "optimal")
    best = min(p.cost.total for p in plans)
    assert explanation.cost == pytest.approx(best, abs=HALF_A_GROSZ)
    others = [p.cost.total for p in plans if p.assignments and p.locations != explanation.plan.locations]
    if others:
        assert explanation.runner_up_cost == pytest.approx(min(others), abs=HALF_A_GROSZ)
    else:
        assert explanation.runner_up is None


@st.composite
def waves(draw):
    places = draw(locations(5))
    return [draw(requests(places=places, most_lines=4)) for _ in range(draw(st.integers(1, 4)))]


@SETTINGS
@given(waves())
def test_a_wave_never_hands_out_a_unit_or_a_fulfilment_slot_twice(wave):
    by_id = {c.location_id: c for c in wave[0].candidates}
    totals = {}
    for strategy in ("greedy", "optimal"):
        planned = solve_wave(wave, strategy)
        taken: Counter = Counter()
        orders_at: Counter = Counter()
        for request, plan in zip(wave, planned.plans):
            assert_keeps_to_the_rules(request, plan)
            variant_of = {ln.line_id: ln.variant_id for ln in request.lines}
            for a in plan.assignments:
                taken[a.location_id, variant_of[a.line_id]] += a.quantity
            orders_at.update(plan.locations)
        for (location_id, variant), units in taken.items():
            assert units <= by_id[location_id].sellable(variant)
        for location_id, orders in orders_at.items():
            assert by_id[location_id].capacity_left is None or orders <= by_id[location_id].capacity_left
        totals[strategy] = planned
    assert totals["optimal"].total_cost <= totals["greedy"].total_cost + 1e-6
    assert totals["optimal"].lower_bound <= totals["optimal"].total_cost + 1e-6
