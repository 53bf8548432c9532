"""Optimal sourcing as a mixed-integer programme, solved by HiGHS (``highspy``).

For each order o, line i (quantity q, variant v) and shortlisted location l:

    w[o,i,l]  integer, units of the line taken from l, counted in steps of s = 1 (lines may split) or s = q
              (a line ships whole: w is 0 or 1); only where l has at least s sellable units of v
    y[o,l]    binary, l ships a parcel for order o (one fulfilment order)
    u[o,i]    integer, steps of the line nobody ships (reported as unfilled)

    minimise  Σ (parcel cost[o,l] + split penalty) · y[o,l]  +  Σ unit cost[o,l] · s · w[o,i,l]
              +  Σ unfilled penalty · s · u[o,i]
    subject to
      Σ_l w[o,i,l] + u[o,i] = q / s                     each line served exactly, or reported unfilled
      w[o,i,l] ≤ ⌊min(q, sellable[l,v]) / s⌋ · y[o,l]   only from a location that ships, within its stock
      Σ_{o,i: variant v} s · w[o,i,l] ≤ sellable[l,v]   stock after shelf protection, shared by the wave
      Σ_o y[o,l] ≤ capacity left[l]                     one fulfilment order per location used
      Σ_l y[o,l] ≤ max parcels                          when the channel caps the parcels
      Σ_{l∈S} y[o,l] − Σ_{l∉S} y[o,l] ≤ |S| − 1         runner-up only: not the chosen location set S,
      y[o,l] ≤ Σ_i w[o,i,l]                             with no empty parcel to dodge that cut

The split penalty is charged on every parcel in the model and on every parcel but the first in the price, a
constant difference for any order that ships at all, so both rank plans alike. The rows are built with numpy
over index arrays (no Python loop per variable), and the stock rows are emitted only where they can bind
(two or more lines or orders draw on one location's variant beyond what it has).

HiGHS is given the greedy plan as its first incumbent, so it never returns anything dearer. For an order
planned alone, locations another one dominates get no columns (see ``_undominated``), which roughly halves
the programme.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .highs import solve_integer_programme
from .model import Assignment, Plan, price_plan
from .shortlist import Shortlist


@dataclass(frozen=True)
class _OrderBlock:
    shortlist: Shortlist
    line: np.ndarray  # per w column: line index
    location: np.ndarray  # per w column: index into shortlist.locations
    step: np.ndarray  # per w column: units per step (s)
    w0: int
    y_locations: np.ndarray  # per y column: index into shortlist.locations
    y0: int
    u0: int


class _Rows:
    """Constraint rows collected as coordinate triplets, stacked into one column-wise matrix at the end."""

    def __init__(self) -> None:
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.count = 0

    def add(self, rows, cols, vals, lo, hi) -> None:
        self.r.append(np.asarray(rows, dtype=np.int64) + self.count)
        self.c.append(np.asarray(cols, dtype=np.int64))
        self.v.append(np.asarray(vals, dtype=float))
        self.lo.append(np.asarray(lo, dtype=float))
        self.hi.append(np.asarray(hi, dtype=float))
        self.count += len(self.lo[-1])

    def columnwise(self, n_cols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r, c, v = (np.concatenate(x) for x in (self.r, self.c, self.v))
        order = np.lexsort((r, c))
        start = np.concatenate([[0], np.cumsum(np.bincount(c, minlength=n_cols))])
        return start.astype(np.int32), r[order].astype(np.int32), v[order]


@dataclass
class _Model:
    blocks: list[_OrderBlock]
    cost: np.ndarray
    upper: np.ndarray
    rows: _Rows


def _sellable_matrix(sl: Shortlist) -> np.ndarray:
    return np.array([[units.get(ln.variant_id, 0) for units in sl.sellable] for ln in sl.lines],
                    dtype=np.int64).reshape(len(sl.lines), len(sl.locations))


def _undominated(sl: Shortlist, sell: np.ndarray, step: np.ndarray, may_dominate: np.ndarray) -> np.ndarray:
    """Locations worth a column when an order is planned alone. B is dominated by A when A could take over
    everything B might ship (A has the order's whole demand of every variant B can give) and A's parcel and
    unit costs are no higher (ties: the earlier one stays): moving B's units to A never costs more and needs
    no more parcels, so some optimal plan leaves B out. Only locations in ``may_dominate`` count as A."""
    n = len(sl.locations)
    if n < 2:
        return np.ones(n, dtype=bool)
    variants = np.array([ln.variant_id for ln in sl.lines])
    quantity = np.array([ln.quantity for ln in sl.lines])
    demand = np.array([quantity[variants == v].sum() for v in variants])  # per line: its variant's total
    covers = sell >= demand[:, None]  # (line, A)
    serves = sell >= step[:, None]  # (line, B)
    takes_over = ~(serves[:, None, :] & ~covers[:, :, None]).any(axis=0)  # [A, B]
    parcel, unit = np.asarray(sl.parcel_cost), np.asarray(sl.unit_cost)
    index = np.arange(n)
    cheaper = (parcel[:, None] <= parcel[None, :]) & (unit[:, None] <= unit[None, :])
    strictly = ((parcel[:, None] < parcel[None, :]) | (unit[:, None] < unit[None, :])
                | (index[:, None] < index[None, :]))
    other = index[:, None] != index[None, :]
    dominated = (takes_over & cheaper & strictly & other & may_dominate[:, None]).any(axis=0)
    return ~dominated


def _build(shortlists: Sequence[Shortlist], start: Sequence[Plan] | None,
           avoid: frozenset[int] | None) -> _Model:
    """The programme; ``avoid`` (a single order's chosen location set) asks for the runner-up."""
    prune = len(shortlists) == 1  # dominance holds for an order alone, not for orders sharing stock
    blocks: list[_OrderBlock] = []
    cost: list[np.ndarray] = []
    upper: list[np.ndarray] = []
    rows = _Rows()
    shared: dict[str, list[np.ndarray]] = {k: [] for k in ("keys", "cols", "coef", "w_ub", "limit",
                                                             "cap_loc", "cap_cols", "cap")}
    n = 0
    for o, sl in enumerate(shortlists):
        q = np.array([ln.quantity for ln in sl.lines], dtype=np.int64)
        s = q.copy() if not sl.request.policy.allow_split else np.ones_like(q)
        sell = _sellable_matrix(sl)
        ids = [c.location_id for c in sl.locations]
        usable = sell >= s[:, None]
        if prune:
            # for the runner-up only a dominating location outside the chosen set counts: the plan moved to
            # it still differs from the chosen one; the start plan's locations stay in any case
            may_dominate = ~np.isin(ids, list(avoid or ()))
            in_start = np.isin(ids, list(start[o].locations if start else ()))
            usable &= _undominated(sl, sell, s, may_dominate) | in_start
        line, location = np.nonzero(usable)
        w_ub = np.minimum(q[line], sell[line, location]) // s[line]
        y_locations, y_of_w = np.unique(location, return_inverse=True)
        w0, y0 = n, n + len(line)
        u0 = y0 + len(y_locations)
        n = u0 + len(q)
        blocks.append(_OrderBlock(sl, line, location, s[line], w0, y_locations, y0, u0))
        parcel = np.asarray(sl.parcel_cost, dtype=float)
        unit = np.asarray(sl.unit_cost, dtype=float)
        costs = sl.request.costs
        cost += [unit[location] * s[line], parcel[y_locations] + costs.split_penalty, costs.unfilled_unit * s]
        upper += [w_ub, np.ones(len(y_locations)), q // s]
        w_cols, y_cols = w0 + np.arange(len(line)), y0 + np.arange(len(y_locations))
        # each line served exactly, or its steps reported unfilled
        rows.add(np.concatenate([line, np.arange(len(q))]), np.concatenate([w_cols, u0 + np.arange(len(q))]),
                 np.ones(len(line) + len(q)), q // s, q // s)
        # a location gives only if it ships a parcel for this order
        pair = np.arange(len(line))
        rows.add(np.concatenate([pair, pair]), np.concatenate([w_cols, y0 + y_of_w]),
                 np.concatenate([np.ones(len(line)), -w_ub]), np.full(len(line), -np.inf),
                 np.zeros(len(line)))
        location_ids = np.array([c.location_id for c in sl.locations], dtype=np.int64)
        variant_ids = np.array([ln.variant_id for ln in sl.lines], dtype=np.int64)
        shared["keys"].append(np.stack([location_ids[location], variant_ids[line]], axis=1).reshape(-1, 2))
        shared["cols"].append(w_cols)
        shared["coef"].append(s[line])
        shared["w_ub"].append(w_ub)
        shared["limit"].append(sell[line, location])
        shared["cap_loc"].append(location_ids[y_locations])
        shared["cap_cols"].append(y_cols)
        shared["cap"].append(np.array([-1 if sl.capacity[j] is None else sl.capacity[j] for j in y_locations],
                                      dtype=np.int64))
        max_parcels = sl.request.policy.max_parcels
        if max_parcels is not None and len(y_locations) > max_parcels:
            rows.add(np.zeros(len(y_cols)), y_cols, np.ones(len(y_cols)), [-np.inf], [max_parcels])
        if avoid is not None:
            in_set = np.isin(location_ids[y_locations], list(avoid))
            if in_set.sum() == len(avoid):  # the set is reachable at all; otherwise there is nothing to cut
                rows.add(np.zeros(len(y_cols)), y_cols, np.where(in_set, 1.0, -1.0), [-np.inf],
                         [len(avoid) - 1])
                # and a parcel counts only if it holds something, or an empty one would dodge the cut
                rows.add(np.concatenate([np.arange(len(y_cols)), y_of_w]), np.concatenate([y_cols, w_cols]),
                         np.concatenate([np.ones(len(y_cols)), -np.ones(len(w_cols))]),
                         np.full(len(y_cols), -np.inf), np.zeros(len(y_cols)))
    _add_shared_rows(rows, *(np.concatenate(shared[k]) for k in shared))
    return _Model(blocks, np.concatenate(cost), np.concatenate(upper).astype(float), rows)


def _add_shared_rows(rows: _Rows, keys, cols, coef, w_ub, limit, cap_loc, cap_cols, cap) -> None:
    """Stock rows per (location, variant) and capacity rows per location, where they can bind."""
    if len(keys):
        _, group, count = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
        group = group.reshape(-1)
        have = np.full(len(count), np.iinfo(np.int64).max)
        np.minimum.at(have, group, limit)  # every pair of a group sees the same sellable figure
        demand = np.bincount(group, weights=coef * w_ub, minlength=len(count))
        binding = (count >= 2) & (demand > have)
        keep = binding[group]
        if keep.any():
            row_of = np.cumsum(binding) - 1
            rows.add(row_of[group[keep]], cols[keep], coef[keep], np.full(binding.sum(), -np.inf),
                     have[binding])
    limited = cap >= 0
    if limited.any():
        locations, group, count = np.unique(cap_loc[limited], return_inverse=True, return_counts=True)
        group = group.reshape(-1)
        left = np.full(len(locations), np.iinfo(np.int64).max)
        np.minimum.at(left, group, cap[limited])
        binding = count > left
        keep = binding[group]
        if keep.any():
            row_of = np.cumsum(binding) - 1
            rows.add(row_of[group[keep]], cap_cols[limited][keep], np.ones(keep.sum()),
                     np.full(binding.sum(), -np.inf), left[binding])


def _start_from(model: _Model, plans: Sequence[Plan]) -> np.ndarray | None:
    """The column values of known plans (greedy's), to hand HiGHS as its first incumbent."""
    x = np.zeros(len(model.cost))
    for block, plan in zip(model.blocks, plans):
        sl = block.shortlist
        line_index = {ln.line_id: i for i, ln in enumerate(sl.lines)}
        location_index = {c.location_id: j for j, c in enumerate(sl.locations)}
        pairs = zip(block.line.tolist(), block.location.tolist())
        column = {(i, j): block.w0 + k for k, (i, j) in enumerate(pairs)}
        for a in plan.assignments:
            key = line_index[a.line_id], location_index.get(a.location_id)
            if key not in column:
                return None  # the plan uses a location this programme leaves out: no start then
            x[column[key]] += a.quantity / sl.step(sl.lines[key[0]])
        used = set(plan.locations)
        for k, j in enumerate(block.y_locations.tolist()):
            x[block.y0 + k] = float(sl.locations[j].location_id in used)
        for i, ln in enumerate(sl.lines):
            x[block.u0 + i] = plan.unfilled.get(ln.line_id, 0) / sl.step(ln)
    return x


def plan_optimally(shortlists: Sequence[Shortlist], *, start: Sequence[Plan] | None = None,
                   avoid: frozenset[int] | None = None, time_limit: float = 10.0,
                   close_enough: float = 1e-6) -> tuple[list[Plan], bool] | None:
    """Optimal plans for one order or a wave (shared stock and capacity), optionally starting from known
    feasible plans, to within ``close_enough`` (currency units) of the proven optimum; for one order,
    ``avoid`` asks for the best plan not using exactly that set of locations. Returns the plans and whether
    HiGHS proved them so (False: its time limit stopped it with a feasible plan), or None without a plan."""
    model = _build(shortlists, start, avoid)
    n = len(model.cost)
    if n == 0:
        return [price_plan(sl.request, ()) for sl in shortlists], True
    start_col, index, value = model.rows.columnwise(n)
    solved = solve_integer_programme(
        cost=model.cost, upper=model.upper, matrix=(start_col, index, value),
        row_lower=np.concatenate(model.rows.lo), row_upper=np.concatenate(model.rows.hi),
        start=None if start is None else _start_from(model, start), time_limit=time_limit,
        close_enough=close_enough)
    if solved is None:
        return None
    x, optimal = solved
    x = np.rint(x).astype(np.int64)
    return [_read_plan(block, x) for block in model.blocks], optimal


def _read_plan(block: _OrderBlock, x: np.ndarray) -> Plan:
    sl = block.shortlist
    taken = x[block.w0:block.w0 + len(block.line)]
    assignments = [Assignment(sl.lines[i].line_id, sl.locations[j].location_id, int(steps * step))
                   for i, j, steps, step in zip(block.line.tolist(), block.location.tolist(), taken.tolist(),
                                                block.step.tolist()) if steps > 0]
    return price_plan(sl.request, assignments)
