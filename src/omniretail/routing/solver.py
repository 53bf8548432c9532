"""Sourcing: which locations ship which lines of an order, by one of two strategies behind one interface.

    explanation = solve(request, strategy="optimal")
    explanation.plan.assignments     # (line, location, quantity) …
    explanation.runner_up            # the next best plan, to show what the choice saved
    explanation.excluded             # locations left out, each with its reason

``greedy`` (:mod:`.greedy`) opens the location that ships the most missing units, repeatedly; ``optimal``
(:mod:`.milp`) solves the assignment as a mixed-integer programme with HiGHS and is never dearer than greedy.
``solve_wave`` plans a batch of orders that compete for the same stock and fulfilment capacity: greedy
serves them first come, first served; optimal plans them jointly.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from .greedy import first_ranking, greedy_plan, greedy_runner_up
from .milp import plan_optimally
from .model import Explanation, Plan, RoutingRequest, WavePlan
from .shortlist import Shortlist, StockPool, shortlist

STRATEGIES = ("greedy", "optimal")
GREEDY_RUNNER_UP = "the greedy plan that opens with the next-ranked location and uses other locations"
OPTIMAL_RUNNER_UP = "the cheapest plan that does not use exactly the chosen locations (one more solve)"
OPTIMAL_QUICK_RUNNER_UP = "the cheaper greedy plan that does not use exactly the chosen locations (no second solve)"
NO_RUNNER_UP = "none asked for"
WAVE_CLOSE_ENOUGH_PER_ORDER = 0.10  # a wave's plan is proven within 10 groszy per order of the best possible


class UnknownStrategy(ValueError):
    pass


def _check(strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise UnknownStrategy(f"strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")


def _optimal_plan(sl: Shortlist, time_limit: float) -> tuple[Plan, Plan]:
    """The MILP plan, and the greedy plan HiGHS started from (never dearer than it, even at a time limit)."""
    greedy = greedy_plan(sl)
    solved = plan_optimally([sl], start=[greedy], time_limit=time_limit)
    if solved is None or greedy.cost.total < solved[0][0].cost.total:
        return greedy, greedy
    return solved[0][0], greedy


def solve(request: RoutingRequest, strategy: str = "greedy", *, runner_up: bool = True,
          runner_up_solve: bool = True, time_limit: float = 10.0) -> Explanation:
    """Plan one order. ``runner_up=False`` skips the second plan (half the work for the optimal strategy);
    ``runner_up_solve=False`` (optimal): the runner-up is the cheaper of the greedy plans already made that uses
    other locations, not a second solve (about a third of the time: order placement);
    ``time_limit`` caps each HiGHS solve (should it strike, the best plan found, never dearer than greedy)."""
    _check(strategy)
    started = time.perf_counter()
    sl = shortlist(request)
    second: Plan | None = None
    if strategy == "greedy":
        ranking = first_ranking(sl)
        plan = greedy_plan(sl, ranking=ranking)
        if runner_up:
            second = greedy_runner_up(sl, plan, ranking=ranking)
        rule = GREEDY_RUNNER_UP
    else:
        plan, greedy = _optimal_plan(sl, time_limit)
        if runner_up and plan.assignments:
            chosen = frozenset(plan.locations)
            known = [p for p in (greedy, greedy_runner_up(sl, greedy)) if p is not None and p.assignments]
            others = [p for p in known if frozenset(p.locations) != chosen]
            if runner_up_solve:
                solved = plan_optimally([sl], start=others[:1] or None, avoid=chosen, time_limit=time_limit)
                other = None if solved is None else solved[0][0]
                if other is not None and other.assignments and frozenset(other.locations) != chosen:
                    second = other  # shipping nothing is no alternative worth showing
            elif others:
                second = min(others, key=lambda p: p.cost.total)
        rule = OPTIMAL_RUNNER_UP if runner_up_solve else OPTIMAL_QUICK_RUNNER_UP
    return Explanation(strategy=strategy, plan=plan, runner_up=second,
                       runner_up_rule=rule if runner_up else NO_RUNNER_UP, excluded=sl.excluded,
                       solve_ms=(time.perf_counter() - started) * 1000)


def _greedy_wave(requests: Sequence[RoutingRequest], pool: StockPool) -> list[Plan]:
    """First come, first served: each order takes the greedy plan on what the earlier ones left."""
    plans = []
    for request in requests:
        plan = greedy_plan(shortlist(request, pool))
        pool.take(plan.assignments, request.lines)
        plans.append(plan)
    return plans


def _contested(requests: Sequence[RoutingRequest], plans: Sequence[Plan], pool: StockPool) -> list[int]:
    """Orders whose plan draws on a variant's stock or a location's capacity that the plans together
    over-draw."""
    units: dict[tuple[int, int], int] = {}
    parcels: dict[int, int] = {}
    for request, plan in zip(requests, plans):
        variant_of = {ln.line_id: ln.variant_id for ln in request.lines}
        for a in plan.assignments:
            key = (a.location_id, variant_of[a.line_id])
            units[key] = units.get(key, 0) + a.quantity
        for location_id in plan.locations:
            parcels[location_id] = parcels.get(location_id, 0) + 1
    short = {key for key, n in units.items() if n > pool.sellable[key]}
    full = {loc for loc, n in parcels.items()
            if pool.capacity.get(loc) is not None and n > pool.capacity[loc]}
    contested = []
    for o, (request, plan) in enumerate(zip(requests, plans)):
        variant_of = {ln.line_id: ln.variant_id for ln in request.lines}
        if any((a.location_id, variant_of[a.line_id]) in short or a.location_id in full
               for a in plan.assignments):
            contested.append(o)
    return contested


def _replan_contested(requests: Sequence[RoutingRequest], alone: list[Plan], contested: list[int],
                      time_limit: float) -> list[Plan]:
    """Keep the uncontested orders' own plans; plan the contested ones jointly on what those leave."""
    pool = StockPool.from_requests(requests)
    in_conflict = set(contested)
    for o, (request, plan) in enumerate(zip(requests, alone)):
        if o not in in_conflict:
            pool.take(plan.assignments, request.lines)
    rivals = [requests[o] for o in contested]
    start = _greedy_wave(rivals, StockPool(dict(pool.sellable), dict(pool.capacity)))
    solved = plan_optimally([shortlist(r, pool) for r in rivals], start=start, time_limit=time_limit,
                            close_enough=WAVE_CLOSE_ENOUGH_PER_ORDER * len(rivals))
    joint = start if solved is None or _total(solved[0]) > _total(start) else solved[0]
    plans = list(alone)
    for o, plan in zip(contested, joint):
        plans[o] = plan
    return plans


