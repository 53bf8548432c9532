"""Optimal sourcing as a mixed-integer programme, solved by HiGHS through ``scipy.optimize.milp``.

For each order o, line i (quantity q, variant v) and shortlisted location l:

    w[o,i,l]  integer, units of the line taken from l, counted in steps of s = 1 (lines may split) or s = q
              (a line ships whole: w is 0 or 1); only where l has at least s sellable units of v
    y[o,l]    binary, l ships a parcel for order o (one fulfilment order)
    u[o,i]    integer, steps of the line nobody ships (reported as unfilled)

    minimise  Σ (parcel cost[o,l] + split penalty) · y[o,l]  +  Σ unit cost[o,l] · s · w[o,i,l]
              +  Σ unfilled penalty · s · u[o,i]
    subject to
      Σ_l w[o,i,l] + u[o,i] = q / s                            each line served exactly, or reported unfilled
      w[o,i,l] ≤ ⌊min(q, sellable[l,v]) / s⌋ · y[o,l]          only from a location that ships, within its stock
      Σ_{o,i: variant v} s · w[o,i,l] ≤ sellable[l,v]          stock after shelf protection, shared by the wave
      Σ_o y[o,l] ≤ capacity left[l]                            one fulfilment order per location used
      Σ_l y[o,l] ≤ max parcels                                 when the channel caps the parcels
      Σ_{l∈S} y[o,l] − Σ_{l∉S} y[o,l] ≤ |S| − 1                runner-up only: not the chosen location set S

The split penalty is charged on every parcel in the model and on every parcel but the first in the price, a
constant difference for any order that ships at all, so both rank plans alike. The rows are built with numpy
over index arrays (no Python loop per variable), and the stock rows are emitted only where they can bind
(two or more lines or orders draw on one location's variant beyond what it has).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from .model import Assignment, Plan, price_plan
from .shortlist import Shortlist

MIP_REL_GAP = 1e-7  # the unfilled penalty inflates the objective; a loose gap would accept a dearer plan


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
    """Constraint rows collected as coordinate triplets, stacked into one sparse matrix at the end."""

    def __init__(self) -> None:
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.count = 0

    def add(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        self.r.append(rows + self.count)
        self.c.append(cols)
        self.v.append(np.asarray(vals, dtype=float))
        self.lo.append(np.asarray(lo, dtype=float))
        self.hi.append(np.asarray(hi, dtype=float))
        self.count += len(lo)

    def constraint(self, n_cols: int) -> LinearConstraint:
        a = coo_array((np.concatenate(self.v), (np.concatenate(self.r), np.concatenate(self.c))),
                      shape=(self.count, n_cols)).tocsr()
        return LinearConstraint(a, np.concatenate(self.lo), np.concatenate(self.hi))


def _sellable_matrix(sl: Shortlist) -> np.ndarray:
    return np.array([[units.get(ln.variant_id, 0) for units in sl.sellable] for ln in sl.lines],
                    dtype=np.int64).reshape(len(sl.lines), len(sl.locations))


def plan_optimally(shortlists: Sequence[Shortlist], *, avoid: Sequence[frozenset[int] | None] = (),
                   time_limit: float = 10.0) -> tuple[list[Plan], bool] | None:
    """Optimal plans for one order or a wave (shared stock and capacity). Returns the plans and whether HiGHS
    proved them optimal (False: the time limit stopped it with a feasible plan), or None without a plan."""
    blocks: list[_OrderBlock] = []
    cost: list[np.ndarray] = []
    upper: list[np.ndarray] = []
    rows = _Rows()
    stock_keys, stock_cols, stock_coef, stock_ub, stock_limit = [], [], [], [], []
    capacity_loc, capacity_cols, capacity_cap = [], [], []
    n = 0
    for o, sl in enumerate(shortlists):
        q = np.array([ln.quantity for ln in sl.lines], dtype=np.int64)
        s = q.copy() if not sl.request.policy.allow_split else np.ones_like(q)
        sell = _sellable_matrix(sl)
        line, location = np.nonzero(sell >= s[:, None])
        w_ub = np.minimum(q[line], sell[line, location]) // s[line]
        y_locations, y_of_w = np.unique(location, return_inverse=True)
        w0, y0 = n, n + len(line)
        u0 = y0 + len(y_locations)
        n = u0 + len(q)
        blocks.append(_OrderBlock(sl, line, location, s[line], w0, y_locations, y0, u0))
        parcel = np.asarray(sl.parcel_cost, dtype=float).reshape(-1)
        unit = np.asarray(sl.unit_cost, dtype=float).reshape(-1)
        costs = sl.request.costs
        cost += [unit[location] * s[line], parcel[y_locations] + costs.split_penalty, costs.unfilled_unit * s]
        upper += [w_ub, np.ones(len(y_locations)), q // s]
        w_cols = w0 + np.arange(len(line))
        # each line served exactly, or its steps reported unfilled
        rows.add(np.concatenate([line, np.arange(len(q))]), np.concatenate([w_cols, u0 + np.arange(len(q))]),
                 np.ones(len(line) + len(q)), q // s, q // s)
        # a location gives only if it ships a parcel for this order
        pair_rows = np.arange(len(line))
        rows.add(np.concatenate([pair_rows, pair_rows]), np.concatenate([w_cols, y0 + y_of_w]),
                 np.concatenate([np.ones(len(line)), -w_ub]), np.full(len(line), -np.inf), np.zeros(len(line)))
        location_ids = np.array([c.location_id for c in sl.locations], dtype=np.int64)
        variant_ids = np.array([ln.variant_id for ln in sl.lines], dtype=np.int64)
        stock_keys.append(np.stack([location_ids[location], variant_ids[line]], axis=1) if len(line)
                          else np.empty((0, 2), dtype=np.int64))
        stock_cols.append(w_cols)
        stock_coef.append(s[line])
        stock_ub.append(w_ub)
        stock_limit.append(sell[line, location])
        caps = [sl.capacity[j] for j in y_locations]
        capacity_loc.append(location_ids[y_locations])
        capacity_cols.append(y0 + np.arange(len(y_locations)))
        capacity_cap.append(np.array([-1 if c is None else c for c in caps], dtype=np.int64))
        max_parcels = sl.request.policy.max_parcels
        if max_parcels is not None and len(y_locations) > max_parcels:
            rows.add(np.zeros(len(y_locations), dtype=np.int64), y0 + np.arange(len(y_locations)),
                     np.ones(len(y_locations)), [-np.inf], [max_parcels])
        chosen = avoid[o] if o < len(avoid) else None
        if chosen is not None:
            in_set = np.isin(location_ids[y_locations], list(chosen))
            if in_set.sum() == len(chosen):  # the set is reachable at all; otherwise there is nothing to cut
                rows.add(np.zeros(len(y_locations), dtype=np.int64), y0 + np.arange(len(y_locations)),
                         np.where(in_set, 1.0, -1.0), [-np.inf], [len(chosen) - 1])
    _add_shared_rows(rows, *map(np.concatenate, (stock_keys, stock_cols, stock_coef, stock_ub, stock_limit,
                                                 capacity_loc, capacity_cols, capacity_cap)))
    if n == 0:
        return [price_plan(sl.request, ()) for sl in shortlists], True
    result = milp(np.concatenate(cost), integrality=np.ones(n), bounds=Bounds(0, np.concatenate(upper)),
                  constraints=rows.constraint(n),
                  options={"mip_rel_gap": MIP_REL_GAP, "time_limit": time_limit, "presolve": True})
    if result.x is None:
        return None
    x = np.rint(result.x).astype(np.int64)
    return [_read_plan(block, x) for block in blocks], result.status == 0


def _add_shared_rows(rows: _Rows, keys, cols, coef, w_ub, limit, cap_loc, cap_cols, cap) -> None:
    """Stock rows per (location, variant) and capacity rows per location, where they can bind."""
    if len(keys):
        _, group, count = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
        group = group.reshape(-1)
        most = np.full(len(count), np.iinfo(np.int64).max)
        np.minimum.at(most, group, limit)  # every pair of a group sees the same sellable figure
        demand = np.bincount(group, weights=coef * w_ub, minlength=len(count))
        binding = (count >= 2) & (demand > most)
        keep = binding[group]
        if keep.any():
            new_row = np.cumsum(binding) - 1
            rows.add(new_row[group[keep]], cols[keep], coef[keep], np.full(binding.sum(), -np.inf),
                     most[binding])
    limited = cap >= 0
    if limited.any():
        locs, group, count = np.unique(cap_loc[limited], return_inverse=True, return_counts=True)
        group = group.reshape(-1)
        caps = np.full(len(locs), np.iinfo(np.int64).max)
        np.minimum.at(caps, group, cap[limited])
        binding = count > caps
        keep = binding[group]
        if keep.any():
            new_row = np.cumsum(binding) - 1
            rows.add(new_row[group[keep]], cap_cols[limited][keep], np.ones(keep.sum()),
                     np.full(binding.sum(), -np.inf), caps[binding])


def _read_plan(block: _OrderBlock, x: np.ndarray) -> Plan:
    sl = block.shortlist
    taken = x[block.w0:block.w0 + len(block.line)]
    assignments = [Assignment(sl.lines[i].line_id, sl.locations[j].location_id, int(steps * step))
                   for i, j, steps, step in zip(block.line.tolist(), block.location.tolist(), taken.tolist(),
                                                block.step.tolist()) if steps > 0]
    return price_plan(sl.request, assignments)
