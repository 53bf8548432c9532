"""Greedy sourcing: open the location that can ship the most of what is still missing (ties: the cheaper
parcel, then the lower location id), take what it can give, repeat until the order is complete, no location
can add anything, or the parcel limit is reached. Fast and easy to follow; not always the cheapest."""

from __future__ import annotations

from .model import Assignment, Plan, price_plan
from .shortlist import Shortlist


def _what_it_gives(shortlist: Shortlist, j: int, missing: list[int]) -> list[tuple[int, int]]:
    """(line index, units) location ``j`` would ship now, lines in order, sharing its stock of a variant."""
    split = shortlist.request.policy.allow_split
    left = dict(shortlist.sellable[j])
    gives = []
    for i, line in enumerate(shortlist.lines):
        need = missing[i]
        if need <= 0:
            continue
        have = left.get(line.variant_id, 0)
        units = min(need, have) if split else (need if have >= need else 0)
        if units:
            left[line.variant_id] = have - units
            gives.append((i, units))
    return gives


def _ranking(shortlist: Shortlist, missing: list[int], opened: set[int]) -> list[tuple[int, list]]:
    """Locations not yet opened that can add something, best first: most units, then cheapest parcel."""
    scored = []
    for j, location in enumerate(shortlist.locations):
        if j in opened:
            continue
        gives = _what_it_gives(shortlist, j, missing)
        units = sum(u for _, u in gives)
        if units:
            cost = shortlist.parcel_cost[j] + shortlist.unit_cost[j] * units
            scored.append(((-units, cost, location.location_id), j, gives))
    scored.sort(key=lambda s: s[0])
    return [(j, gives) for _, j, gives in scored]


def first_ranking(shortlist: Shortlist) -> list[tuple[int, list]]:
    """The ranking the greedy plan opens with (nothing shipped yet): computed once, it serves the plan and
    its runner-up."""
    return _ranking(shortlist, [ln.quantity for ln in shortlist.lines], set())


def greedy_plan(shortlist: Shortlist, *, open_with: int | None = None,
                ranking: list[tuple[int, list]] | None = None) -> Plan:
    """The greedy plan; ``open_with`` forces the first location (an index into the shortlist); ``ranking``:
    :func:`first_ranking`, when already known."""
    request = shortlist.request
    missing = [ln.quantity for ln in shortlist.lines]
    max_parcels = request.policy.max_parcels
    opened: set[int] = set()
    assignments: list[Assignment] = []
    while any(m > 0 for m in missing) and (max_parcels is None or len(opened) < max_parcels):
        if open_with is not None and not opened:
            j, gives = open_with, _what_it_gives(shortlist, open_with, missing)
        else:
            if ranking is None or opened:
                ranking = _ranking(shortlist, missing, opened)
            if not ranking:
                break
            j, gives = ranking[0]
        opened.add(j)
        location_id = shortlist.locations[j].location_id
        for i, units in gives:
            missing[i] -= units
            assignments.append(Assignment(shortlist.lines[i].line_id, location_id, units))
    return price_plan(request, assignments)


def greedy_runner_up(shortlist: Shortlist, chosen: Plan | None = None,
                     ranking: list[tuple[int, list]] | None = None) -> Plan | None:
    """The greedy plan that opens with the second-ranked location instead of the first — or the third, and
    so on, until the plan uses other locations than ``chosen`` (the greedy plan); None if none does.
    ``ranking``: :func:`first_ranking`, when already known."""
    if shortlist.request.policy.max_parcels == 0:
        return None
    ranking = first_ranking(shortlist) if ranking is None else ranking
    chosen = chosen or greedy_plan(shortlist, ranking=ranking)
    for j, _ in ranking[1:]:
        plan = greedy_plan(shortlist, open_with=j)
        if plan.locations != chosen.locations:
            return plan
    return None
