"""HiGHS, the way routing uses it: one solver per thread, on one thread, quiet, warm-started.

The programmes are small (a 10-line order over 50 locations is ~500 columns before pruning), so fixed costs
dominate: HiGHS's worker threads cost more to wake than they save (p50 5 ms against 20 ms on two busy cores),
and its feasibility-jump heuristic adds 2–6 ms to every solve while finding nothing the greedy start lacks.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading

import numpy as np

MIP_REL_GAP = 1e-7  # the unfilled penalty inflates the objective: a loose relative gap accepts dearer plans
FEASIBLE = 2  # HighsInfo.primal_solution_status: a feasible solution is known

_local = threading.local()
_construct_lock = threading.Lock()
_banner_swallowed = False


def _quietly_construct():
    """A ``highspy.Highs``. The first one a process builds prints a banner straight to the C stdout, which
    would corrupt ``omniretail bench … --json``; that one is built with file descriptor 1 on /dev/null."""
    global _banner_swallowed
    import highspy

    with _construct_lock:
        if _banner_swallowed:
            return highspy.Highs()
        sys.stdout.flush()
        saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            solver = highspy.Highs()
            try:
                ctypes.CDLL(None).fflush(None)
            except (OSError, AttributeError, TypeError):  # pragma: no cover - no C library to flush
                pass
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
        _banner_swallowed = True
        return solver


def _solver():
    solver = getattr(_local, "solver", None)
    if solver is None:
        solver = _local.solver = _quietly_construct()
        solver.setOptionValue("output_flag", False)
        solver.setOptionValue("threads", 1)
        solver.setOptionValue("mip_rel_gap", MIP_REL_GAP)
        solver.setOptionValue("mip_heuristic_run_feasibility_jump", False)
    return solver


def solve_integer_programme(*, cost: np.ndarray, upper: np.ndarray, matrix: tuple[np.ndarray, ...],
                            row_lower: np.ndarray, row_upper: np.ndarray, start: np.ndarray | None,
                            time_limit: float, close_enough: float) -> tuple[np.ndarray, bool] | None:
    """Minimise ``cost · x`` over integer ``0 ≤ x ≤ upper`` with ``row_lower ≤ A x ≤ row_upper`` (A given
    column-wise as (start, index, value)). Returns x and whether it is proven optimal to ``close_enough``
    (False: the time limit stopped the search), or None when no feasible x was found."""
    import highspy

    n = len(cost)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, len(row_lower)
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, np.zeros(n), upper
    lp.row_lower_, lp.row_upper_ = row_lower, row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = matrix
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    solver = _solver()
    solver.clearModel()
    solver.setOptionValue("time_limit", float(time_limit))
    solver.setOptionValue("mip_abs_gap", float(close_enough))
    solver.passModel(lp)
    if start is not None:
        solver.setSolution(n, np.arange(n, dtype=np.int32), start)
    if solver.run() == highspy.HighsStatus.kError:
        # something else in this process started HiGHS's thread pool with another size: use that one
        solver.setOptionValue("threads", 0)
        solver.run()
    if solver.getInfo().primal_solution_status != FEASIBLE:
        return None
    proven = solver.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return np.asarray(solver.getSolution().col_value), proven