def _total(plans: Sequence[Plan]) -> float:
    return sum(p.cost.total for p in plans)


def _optimal_wave(requests: Sequence[RoutingRequest], time_limit: float) -> tuple[list[Plan], float, int]:
    """The wave's MILP, solved in steps that usually make the big one unnecessary:

    1. every order alone, optimally: if the plans together over-draw nothing, they are the wave's optimum;
       otherwise their sum is still a lower bound;
    2. the orders whose plans over-draw stock or capacity are planned again jointly on what the others left;
    3. only if that is further than 10 groszy an order from the bound, the whole wave is solved as one MILP,
       starting from step 2's plans, within the time limit.
    """
    pool = StockPool.from_requests(requests)
    alone = [_optimal_plan(shortlist(r, pool), time_limit)[0] for r in requests]
    lower_bound = _total(alone)
    contested = _contested(requests, alone, pool)
    if not contested:
        return alone, lower_bound, 0
    plans = _replan_contested(requests, alone, contested, time_limit)
    close_enough = WAVE_CLOSE_ENOUGH_PER_ORDER * len(requests)
    if _total(plans) - lower_bound > close_enough:
        fresh = StockPool.from_requests(requests)
        solved = plan_optimally([shortlist(r, fresh) for r in requests], start=plans,
                                time_limit=time_limit, close_enough=close_enough)
        if solved is not None and _total(solved[0]) <= _total(plans):
            plans = solved[0]
    first_come = _greedy_wave(requests, StockPool.from_requests(requests))
    if _total(first_come) < _total(plans):  # never dearer than greedy
        plans = first_come
    return plans, lower_bound, len(contested)


def solve_wave(requests: Sequence[RoutingRequest], strategy: str = "optimal", *,
               time_limit: float = 60.0) -> WavePlan:
    """Plan a wave of orders drawing on one pool of stock and capacity; plans come back in request order.
    Greedy serves them first come, first served; optimal as :func:`_optimal_wave` describes, HiGHS getting
    at most ``time_limit`` seconds for any one programme. Waves of about 50 orders take about a second."""
    _check(strategy)
    started = time.perf_counter()
    if strategy == "greedy":
        plans = _greedy_wave(requests, StockPool.from_requests(requests))
        bound, replanned = None, 0
    else:
        plans, bound, replanned = _optimal_wave(requests, time_limit)
    return WavePlan(strategy=strategy, plans=tuple(plans), solve_ms=(time.perf_counter() - started) * 1000,
                    lower_bound=bound, replanned=replanned)
