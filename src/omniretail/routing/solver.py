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

from .greedy import greedy_plan, greedy_runner_up
from .milp import plan_optimally
from .model import Explanation, Plan, RoutingRequest, WavePlan
from .shortlist import Shortlist, StockPool, shortlist

STRATEGIES = ("greedy", "optimal")
GREEDY_RUNNER_UP = "the greedy plan that opens with the second-ranked location"
OPTIMAL_RUNNER_UP = "the cheapest plan that does not use exactly the chosen locations (one more solve)"
NO_RUNNER_UP = "none asked for"


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
          time_limit: float = 10.0) -> Explanation:
    """Plan one order. ``runner_up=False`` skips the second plan (half the work for the optimal strategy)."""
    _check(strategy)
    started = time.perf_counter()
    sl = shortlist(request)
    second: Plan | None = None
    if strategy == "greedy":
        plan = greedy_plan(sl)
        if runner_up:
            second = greedy_runner_up(sl)
        rule = GREEDY_RUNNER_UP
    else:
        plan, greedy = _optimal_plan(sl, time_limit)
        if runner_up and plan.assignments:
            chosen = frozenset(plan.locations)
            start = [greedy] if frozenset(greedy.locations) != chosen else None
            solved = plan_optimally([sl], start=start, avoid=[chosen], time_limit=time_limit)
            if solved is not None and frozenset(solved[0][0].locations) != chosen:
                second = solved[0][0]
        rule = OPTIMAL_RUNNER_UP
    return Explanation(strategy=strategy, plan=plan, runner_up=second,
                       runner_up_rule=rule if runner_up else NO_RUNNER_UP, excluded=sl.excluded,
                       solve_ms=(time.perf_counter() - started) * 1000)


def _greedy_wave(requests: Sequence[RoutingRequest], pool: StockPool) -> list[Plan]:
    plans = []
    for request in requests:
        plan = greedy_plan(shortlist(request, pool))
        pool.take(plan.assignments, request.lines)
        plans.append(plan)
    return plans


def solve_wave(requests: Sequence[RoutingRequest], strategy: str = "optimal", *,
               time_limit: float = 60.0) -> WavePlan:
    """Plan a wave of orders drawing on one pool of stock and capacity; plans come back in request order."""
    _check(strategy)
    started = time.perf_counter()
    if strategy == "greedy":
        plans = _greedy_wave(requests, StockPool.from_requests(requests))
    else:
        first_come = _greedy_wave(requests, StockPool.from_requests(requests))
        pool = StockPool.from_requests(requests)
        solved = plan_optimally([shortlist(r, pool) for r in requests], start=first_come, time_limit=time_limit)
        plans = first_come
        if solved is not None and sum(p.cost.total for p in solved[0]) <= sum(p.cost.total for p in first_come):
            plans = solved[0]
    return WavePlan(strategy=strategy, plans=tuple(plans), solve_ms=(time.perf_counter() - started) * 1000)
